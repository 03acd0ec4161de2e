// SPDX-License-Identifier: GPL-2.0
/*
 * The "server" and "default-server" keywords and their options, split from cfg_proxy.c (one
 * concept per file). Parsers follow the cfg_kw_fn contract (cfg.h).
 */
#include "cfg.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- server, default-server --------------------------------------------------------------- */

/*
 * Server options are rows of { name, words, parser }: a parser gets args[i] (the option) and,
 * when words is 2, its value in args[i + 1], and returns 0 or -1 with the message in err.
 * "default-server" takes the same options into the proxy's template (px->defsrv), which every
 * later "server" line starts from, as in HAProxy.
 */
struct srv_kw {
	const char *name;
	int words;
	int (*parse)(struct server *s, char **args, int i, char *err, size_t errlen);
};

/*
 * A value that must be an integer in [min, max]; the texts are HAProxy's (weight has a range,
 * rise and fall must be positive). Stricter than HAProxy on one point: "weight abc" is an
 * error, where its atol() reads 0.
 */
static int srv_int(const struct server *s, char **args, int i, long min, long max, long *v,
		   char *err, size_t errlen)
{
	if (cfg_parse_int(args[i + 1], LONG_MIN, LONG_MAX, v) < 0) {
		snprintf(err, errlen, "'%s' expects an integer argument.", args[i]);
		return -1;
	}
	if (!strcmp(args[i], "weight") && (*v < min || *v > max)) {
		snprintf(err, errlen, "weight of server %s is not within %ld and %ld (%ld).",
			 s->id ? s->id : "", min, max, *v);
		return -1;
	}
	if (*v < min || *v > max) {
		snprintf(err, errlen, "'%s' has to be > 0.", args[i]);
		return -1;
	}
	return 0;
}

/* "inter", "fastinter", "downinter": a delay above 0. */
static int srv_delay(const struct server *s, char **args, int i, unsigned int *ms, char *err,
		     size_t errlen)
{
	char what[96];

	snprintf(what, sizeof(what), "'%s' argument of server %s", args[i], s->id ? s->id : "");
	if (cfg_time_arg(what, args[i + 1], ms, err, errlen) < 0)
		return -1;
	if (!*ms) {
		snprintf(err, errlen, "invalid value 0 for argument '%s' of server %s.", args[i],
			 s->id ? s->id : "");
		return -1;
	}
	return 0;
}

static int so_inter(struct server *s, char **args, int i, char *err, size_t errlen)
{
	unsigned int *f = !strcmp(args[i], "inter")	  ? &s->check_inter
			  : !strcmp(args[i], "fastinter") ? &s->check_fastinter
							  : &s->check_downinter;

	return srv_delay(s, args, i, f, err, errlen);
}

static int so_flag(struct server *s, char **args, int i, char *err, size_t errlen)
{
	const char *o = args[i];
	bool on = strncmp(o, "no-", 3) != 0;

	(void)err;
	(void)errlen;
	if (!on)
		o += 3;
	if (!strcmp(o, "check"))
		s->check = on;
	else if (!strcmp(o, "backup"))
		s->backup = on;
	else
		s->disabled = !strcmp(o, "disabled");
	return 0;
}

static int so_weight(struct server *s, char **args, int i, char *err, size_t errlen)
{
	long v;

	if (srv_int(s, args, i, 0, 256, &v, err, errlen) < 0)
		return -1;
	s->weight = (int)v;
	return 0;
}

static int so_rise_fall(struct server *s, char **args, int i, char *err, size_t errlen)
{
	long v;

	if (srv_int(s, args, i, 1, INT_MAX, &v, err, errlen) < 0)
		return -1;
	*(args[i][0] == 'r' ? &s->check_rise : &s->check_fall) = (unsigned int)v;
	return 0;
}

static int so_maxconn(struct server *s, char **args, int i, char *err, size_t errlen)
{
	long v;

	if (cfg_parse_int(args[i + 1], 0, INT_MAX, &v) < 0) {
		snprintf(err, errlen, "'%s' expects an integer argument.", args[i]);
		return -1;
	}
	s->maxconn = (unsigned int)v;
	return 0;
}

