// SPDX-License-Identifier: GPL-2.0
#include "splice.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "wsplice.h"
#include "wsplice.skel.h"

#include "ctx.h"
#include "log.h"
#include "splice_int.h"
#include "stream.h"

_Static_assert(sizeof(struct wsplice_sock) == 32, "struct wsplice_sock is 4 x __u64");
_Static_assert(sizeof(struct wsplice_limit) == 16, "struct wsplice_limit is 2 x __u64");
_Static_assert(sizeof(struct wsplice_event) == 16, "struct wsplice_event is 2 x __u64");

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* A spliced socket's events: EPOLLIN would wake us once per skb; only the FIN and errors
 * matter, each once (edge-triggered: a FIN stays readable and would wake us forever). */
#define SPLICE_EVENTS (EPOLLRDHUP | EPOLLET)

/* --- kernel checks and set-up --------------------------------------------------------------- */

/*
 * Splicing needs two sockmap fixes: duplicated bytes after a partial send (commit 3b4f14b7) and
 * a use-after-free between the backlog worker and close (CVE-2025-38154), both in 6.16 and in
 * the stable releases below. Older kernels get the userspace path.
 */
bool splice_kernel_ok(char *why, size_t whylen)
{
	static const struct {
		int major, minor, patch;
	} fixed[] = { { 6, 12, 34 }, { 6, 6, 94 }, { 6, 1, 142 }, { 5, 15, 186 } };
	int major = 0, minor = 0, patch = 0;
	struct utsname u;

	uname(&u);
	sscanf(u.release, "%d.%d.%d", &major, &minor, &patch);
	if (major > 6 || (major == 6 && minor >= 16))
		return true;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (major == fixed[i].major && minor == fixed[i].minor && patch >= fixed[i].patch)
			return true;
	snprintf(why, whylen,
		 "kernel %s lacks the sockmap fixes of 6.16 (6.12.34, 6.6.94, 6.1.142, 5.15.186)",
		 u.release);
	return false;
}

/* libbpf's messages go one level below ours (its warnings are our info, its info our debug,
 * its debug nowhere); they carry their own "libbpf: " prefix. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	char msg[512];
	int n;

	if (level == LIBBPF_DEBUG || !log_enabled(lvl))
		return 0;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	if (n > 0 && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	log_msg(lvl, "%s", msg);
	return 0;
}

static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
		return -errno;
	pr_notice("mounted bpffs at /sys/fs/bpf");
	return 0;
}

/*
 * Unlinks every pin in the directory name under parent, then the directory. Relative to fds so
 * that it works after privs.c chrooted (the paths no longer resolve) and dropped to a user that
 * splice_pins_chown() gave the directory to. The directory is opened without following a
 * symlink: in a root that others may write (01733), a "<dead pid>" symlink to another directory
 * would otherwise have root unlink everything in it.
 */
static void remove_pins_at(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
		pr_warn("cannot remove %s/%s: %s", WSPLICE_PIN_ROOT, name, strerror(errno));
}

/* A crashed or killed instance leaves its pins: remove those of pids no longer running. */
static void clean_stale_pins(void)
{
	struct dirent *de;
	DIR *d = opendir(WSPLICE_PIN_ROOT);

	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		pr_notice("removing BPF objects pinned by dead instance %d", pid);
		remove_pins_at(dirfd(d), de->d_name);
	}
	closedir(d);
}

/*
 * Makes path a directory of ours with mode 0700, creating it if needed; 0 or a negative errno.
 * One that already exists is not trusted as found: in a root that others may write (as 01733),
 * another user could create our <pid> directory first, where our pins could then be renamed or
 * replaced; so it must be ours, and anything wider than 0700 is narrowed. The root itself may
 * stay 01733 (root_shared): a daemon that drops its privileges removes its own <pid> there at
 * exit, and with the sticky bit and no read permission others can neither list nor remove it.
 */
static int pin_mkdir(const char *path, bool root_shared)
{
	struct stat st;
	unsigned int mode;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return -EPERM;
	mode = st.st_mode & 07777;
	if (mode == 0700 || (root_shared && mode == 01733))
		return 0;
	return chmod(path, 0700) < 0 ? -errno : 0;
}

