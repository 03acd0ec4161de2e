// SPDX-License-Identifier: GPL-2.0
/*
 * Keywords of the "global" section. Each parser follows the cfg_kw_fn contract (cfg.h): 0, 1 with
 * a warning in err, or -1 with the error in err.
 */
#include "cfg.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* Rejects words after the n_ok expected ones, with HAProxy's message. */
static int no_extra(char **args, int n, int n_ok, char *err, size_t errlen)
{
	if (n <= n_ok)
		return 0;
	snprintf(err, errlen, "'%s' cannot handle unexpected argument '%s'.", args[0], args[n_ok]);
	return -1;
}

/* A whole decimal number in [min, max]: stricter than HAProxy's atol(), which reads "abc" as 0. */
static int parse_int(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s && !*end && !errno && *v >= min && *v <= max ? 0 : -1;
}

/* "KEYWORD N", N a non-negative integer, into *dst. */
static int global_int(char **args, int n, int *dst, char *err, size_t errlen)
{
	long v;

	if (n < 2 || parse_int(args[1], 0, INT_MAX, &v) < 0) {
		snprintf(err, errlen, "'%s' expects an integer argument.", args[0]);
		return -1;
	}
	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	*dst = (int)v;
	return 0;
}

static int kw_maxconn(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	return global_int(args, n, &ctx->cfg->global.maxconn, err, errlen);
}

/* "maxpipes N": at most N relayed tunnel directions use a splice(2) pipe at once (relay.c) */
static int kw_maxpipes(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	return global_int(args, n, &ctx->cfg->global.maxpipes, err, errlen);
}

static int kw_nosplice(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (no_extra(args, n, 1, err, errlen) < 0)
		return -1;
	ctx->cfg->global.nosplice = true;
	return 0;
}

/*
 * "busy-polling" (HAProxy's): the event loop polls with a zero timeout instead of sleeping.
 * "no busy-polling" turns it off again, as in HAProxy.
 */
static int kw_busy_polling(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (no_extra(args, n, 1, err, errlen) < 0)
		return -1;
	ctx->cfg->global.busy_polling = !ctx->no;
	return 0;
}

/* "spread-checks N": each check interval varies by up to N percent either way (0..50). */
static int kw_spread_checks(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	long v;

	if (n < 2 || parse_int(args[1], LONG_MIN, LONG_MAX, &v) < 0) {
		snprintf(err, errlen, "'%s' expects an integer argument (0..50).", args[0]);
		return -1;
	}
	if (v < 0 || v > 50) {
		snprintf(err, errlen, "'%s' needs a positive value in range 0..50.", args[0]);
		return -1;
	}
	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	ctx->cfg->global.spread_checks = (unsigned int)v;
	return 0;
}

/* ---- stats socket ------------------------------------------------------------------------- */

static int sock_mode(struct global *g, const char *v, char *err, size_t errlen)
{
	char *end;
	unsigned long m;

	errno = 0;
	m = v ? strtoul(v, &end, 8) : 0;
	if (!v || !*v || *end || errno || m > 07777) {
		snprintf(err, errlen,
			 "'stats socket' : 'mode' : missing or invalid mode '%s' (octal "
			 "integer expected)",
			 v ? v : "");
		return -1;
	}
	g->stats_socket_mode = (unsigned int)m;
	return 0;
}

static int sock_level(struct global *g, const char *v, char *err, size_t errlen)
{
	static const char *const levels[] = {"user", "operator", "admin"};
	int i;

	for (i = 0; v && i < 3; i++) {
		if (!strcmp(v, levels[i])) {
			g->stats_socket_level = i;
			return 0;
		}
	}
	snprintf(err, errlen,
		 "'stats socket' : 'level' only supports 'user', 'operator', and "
		 "'admin' (got '%s')",
		 v ? v : "");
	return -1;
}

/* "expose-fd listeners": a new process started with -x may take the listening sockets, and
 * the tunnels (reload.h), through this socket. */
