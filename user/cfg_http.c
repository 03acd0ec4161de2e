// SPDX-License-Identifier: GPL-2.0
/*
 * HTTP keywords of the proxy sections: http-request, http-response, monitor-uri, errorfile, and
 * "option forwardfor" (reached through the "option" parser). Same cfg_kw_fn contract as
 * cfg_proxy.c: 0, 1 with a warning in err, or -1 with the error in err. The run-time side is
 * http_rules.c.
 */
#include "cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "http_rules.h"

static int parse_status(const char *s, int *code)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 200 || v > 599)
		return -1;
	*code = v;
	return 0;
}

/*
 * A header value must not be able to end its line (header injection): CR, LF or NUL are
 * refused. Values are literal, except the whole value "%[src]"; other log-format expressions
 * are not implemented, and a '%' anywhere else would mean one in HAProxy.
 */
static int check_value(const char *v, bool *src, char *err, size_t errlen)
{
	*src = !strcmp(v, "%[src]");
	if (*src)
		return 0;
	if (strpbrk(v, "\r\n")) {
		snprintf(err, errlen, "header value '%s' contains CR or LF.", v);
		return -1;
	}
	if (strchr(v, '%')) {
		snprintf(err, errlen,
			 "log-format expressions are not supported yet (a value is a literal "
			 "string or exactly '%%[src]'): '%s'.",
			 v);
		return -1;
	}
	return 0;
}

/* Header names are tokens; an empty or odd one would make the head invalid. */
static int check_name(const char *name, char *err, size_t errlen)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";

	for (const char *c = name; *c; c++) {
		if ((*c >= '0' && *c <= '9') || ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z') ||
		    strchr(tchar, *c))
			continue;
		snprintf(err, errlen, "invalid character '%c' in header name '%s'.", *c, name);
		return -1;
	}
	if (!*name) {
		snprintf(err, errlen, "empty header name.");
		return -1;
	}
	return 0;
}

/* The optional "if|unless COND" at args[i..n) of a rule. */
static int parse_cond(struct cfg_kw_ctx *ctx, char **args, int n, int i, struct http_rule *r,
		      char *err, size_t errlen)
{
	char inner[512];

	if (i >= n)
		return 0;
	if (strcmp(args[i], "if") && strcmp(args[i], "unless")) {
		snprintf(err, errlen, "'%s %s' : expects 'if' or 'unless' followed by a condition "
			 "but got '%s'.", args[0], args[1], args[i]);
		return -1;
	}
	r->cond = acl_cond_parse(ctx->px->acls, args + i, n - i, inner, sizeof(inner));
	if (!r->cond) {
		snprintf(err, errlen, "error detected in %s '%s' while parsing '%s %s' rule : %s",
			 ctx->sect == CFG_SEC_BACKEND ? "backend" : "frontend", ctx->px->id,
			 args[0], args[1], inner);
		return -1;
	}
	return 0;
}

/* set-header|add-header NAME VALUE, del-header NAME. Returns the index after them, or -1. */
static int parse_hdr_action(char **args, int n, struct http_rule *r, char *err, size_t errlen)
{
	int want = r->act == HTTP_ACT_DEL_HDR ? 3 : 4;

	if (n < want) {
		snprintf(err, errlen, "'%s %s' expects exactly %d arguments.", args[0], args[1],
			 want - 2);
		return -1;
	}
	if (check_name(args[2], err, errlen) < 0 || !(r->name = strdup(args[2])))
		return -1;
	if (want == 4) {
		if (check_value(args[3], &r->value_src, err, errlen) < 0)
			return -1;
		if (!r->value_src && !(r->value = strdup(args[3])))
			return -1;
	}
	return want;
}

/* deny [deny_status N]. */
static int parse_deny(char **args, int n, struct http_rule *r, char *err, size_t errlen)
{
	r->status = 403;
	if (n > 2 && !strcmp(args[2], "deny_status")) {
		if (n < 4 || parse_status(args[3], &r->status) < 0) {
			snprintf(err, errlen, "Unexpected status code '%s'.", n < 4 ? "" : args[3]);
			return -1;
		}
		if (!http_error_known(r->status)) {
			snprintf(err, errlen,
				 "status code '%d' not handled by default with "
				 "'default-errorfiles' argument.",
				 r->status);
			return -1;
		}
		return 4;
	}
	return 2;
}