static int pin_all(struct splice *sp)
{
	struct bpf_map *map;
	char path[128];
	int err;

	snprintf(sp->pin_dir, sizeof(sp->pin_dir), WSPLICE_PIN_ROOT "/%d", getpid());
	err = pin_mkdir(WSPLICE_PIN_ROOT, true);
	if (err)
		return err;
	sp->root_dirfd = open(WSPLICE_PIN_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->root_dirfd < 0)
		return -errno;
	err = pin_mkdir(sp->pin_dir, false);
	if (err)
		return err;
	bpf_object__for_each_map(map, sp->skel->obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", sp->pin_dir, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err)
			return err;
	}
	snprintf(path, sizeof(path), "%s/wsplice_verdict", sp->pin_dir);
	err = bpf_program__pin(sp->skel->progs.wsplice_verdict, path);
	if (err)
		return err;
	if (sp->link_fd >= 0) {
		snprintf(path, sizeof(path), "%s/wsplice_link", sp->pin_dir);
		if (bpf_obj_pin(sp->link_fd, path) < 0)
			return -errno;
	}
	return 0;
}

/* Attaches the verdict to wsplice_socks: a link where the kernel has sockmap links (6.10+), so
 * it goes away with the process; a plain attach otherwise. */
static int attach_verdict(struct splice *sp)
{
	int prog = bpf_program__fd(sp->skel->progs.wsplice_verdict);

	sp->link_fd = bpf_link_create(prog, sp->socks_fd, BPF_SK_SKB_VERDICT, NULL);
	if (sp->link_fd >= 0)
		return 0;
	if (bpf_prog_attach(prog, sp->socks_fd, BPF_SK_SKB_VERDICT, 0) < 0)
		return -errno;
	return 0;
}

static void rb_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct splice *sp = container_of(h, struct splice, rb_fh);

	(void)loop;
	(void)events;
	ring_buffer__consume(sp->rb);
}

/* The global in-flight budget: 1/16 of RAM, between 64 MiB and 1 GiB. */
static uint64_t budget_for_machine(void)
{
	uint64_t ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / 16;

	if (ram < (64ull << 20))
		return 64ull << 20;
	return ram > (1ull << 30) ? 1ull << 30 : ram;
}

/* Consumes flow-control events from the ring in events_fd. Returns 0 or -errno (why set). */
static int start_events(struct splice *sp, int events_fd, char *why, size_t whylen)
{
	int err;

	sp->rb = ring_buffer__new(events_fd, flow_on_event, sp, NULL);
	if (!sp->rb) {
		err = -errno;
		snprintf(why, whylen, "cannot open the event ring: %s", strerror(-err));
		return err;
	}
	err = loop_add_fd(sp->ctx->loop, &sp->rb_fh, ring_buffer__epoll_fd(sp->rb), EPOLLIN, rb_io);
	if (err) {
		snprintf(why, whylen, "epoll: %s", strerror(-err));
		return err;
	}
	sp->budget_max = budget_for_machine();
	/* libbpf reads /sys/devices/system/cpu/possible once and caches it: read it now, before
	 * a chroot (privs.c) hides /sys from splice_stat() */
	libbpf_num_possible_cpus();
	return 0;
}

int splice_open(struct ctx *ctx, char *why, size_t whylen)
{
	struct splice *sp = calloc(1, sizeof(*sp));
	int err;

	if (!sp)
		return -ENOMEM;
	sp->ctx = ctx;
	sp->link_fd = -1;
	sp->root_dirfd = -1;
	loop_timer_init(&sp->poll, flow_poll_timer);
	libbpf_set_print(libbpf_print);
	err = ensure_bpffs();
	if (err) {
		snprintf(why, whylen, "cannot mount bpffs: %s", strerror(-err));
		goto cleanup;
	}
	clean_stale_pins();
	sp->skel = wsplice_bpf__open_and_load();
	if (!sp->skel) {
		err = -errno;
		snprintf(why, whylen, "cannot load the BPF program: %s", strerror(-err));
		goto cleanup;
	}
	sp->socks_fd = bpf_map__fd(sp->skel->maps.wsplice_socks);
	sp->targets_fd = bpf_map__fd(sp->skel->maps.wsplice_targets);
	sp->sock_fd = bpf_map__fd(sp->skel->maps.wsplice_sock);
	sp->limit_fd = bpf_map__fd(sp->skel->maps.wsplice_limit);
	sp->stats_fd = bpf_map__fd(sp->skel->maps.wsplice_stats);
	err = attach_verdict(sp);
	if (err) {
		snprintf(why, whylen, "cannot attach the verdict program: %s", strerror(-err));
		goto cleanup;
	}
	err = pin_all(sp);
	if (err) {
		snprintf(why, whylen, "cannot pin under %s: %s", sp->pin_dir, strerror(-err));
		goto cleanup;
	}
	err = start_events(sp, bpf_map__fd(sp->skel->maps.wsplice_events), why, whylen);
	if (err)
		goto cleanup;
	ctx->splice = sp;
	return 0;
cleanup:
	ctx->splice = sp;
	splice_close(ctx);
	return err;
}