static int sock_expose_fd(struct global *g, const char *v, char *err, size_t errlen)
{
	if (!v || strcmp(v, "listeners")) {
		snprintf(err, errlen, "'stats socket' : 'expose-fd' only supports 'listeners' (got '%s')",
			 v ? v : "");
		return -1;
	}
	g->stats_expose_fd = true;
	return 0;
}

/* Only UNIX sockets: a path, optionally "unix@PATH"; HAProxy's TCP forms are not supported. */
static int sock_path(struct global *g, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;

	if (!strncmp(path, "unix@", 5))
		path += 5;
	if (strchr(path, '@') || strchr(path, ':')) {
		snprintf(err, errlen,
			 "'stats socket' : '%s' : only UNIX socket paths are supported.", path);
		return -1;
	}
	if (!*path || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "'stats socket' : invalid UNIX socket path '%s'", path);
		return -1;
	}
	free(g->stats_socket);
	g->stats_socket = strdup(path);
	return g->stats_socket ? 0 : -1;
}

/*
 * "stats socket PATH [mode OCTAL] [level user|operator|admin]". Defaults: mode 0600 and level
 * admin, as cfg.h documents for the runtime API (HAProxy defaults to operator).
 */
static int stats_socket(struct global *g, char **args, int n, char *err, size_t errlen)
{
	int i;

	if (n < 3) {
		snprintf(err, errlen,
			 "'stats socket' in global section expects an address or a path "
			 "to a UNIX socket");
		return -1;
	}
	if (g->stats_socket) {
		snprintf(err, errlen, "'stats socket' : a second socket is not supported yet.");
		return -1;
	}
	g->stats_socket_mode = 0600;
	g->stats_socket_level = 2;
	for (i = 3; i < n; i += 2) {
		const char *v = i + 1 < n ? args[i + 1] : NULL;
		int rc;

		if (!strcmp(args[i], "mode"))
			rc = sock_mode(g, v, err, errlen);
		else if (!strcmp(args[i], "level"))
			rc = sock_level(g, v, err, errlen);
		else if (!strcmp(args[i], "expose-fd"))
			rc = sock_expose_fd(g, v, err, errlen);
		else
			rc = -1,
			snprintf(err, errlen, "'stats socket' : unknown keyword '%s'.", args[i]);
		if (rc < 0)
			return -1;
	}
	return sock_path(g, args[2], err, errlen);
}

static int kw_stats(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (n < 2 || strcmp(args[1], "socket")) {
		snprintf(err, errlen, "'stats %s' is not supported yet (only 'stats socket').",
			 n < 2 ? "" : args[1]);
		return -1;
	}
	return stats_socket(&ctx->cfg->global, args, n, err, errlen);
}

/* ---- process management: daemon, pidfile, hard-stop-after, identity, chroot ------------------ */

static int kw_daemon(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (no_extra(args, n, 1, err, errlen) < 0)
		return -1;
	ctx->cfg->global.daemon = true;
	return 0;
}

/* A keyword taking one word stored in *dst ("pidfile", "chroot"). A second one is ignored with
 * HAProxy's message: it alerts, keeps the first and goes on. */
static int one_string(char **args, int n, const char *what, char **dst, char *err, size_t errlen)
{
	if (n < 2 || !*args[1]) {
		snprintf(err, errlen, "'%s' expects %s as an argument.", args[0], what);
		return -1;
	}
	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	if (*dst) {
		snprintf(err, errlen, "'%s' already specified. Continuing.", args[0]);
		return 1;
	}
	*dst = strdup(args[1]);
	return *dst ? 0 : -1;
}

static int kw_pidfile(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	return one_string(args, n, "a file name", &ctx->cfg->global.pidfile, err, errlen);
}

static int kw_chroot(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	return one_string(args, n, "a directory", &ctx->cfg->global.chroot, err, errlen);
}

