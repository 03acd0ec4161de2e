// SPDX-License-Identifier: GPL-2.0
/*
 * Keywords of the proxy sections (defaults, frontend, backend, listen). Each parser follows the
 * cfg_kw_fn contract (cfg.h): 0, 1 with a warning in err, or -1 with the error in err. Section
 * and capability checks are done by the table in cfg.c before a parser runs, except where one
 * keyword's sub-keywords differ (timeout, option).
 */
#include "cfg.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int no_extra(char **args, int n, int n_ok, char *err, size_t errlen)
{
	if (n <= n_ok)
		return 0;
	snprintf(err, errlen, "'%s' cannot handle unexpected argument '%s'.", args[0], args[n_ok]);
	return -1;
}

static int parse_int(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s && !*end && !errno && *v >= min && *v <= max ? 0 : -1;
}

static const char *px_type(const struct proxy *px)
{
	if ((px->cap & (PX_CAP_FE | PX_CAP_BE)) == (PX_CAP_FE | PX_CAP_BE))
		return "proxy";
	return px->cap & PX_CAP_FE ? "frontend" : "backend";
}

/* HAProxy's messages for a bad delay; what names the argument ("'timeout client'"). */
static int time_arg(const char *what, const char *val, unsigned int *ms, char *err, size_t errlen)
{
	const char *res = cfg_parse_time(val, ms);

	if (!res)
		return 0;
	if (*res)
		snprintf(err, errlen, "unexpected character '%c' in %s", *res, what);
	else
		snprintf(err, errlen,
			 "timer overflow in argument '%s' to %s (maximum value is "
			 "2147483647 ms or ~24.8 days)",
			 val, what);
	return -1;
}

static int kw_mode(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	const char *m = n > 1 ? args[1] : "";

	if (!strcmp(m, "http")) {
		ctx->px->mode = PX_MODE_HTTP;
	} else if (!strcmp(m, "tcp")) {
		ctx->px->mode = PX_MODE_TCP;
	} else {
		snprintf(err, errlen, "unknown proxy mode '%s'.", m);
		return -1;
	}
	return no_extra(args, n, 2, err, errlen);
}

static int kw_maxconn(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	long v;

	if (n < 2 || parse_int(args[1], 0, INT_MAX, &v) < 0) {
		snprintf(err, errlen, "'%s' expects an integer argument.", args[0]);
		return -1;
	}
	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	ctx->px->maxconn = (int)v;
	return 0;
}

/* ---- bind --------------------------------------------------------------------------------- */

static struct bind_conf *bind_new(struct cfg_kw_ctx *ctx, const char *text, size_t len)
{
	struct bind_conf *b = calloc(1, sizeof(*b)), **pb;

	if (!b || !(b->text = strndup(text, len))) {
		free(b);
		return NULL;
	}
	b->fd = -1;
	b->file = ctx->file;
	b->line = ctx->line;
	for (pb = &ctx->px->binds; *pb; pb = &(*pb)->next)
		;
	*pb = b;
	return b;
}

/* "fd@N": a listening socket inherited from the parent (systemd, a supervisor, a test). */
static int bind_fd(struct bind_conf *b, char *err, size_t errlen)
{
	long v;

	if (parse_int(b->text + 3, 0, INT_MAX, &v) < 0) {
		snprintf(err, errlen,
			 "'bind' : file descriptor '%s' is not a valid integer in '%s'",
			 b->text + 3, b->text);
		return -1;
	}
	b->fd = (int)v;
	return 0;
}

static int bind_one(struct cfg_kw_ctx *ctx, const char *text, size_t len, char *err, size_t errlen)
{
	struct bind_conf *b = bind_new(ctx, text, len);
	char inner[512];

	if (!b)
		return -1;
	if (!b->text[0]) {
		snprintf(err, errlen, "'bind' : empty address in '%s'", text);
		return -1;
	}
	if (!strncmp(b->text, "fd@", 3))
		return bind_fd(b, err, errlen);
	if (strchr(b->text, '@')) {
		snprintf(err, errlen,
			 "'bind' : address '%s' is not supported yet (only "
			 "[ADDR]:PORT and fd@N).",
			 b->text);
		return -1;
	}
	if (cfg_parse_addr(b->text, &b->addr, &b->addrlen, inner, sizeof(inner)) < 0) {
		snprintf(err, errlen, "'bind' : %s", inner);
		return -1;
	}
	return 0;
}

/*
 * "bind ADDR[,ADDR...]": one bind_conf per address. The addresses are what wsplice takes from
 * HAProxy's bind line; every option after them (ssl, crt, alpn, ...) is an error naming it.
 */
