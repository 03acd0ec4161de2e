// SPDX-License-Identifier: GPL-2.0
#include "cookie.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "backend.h"

/* Calls fn for each "name=value" pair of a Cookie header value; stops when fn returns true. */
static bool each_pair(const char *v, size_t len,
		      bool (*fn)(const char *n, size_t nl, const char *val, size_t vl, void *arg),
		      void *arg)
{
	size_t i = 0;

	while (i < len) {
		size_t ns, ne, vs, ve;

		while (i < len && (v[i] == ' ' || v[i] == ';' || v[i] == '\t'))
			i++;
		ns = i;
		while (i < len && v[i] != '=' && v[i] != ';')
			i++;
		ne = i;
		vs = ve = i;
		if (i < len && v[i] == '=') {
			vs = ++i;
			while (i < len && v[i] != ';')
				i++;
			ve = i;
			while (ve > vs && v[ve - 1] == ' ')
				ve--;
		}
		if (ne > ns && fn(v + ns, ne - ns, v + vs, ve - vs, arg))
			return true;
	}
	return false;
}

struct find_ctx {
	const struct proxy *be;
	struct server *srv;
};

static bool match_pair(const char *n, size_t nl, const char *val, size_t vl, void *arg)
{
	struct find_ctx *f = arg;
	const char *tilde;

	if (nl != strlen(f->be->ck_name) || strncmp(n, f->be->ck_name, nl))
		return false;
	/* prefix mode: "VALUE~the server's own value" */
	if (f->be->ck_mode == CK_PREFIX && (tilde = memchr(val, '~', vl)))
		vl = tilde - val;
	for (struct server *s = f->be->servers; s; s = s->next)
		if (s->ck_value && strlen(s->ck_value) == vl && !strncmp(s->ck_value, val, vl)) {
			f->srv = s;
			return true;
		}
	return false;
}

struct server *cookie_server(struct proxy *be, const struct http_msg *m, const char *base)
{
	struct find_ctx f = { .be = be };

	if (be->ck_mode == CK_NONE)
		return NULL;
	for (int i = http_hdr_find(m, base, "cookie", 0); i >= 0 && !f.srv;
	     i = http_hdr_find(m, base, "cookie", i + 1))
		each_pair(base + m->hdr[i].value.off, m->hdr[i].value.len, match_pair, &f);
	/* a cookie for a server that cannot take the request is ignored: balance instead */
	if (f.srv && (!server_usable(f.srv) ||
		      (f.srv->maxconn && f.srv->cur_conns >= f.srv->maxconn)))
		return NULL;
	return f.srv;
}

/* Whether the request carries the cookie NAME at all. */
static bool has_name(const char *n, size_t nl, const char *val, size_t vl, void *arg)
{
	const struct proxy *be = arg;

	(void)val;
	(void)vl;
	return nl == strlen(be->ck_name) && !strncmp(n, be->ck_name, nl);
}

char cookie_request_flag(const struct proxy *be, const struct http_msg *m, const char *base)
{
	struct find_ctx f = { .be = be };
	bool seen = false;

	if (be->ck_mode == CK_NONE)
		return 'N';
	for (int i = http_hdr_find(m, base, "cookie", 0); i >= 0 && !f.srv;
	     i = http_hdr_find(m, base, "cookie", i + 1)) {
		const char *v = base + m->hdr[i].value.off;
		size_t vl = m->hdr[i].value.len;

		seen |= each_pair(v, vl, has_name, (void *)be);
		each_pair(v, vl, match_pair, &f);
	}
	if (!f.srv)
		return seen ? 'I' : 'N';
	if (!server_usable(f.srv) || (f.srv->maxconn && f.srv->cur_conns >= f.srv->maxconn))
		return 'D';
	return 'V';
}

struct rewrite_ctx {
	const struct proxy *be;
	char *out;
	size_t len, used;
	bool changed, overflow;
};