/* "hard-stop-after TIME": how long a soft stop may last before what is left is killed. */
static int kw_hard_stop_after(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (n < 2) {
		snprintf(err, errlen, "'%s' expects <time> as argument.", args[0]);
		return -1;
	}
	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	return cfg_time_arg("argument to <hard-stop-after>", args[1],
			    &ctx->cfg->global.hard_stop_after, err, errlen);
}

/*
 * "user NAME", "uid N", "group NAME", "gid N": the identity privs.c switches to once everything
 * privileged is done. Names are resolved now, so that an unknown one is a configuration error
 * (and so that no passwd lookup happens inside a chroot). 0 keeps the identity, as in HAProxy.
 */
static int set_id(unsigned int *dst, unsigned int v, const char *which, char *err, size_t errlen)
{
	if (*dst) {
		/* as HAProxy: the first one stays */
		snprintf(err, errlen, "%s already specified. Continuing.", which);
		return 1;
	}
	*dst = v;
	return 0;
}

static int kw_user(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	struct passwd *pw;

	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	errno = 0;
	pw = n > 1 ? getpwnam(args[1]) : NULL;
	if (!pw) {
		snprintf(err, errlen, "cannot find user id for '%s' (%d:%s)", n > 1 ? args[1] : "",
			 errno, strerror(errno));
		return -1;
	}
	return set_id(&ctx->cfg->global.uid, pw->pw_uid, "user/uid", err, errlen);
}

static int kw_group(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	struct group *gr;

	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	errno = 0;
	gr = n > 1 ? getgrnam(args[1]) : NULL;
	if (!gr) {
		snprintf(err, errlen, "cannot find group id for '%s' (%d:%s)", n > 1 ? args[1] : "",
			 errno, strerror(errno));
		return -1;
	}
	return set_id(&ctx->cfg->global.gid, gr->gr_gid, "group/gid", err, errlen);
}

/* "uid N" / "gid N": a whole number, where HAProxy only warns about "12x" and uses 12. */
static int kw_uid_gid(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	bool is_uid = !strcmp(args[0], "uid");
	long v;

	if (n < 2 || parse_int(args[1], 0, UINT_MAX - 1, &v) < 0) {
		snprintf(err, errlen, "'%s' expects an integer argument.", args[0]);
		return -1;
	}
	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	return set_id(is_uid ? &ctx->cfg->global.uid : &ctx->cfg->global.gid, (unsigned int)v,
		      is_uid ? "user/uid" : "group/gid", err, errlen);
}

const struct cfg_kw cfg_global_kws[] = {
    {"busy-polling", CFG_SEC_GLOBAL, 0, CFG_KW_NO, kw_busy_polling},
    {"chroot", CFG_SEC_GLOBAL, 0, 0, kw_chroot},
    {"daemon", CFG_SEC_GLOBAL, 0, 0, kw_daemon},
    {"gid", CFG_SEC_GLOBAL, 0, 0, kw_uid_gid},
    {"group", CFG_SEC_GLOBAL, 0, 0, kw_group},
    {"hard-stop-after", CFG_SEC_GLOBAL, 0, 0, kw_hard_stop_after},
    {"log", CFG_SEC_GLOBAL, 0, 0, cfg_log_global},
    {"maxconn", CFG_SEC_GLOBAL, 0, 0, kw_maxconn},
    {"maxpipes", CFG_SEC_GLOBAL, 0, 0, kw_maxpipes},
    {"nosplice", CFG_SEC_GLOBAL, 0, 0, kw_nosplice},
    {"pidfile", CFG_SEC_GLOBAL, 0, 0, kw_pidfile},
    {"spread-checks", CFG_SEC_GLOBAL, 0, 0, kw_spread_checks},
    {"stats", CFG_SEC_GLOBAL, 0, 0, kw_stats},
    {"uid", CFG_SEC_GLOBAL, 0, 0, kw_uid_gid},
    {"user", CFG_SEC_GLOBAL, 0, 0, kw_user},
    {NULL, 0, 0, 0, NULL},
};