static int so_port(struct server *s, char **args, int i, char *err, size_t errlen)
{
	long v;

	if (cfg_parse_int(args[i + 1], 1, 65535, &v) < 0) {
		snprintf(err, errlen, "'port' expects a valid TCP port (between 1 and 65535).");
		return -1;
	}
	s->check_port = (unsigned int)v;
	return 0;
}

/* "addr IP": where checks connect; a host name is resolved once, as the server's own. */
static int so_addr(struct server *s, char **args, int i, char *err, size_t errlen)
{
	char text[300];

	snprintf(text, sizeof(text), strchr(args[i + 1], ':') ? "[%s]:1" : "%s:1", args[i + 1]);
	if (cfg_parse_addr(text, &s->check_addr, &s->check_addrlen, err, errlen) < 0) {
		snprintf(err, errlen, "'addr' expects <ipv4|ipv6> as argument.");
		return -1;
	}
	return 0;
}

static int so_marked_down(struct server *s, char **args, int i, char *err, size_t errlen)
{
	if (strcmp(args[i + 1], "shutdown-sessions")) {
		snprintf(err, errlen, "'on-marked-down' expects 'shutdown-sessions' but got '%s'.",
			 args[i + 1]);
		return -1;
	}
	s->shutdown_sessions = true;
	return 0;
}

/* "cookie VALUE": the value the backend's sticky cookie gives this server. */
static int so_cookie(struct server *s, char **args, int i, char *err, size_t errlen)
{
	free(s->ck_value);
	s->ck_value = strdup(args[i + 1]);
	if (!s->ck_value) {
		snprintf(err, errlen, "out of memory.");
		return -1;
	}
	return 0;
}

/* "send-proxy", "send-proxy-v2": the PROXY protocol header before anything else. */
static int so_send_proxy(struct server *s, char **args, int i, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	s->send_proxy = strcmp(args[i], "send-proxy-v2") ? 1 : 2;
	return 0;
}

static const struct srv_kw srv_kws[] = {
    {"addr", 2, so_addr},
    {"backup", 1, so_flag},
    {"check", 1, so_flag},
    {"cookie", 2, so_cookie},
    {"disabled", 1, so_flag},
    {"downinter", 2, so_inter},
    {"enabled", 1, so_flag},
    {"fall", 2, so_rise_fall},
    {"fastinter", 2, so_inter},
    {"inter", 2, so_inter},
    {"maxconn", 2, so_maxconn},
    {"no-backup", 1, so_flag},
    {"no-check", 1, so_flag},
    {"on-marked-down", 2, so_marked_down},
    {"port", 2, so_port},
    {"rise", 2, so_rise_fall},
    {"send-proxy", 1, so_send_proxy},
    {"send-proxy-v2", 1, so_send_proxy},
    {"weight", 2, so_weight},
    {NULL, 0, NULL},
};

/* HAProxy's text for an option whose value is missing. */
static void srv_missing(const struct srv_kw *k, char *err, size_t errlen)
{
	if (k->parse == so_inter)
		snprintf(err, errlen, "'%s' expects a delay as argument.", k->name);
	else if (k->parse == so_addr)
		snprintf(err, errlen, "'addr' expects <ipv4|ipv6> as argument.");
	else if (k->parse == so_marked_down)
		snprintf(err, errlen, "'on-marked-down' expects 'shutdown-sessions' but got ''.");
	else
		snprintf(err, errlen, "'%s' expects an integer argument.", k->name);
}

/* Server options HAProxy has and wsplice does not (yet): named as such, not as unknown. */
static const char *const srv_unsupported[] = {
    "agent-check", "agent-inter", "agent-port", "alpn",		 "ca-file",	 "check-send-proxy",
    "check-ssl",   "crt",	"error-limit",	 "id",		 "init-addr",
    "maxqueue",	   "minconn",	  "observe",	"on-error",	 "on-marked-up", "proto",
    "redir",	   "resolvers",	  "slowstart",	 "sni",
    "source",	   "ssl",	  "tfo",	"track",	 "verify",	 NULL,
};

