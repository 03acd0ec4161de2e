// SPDX-License-Identifier: GPL-2.0
/*
 * Keywords of the proxy sections (defaults, frontend, backend, listen). Each parser follows the
 * cfg_kw_fn contract (cfg.h): 0, 1 with a warning in err, or -1 with the error in err. Section
 * and capability checks are done by the table in cfg.c before a parser runs, except where one
 * keyword's sub-keywords differ (timeout, option).
 */
#include "cfg.h"
#include "cookie.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <regex.h>
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

int cfg_parse_int(const char *s, long min, long max, long *v)
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
int cfg_time_arg(const char *what, const char *val, unsigned int *ms, char *err, size_t errlen)
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

	if (n < 2 || cfg_parse_int(args[1], 0, INT_MAX, &v) < 0) {
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

	if (cfg_parse_int(b->text + 3, 0, INT_MAX, &v) < 0) {
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

/* ---- balance, hash-type ------------------------------------------------------------------- */

/* "balance uri [whole] [len N] [depth N] [path-only]" */
static int balance_uri(struct proxy *px, char **args, int n, char *err, size_t errlen)
{
	long v;
	int i;

	px->uri_whole = px->uri_path_only = false;
	px->uri_len = px->uri_depth = 0;
	for (i = 2; i < n; i++) {
		if (!strcmp(args[i], "whole")) {
			px->uri_whole = true;
		} else if (!strcmp(args[i], "path-only")) {
			px->uri_path_only = true;
		} else if (!strcmp(args[i], "len") || !strcmp(args[i], "depth")) {
			if (i + 1 >= n || cfg_parse_int(args[i + 1], 1, INT_MAX, &v) < 0) {
				snprintf(
				    err, errlen,
				    "balance uri : '%s' expects a positive integer (got '%s').",
				    args[i], i + 1 < n ? args[i + 1] : "");
				return -1;
			}
			*(args[i][0] == 'l' ? &px->uri_len : &px->uri_depth) = (unsigned int)v;
			i++;
		} else {
			snprintf(err, errlen,
				 "balance uri only accepts parameters 'len', 'depth', 'path-only', "
				 "and 'whole' (got '%s').",
				 args[i]);
			return -1;
		}
	}
	px->lb = LB_URI;
	return 0;
}

/* "balance hdr(NAME) [use_domain_only]" */
static int balance_hdr(struct proxy *px, char **args, int n, char *err, size_t errlen)
{
	const char *name = args[1] + 4, *end = strchr(name, ')');

	if (!end || end == name || end[1]) {
		snprintf(err, errlen, "balance hdr requires an http header field name.");
		return -1;
	}
	if (n > 2 && strcmp(args[2], "use_domain_only")) {
		snprintf(err, errlen, "%s %s only accepts 'use_domain_only' modifier (got '%s').",
			 args[0], args[1], args[2]);
		return -1;
	}
	if (no_extra(args, n, 3, err, errlen) < 0)
		return -1;
	free(px->hdr_name);
	px->hdr_name = strndup(name, (size_t)(end - name));
	if (!px->hdr_name)
		return -1;
	px->hdr_domain_only = n > 2;
	px->lb = LB_HDR;
	return 0;
}

/* "balance random" or "random(N)": N draws, 2 by default (HAProxy's). */
static int balance_random(struct proxy *px, char **args, int n, char *err, size_t errlen)
{
	const char *a = args[1] + 6;
	char *end;
	long v = 2;

	if (*a == '(') {
		errno = 0;
		v = strtol(a + 1, &end, 10);
		if (end == a + 1 || *end != ')' || end[1] || errno) {
			snprintf(err, errlen,
				 "balance random : unexpected character '%c' after argument.",
				 end == a + 1 ? *end
				 : end[1]     ? end[1]
					      : *end);
			return -1;
		}
		if (v < 1 || v > 100) {
			snprintf(err, errlen,
				 "balance random : number of draws must be at least 1.");
			return -1;
		}
	} else if (*a) {
		snprintf(err, errlen, "balance random : unexpected character '%c' after argument.",
			 *a);
		return -1;
	}
	if (no_extra(args, n, 2, err, errlen) < 0)
		return -1;
	px->random_draws = (unsigned int)v;
	px->lb = LB_RANDOM;
	return 0;
}

/* The algorithms without arguments. */
static const struct {
	const char *name;
	enum lb_algo algo;
} lb_plain[] = {
    {"roundrobin", LB_ROUNDROBIN}, {"static-rr", LB_STATIC_RR}, {"leastconn", LB_LEASTCONN},
    {"first", LB_FIRST},	   {"source", LB_SOURCE},
};

static int kw_balance(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	const char *a = n > 1 ? args[1] : "";
	size_t i;

	for (i = 0; i < sizeof(lb_plain) / sizeof(lb_plain[0]); i++) {
		if (!strcmp(a, lb_plain[i].name)) {
			ctx->px->lb = lb_plain[i].algo;
			return no_extra(args, n, 2, err, errlen);
		}
	}
	if (!strcmp(a, "uri"))
		return balance_uri(ctx->px, args, n, err, errlen);
	if (!strncmp(a, "hdr(", 4))
		return balance_hdr(ctx->px, args, n, err, errlen);
	if (!strncmp(a, "random", 6))
		return balance_random(ctx->px, args, n, err, errlen);
	if (!strcmp(a, "url_param") || !strncmp(a, "rdp-cookie", 10)) {
		snprintf(err, errlen, "balance '%s' is not supported yet.", a);
		return -1;
	}
	snprintf(err, errlen,
		 "balance only supports 'roundrobin', 'static-rr', 'leastconn', "
		 "'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.");
	return -1;
}

/* "hash-type map-based|consistent [sdbm|djb2|wt6|crc32 [avalanche]]", HAProxy's texts. */
static int kw_hash_type(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	static const char *const fns[] = {[LB_HASH_SDBM] = "sdbm",
					  [LB_HASH_DJB2] = "djb2",
					  [LB_HASH_WT6] = "wt6",
					  [LB_HASH_CRC32] = "crc32"};
	struct proxy *px = ctx->px;
	int f;

	if (n < 2 || (strcmp(args[1], "map-based") && strcmp(args[1], "consistent"))) {
		snprintf(err, errlen, "'hash-type' only supports 'consistent' and 'map-based'.");
		return -1;
	}
	px->hash_type = args[1][0] == 'c' ? LB_HASH_CONSISTENT : LB_HASH_MAP;
	px->hash_fn = LB_HASH_SDBM;
	px->hash_avalanche = false;
	if (n < 3)
		return 0;
	for (f = 0; f < 4 && strcmp(args[2], fns[f]); f++)
		;
	if (f == 4) {
		snprintf(err, errlen,
			 "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' "
			 "hash functions.");
		return -1;
	}
	px->hash_fn = (enum lb_hash_fn)f;
	if (n > 3 && strcmp(args[3], "avalanche")) {
		snprintf(err, errlen,
			 "'hash-type' only supports 'avalanche' as a modifier for hash functions.");
		return -1;
	}
	px->hash_avalanche = n > 3;
	return no_extra(args, n, 4, err, errlen);
}

/* ---- timeout, option, log ---------------------------------------------------------------- */

struct timeout_kw {
	const char *name;
	unsigned int cap; /* the side that uses it (HAProxy's rule) */
	size_t off;	  /* of the value in struct proxy */
};

#define TMO(name, cap, field)                                                                      \
	{                                                                                          \
		name, cap, offsetof(struct proxy, field)                                           \
	}

static const struct timeout_kw timeouts[] = {
    TMO("client", PX_CAP_FE, timeout.client),
    TMO("client-fin", PX_CAP_FE, timeout.client_fin),
    TMO("http-request", PX_CAP_FE, timeout.http_request),
    TMO("http-keep-alive", PX_CAP_FE, timeout.http_keep_alive),
    TMO("connect", PX_CAP_BE, timeout.connect),
    TMO("server", PX_CAP_BE, timeout.server),
    TMO("server-fin", PX_CAP_BE, timeout.server_fin),
    TMO("tunnel", PX_CAP_BE, timeout.tunnel),
    TMO("queue", PX_CAP_BE, timeout.queue),
    TMO("check", PX_CAP_BE, timeout_check),
};

static const struct timeout_kw *timeout_lookup(const char *name, char *err, size_t errlen)
{
	static const char *const known[] = {"tarpit"};
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
		 "'timeout' supports 'client', 'server', 'connect', 'check', 'http-request', "
		 "'http-keep-alive', 'queue', 'tunnel', 'client-fin' and 'server-fin' (got '%s')",
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
	if (cfg_time_arg(what, args[2], &ms, err, errlen) < 0)
		return -1;
	if (!(ctx->px->cap & t->cap)) {
		snprintf(err, errlen, "%s will be ignored because %s '%s' has no %s capability",
			 what, px_type(ctx->px), ctx->px->id,
			 t->cap == PX_CAP_FE ? "frontend" : "backend");
		return 1;
	}
	*(unsigned int *)((char *)ctx->px + t->off) = ms;
	bit = 1u << (t - timeouts);
	if (ctx->seen & bit) {
		snprintf(err, errlen, "overwriting %s which was already specified", what);
		return 1;
	}
	ctx->seen |= bit;
	return 0;
}

/* ---- option, http-check ------------------------------------------------------------------- */

void cfg_httpchk_free(struct http_check *hc)
{
	if (!hc)
		return;
	free(hc->method);
	free(hc->uri);
	free(hc->version);
	free(hc->hdrs);
	free(hc->body);
	free(hc->expect_text);
	if (hc->expect_re)
		regfree(hc->expect_re);
	free(hc->expect_re);
	free(hc);
}

static int dup_str(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -1 : 0;
}

/* A regex of "http-check expect", POSIX extended (HAProxy uses PCRE). Returns 0 or -1. */
static int hc_regex(struct http_check *hc, const char *re, char *err, size_t errlen)
{
	char why[128];
	int rc;

	hc->expect_re = calloc(1, sizeof(regex_t));
	if (!hc->expect_re)
		return -1;
	rc = regcomp(hc->expect_re, re, REG_EXTENDED | REG_NOSUB);
	if (!rc)
		return 0;
	regerror(rc, hc->expect_re, why, sizeof(why));
	free(hc->expect_re);
	hc->expect_re = NULL;
	snprintf(err, errlen, "'http-check expect' : regex '%s' is invalid (error=%s).", re, why);
	return -1;
}

struct http_check *cfg_httpchk_dup(const struct http_check *src)
{
	struct http_check *hc = calloc(1, sizeof(*hc));
	char err[256];

	if (!hc)
		return NULL;
	hc->expect = src->expect;
	hc->expect_neg = src->expect_neg;
	if (dup_str(&hc->method, src->method) || dup_str(&hc->uri, src->uri) ||
	    dup_str(&hc->version, src->version) || dup_str(&hc->hdrs, src->hdrs) ||
	    dup_str(&hc->body, src->body) || dup_str(&hc->expect_text, src->expect_text) ||
	    (src->expect_re && hc_regex(hc, src->expect_text, err, sizeof(err)) < 0)) {
		cfg_httpchk_free(hc);
		return NULL;
	}
	return hc;
}

static struct http_check *hc_get(struct proxy *px)
{
	if (!px->httpchk)
		px->httpchk = calloc(1, sizeof(*px->httpchk));
	return px->httpchk;
}

static int set_str(char **dst, const char *src)
{
	char *s = strdup(src);

	if (!s)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

/* "option httpchk [URI] | [METHOD URI [VERSION]]": HAProxy's argument positions. */
static int opt_httpchk(struct proxy *px, char **args, int n, char *err, size_t errlen)
{
	struct http_check *hc;

	if (n > 5) {
		snprintf(err, errlen, "'option httpchk' cannot handle unexpected argument '%s'.",
			 args[5]);
		return -1;
	}
	hc = hc_get(px);
	if (!hc)
		return -1;
	if (n == 3)
		return set_str(&hc->uri, args[2]);
	if (n >= 4 && (set_str(&hc->method, args[2]) || set_str(&hc->uri, args[3])))
		return -1;
	if (n == 5 && set_str(&hc->version, args[4]))
		return -1;
	return 0;
}

static const struct {
	const char *name;
	unsigned int bit;
	unsigned int cap; /* the side that uses it */
} options[] = {
    {"allbackups", PX_O_ALLBACKUPS, PX_CAP_BE},
    {"dontlognull", PX_O_DONTLOGNULL, PX_CAP_FE},
    {"http-keep-alive", PX_O_HTTP_KEEP_ALIVE, PX_CAP_FE | PX_CAP_BE},
    {"http-server-close", PX_O_HTTP_SERVER_CLOSE, PX_CAP_FE | PX_CAP_BE},
    {"httpclose", PX_O_HTTPCLOSE, PX_CAP_FE | PX_CAP_BE},
    {"httpchk", PX_O_HTTPCHK, PX_CAP_BE},
    {"log-health-checks", PX_O_LOG_HEALTH_CHECKS, PX_CAP_BE},
    {"logasap", PX_O_LOGASAP, PX_CAP_FE},
    {"redispatch", PX_O_REDISPATCH, PX_CAP_BE},
    {"splice-auto", PX_O_SPLICE_AUTO, PX_CAP_FE | PX_CAP_BE},
    {"tcp-smart-accept", PX_O_TCP_SMARTACC, PX_CAP_FE},
    {"tcp-smart-connect", PX_O_TCP_SMARTCON, PX_CAP_BE},
};

/* Options HAProxy has that belong to someone else's work or are not done yet. */
static const char *const options_unsupported[] = {
    "tcp-check",	  "ssl-hello-chk", "smtpchk",	     "ldap-check", "mysql-check",
    "pgsql-check", "redis-check", "spop-check",	   "external-check", "splice-request",
    "splice-response", NULL,
};

/* "option redispatch [INTERVAL]": redispatch every INTERVAL-th retry (-1: the last one). */
static int opt_redispatch(struct proxy *px, const char *arg, char *err, size_t errlen)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || end == arg || v == 0 || v < -1000 || v > 1000) {
		snprintf(err, errlen, "'option redispatch' expects a non-zero integer (got '%s').",
			 arg);
		return -1;
	}
	px->redispatch_interval = (int)v;
	px->options |= PX_O_REDISPATCH;
	return 0;
}

/* "[no] option NAME [ARGS]". */
static int kw_option(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	const char *o = n > 1 ? args[1] : "";
	size_t i;

	if (!strcmp(o, "forwardfor"))
		return cfg_http_forwardfor(ctx, args, n, err, errlen);
	if (!strcmp(o, "httplog") || !strcmp(o, "tcplog"))
		return cfg_log_option(ctx, args, n, err, errlen);
	for (i = 0; i < sizeof(options) / sizeof(options[0]) && strcmp(o, options[i].name); i++)
		;
	if (i == sizeof(options) / sizeof(options[0])) {
		for (int j = 0; options_unsupported[j]; j++) {
			if (!strcmp(o, options_unsupported[j])) {
				snprintf(err, errlen, "'option %s' is not supported yet.", o);
				return -1;
			}
		}
		snprintf(err, errlen, "unknown option '%s'.", o);
		return -1;
	}
	if (options[i].bit == PX_O_REDISPATCH && n > 2 && !ctx->no)
		return opt_redispatch(ctx->px, args[2], err, errlen);
	if (n > 2 && (options[i].bit != PX_O_HTTPCHK || ctx->no)) {
		snprintf(err, errlen, "'option %s' cannot handle unexpected argument '%s'.", o,
			 args[2]);
		return -1;
	}
	if (!(ctx->px->cap & options[i].cap)) {
		snprintf(err, errlen, "'%s' ignored because %s '%s' has no %s capability.", o,
			 px_type(ctx->px), ctx->px->id,
			 options[i].cap == PX_CAP_FE ? "frontend" : "backend");
		return 1;
	}
	/* a "no" is remembered where the default depends on the mode (listener.c) */
	if (options[i].bit == PX_O_TCP_SMARTACC)
		ctx->px->options &= ~PX_O_NO_TCP_SMARTACC;
	if (ctx->no) {
		ctx->px->options &= ~options[i].bit;
		if (options[i].bit == PX_O_TCP_SMARTACC)
			ctx->px->options |= PX_O_NO_TCP_SMARTACC;
		return 0;
	}
	if (options[i].bit == PX_O_HTTPCHK && opt_httpchk(ctx->px, args, n, err, errlen) < 0)
		return -1;
	/* as in HAProxy, the last of the three HTTP connection modes said in a section wins */
	if (options[i].bit & PX_O_HTTP_MODES)
		ctx->px->options &= ~PX_O_HTTP_MODES;
	ctx->px->options |= options[i].bit;
	return 0;
}

/*
 * "cookie NAME [insert|rewrite|prefix] [indirect] [nocache] [httponly] [secure]" (default
 * rewrite, as HAProxy). HAProxy's other cookie options are named as not supported yet.
 */
static int kw_cookie(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	static const char *const later[] = {"postonly", "preserve", "domain", "maxidle",
					    "maxlife", "dynamic", "attr", NULL};
	struct proxy *px = ctx->px;

	if (n < 2) {
		snprintf(err, errlen, "'cookie' expects <cookie_name> as argument.");
		return -1;
	}
	free(px->ck_name);
	if (!(px->ck_name = strdup(args[1])))
		return -1;
	px->ck_mode = CK_REWRITE;
	px->ck_indirect = px->ck_nocache = px->ck_httponly = px->ck_secure = false;
	for (int i = 2; i < n; i++) {
		const char *a = args[i];

		if (!strcmp(a, "insert"))
			px->ck_mode = CK_INSERT;
		else if (!strcmp(a, "rewrite"))
			px->ck_mode = CK_REWRITE;
		else if (!strcmp(a, "prefix"))
			px->ck_mode = CK_PREFIX;
		else if (!strcmp(a, "indirect"))
			px->ck_indirect = true;
		else if (!strcmp(a, "nocache"))
			px->ck_nocache = true;
		else if (!strcmp(a, "httponly"))
			px->ck_httponly = true;
		else if (!strcmp(a, "secure"))
			px->ck_secure = true;
		else {
			for (int j = 0; later[j]; j++)
				if (!strcmp(a, later[j])) {
					snprintf(err, errlen, "'cookie %s' is not supported yet.", a);
					return -1;
				}
			snprintf(err, errlen,
				 "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', "
				 "'nocache', 'httponly', 'secure' options (got '%s').", a);
			return -1;
		}
	}
	return 0;
}

/* "retries N": connection attempts after the first one fails (HAProxy's default 3). */
static int kw_retries(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	char *end;
	long v = n == 2 ? strtol(args[1], &end, 10) : -1;

	if (n != 2 || *end || end == args[1] || v < 0 || v > 1000) {
		snprintf(err, errlen, "'retries' expects an integer argument (dispatch counts for one).");
		return -1;
	}
	ctx->px->retries = (int)v;
	return 0;
}

/* "http-reuse never|safe|aggressive|always": who may use an idle server connection. */
static int kw_http_reuse(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	static const char *const modes[] = {
		[HTTP_REUSE_SAFE] = "safe", [HTTP_REUSE_NEVER] = "never",
		[HTTP_REUSE_AGGRESSIVE] = "aggressive", [HTTP_REUSE_ALWAYS] = "always",
	};

	for (size_t i = 0; n == 2 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(args[1], modes[i])) {
			ctx->px->http_reuse = i;
			return 0;
		}
	snprintf(err, errlen, "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.");
	return -1;
}

/* "hdr NAME VALUE" of "http-check send": appended as a header line. */
static int hc_add_hdr(struct http_check *hc, const char *name, const char *value)
{
	size_t old = hc->hdrs ? strlen(hc->hdrs) : 0, add = strlen(name) + strlen(value) + 4;
	char *h = realloc(hc->hdrs, old + add + 1);

	if (!h)
		return -1;
	snprintf(h + old, add + 1, "%s: %s\r\n", name, value);
	hc->hdrs = h;
	return 0;
}

/* "http-check send [meth M] [uri U] [ver V] [hdr NAME VALUE]... [body S]" */
static int hc_send(struct http_check *hc, char **args, int n, char *err, size_t errlen)
{
	int i, rc;

	for (i = 2; i < n; i += 2) {
		const char *k = args[i];
		bool hdr = !strcmp(k, "hdr");

		if (strcmp(k, "meth") && strcmp(k, "uri") && strcmp(k, "ver") && !hdr &&
		    strcmp(k, "body")) {
			snprintf(
			    err, errlen,
			    "'http-check send' : expects 'meth', 'uri', 'ver', 'hdr' or 'body' "
			    "but got '%s' as argument.",
			    k);
			return -1;
		}
		if (i + 1 + hdr >= n) {
			snprintf(err, errlen,
				 hdr ? "'http-check send' : 'hdr' expects <name> and <value> as "
				       "arguments."
				     : "'http-check send' : '%s' expects a string as argument.",
				 k);
			return -1;
		}
		if (hdr)
			rc = hc_add_hdr(hc, args[i + 1], args[i + 2]);
		else
			rc = set_str(k[0] == 'm'   ? &hc->method
				     : k[0] == 'u' ? &hc->uri
				     : k[0] == 'v' ? &hc->version
						   : &hc->body,
				     args[i + 1]);
		if (rc < 0)
			return -1;
		i += hdr;
	}
	return 0;
}

/* "status 200", "status 200,300-399": codes and ranges, checked here, matched by check.c. */
static bool status_list_ok(const char *p)
{
	char *end;

	for (;;) {
		long a = strtol(p, &end, 10), b = a;

		if (end == p || a < 100 || a > 999)
			return false;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a || b > 999)
				return false;
		}
		if (!*end)
			return true;
		if (*end != ',')
			return false;
		p = end + 1;
	}
}

