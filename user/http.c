// SPDX-License-Identifier: GPL-2.0
#include "http.h"

#include <string.h>
#include <strings.h>

static struct http_msg *msg_of(llhttp_t *p)
{
	return (struct http_msg *)p->data;
}

/* llhttp may hand one field over in pieces across calls; the pieces are contiguous in the
 * buffer, so a span only needs extending. */
static void span_add(struct http_msg *m, struct http_span *s, const char *at, size_t len)
{
	uint32_t off = at - m->base;

	if (s->len == 0)
		s->off = off;
	s->len = off + len - s->off;
}

static int on_method(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);

	span_add(m, &m->method, at, len);
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);

	span_add(m, &m->url, at, len);
	return 0;
}

static int on_status(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);

	span_add(m, &m->reason, at, len);
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);

	if (m->in_value || m->nhdr == 0) {
		if (m->nhdr == HTTP_MAX_HDRS) {
			m->hdr_overflow = true;
			return HPE_USER;
		}
		memset(&m->hdr[m->nhdr++], 0, sizeof(m->hdr[0]));
		m->in_value = false;
	}
	span_add(m, &m->hdr[m->nhdr - 1].name, at, len);
	return 0;
}

/* A name is complete: the next name piece starts a new header, even after an empty value
 * (for which llhttp calls no value callback). */
static int on_header_field_complete(llhttp_t *p)
{
	msg_of(p)->in_value = true;
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	struct http_msg *m = msg_of(p);

	span_add(m, &m->hdr[m->nhdr - 1].value, at, len);
	return 0;
}

/* Both pause: the caller acts on a complete head before any body byte, and stops exactly at
 * the end of a message so that pipelined bytes stay for the next one. */
static int on_headers_complete(llhttp_t *p)
{
	struct http_msg *m = msg_of(p);

	m->state = HTTP_MSG_BODY;
	m->status = p->status_code;
	return HPE_PAUSED;
}

static int on_message_complete(llhttp_t *p)
{
	msg_of(p)->state = HTTP_MSG_DONE;
	return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
	.on_method = on_method,
	.on_url = on_url,
	.on_status = on_status,
	.on_header_field = on_header_field,
	.on_header_field_complete = on_header_field_complete,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void http_msg_init(struct http_msg *m, llhttp_type_t type)
{
	memset(m, 0, sizeof(*m));
	llhttp_init(&m->p, type, &settings);
	m->p.data = m;
}

int http_parse_head(struct http_msg *m, const char *base, size_t avail)
{
	llhttp_errno_t err;
	size_t todo;

	if (m->state != HTTP_MSG_HEAD)
		return 1;
	todo = avail > HTTP_MAX_HEAD ? HTTP_MAX_HEAD : avail;
	if (todo <= m->parsed)
		return avail > HTTP_MAX_HEAD ? -1 : 0;
	m->base = base;
	err = llhttp_execute(&m->p, base + m->parsed, todo - m->parsed);
	if (err == HPE_PAUSED && m->state == HTTP_MSG_BODY) {
		m->head_len = llhttp_get_error_pos(&m->p) - base;
		llhttp_resume(&m->p);
		return 1;
	}
	if (err != HPE_OK)
		return -1;
	m->parsed = todo;
	/* A head that does not fit is refused once we know more will not help. */
	return avail >= HTTP_MAX_HEAD ? -1 : 0;
}

void http_msg_skip_body(struct http_msg *m)
{
	m->p.flags |= F_SKIPBODY;
}

int http_parse_body(struct http_msg *m, const char *data, size_t len, size_t *used)
{
	llhttp_errno_t err;

	*used = 0;
	if (m->state == HTTP_MSG_DONE)
		return 1;
	/* An empty body completes without input: give llhttp a zero-length run to see it. */
	m->base = data;
	err = llhttp_execute(&m->p, data, len);
	if (err == HPE_OK) {
		*used = len;
		return m->state == HTTP_MSG_DONE;
	}
	if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
		*used = llhttp_get_error_pos(&m->p) - data;
		return m->state == HTTP_MSG_DONE ? 1 : 0;
	}
	return -1;
}

int http_msg_eof(struct http_msg *m)
{
	if (m->state == HTTP_MSG_DONE)
		return 1;
	if (m->state == HTTP_MSG_BODY && llhttp_message_needs_eof(&m->p)) {
		m->state = HTTP_MSG_DONE;
		return 1;
	}
	return -1;
}

bool http_msg_needs_eof(const struct http_msg *m)
{
	return llhttp_message_needs_eof(&m->p);
}

bool http_msg_keep_alive(const struct http_msg *m)
{
	return llhttp_should_keep_alive(&m->p);
}

bool http_msg_is_upgrade(const struct http_msg *m)
{
	return m->p.upgrade;
}

static bool span_ieq(const char *base, struct http_span s, const char *str)
{
	return s.len == strlen(str) && !strncasecmp(base + s.off, str, s.len);
}

int http_hdr_find(const struct http_msg *m, const char *base, const char *name, int from)
{
	for (unsigned int i = from; i < m->nhdr; i++)
		if (span_ieq(base, m->hdr[i].name, name))
			return i;
	return -1;
}

/* Token lists ("a, b,c"): optional whitespace around commas, tokens case-insensitive. */
static bool list_has_token(const char *v, size_t len, const char *token)
{
	size_t tlen = strlen(token), i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == tlen && !strncasecmp(v + start, token, tlen))
			return true;
	}
	return false;
}

bool http_hdr_has_token(const struct http_msg *m, const char *base, const char *name,
			const char *token)
{
	for (int i = http_hdr_find(m, base, name, 0); i >= 0; i = http_hdr_find(m, base, name, i + 1))
		if (list_has_token(base + m->hdr[i].value.off, m->hdr[i].value.len, token))
			return true;
	return false;
}

void http_acl_sample(const struct http_msg *m, const char *base, struct http_hdr *hdrs,
		     struct acl_sample *s)
{
	const char *url = base + m->url.off;
	size_t ulen = m->url.len, plen;

	for (unsigned int i = 0; i < m->nhdr; i++) {
		hdrs[i].name = base + m->hdr[i].name.off;
		hdrs[i].name_len = m->hdr[i].name.len;
		hdrs[i].value = base + m->hdr[i].value.off;
		hdrs[i].value_len = m->hdr[i].value.len;
	}
	s->hdrs = hdrs;
	s->nhdrs = m->nhdr;
	s->method = base + m->method.off;
	s->method_len = m->method.len;
	/* Absolute form "http://host/path": HAProxy's path is what follows the authority. */
	if (ulen && url[0] != '/') {
		const char *p = memmem(url, ulen, "://", 3);

		if (p) {
			const char *slash = memchr(p + 3, '/', url + ulen - (p + 3));

			ulen = slash ? (size_t)(url + ulen - slash) : 0;
			url = slash ? slash : url + m->url.len;
		}
	}
	for (plen = 0; plen < ulen && url[plen] != '?'; plen++)
		;
	s->path = url;
	s->path_len = plen;
}