/* return [status N] [content-type T] [string S], in any order. */
static int parse_return(char **args, int n, struct http_rule *r, char *err, size_t errlen)
{
	int i = 2;

	r->status = 200;
	while (i < n && strcmp(args[i], "if") && strcmp(args[i], "unless")) {
		char **slot = NULL;

		if (i + 1 >= n) {
			snprintf(err, errlen, "'%s' expects an argument.", args[i]);
			return -1;
		}
		if (!strcmp(args[i], "status")) {
			if (parse_status(args[i + 1], &r->status) < 0) {
				snprintf(err, errlen, "Unexpected status code '%s'.", args[i + 1]);
				return -1;
			}
		} else if (!strcmp(args[i], "content-type")) {
			slot = &r->ctype;
		} else if (!strcmp(args[i], "string")) {
			slot = &r->body;
		} else {
			snprintf(err, errlen,
				 "'http-request return' expects 'status', 'content-type' or "
				 "'string' (wsplice has no other), got '%s'.",
				 args[i]);
			return -1;
		}
		if (slot) {
			if (strpbrk(args[i + 1], "\r\n") && slot == &r->ctype) {
				snprintf(err, errlen, "content-type contains CR or LF.");
				return -1;
			}
			free(*slot);
			if (!(*slot = strdup(args[i + 1])))
				return -1;
		}
		i += 2;
	}
	if (r->body && strlen(r->body) > HTTP_REPLY_MAX) {
		snprintf(err, errlen, "'string' is larger than %d bytes.", HTTP_REPLY_MAX);
		return -1;
	}
	if (r->body && !r->ctype) {
		snprintf(err, errlen, "'string' needs a 'content-type'.");
		return -1;
	}
	return i;
}

/* use-service NAME, NAME only "prometheus-exporter"; HAProxy's messages. Returns the index
 * after the name, or -1. */
static int parse_service(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	const char *where = ctx->sect == CFG_SEC_BACKEND ? "backend" : "frontend";

	if (n < 3 || !*args[2]) {
		snprintf(err, errlen, "error detected in %s '%s' while parsing 'http-request "
			 "use-service' rule : 'use-service' expects a service name.", where,
			 ctx->px->id);
		return -1;
	}
	if (strcmp(args[2], "prometheus-exporter")) {
		snprintf(err, errlen, "error detected in %s '%s' while parsing 'http-request "
			 "use-service' rule : '%s' unknown service name.", where, ctx->px->id,
			 args[2]);
		return -1;
	}
	return 3;
}

static void rule_append(struct http_rule **list, struct http_rule *r)
{
	while (*list)
		list = &(*list)->next;
	*list = r;
}

static int kw_http_rule(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	bool req = !strcmp(args[0], "http-request");
	const char *a = n > 1 ? args[1] : "";
	struct http_rule *r = calloc(1, sizeof(*r));
	int i;

	if (!r)
		return -1;
	if (!strcmp(a, "set-header"))
		r->act = HTTP_ACT_SET_HDR;
	else if (!strcmp(a, "add-header"))
		r->act = HTTP_ACT_ADD_HDR;
	else if (!strcmp(a, "del-header"))
		r->act = HTTP_ACT_DEL_HDR;
	else if (req && !strcmp(a, "deny"))
		r->act = HTTP_ACT_DENY;
	else if (req && !strcmp(a, "return"))
		r->act = HTTP_ACT_RETURN;
	else if (req && !strcmp(a, "use-service"))
		r->act = HTTP_ACT_SERVICE;
	else {
		snprintf(err, errlen, "'%s' expects %s, but got '%s' (other actions are not "
			 "supported yet).", args[0],
			 req ? "'add-header', 'del-header', 'deny', 'return', 'set-header', "
			       "'use-service'"
			     : "'add-header', 'del-header', 'set-header'", a);
		free(r);
		return -1;
	}
	if (r->act == HTTP_ACT_DENY)
		i = parse_deny(args, n, r, err, errlen);
	else if (r->act == HTTP_ACT_RETURN)
		i = parse_return(args, n, r, err, errlen);
	else if (r->act == HTTP_ACT_SERVICE)
		i = parse_service(ctx, args, n, err, errlen);
	else
		i = parse_hdr_action(args, n, r, err, errlen);
	if (i < 0 || parse_cond(ctx, args, n, i, r, err, errlen) < 0)
		goto fail;
	if (!req && ctx->px->n_res_rules == HTTP_RES_RULES_MAX) {
		snprintf(err, errlen, "more than %d 'http-response' rules.", HTTP_RES_RULES_MAX);
		goto fail;
	}
	ctx->px->n_res_rules += !req;
	rule_append(req ? &ctx->px->http_req_rules : &ctx->px->http_res_rules, r);
	return 0;
fail:
	http_rules_free(r);
	return -1;
}

static int kw_monitor_uri(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (n != 2 || !*args[1]) {
		snprintf(err, errlen, "'%s' expects an URI.", args[0]);
		return -1;
	}
	free(ctx->px->monitor_uri);
	ctx->px->monitor_uri = strdup(args[1]);
	return ctx->px->monitor_uri ? 0 : -1;
}

/*
 * Reads the st_size bytes of a file, at most max; NULL with errno set on failure (EFBIG when
 * larger). The size is known before anything is allocated: ftell() on an ext4 directory says
 * LONG_MAX ("errorfile 403 /tmp"), so a directory is refused first. A device reads as its
 * st_size, 0: "errorfile 408 /dev/null" is HAProxy's documented way to answer nothing.
 */