/* "http-check expect [!] status|rstatus|string|rstring PATTERN": one rule per backend. */
static int hc_expect(struct http_check *hc, char **args, int n, char *err, size_t errlen)
{
	static const char *const kinds[] = {[CHK_EXPECT_STATUS] = "status",
					    [CHK_EXPECT_RSTATUS] = "rstatus",
					    [CHK_EXPECT_STRING] = "string",
					    [CHK_EXPECT_RSTRING] = "rstring"};
	int i = 2, k;

	if (hc->expect != CHK_EXPECT_NONE) {
		snprintf(err, errlen, "'http-check expect' : a second rule is not supported yet.");
		return -1;
	}
	hc->expect_neg = i < n && !strcmp(args[i], "!");
	i += hc->expect_neg;
	for (k = CHK_EXPECT_STATUS; i < n && k <= CHK_EXPECT_RSTRING && strcmp(args[i], kinds[k]);
	     k++)
		;
	if (i >= n || k > CHK_EXPECT_RSTRING) {
		snprintf(err, errlen,
			 "'http-check expect' : only supports [!]status, [!]rstatus, [!]string "
			 "and [!]rstring (HAProxy's other matches are not supported yet) but got "
			 "'%s' as argument.",
			 i < n ? args[i] : "");
		return -1;
	}
	if (i + 1 >= n) {
		snprintf(err, errlen, "'http-check expect' : '%s' expects a <pattern> as argument.",
			 args[i]);
		return -1;
	}
	if (k == CHK_EXPECT_STATUS && !status_list_ok(args[i + 1])) {
		snprintf(err, errlen, "'http-check expect' : invalid status list '%s'.",
			 args[i + 1]);
		return -1;
	}
	if (no_extra(args, n, i + 2, err, errlen) < 0)
		return -1;
	if ((k == CHK_EXPECT_RSTATUS || k == CHK_EXPECT_RSTRING) &&
	    hc_regex(hc, args[i + 1], err, errlen) < 0)
		return -1;
	hc->expect = (enum chk_expect)k;
	return set_str(&hc->expect_text, args[i + 1]);
}