/* Options after "server NAME ADDR". Returns how many words option i used, or -1. */
static int srv_option(struct server *s, char **args, int i, int n, char *err, size_t errlen)
{
	const struct srv_kw *k;

	for (k = srv_kws; k->name && strcmp(k->name, args[i]); k++)
		;
	if (!k->name) {
		for (int j = 0; srv_unsupported[j]; j++) {
			if (!strcmp(args[i], srv_unsupported[j])) {
				snprintf(err, errlen, "'%s' is not supported yet.", args[i]);
				return -1;
			}
		}
		snprintf(err, errlen, "unknown keyword '%s'.", args[i]);
		return -1;
	}
	if (k->words == 2 && i + 1 >= n) {
		srv_missing(k, err, errlen);
		return -1;
	}
	return k->parse(s, args, i, err, errlen) < 0 ? -1 : k->words;
}

static bool addr_is_any(const struct sockaddr_storage *ss)
{
	static const unsigned char zero[16];

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == 0;
	return !memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, zero, 16);
}

static int srv_addr(struct server *s, const char *text, char *err, size_t errlen)
{
	if (cfg_parse_addr(text, &s->addr, &s->addrlen, err, errlen) < 0)
		return -1;
	if (addr_is_any(&s->addr)) {
		snprintf(err, errlen, "address '%s' has no host to connect to.", text);
		return -1;
	}
	return 0;
}

/* HAProxy's server defaults, which "default-server" changes for the lines after it. */
static void srv_defaults(struct server *s)
{
	s->weight = 1;
	s->check_inter = 2000;
	s->check_rise = 2;
	s->check_fall = 3;
}

static struct server *srv_new(struct cfg_kw_ctx *ctx, const char *id)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (ctx->px->defsrv) {
		*s = *ctx->px->defsrv;
		/* the template's cookie value is its own; the server gets a copy */
		if (s->ck_value && !(s->ck_value = strdup(s->ck_value))) {
			free(s);
			return NULL;
		}
	}
	else
		srv_defaults(s);
	s->next = NULL;
	s->id = strdup(id);
	if (!s->id) {
		free(s);
		return NULL;
	}
	s->be = ctx->px;
	s->file = ctx->file;
	s->line = ctx->line;
	return s;
}

static void srv_append(struct proxy *px, struct server *s)
{
	struct server **ps;

	for (ps = &px->servers; *ps; ps = &(*ps)->next)
		;
	*ps = s;
	s->puid = ++px->nservers;
}

/* "server NAME ADDR:PORT [OPTION...]". */
int kw_server(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	char inner[512];
	struct server *s;
	int i, used;

	if (n < 3) {
		snprintf(err, errlen, "'server' expects <name> and <addr>[:<port>] as arguments.");
		return -1;
	}
	/* names appear in logs, CSV and metrics labels: HAProxy's character set only */
	if (cfg_bad_name_char(args[1])) {
		snprintf(err, errlen, "character '%c' is not permitted in server name '%s'.",
			 cfg_bad_name_char(args[1]), args[1]);
		return -1;
	}
	s = srv_new(ctx, args[1]);
	if (!s)
		return -1;
	if (srv_addr(s, args[2], inner, sizeof(inner)) < 0)
		goto fail;
	for (i = 3; i < n; i += used) {
		used = srv_option(s, args, i, n, inner, sizeof(inner));
		if (used < 0)
			goto fail;
	}
	srv_append(ctx->px, s);
	return 0;
fail:
	snprintf(err, errlen, "'server %s/%s' : %s", ctx->px->id ? ctx->px->id : "", s->id, inner);
	/* everything srv_new() and the options allocated (a "cookie" before the bad option) */
	free(s->ck_value);
	free(s->id);
	free(s);
	return -1;
}

/* "default-server [OPTION...]": no name, no address. */
int kw_default_server(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	struct server *d = ctx->px->defsrv;
	int i, used;

	if (!d) {
		d = ctx->px->defsrv = calloc(1, sizeof(*d));
		if (!d)
			return -1;
		srv_defaults(d);
	}
	for (i = 1; i < n; i += used) {
		used = srv_option(d, args, i, n, err, errlen);
		if (used < 0)
			return -1;
	}
	return 0;
}
