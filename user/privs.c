// SPDX-License-Identifier: GPL-2.0
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "splice.h"
#include "wsplice.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* Linux 5.8; older headers lack it */
#endif

/*
 * Sets the permitted and effective capability sets to caps (a mask of CAP_* bits) through the
 * raw syscall: libcap is not a dependency for two words of state. Returns 0 or a negative errno.
 */
static int caps_set(unsigned long long permitted, unsigned long long effective)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {0};

	data[0].permitted = (unsigned int)permitted;
	data[1].permitted = (unsigned int)(permitted >> 32);
	data[0].effective = (unsigned int)effective;
	data[1].effective = (unsigned int)(effective >> 32);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* chroot(dir) then chdir("/"): 0, or a negative errno after HAProxy's alert. */
static int do_chroot(const char *dir)
{
	if (chroot(dir) < 0 || chdir("/") < 0) {
		int err = -errno;

		pr_alert("Cannot chroot(%s): %s", dir, strerror(-err));
		return err;
	}
	return 0;
}

/* No supplementary groups, then gid: 0, or a negative errno after HAProxy's alert. */
static int set_gid(unsigned int gid)
{
	/* supplementary groups would keep root's (group 0 among them) */
	if (setgroups(0, NULL) < 0)
		pr_warn("cannot drop supplementary groups: %s. Using 'gid'/'group' without "
			"'uid'/'user' is generally useless.",
			strerror(errno));
	if (setgid(gid) < 0) {
		int err = -errno;

		pr_alert("Cannot set gid %u: %s", gid, strerror(-err));
		return err;
	}
	return 0;
}

/*
 * setuid() with PR_SET_KEEPCAPS, so that CAP_BPF can be kept if, and only if, a bpf() call on
 * the maps fails without it. Linux 6.5 moved the unprivileged_bpf_disabled gate from every
 * command to map creation and program load, so on 6.18 map updates (sockhash included), deletes
 * and lookups through fds opened as root work with no capability at all; before 6.5 every bpf()
 * command needed CAP_BPF (or CAP_SYS_ADMIN) while unprivileged BPF is disabled.
 */
static int set_uid(struct ctx *ctx, unsigned int uid)
{
	int err;

	if (prctl(PR_SET_KEEPCAPS, 1) < 0)
		return -errno;
	if (setuid(uid) < 0) {
		err = -errno;
		pr_alert("Cannot set uid %u: %s", uid, strerror(-err));
		return err;
	}
	prctl(PR_SET_KEEPCAPS, 0);
	/* setuid cleared the effective set; keep CAP_BPF permitted only for the probe below */
	err = caps_set(ctx->splice ? 1ull << CAP_BPF : 0, 0);
	if (err)
		goto cleanup;
	if (!ctx->splice)
		return 0;
	if (splice_probe(ctx) != -EPERM)
		return caps_set(0, 0);
	err = caps_set(1ull << CAP_BPF, 1ull << CAP_BPF);
	if (!err && splice_probe(ctx) < 0)
		err = -EPERM;
	if (!err)
		pr_notice("this kernel refuses bpf() on the map fds without CAP_BPF: keeping it");
cleanup:
	if (err)
		pr_alert("cannot set capabilities after setuid(%u): %s", uid, strerror(-err));
	return err;
}

int privs_drop(struct ctx *ctx)
{
	const struct global *g = &ctx->cfg->global;
	int err;

	if (!g->uid && !g->gid && !g->chroot)
		return 0;
	/* log times use localtime_r(), which loads the zone once: load it before a chroot */
	tzset();
	if (g->uid) {
		err = splice_pins_chown(ctx, g->uid, g->gid ? g->gid : getgid());
		if (err)
			pr_warn("cannot give %s/%d to uid %u: %s; its pins will stay after exit "
				"(the next start removes them)",
				WSPLICE_PIN_ROOT, (int)getpid(), g->uid, strerror(-err));
	}
	if (g->chroot && (err = do_chroot(g->chroot)))
		return err;
	if (g->gid && (err = set_gid(g->gid)))
		return err;
	if (g->uid && (err = set_uid(ctx, g->uid)))
		return err;
	pr_notice("running as uid %u gid %u%s%s", (unsigned int)getuid(), (unsigned int)getgid(),
		  g->chroot ? " in chroot " : "", g->chroot ? g->chroot : "");
	return 0;
}