static int kw_http_check(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	static const char *const unsupported[] = {"disable-on-404", "send-state", "comment",
						  "connect", NULL};
	const char *a = n > 1 ? args[1] : "";
	struct http_check *hc;

	if (!strcmp(a, "send") || !strcmp(a, "expect")) {
		hc = hc_get(ctx->px);
		if (!hc)
			return -1;
		return a[0] == 's' ? hc_send(hc, args, n, err, errlen)
				   : hc_expect(hc, args, n, err, errlen);
	}
	for (int i = 0; unsupported[i]; i++) {
		if (!strcmp(a, unsupported[i]) || !strncmp(a, "set-var", 7) ||
		    !strncmp(a, "unset-var", 9)) {
			snprintf(err, errlen, "'http-check %s' is not supported yet.", a);
			return -1;
		}
	}
	snprintf(err, errlen,
		 "'http-check' only supports 'disable-on-404', 'send-state', 'comment', "
		 "'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. "
		 "but got '%s'",
		 a);
	return -1;
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
    {"cookie", SEC_ALL, PX_CAP_BE, 0, kw_cookie},
    {"default-server", SEC_ALL & ~CFG_SEC_FRONTEND, 0, 0, kw_default_server},
    {"default_backend", SEC_ALL, PX_CAP_FE, 0, kw_default_backend},
    {"hash-type", SEC_ALL, PX_CAP_BE, 0, kw_hash_type},
    {"http-check", SEC_ALL, PX_CAP_BE, 0, kw_http_check},
    {"http-reuse", SEC_ALL, PX_CAP_BE, 0, kw_http_reuse},
    {"log", SEC_ALL, 0, CFG_KW_NO, cfg_log_proxy},
    {"log-format", SEC_ALL, PX_CAP_FE, 0, cfg_log_format},
    {"maxconn", SEC_ALL, PX_CAP_FE, 0, kw_maxconn},
    {"mode", SEC_ALL, 0, 0, kw_mode},
    {"option", SEC_ALL, 0, CFG_KW_NO, kw_option},
    {"retries", SEC_ALL, PX_CAP_BE, 0, kw_retries},
    {"server", SEC_BE, 0, 0, kw_server},
    {"timeout", SEC_ALL, 0, 0, kw_timeout},
    {"use_backend", SEC_FE | CFG_SEC_BACKEND, PX_CAP_FE, 0, kw_use_backend},
    {NULL, 0, 0, 0, NULL},
};