static int kw_bind(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	const char *p, *comma;

	if (n < 2 || !args[1][0]) {
		snprintf(err, errlen,
			 "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port"
			 "[-end]}... as arguments.");
		return -1;
	}
	if (n > 2) {
		snprintf(err, errlen,
			 "'bind %s' in section '%s': unknown keyword '%s' (wsplice "
			 "supports no bind option).",
			 args[1], ctx->sect == CFG_SEC_LISTEN ? "listen" : "frontend", args[2]);
		return -1;
	}
	for (p = args[1];; p = comma + 1) {
		comma = strchr(p, ',');
		if (bind_one(ctx, p, comma ? (size_t)(comma - p) : strlen(p), err, errlen) < 0)
			return -1;
		if (!comma)
			return 0;
	}
}

/* ---- acl, use_backend, default_backend ---------------------------------------------------- */

/*
 * "acl NAME CRIT [-i] VALUES". An ACL without values is accepted with HAProxy's warning: it never
 * matches, which is occasionally meant (a placeholder) and more often a mistake.
 */
static int kw_acl(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	char inner[512];
	struct acl *a;
	struct acl_expr *e;

	if (n < 2) {
		snprintf(err, errlen, "'acl' expects an ACL name and a criterion.");
		return -1;
	}
	if (acl_parse_line(&ctx->px->acls, args + 1, n - 1, inner, sizeof(inner)) < 0) {
		snprintf(err, errlen, "error detected while parsing ACL '%s' : %s", args[1], inner);
		return -1;
	}
	for (a = ctx->px->acls; a && strcmp(a->name, args[1]); a = a->next)
		;
	for (e = a ? a->exprs : NULL; e && e->next; e = e->next)
		;
	if (e && !e->nvalues && !e->nnets) {
		snprintf(err, errlen,
			 "acl '%s' : no pattern to match against were provided, so this "
			 "ACL will never match.",
			 args[1]);
		return 1;
	}
	return 0;
}

/*
 * "use_backend NAME [if|unless COND]". The condition's ACLs are resolved now, against the ACLs
 * declared above the rule (HAProxy's rule); the backend name only in cfg_check().
 */
static int kw_use_backend(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	struct switching_rule *r, **pr;
	struct acl_cond *cond = NULL;
	char inner[512];

	if (n < 2) {
		snprintf(err, errlen, "'use_backend' expects a backend name.");
		return -1;
	}
	if (n > 2 && strcmp(args[2], "if") && strcmp(args[2], "unless")) {
		snprintf(err, errlen,
			 "unexpected keyword '%s' after switching rule, only 'if' and "
			 "'unless' are allowed.",
			 args[2]);
		return -1;
	}
	if (n > 2) {
		cond = acl_cond_parse(ctx->px->acls, args + 2, n - 2, inner, sizeof(inner));
		if (!cond) {
			snprintf(err, errlen, "error detected while parsing switching rule : %s",
				 inner);
			return -1;
		}
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->be_name = strdup(args[1]))) {
		free(r);
		acl_cond_free(cond);
		return -1;
	}
	r->cond = cond;
	r->file = ctx->file;
	r->line = ctx->line;
	for (pr = &ctx->px->rules; *pr; pr = &(*pr)->next)
		;
	*pr = r;
	return 0;
}

/* "default_backend NAME": allowed in defaults too, where frontends inherit it. */
static int kw_default_backend(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (n < 2) {
		snprintf(err, errlen, "'%s' expects a backend name.", args[0]);
		return -1;
	}
	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	free(ctx->px->defbe_name);
	ctx->px->defbe_name = strdup(args[1]);
	return ctx->px->defbe_name ? 0 : -1;
}

/* ---- server ------------------------------------------------------------------------------- */

/* One "KEY VALUE" server option with an integer value. */
/*
 * The error texts are HAProxy's: weight has a range, rise and fall must be positive. Stricter
 * than HAProxy on one point: "weight abc" is an error, where its atol() reads 0.
 */
static int srv_int(const struct server *s, char **args, int i, int n, long min, long max, long *v,
		   char *err, size_t errlen)
{
	if (i + 1 >= n || parse_int(args[i + 1], LONG_MIN, LONG_MAX, v) < 0) {
		snprintf(err, errlen, "'%s' expects an integer argument.", args[i]);
		return -1;
	}
	if (!strcmp(args[i], "weight") && (*v < min || *v > max)) {
		snprintf(err, errlen, "weight of server %s is not within %ld and %ld (%ld).", s->id,
			 min, max, *v);
		return -1;
	}
	if (*v < min || *v > max) {
		snprintf(err, errlen, "'%s' has to be > 0.", args[i]);
		return -1;
	}
	return 0;
}

