// SPDX-License-Identifier: GPL-2.0
#include "http_rules.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_rw_init(struct http_rw *rw, const struct sockaddr *src)
{
	memset(rw, 0, sizeof(*rw));
	if (src && src->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)src)->sin_addr, rw->src,
			  sizeof(rw->src));
	else if (src && src->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)src)->sin6_addr, rw->src,
			  sizeof(rw->src));
}

static void rw_add(struct http_rw *rw, const char *name, const char *value)
{
	if (rw->n == HTTP_RW_MAX) {
		rw->overflow = true;
		return;
	}
	rw->add[rw->n].name = name;
	rw->add[rw->n].value = value;
	rw->n++;
}

/* Removes name from the head (marks) and from what earlier rules appended. */
static void hdr_del(struct http_rw *rw, struct http_msg *m, const char *base, const char *name)
{
	unsigned int i, j;

	for (int h = http_hdr_find(m, base, name, 0); h >= 0; h = http_hdr_find(m, base, name, h + 1))
		m->hdr_drop[h] = true;
	for (i = j = 0; i < rw->n; i++)
		if (strcasecmp(rw->add[i].name, name))
			rw->add[j++] = rw->add[i];
	rw->n = j;
}

static void apply_hdr(const struct http_rule *r, struct http_msg *m, const char *base,
		      struct http_rw *rw)
{
	const char *value = r->value_src ? rw->src : r->value;

	switch (r->act) {
	case HTTP_ACT_SET_HDR:
		hdr_del(rw, m, base, r->name);
		rw_add(rw, r->name, value);
		break;
	case HTTP_ACT_ADD_HDR:
		rw_add(rw, r->name, value);
		break;
	case HTTP_ACT_DEL_HDR:
		hdr_del(rw, m, base, r->name);
		break;
	default:
		break;
	}
}

const struct http_rule *http_rules_request(const struct http_rule *rules, struct http_msg *m,
					   const char *base, const struct acl_sample *smp,
					   struct http_rw *rw)
{
	for (const struct http_rule *r = rules; r; r = r->next) {
		if (r->cond && !acl_cond_eval(r->cond, smp))
			continue;
		if (r->act == HTTP_ACT_DENY || r->act == HTTP_ACT_RETURN ||
		    r->act == HTTP_ACT_SERVICE)
			return r;
		apply_hdr(r, m, base, rw);
	}
	return NULL;
}

uint64_t http_rules_response_mask(const struct http_rule *rules, const struct acl_sample *smp)
{
	uint64_t mask = 0;
	unsigned int i = 0;

	for (const struct http_rule *r = rules; r && i < HTTP_RES_RULES_MAX; r = r->next, i++)
		if (!r->cond || acl_cond_eval(r->cond, smp))
			mask |= 1ULL << i;
	return mask;
}

void http_rules_response(const struct http_rule *rules, uint64_t mask, struct http_msg *m,
			 const char *base, struct http_rw *rw)
{
	unsigned int i = 0;

	for (const struct http_rule *r = rules; r && i < HTTP_RES_RULES_MAX; r = r->next, i++)
		if (mask & (1ULL << i))
			apply_hdr(r, m, base, rw);
}

void http_fwdfor_apply(const struct http_fwdfor *f, const struct http_msg *m, const char *base,
		       const struct acl_sample *smp, struct http_rw *rw)
{
	if (!f || !rw->src[0] || (f->except && acl_cond_eval(f->except, smp)))
		return;
	if (f->if_none) {
		for (int h = http_hdr_find(m, base, f->hdr, 0); h >= 0;
		     h = http_hdr_find(m, base, f->hdr, h + 1))
			if (!m->hdr_drop[h])
				return;
		for (unsigned int i = 0; i < rw->n; i++)
			if (!strcasecmp(rw->add[i].name, f->hdr))
				return;
	}
	rw_add(rw, f->hdr, rw->src);
}

int http_rw_format(const struct http_rw *rw, char *out, size_t size)
{
	size_t len = 0;

	for (unsigned int i = 0; i < rw->n; i++) {
		int n = snprintf(out + len, size - len, "%s: %s\r\n", rw->add[i].name,
				 rw->add[i].value);

		if (n < 0 || (size_t)n >= size - len)
			return -1;
		len += n;
	}
	if (size)
		out[len] = 0;
	return len;
}

const struct http_errfile *http_errfile_find(const struct http_errfile *list, int code)
{
	for (; list; list = list->next)
		if (list->code == code)
			return list;
	return NULL;
}

bool http_uri_is(const struct http_msg *m, const char *base, const char *uri)
{
	const char *u = base + m->url.off, *end = u + m->url.len;
	size_t len = strlen(uri);

	/* absolute form: HAProxy 2.6 compares what follows the authority */
	if (u < end && u[0] != '/') {
		const char *p = memmem(u, end - u, "://", 3);

		if (p) {
			u = memchr(p + 3, '/', end - (p + 3));
			if (!u)
				u = end;
		}
	}
	return (size_t)(end - u) == len && !memcmp(u, uri, len);
}

void http_rules_free(struct http_rule *r)
{
	struct http_rule *next;

	for (; r; r = next) {
		next = r->next;
		acl_cond_free(r->cond);
		free(r->name);
		free(r->value);
		free(r->ctype);
		free(r->body);
		free(r);
	}
}

void http_errfiles_free(struct http_errfile *e)
{
	struct http_errfile *next;

	for (; e; e = next) {
		next = e->next;
		free(e->data);
		free(e);
	}
}

void http_fwdfor_free(struct http_fwdfor *f)
{
	if (!f)
		return;
	acl_cond_free(f->except);
	free(f->except_net);
	free(f->hdr);
	free(f);
}