static bool keep_pair(const char *n, size_t nl, const char *val, size_t vl, void *arg)
{
	struct rewrite_ctx *r = arg;
	bool ours = nl == strlen(r->be->ck_name) && !strncmp(n, r->be->ck_name, nl);
	const char *tilde;
	int w;

	if (ours && r->be->ck_mode == CK_INSERT) {
		r->changed = true;
		return false;
	}
	if (ours && r->be->ck_mode == CK_PREFIX && (tilde = memchr(val, '~', vl))) {
		vl -= tilde + 1 - val;
		val = tilde + 1;
		r->changed = true;
	}
	w = snprintf(r->out + r->used, r->len - r->used, "%s%.*s=%.*s", r->used ? "; " : "",
		     (int)nl, n, (int)vl, val);
	if (w < 0 || (size_t)w >= r->len - r->used)
		r->overflow = true;
	else
		r->used += w;
	return r->overflow;
}

bool cookie_request_rewrite(struct proxy *be, struct http_msg *m, const char *base, char *out,
			    size_t outlen)
{
	struct rewrite_ctx r = { .be = be, .out = out, .len = outlen };

	if (!(be->ck_mode == CK_PREFIX || (be->ck_mode == CK_INSERT && be->ck_indirect)))
		return false;
	out[0] = 0;
	for (int i = http_hdr_find(m, base, "cookie", 0); i >= 0;
	     i = http_hdr_find(m, base, "cookie", i + 1))
		each_pair(base + m->hdr[i].value.off, m->hdr[i].value.len, keep_pair, &r);
	if (!r.changed || r.overflow)
		return false;
	for (int i = http_hdr_find(m, base, "cookie", 0); i >= 0;
	     i = http_hdr_find(m, base, "cookie", i + 1))
		m->hdr_drop[i] = true;
	return true;
}

/* rewrite and prefix: the server's Set-Cookie for NAME, changed. */
static int rewrite_set_cookies(struct proxy *be, const struct server *srv, struct http_msg *m,
			       const char *base, char *extra, size_t len)
{
	size_t nl = strlen(be->ck_name), used = 0;

	for (int i = http_hdr_find(m, base, "set-cookie", 0); i >= 0;
	     i = http_hdr_find(m, base, "set-cookie", i + 1)) {
		const char *v = base + m->hdr[i].value.off, *eq;
		size_t vl = m->hdr[i].value.len;
		int w;

		if (vl <= nl || strncmp(v, be->ck_name, nl) || v[nl] != '=')
			continue;
		eq = v + nl + 1;
		if (be->ck_mode == CK_PREFIX)
			w = snprintf(extra + used, len - used, "set-cookie: %s=%s~%.*s\r\n", be->ck_name,
				     srv->ck_value, (int)(v + vl - eq), eq);
		else
			w = snprintf(extra + used, len - used, "set-cookie: %s=%s%.*s\r\n", be->ck_name,
				     srv->ck_value, (int)(v + vl - (eq + strcspn(eq, ";"))),
				     eq + strcspn(eq, ";"));
		if (w < 0 || (size_t)w >= len - used)
			return -1;
		used += w;
		m->hdr_drop[i] = true;
	}
	return used;
}

int cookie_response(struct proxy *be, const struct server *srv, bool matched, struct http_msg *m,
		    const char *base, char *extra, size_t len)
{
	int w;

	if (be->ck_mode == CK_NONE || !srv || !srv->ck_value)
		return 0;
	if (be->ck_mode != CK_INSERT)
		return rewrite_set_cookies(be, srv, m, base, extra, len);
	/* indirect: a client that already holds the right cookie is not told again */
	if (be->ck_indirect && matched)
		return 0;
	w = snprintf(extra, len, "set-cookie: %s=%s; path=/%s%s\r\n%s", be->ck_name, srv->ck_value,
		     be->ck_httponly ? "; HttpOnly" : "", be->ck_secure ? "; Secure" : "",
		     be->ck_nocache ? "cache-control: private\r\n" : "");
	return w < 0 || (size_t)w >= len ? -1 : w;
}