static int srv_inter(struct server *s, char **args, int i, int n, char *err, size_t errlen)
{
	char what[64];

	if (i + 1 >= n) {
		snprintf(err, errlen, "'inter' expects a delay as argument.");
		return -1;
	}
	snprintf(what, sizeof(what), "'inter' argument of server %s", s->id);
	if (time_arg(what, args[i + 1], &s->check_inter, err, errlen) < 0)
		return -1;
	if (!s->check_inter) {
		snprintf(err, errlen, "invalid value 0 for argument 'inter' of server %s.", s->id);
		return -1;
	}
	return 0;
}

/* Options after "server NAME ADDR". Returns how many words option i used, or -1. */
static int srv_option(struct server *s, char **args, int i, int n, char *err, size_t errlen)
{
	long v;

	if (!strcmp(args[i], "check")) {
		s->check = true;
		return 1;
	}
	if (!strcmp(args[i], "disabled")) {
		s->disabled = true;
		return 1;
	}
	if (!strcmp(args[i], "inter"))
		return srv_inter(s, args, i, n, err, errlen) < 0 ? -1 : 2;
	if (!strcmp(args[i], "weight")) {
		if (srv_int(s, args, i, n, 0, 256, &v, err, errlen) < 0)
			return -1;
		s->weight = (int)v;
		return 2;
	}
	if (!strcmp(args[i], "rise") || !strcmp(args[i], "fall")) {
		if (srv_int(s, args, i, n, 1, INT_MAX, &v, err, errlen) < 0)
			return -1;
		*(args[i][0] == 'r' ? &s->check_rise : &s->check_fall) = (unsigned int)v;
		return 2;
	}
	snprintf(err, errlen, "unknown keyword '%s'.", args[i]);
	return -1;
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

static struct server *srv_new(struct cfg_kw_ctx *ctx, const char *id)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s || !(s->id = strdup(id))) {
		free(s);
		return NULL;
	}
	s->be = ctx->px;
	s->weight = 1;
	s->check_inter = 2000;
	s->check_rise = 2;
	s->check_fall = 3;
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
	px->nservers++;
}