static void close_adopted(struct splice *sp)
{
	int fds[] = { sp->socks_fd, sp->targets_fd, sp->sock_fd, sp->limit_fd, sp->stats_fd,
		      sp->events_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

void splice_close(struct ctx *ctx)
{
	struct splice *sp = ctx->splice;

	if (!sp)
		return;
	if (sp->rb) {
		if (!sp->given_up)
			loop_del_fd(ctx->loop, &sp->rb_fh);
		ring_buffer__free(sp->rb);
	}
	loop_timer_del(ctx->loop, &sp->poll);
	if (sp->root_dirfd >= 0) {
		if (sp->pin_dir[0])
			remove_pins_at(sp->root_dirfd, strrchr(sp->pin_dir, '/') + 1);
		close(sp->root_dirfd);
	}
	if (sp->link_fd >= 0)
		close(sp->link_fd);
	if (sp->adopted)
		close_adopted(sp);
	wsplice_bpf__destroy(sp->skel);
	free(sp);
	ctx->splice = NULL;
}

int splice_pins_chown(struct ctx *ctx, unsigned int uid, unsigned int gid)
{
	struct splice *sp = ctx->splice;
	struct stat st;

	if (!sp || sp->root_dirfd < 0 || !sp->pin_dir[0])
		return 0;
	if (fchownat(sp->root_dirfd, strrchr(sp->pin_dir, '/') + 1, uid, gid, 0) < 0)
		return -errno;
	if (fstat(sp->root_dirfd, &st) < 0)
		return -errno;
	if ((st.st_mode & 07777) != 01733 && fchmod(sp->root_dirfd, 01733) < 0)
		return -errno;
	return 0;
}

int splice_probe(struct ctx *ctx)
{
	__u32 key = WSPLICE_STAT_REDIRECTED_BYTES;
	uint64_t vals[1024];	/* a per-CPU value: 8 bytes per possible CPU */

	if (libbpf_num_possible_cpus() > 1024)
		return -E2BIG;
	return bpf_map_lookup_elem(ctx->splice->stats_fd, &key, vals) < 0 ? -errno : 0;
}

uint64_t splice_kernel_bytes(struct ctx *ctx)
{
	return splice_stat(ctx, WSPLICE_STAT_REDIRECTED_BYTES);
}

uint64_t splice_stat(struct ctx *ctx, unsigned int reason)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 key = reason;
	uint64_t sum = 0, *vals;

	if (!ctx->splice || ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (vals && bpf_map_lookup_elem(ctx->splice->stats_fd, &key, vals) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

/* --- per-tunnel state ----------------------------------------------------------------------- */

static unsigned int hash_of(uint64_t cookie)
{
	return (cookie * 0x9e3779b97f4a7c15ull) >> (64 - HASH_BITS);
}

static void hash_add(struct splice *sp, struct splice_dir *d)
{
	unsigned int h = hash_of(d->cookie);

	d->hnext = sp->hash[h];
	sp->hash[h] = d;
}

static void hash_del(struct splice *sp, struct splice_dir *d)
{
	struct splice_dir **pp = &sp->hash[hash_of(d->cookie)];

	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
}

struct splice_dir *splice_dir_find(struct splice *sp, uint64_t cookie)
{
	struct splice_dir *d = sp->hash[hash_of(cookie)];

	while (d && d->cookie != cookie)
		d = d->hnext;
	return d;
}

/* --- handover -------------------------------------------------------------------------------- */

static int sock_cookie(int fd, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) < 0)
		return -errno;
	return 0;
}

/* base: what user space handed to dst's TCP stack so far, when it knows; else TCP says. */
static int dir_init(struct splice *sp, struct splice_dir *d, int src, int dst,
		    const uint64_t *base)
{
	int err;

	d->src_fd = src;
	d->dst_fd = dst;
	if (base) {
		d->dst_base = *base;
	} else {
		err = flow_tcp_sent(dst, &d->dst_base);
		if (err)
			return err;
	}
	reserve(sp, d, FC_FIRST);
	d->notify_at = FC_FIRST;
	return 0;
}

/*
 * Both sockets' state, in one batch (one system call where two single updates were: bench
 * --syscalls). Nothing reads it before the sockets join wsplice_socks. Their first flow-control
 * mark is the verdict's default, without a wsplice_limit entry (include/wsplice.h).
 */
static int pair_write_state(struct splice *sp, struct splice_pair *p)
{
	uint64_t keys[2] = { p->dir[0].cookie, p->dir[1].cookie };
	struct wsplice_sock v[2] = { { .peer = keys[1] }, { .peer = keys[0] } };
	__u32 n = 2;

	/* (batches take no BPF_NOEXIST; socket cookies are never reused) */
	if (bpf_map_update_batch(sp->sock_fd, keys, v, &n, NULL) < 0)
		return -errno;
	return 0;
}

/* Deletes the entries of keys[] (0 for none) from a hash map: in one batch for two, one by one
 * if the batch fails (an entry never written). */
static void map_delete_keys(int fd, uint64_t keys[2])
{
	__u32 n = 2;

	if (keys[0] && keys[1] && bpf_map_delete_batch(fd, keys, &n, NULL) == 0)
		return;
	for (int i = 0; i < 2; i++)
		if (keys[i])
			bpf_map_delete_elem(fd, &keys[i]);
}

/*
 * Forgets a tunnel's sockets. close() removes a socket from the sockhashes itself, so sockets
 * about to be closed skip those deletes; wsplice_limit holds only the entries flow control wrote.
 */
static void map_forget(struct splice *sp, struct splice_pair *p, bool closing)
{
	uint64_t keys[2] = { p->dir[0].cookie, p->dir[1].cookie }, lim[2];

	for (int i = 0; i < 2; i++) {
		lim[i] = p->dir[i].limited ? keys[i] : 0;
		if (!keys[i] || closing)
			continue;
		bpf_map_delete_elem(sp->socks_fd, &keys[i]);
		bpf_map_delete_elem(sp->targets_fd, &keys[i]);
	}
	map_delete_keys(sp->sock_fd, keys);
	map_delete_keys(sp->limit_fd, lim);
}

/* Inserts both sockets, targets first: a verdict may run as soon as a socket is in
 * wsplice_socks, and its peer must then be a valid redirect target. *in_socks: how many joined
 * wsplice_socks, where the verdict may already have taken bytes. */
static int insert_pair(struct splice *sp, struct splice_pair *p, int *in_socks)
{
	uint64_t fd;
	int i;

	*in_socks = 0;
	for (i = 0; i < 2; i++) {
		fd = p->dir[i].src_fd;
		if (bpf_map_update_elem(sp->targets_fd, &p->dir[i].cookie, &fd, BPF_NOEXIST) < 0)
			return -errno;
	}
	for (i = 0; i < 2; i++) {
		fd = p->dir[i].src_fd;
		if (bpf_map_update_elem(sp->socks_fd, &p->dir[i].cookie, &fd, BPF_NOEXIST) < 0)
			return -errno;
		*in_socks = i + 1;
	}
	return 0;
}

static void undo_start(struct splice *sp, struct splice_pair *p, bool closing)
{
	for (int i = 0; i < 2; i++)
		reserve(sp, &p->dir[i], 0);
	map_forget(sp, p, closing);
}

int splice_tunnel_start(struct stream *s)
{
	struct splice *sp = s->ctx->splice;
	struct splice_pair *p = &s->pair;
	struct loop *loop = s->ctx->loop;
	int err, one = 1, in_socks = 0;
	bool half = false;

	/* after a handover this process only finishes what it kept (reload.c) */
	if (sp->given_up)
		return -EBUSY;
	memset(p, 0, sizeof(*p));
	p->dir[0].pair = p->dir[1].pair = p;
	err = sock_cookie(s->cs.fd, &p->dir[0].cookie);
	if (!err)
		err = sock_cookie(s->ss.fd, &p->dir[1].cookie);
	/* every byte the client socket ever got went through send_some(), counted in cs.tx (two
	 * system calls saved; an accepted socket's tcpi_bytes_acked counts data only). Not the
	 * server socket: it may have served others before (http-reuse), and a connecting
	 * socket's tcpi_bytes_acked counts its SYN too (measured on 6.18) */
	if (!err)
		err = dir_init(sp, &p->dir[0], s->cs.fd, s->ss.fd, NULL);
	if (!err)
		err = dir_init(sp, &p->dir[1], s->ss.fd, s->cs.fd, &s->cs.tx);
	if (!err)
		err = pair_write_state(sp, p);
	if (!err)
		err = insert_pair(sp, p, &in_socks);
	/*
	 * The client socket joined wsplice_socks and the server's could not: its FIN (or a reset)
	 * came in between, and a socket that left ESTABLISHED cannot join (EOPNOTSUPP). From the
	 * first insertion on, the verdict may have redirected client bytes into the server's
	 * psock queue, where the psock's worker sends them later. Taking both sockets out of the
	 * maps, as below, frees that queue with whatever it still holds, and the relay went on
	 * with the client's next bytes: the server got the client's second write first ("wrong
	 * byte at offset 0") or an EOF in place of the client's bytes (5 tunnels in 881,400 in a
	 * BPF soak under load; 22 and 28 in 45,600 with this failure forced whenever the verdict
	 * had taken bytes). Deleting the client socket would also race a verdict run, which drops
	 * its skb. So the tunnel stays in the kernel as it is: the client's direction spliced,
	 * the server's out of the sockhash from the start (unspliced), its bytes copied by user
	 * space from the server's receive queue and its FIN passed on (dir_check), as those of a
	 * paused direction.
	 */
	if (err && in_socks == 1) {
		log_msg(err == -EOPNOTSUPP ? LOG_LVL_DEBUG : LOG_LVL_WARNING,
			"frontend '%s': splice: server socket: %s; its direction stays in user space",
			s->fe->id, strerror(-err));
		half = true;
		err = 0;
	}
	if (err) {
		/* EOPNOTSUPP: a socket left ESTABLISHED (its peer's FIN came) just before the
		 * insertion, a race of every short tunnel (1 in 6 under tests/45-chaos); anything
		 * else is worth a warning */
		log_msg(err == -EOPNOTSUPP ? LOG_LVL_DEBUG : LOG_LVL_WARNING,
			"frontend '%s': splice: %s; tunnel stays in user space", s->fe->id,
			strerror(-err));
		undo_start(sp, p, false);
		return err;
	}
	p->inserted = true;
	hash_add(sp, &p->dir[0]);
	hash_add(sp, &p->dir[1]);
	/* bytes queued before insertion stay stuck until more arrive: this runs the verdict
	 * over them, in order (sockmap-notes.md, handover step 4) */
	setsockopt(s->cs.fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	setsockopt(s->ss.fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	loop_rebind_fd(loop, &s->cs.fh, SPLICE_EVENTS, flow_cli_io);
	loop_rebind_fd(loop, &s->ss.fh, SPLICE_EVENTS, flow_srv_io);
	buf_release(&s->req.in);
	buf_release(&s->req.out);
	buf_release(&s->res.in);
	buf_release(&s->res.out);
	s->st = ST_TUNNEL_KERNEL;
	s->ctx->cnt.cur_spliced++;
	s->ctx->cnt.cum_spliced++;
	s->timer.cb = flow_timer;
	/* no byte went through the kernel yet: the deadline follows from what user space saw,
	 * without asking the maps (flow_timer does once it falls due) */
	flow_arm_timer(s, s->cs.last_ms, s->ss.last_ms, false);
	if (half) {
		/* polled until the server's FIN went out: at once, after an EOPNOTSUPP */
		p->dir[1].paused = p->dir[1].unspliced = true;
		reserve(sp, &p->dir[1], 0);
		flow_poll_add(sp, p);
	}
	return 0;
}

void splice_tunnel_bytes(struct stream *s, uint64_t *c2s, uint64_t *s2c)
{
	struct splice_pair *p = &s->pair;
	struct wsplice_sock v;

	/* a shut direction's count is final, recorded when its FIN went out */
	for (int i = 0; i < 2; i++)
		if (p->inserted && !p->dir[i].shut &&
		    sock_state(s->ctx->splice, p->dir[i].cookie, &v) == 0)
			p->final_bytes[i] = v.bytes + p->dir[i].copied;
	*c2s = p->final_bytes[0];
	*s2c = p->final_bytes[1];
}

int splice_tunnel_last(struct stream *s, uint64_t *cli_ms, uint64_t *srv_ms)
{
	struct wsplice_sock c, v;

	if (!s->pair.inserted || sock_state(s->ctx->splice, s->pair.dir[0].cookie, &c) < 0 ||
	    sock_state(s->ctx->splice, s->pair.dir[1].cookie, &v) < 0)
		return -1;
	if (c.last_ns / 1000000 > *cli_ms)
		*cli_ms = c.last_ns / 1000000;
	if (v.last_ns / 1000000 > *srv_ms)
		*srv_ms = v.last_ns / 1000000;
	return 0;
}

void splice_tunnel_stop(struct stream *s)
{
	struct splice *sp = s->ctx->splice;
	struct splice_pair *p = &s->pair;
	uint64_t c2s, s2c;

	if (!p->inserted)
		return;
	splice_tunnel_bytes(s, &c2s, &s2c);
	flow_poll_del(sp, p);
	for (int i = 0; i < 2; i++) {
		hash_del(sp, &p->dir[i]);
		buf_release(&p->dir[i].rest);
	}
	undo_start(sp, p, p->closing);
	p->inserted = false;
	s->ctx->cnt.cur_spliced--;
}

/* --- reload: tunnels that move to a new process (reload.c) ---------------------------------- */

/*
 * Takes the BPF objects of the instance pid pinned: every map, and the link that keeps the
 * verdict attached, by their pins, then renames the pin directory to this process's pid (the old
 * process finds nothing to unpin when it exits). The sockets of the old instance's tunnels stay
 * in the same sockhash, so they keep flowing in the kernel while user space changes hands. The
 * program stays the one the first instance loaded: a different one needs a restart. Returns 0
 * or -errno (why set); on failure nothing was renamed.
 */
int splice_adopt(struct ctx *ctx, int pid, char *why, size_t whylen)
{
	static const char *const names[] = { "wsplice_socks", "wsplice_targets", "wsplice_sock",
					     "wsplice_limit", "wsplice_stats", "wsplice_events" };
	struct splice *sp = calloc(1, sizeof(*sp));
	char old_dir[64], path[128];
	int *fds[6], err;

	if (!sp)
		return -ENOMEM;
	sp->ctx = ctx;
	sp->adopted = true;
	fds[0] = &sp->socks_fd, fds[1] = &sp->targets_fd, fds[2] = &sp->sock_fd;
	fds[3] = &sp->limit_fd, fds[4] = &sp->stats_fd, fds[5] = &sp->events_fd;
	for (int i = 0; i < 6; i++)
		*fds[i] = -1;
	sp->link_fd = -1;
	sp->root_dirfd = -1;
	loop_timer_init(&sp->poll, flow_poll_timer);
	libbpf_set_print(libbpf_print);
	snprintf(old_dir, sizeof(old_dir), WSPLICE_PIN_ROOT "/%d", pid);
	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/%s", old_dir, names[i]);
		*fds[i] = bpf_obj_get(path);
		if (*fds[i] < 0) {
			err = -errno;
			snprintf(why, whylen, "%s: %s", path, strerror(-err));
			goto cleanup;
		}
	}
	/* absent where the verdict was attached without a link (kernels before 6.10) */
	snprintf(path, sizeof(path), "%s/wsplice_link", old_dir);
	sp->link_fd = bpf_obj_get(path);
	err = start_events(sp, sp->events_fd, why, whylen);
	if (err)
		goto cleanup;
	/* last: a failure before leaves the old instance's pins as they were */
	snprintf(sp->pin_dir, sizeof(sp->pin_dir), WSPLICE_PIN_ROOT "/%d", getpid());
	if (rename(old_dir, sp->pin_dir) < 0) {
		err = -errno;
		sp->pin_dir[0] = 0;
		snprintf(why, whylen, "rename %s: %s", old_dir, strerror(-err));
		goto cleanup;
	}
	/* for removal at exit, after a chroot (privs.c) */
	sp->root_dirfd = open(WSPLICE_PIN_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	clean_stale_pins();
	ctx->splice = sp;
	pr_notice("splice: took the BPF objects of process %d (%s)", pid, sp->pin_dir);
	return 0;
cleanup:
	ctx->splice = sp;
	splice_close(ctx);
	return err;
}

bool splice_adopted(const struct ctx *ctx)
{
	return ctx->splice && ctx->splice->adopted;
}

/* A paused direction is held by user space until its FIN went out: one that never joined the
 * sockhash is done then (a demoting tunnel is not movable anyway), and the tunnel can move as
 * any half-closed one, its new process reading the spliced direction's events. */
static bool dir_held(const struct splice_dir *d)
{
	return d->paused && !d->shut;
}

/*
 * A tunnel can change process when user space holds nothing of it: no direction paused or
 * draining (those are polled), none leaving the kernel, no bytes on their way.
 */
bool splice_tunnel_movable(const struct stream *s)
{
	const struct splice_pair *p = &s->pair;

	return p->inserted && !p->polled && !p->demoting && !dir_held(&p->dir[0]) &&
	       !dir_held(&p->dir[1]) && !p->dir[0].rest.data && !p->dir[1].rest.data;
}

/*
 * The old process's side of a handover: stops consuming flow-control events (the new process
 * reads the same ring; two readers would steal each other's events) after taking those already
 * there, and starts no new kernel tunnel. What it keeps is all polled, so it needs no event.
 */
void splice_give_up(struct ctx *ctx)
{
	struct splice *sp = ctx->splice;

	if (!sp || sp->given_up)
		return;
	ring_buffer__consume(sp->rb);
	loop_del_fd(ctx->loop, &sp->rb_fh);
	sp->given_up = true;
}

/* The old process forgets a tunnel it handed over; the maps keep every entry. */
void splice_tunnel_forget(struct stream *s)
{
	struct splice *sp = s->ctx->splice;
	struct splice_pair *p = &s->pair;

	if (!p->inserted)
		return;
	flow_poll_del(sp, p);
	for (int i = 0; i < 2; i++) {
		hash_del(sp, &p->dir[i]);
		reserve(sp, &p->dir[i], 0);
	}
	p->inserted = false;
	s->ctx->cnt.cur_spliced--;
}

/*
 * The new process's side: s->pair holds what the old process knew of each direction (cookie,
 * base, mark, reserve, copied, EOF); s->cs and s->ss hold the received sockets. Checks that each
 * socket is the one the maps know, then takes over events and timers. Returns 0 or -errno.
 */
int splice_tunnel_adopt(struct stream *s)
{
	struct splice *sp = s->ctx->splice;
	struct splice_pair *p = &s->pair;
	struct loop *loop = s->ctx->loop;
	struct wsplice_sock v;
	uint64_t cookie, amount;
	int fds[2] = { s->cs.fd, s->ss.fd }, err;

	for (int i = 0; i < 2; i++) {
		struct splice_dir *d = &p->dir[i];

		d->pair = p;
		d->src_fd = fds[i];
		d->dst_fd = fds[!i];
		/* the old process may have written a mark: forget it at the end */
		d->limited = true;
		err = sock_cookie(d->src_fd, &cookie);
		if (!err && cookie != d->cookie)
			err = -ESTALE;
		if (!err)
			err = sock_state(sp, d->cookie, &v);
		if (err)
			return err;
	}
	for (int i = 0; i < 2; i++) {
		amount = p->dir[i].reserved;
		p->dir[i].reserved = 0;
		reserve(sp, &p->dir[i], amount);
		hash_add(sp, &p->dir[i]);
	}
	p->inserted = true;
	loop_add_fd(loop, &s->cs.fh, s->cs.fd, SPLICE_EVENTS, flow_cli_io);
	loop_add_fd(loop, &s->ss.fh, s->ss.fd, SPLICE_EVENTS, flow_srv_io);
	s->st = ST_TUNNEL_KERNEL;
	s->ctx->cnt.cur_spliced++;
	s->timer.cb = flow_timer;
	loop_timer_add(loop, &s->timer, 0);
	return 0;
}