static char *read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	struct stat st;

	if (!f)
		return NULL;
	errno = 0;
	if (fstat(fileno(f), &st) < 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if ((unsigned long long)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	data = malloc(st.st_size + 1);
	if (data && fread(data, 1, st.st_size, f) == (size_t)st.st_size) {
		*len = st.st_size;
		fclose(f);
		return data;
	}
fail:
	free(data);
	fclose(f);
	errno = errno ? errno : EIO;
	return NULL;
}

static int kw_errorfile(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	struct http_errfile *e;
	int code;

	if (n != 3) {
		snprintf(err, errlen, "%s : %s", args[0],
			 n < 3 ? "expects <status_code> and <file> as arguments."
			       : "unexpected argument after the file.");
		return -1;
	}
	if (parse_status(args[1], &code) < 0 || !http_error_known(code)) {
		snprintf(err, errlen, "errorfile : status code '%s' not handled.", args[1]);
		return -1;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	e->code = code;
	e->data = read_file(args[2], HTTP_REPLY_MAX, &e->len);
	if (!e->data) {
		if (errno == EFBIG)
			snprintf(err, errlen, "errorfile : file '%s' is larger than %d bytes.",
				 args[2], HTTP_REPLY_MAX);
		else
			snprintf(err, errlen, "errorfile : error opening file '%s'.", args[2]);
		free(e);
		return -1;
	}
	/* a later line for the same code replaces the earlier one, as in HAProxy */
	e->next = ctx->px->errfiles;
	ctx->px->errfiles = e;
	return 0;
}

/* "except NET" as the condition "if { src NET }". 0, or -1 with the error in err. */
static int fwdfor_except(struct http_fwdfor *f, const char *net, char *err, size_t errlen)
{
	char *cond[] = { "if", "{", "src", (char *)net, "}" };
	char inner[512];

	acl_cond_free(f->except);
	free(f->except_net);
	f->except_net = strdup(net);
	f->except = acl_cond_parse(NULL, cond, 5, inner, sizeof(inner));
	if (!f->except || !f->except_net) {
		snprintf(err, errlen, "'option forwardfor except' : %s", inner);
		return -1;
	}
	return 0;
}

int cfg_http_forwardfor(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	struct http_fwdfor *f;
	int i;

	http_fwdfor_free(ctx->px->fwdfor);
	ctx->px->fwdfor = NULL;
	if (ctx->no)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	for (i = 2; i < n; i++) {
		if (!strcmp(args[i], "if-none")) {
			f->if_none = true;
			continue;
		}
		if (i + 1 >= n || (strcmp(args[i], "except") && strcmp(args[i], "header"))) {
			snprintf(err, errlen,
				 "'option forwardfor' only supports optional values: 'header', "
				 "'except' and 'if-none'.");
			goto fail;
		}
		if (!strcmp(args[i], "header")) {
			/* a second "header" replaces the first; one that fails leaves none */
			free(f->hdr);
			f->hdr = NULL;
			if (check_name(args[i + 1], err, errlen) < 0 ||
			    !(f->hdr = strdup(args[i + 1])))
				goto fail;
		} else if (fwdfor_except(f, args[i + 1], err, errlen) < 0) {
			goto fail;
		}
		i++;
	}
	if (!f->hdr && !(f->hdr = strdup("X-Forwarded-For")))
		goto fail;
	ctx->px->fwdfor = f;
	return 0;
fail:
	http_fwdfor_free(f);
	return -1;
}

static struct http_fwdfor *fwdfor_dup(const struct http_fwdfor *f)
{
	struct http_fwdfor *d = calloc(1, sizeof(*d));
	char err[512];

	if (!d || !(d->hdr = strdup(f->hdr)))
		goto fail;
	d->if_none = f->if_none;
	if (f->except_net && fwdfor_except(d, f->except_net, err, sizeof(err)) < 0)
		goto fail;
	return d;
fail:
	http_fwdfor_free(d);
	return NULL;
}

int cfg_http_inherit(struct proxy *px, const struct proxy *def)
{
	struct http_errfile **tail = &px->errfiles;

	if (def->fwdfor && !(px->fwdfor = fwdfor_dup(def->fwdfor)))
		return -ENOMEM;
	for (const struct http_errfile *e = def->errfiles; e; e = e->next) {
		struct http_errfile *c = calloc(1, sizeof(*c));

		if (!c || !(c->data = malloc(e->len + 1))) {
			free(c);
			return -ENOMEM;
		}
		memcpy(c->data, e->data, e->len);
		c->len = e->len;
		c->code = e->code;
		*tail = c;
		tail = &c->next;
	}
	return 0;
}

void cfg_http_free(struct proxy *px)
{
	http_rules_free(px->http_req_rules);
	http_rules_free(px->http_res_rules);
	http_fwdfor_free(px->fwdfor);
	http_errfiles_free(px->errfiles);
	free(px->monitor_uri);
}

#define SEC_FE (CFG_SEC_FRONTEND | CFG_SEC_LISTEN)
#define SEC_PX (CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN)

const struct cfg_kw cfg_http_kws[] = {
    {"errorfile", CFG_SEC_PROXIES, 0, 0, kw_errorfile},
    {"http-request", SEC_PX, 0, 0, kw_http_rule},
    {"http-response", SEC_PX, 0, 0, kw_http_rule},
    {"monitor-uri", CFG_SEC_PROXIES, PX_CAP_FE, 0, kw_monitor_uri},
    {NULL, 0, 0, 0, NULL},
};