/* "server NAME ADDR:PORT [check] [weight N] [disabled] [inter T] [rise N] [fall N]". */
static int kw_server(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	char inner[512];
	struct server *s;
	int i, used;

	if (n < 3) {
		snprintf(err, errlen, "'server' expects <name> and <addr>[:<port>] as arguments.");
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
	free(s->id);
	free(s);
	return -1;
}

/* ---- balance, timeout, option, log -------------------------------------------------------- */

static int kw_balance(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	static const char *const known[] = {
	    "static-rr", "leastconn", "first", "source",     "uri",
	    "url_param", "random",    "hdr(",  "rdp-cookie",
	};
	const char *a = n > 1 ? args[1] : "";
	size_t i;

	if (!strcmp(a, "roundrobin")) {
		ctx->px->lb = LB_ROUNDROBIN;
		return no_extra(args, n, 2, err, errlen);
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (*a && !strncmp(a, known[i], strlen(known[i]))) {
			snprintf(err, errlen,
				 "balance '%s' is not supported yet (only 'roundrobin').", a);
			return -1;
		}
	}
	snprintf(err, errlen,
		 "balance only supports 'roundrobin', 'static-rr', 'leastconn', "
		 "'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.");
	return -1;
}

struct timeout_kw {
	const char *name;
	unsigned int cap; /* the side that uses it (HAProxy's rule) */
	size_t off;
};

#define TMO(name, cap, field)                                                                      \
	{                                                                                          \
		name, cap, offsetof(struct px_timeouts, field)                                     \
	}

static const struct timeout_kw timeouts[] = {
    TMO("client", PX_CAP_FE, client),
    TMO("client-fin", PX_CAP_FE, client_fin),
    TMO("http-request", PX_CAP_FE, http_request),
    TMO("connect", PX_CAP_BE, connect),
    TMO("server", PX_CAP_BE, server),
    TMO("server-fin", PX_CAP_BE, server_fin),
    TMO("tunnel", PX_CAP_BE, tunnel),
};

static const struct timeout_kw *timeout_lookup(const char *name, char *err, size_t errlen)
{
	static const char *const known[] = {"check", "queue", "http-keep-alive", "tarpit"};
	size_t i;

	for (i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		if (!strcmp(name, timeouts[i].name))
			return &timeouts[i];
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (!strcmp(name, known[i])) {
			snprintf(err, errlen, "'timeout %s' is not supported yet.", name);
			return NULL;
		}
	}
	snprintf(err, errlen,
		 "'timeout' supports 'client', 'server', 'connect', 'http-request', "
		 "'tunnel', 'client-fin' and 'server-fin' (got '%s')",
		 name);
	return NULL;
}

/*
 * "timeout NAME T". As in HAProxy, a timeout the proxy's side does not use is ignored with a
 * warning, and setting one twice in a section warns (a value from defaults may be overridden).
 */
static int kw_timeout(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	const struct timeout_kw *t = timeout_lookup(n > 1 ? args[1] : "", err, errlen);
	unsigned int bit, ms;
	char what[64];

	if (!t)
		return -1;
	snprintf(what, sizeof(what), "'timeout %s'", t->name);
	if (n < 3) {
		snprintf(err, errlen, "%s expects an integer value (in milliseconds)", what);
		return -1;
	}
	if (n > 3) {
		snprintf(err, errlen, "%s : unexpected extra argument '%s' after value '%s'.", what,
			 args[3], args[2]);
		return -1;
	}
	if (time_arg(what, args[2], &ms, err, errlen) < 0)
		return -1;
	if (!(ctx->px->cap & t->cap)) {
		snprintf(err, errlen, "%s will be ignored because %s '%s' has no %s capability",
			 what, px_type(ctx->px), ctx->px->id,
			 t->cap == PX_CAP_FE ? "frontend" : "backend");
		return 1;
	}
	*(unsigned int *)((char *)&ctx->px->timeout + t->off) = ms;
	bit = 1u << (t - timeouts);
	if (ctx->seen & bit) {
		snprintf(err, errlen, "overwriting %s which was already specified", what);
		return 1;
	}
	ctx->seen |= bit;
	return 0;
}

/* "[no] option http-server-close|logasap". */
static int kw_option(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	const char *o = n > 1 ? args[1] : "";
	unsigned int bit, cap;

	if (!strcmp(o, "http-server-close")) {
		bit = PX_O_HTTP_SERVER_CLOSE;
		cap = PX_CAP_FE | PX_CAP_BE;
	} else if (!strcmp(o, "logasap")) {
		bit = PX_O_LOGASAP;
		cap = PX_CAP_FE;
	} else {
		snprintf(err, errlen, "unknown option '%s'.", o);
		return -1;
	}
	if (n > 2) {
		snprintf(err, errlen, "'option %s' cannot handle unexpected argument '%s'.", o,
			 args[2]);
		return -1;
	}
	if (!(ctx->px->cap & cap)) {
		snprintf(err, errlen, "'%s' ignored because %s '%s' has no frontend capability.", o,
			 px_type(ctx->px), ctx->px->id);
		return 1;
	}
	if (ctx->no)
		ctx->px->options &= ~bit;
	else
		ctx->px->options |= bit;
	return 0;
}

/* "log global" and "no log"; a proxy's own log target is not supported yet. */
static int kw_log(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (ctx->no) {
		ctx->px->log_global = false;
		return no_extra(args, n, 1, err, errlen);
	}
	if (n < 2 || strcmp(args[1], "global")) {
		snprintf(err, errlen,
			 "log : only 'log global' is supported yet in a proxy (got "
			 "'%s').",
			 n < 2 ? "" : args[1]);
		return -1;
	}
	if (n > 2) {
		snprintf(err, errlen, "log : unexpected argument '%s' after 'global'.", args[2]);
		return -1;
	}
	ctx->px->log_global = true;
	return 0;
}

#define SEC_FE	(CFG_SEC_FRONTEND | CFG_SEC_LISTEN)
#define SEC_BE	(CFG_SEC_BACKEND | CFG_SEC_LISTEN)
#define SEC_ALL CFG_SEC_PROXIES

/*
 * Which section takes what mirrors HAProxy: a keyword used by the other side only warns (with
 * "cap"), a keyword that makes no sense there is an error (missing from "sections").
 */
const struct cfg_kw cfg_proxy_kws[] = {
    {"acl", SEC_FE | CFG_SEC_BACKEND, 0, 0, kw_acl},
    {"balance", SEC_ALL, PX_CAP_BE, 0, kw_balance},
    {"bind", SEC_FE | CFG_SEC_BACKEND, PX_CAP_FE, 0, kw_bind},
    {"default_backend", SEC_ALL, PX_CAP_FE, 0, kw_default_backend},
    {"log", SEC_ALL, 0, CFG_KW_NO, kw_log},
    {"maxconn", SEC_ALL, PX_CAP_FE, 0, kw_maxconn},
    {"mode", SEC_ALL, 0, 0, kw_mode},
    {"option", SEC_ALL, 0, CFG_KW_NO, kw_option},
    {"server", SEC_BE, 0, 0, kw_server},
    {"timeout", SEC_ALL, 0, 0, kw_timeout},
    {"use_backend", SEC_FE | CFG_SEC_BACKEND, PX_CAP_FE, 0, kw_use_backend},
    {NULL, 0, 0, 0, NULL},
};
