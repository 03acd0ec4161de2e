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
	struct http_msg *m = msg_of(p);
	struct http_span n = m->hdr[m->nhdr - 1].name;

	m->in_value = true;
	/*
	 * llhttp refuses a second Content-Length outright; HAProxy accepts identical ones and
	 * merges them. Let llhttp parse this one afresh; http_check_request() then refuses values
	 * that differ (llhttp keeps the last).
	 */
	if ((p->flags & F_CONTENT_LENGTH) && n.len == 14 &&
	    !strncasecmp(m->base + n.off, "content-length", 14)) {
		p->flags &= ~F_CONTENT_LENGTH;
		p->content_length = 0;
	}
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
	/* HAProxy 2.6 takes a request line's "HTTP/2.0" or "HTTP/3.0" (llhttp refuses other
	 * majors above 1) for HTTP/1.1, and forwards it as such: the server must never see a
	 * version the proxy does not speak. */
	if (p->type == HTTP_REQUEST && p->http_major > 1) {
		p->http_major = 1;
		p->http_minor = 1;
	}
	return HPE_PAUSED;
}

/*
 * HAProxy 2.6 refuses a chunk size of 2^52 or more (it stops at 13 hex digits of value); llhttp
 * takes anything that fits 64 bits, and a peer announcing 2^64-1 bytes would hold the
 * connection until a timeout instead of getting its 400 (or 502 for a server).
 */
#define HTTP_MAX_CHUNK (1ULL << 52)

static int on_chunk_header(llhttp_t *p)
{
	return p->content_length >= HTTP_MAX_CHUNK ? HPE_USER : 0;
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
	.on_chunk_header = on_chunk_header,
	.on_message_complete = on_message_complete,
};

void http_msg_init(struct http_msg *m, llhttp_type_t type)
{
	memset(m, 0, sizeof(*m));
	llhttp_init(&m->p, type, &settings);
	m->p.data = m;
	/* Transfer-Encoding with Content-Length: HAProxy lets the former win (and drops the
	 * latter, see http_check_request/response); llhttp would refuse the message. */
	llhttp_set_lenient_chunked_length(&m->p, 1);
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

bool http_list_next(const char *v, size_t len, size_t *pos, const char **tok, size_t *tlen)
{
	size_t i = *pos, end;

	if (i > len)
		return false;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	*tok = v + i;
	while (i < len && v[i] != ',')
		i++;
	end = i;
	while (v + end > *tok && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	*tlen = v + end - *tok;
	*pos = i + 1;
	return true;
}

static bool tok_is(const char *tok, size_t tlen, const char *str)
{
	return tlen == strlen(str) && !strncasecmp(tok, str, tlen);
}

/* Transfer-Encoding over every header of that name: 0, 400 or 422 as HAProxy 2.6 answers. */
static int check_te(const struct http_msg *m, const char *base, bool *present)
{
	unsigned int nchunked = 0, nother = 0;
	bool last_chunked = false;

	*present = false;
	for (int i = http_hdr_find(m, base, "transfer-encoding", 0); i >= 0;
	     i = http_hdr_find(m, base, "transfer-encoding", i + 1)) {
		const char *v = base + m->hdr[i].value.off, *tok;
		size_t len = m->hdr[i].value.len, pos = 0, tlen;

		*present = true;
		while (http_list_next(v, len, &pos, &tok, &tlen)) {
			if (!tlen)
				continue;
			last_chunked = tok_is(tok, tlen, "chunked");
			nchunked += last_chunked;
			nother += !last_chunked;
		}
	}
	if (!*present)
		return 0;
	if (!last_chunked || nchunked > 1)
		return 400;
	return nother ? 422 : 0;
}

/* Every Content-Length element must be the same non-empty decimal number; all headers but the
 * first are dropped. Returns 0 or 400. */
static int check_cl(struct http_msg *m, const char *base)
{
	const char *first = NULL;
	size_t flen = 0;

	for (int i = http_hdr_find(m, base, "content-length", 0); i >= 0;
	     i = http_hdr_find(m, base, "content-length", i + 1)) {
		const char *v = base + m->hdr[i].value.off, *tok;
		size_t len = m->hdr[i].value.len, pos = 0, tlen;

		m->hdr_drop[i] = first != NULL;
		while (http_list_next(v, len, &pos, &tok, &tlen)) {
			size_t d = 0;

			while (d < tlen && tok[d] >= '0' && tok[d] <= '9')
				d++;
			if (!tlen || d < tlen)
				return 400;
			if (!first) {
				first = tok;
				flen = tlen;
			} else if (tlen != flen || memcmp(tok, first, tlen)) {
				return 400;
			}
		}
	}
	return 0;
}

/* Several Host headers must agree (then one is forwarded); an absolute-form URI's authority,
 * and a CONNECT's, must be the Host. Returns 0 or 400. */
static int check_host(struct http_msg *m, const char *base)
{
	int h = http_hdr_find(m, base, "host", 0);
	const char *url = base + m->url.off, *auth, *end;
	struct http_span hv;

	if (h < 0)
		return 0;
	hv = m->hdr[h].value;
	for (int i = http_hdr_find(m, base, "host", h + 1); i >= 0;
	     i = http_hdr_find(m, base, "host", i + 1)) {
		if (m->hdr[i].value.len != hv.len ||
		    strncasecmp(base + m->hdr[i].value.off, base + hv.off, hv.len))
			return 400;
		m->hdr_drop[i] = true;
	}
	if (m->p.method == HTTP_CONNECT) {
		/* authority-form: the whole URI is the authority */
		auth = url;
		end = url + m->url.len;
	} else if (!m->url.len || url[0] == '/' || !(auth = memmem(url, m->url.len, "://", 3))) {
		return 0;
	} else {
		auth += 3;
		for (end = auth; end < url + m->url.len && *end != '/' && *end != '?'; end++)
			;
	}
	if ((size_t)(end - auth) != hv.len || strncasecmp(auth, base + hv.off, hv.len))
		return 400;
	return 0;
}

/* RFC 9110 tchar: what a method or a header name is made of. */
static bool is_token(const char *s, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && !((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') &&
		    !(s[i] && memchr(extra, s[i], sizeof(extra) - 1)))
			return false;
	return true;
}

/* Every Content-Length is dropped beside a Transfer-Encoding, which frames the body. */
static void drop_cl(struct http_msg *m, const char *base)
{
	for (int i = http_hdr_find(m, base, "content-length", 0); i >= 0;
	     i = http_hdr_find(m, base, "content-length", i + 1)) {
		m->hdr_drop[i] = true;
		m->te_cl = true;
	}
}

int http_check_response(struct http_msg *m, const char *base)
{
	if (http_hdr_find(m, base, "transfer-encoding", 0) >= 0) {
		drop_cl(m, base);
		return 0;
	}
	return check_cl(m, base) ? 502 : 0;
}

/*
 * What HAProxy 2.6 refuses in a request line that llhttp lets through: a byte above 0x7f or a
 * '#' in the URI (a fragment is never sent; HAProxy refuses it since CVE-2023-45539, and a
 * "path_beg /ws#" rule must not be bypassed by one), and a line without a version ("GET /",
 * HTTP/0.9, which llhttp takes and whose answer has no status line). Returns 0 or 400.
 */
static int check_reqline(const struct http_msg *m, const char *base)
{
	const unsigned char *u = (const unsigned char *)base + m->url.off;
	const char *after = base + m->url.off + m->url.len;

	for (uint32_t i = 0; i < m->url.len; i++)
		if (u[i] >= 0x80 || u[i] == '#')
			return 400;
	if (m->url.off + m->url.len >= m->head_len || *after == '\r' || *after == '\n')
		return 400;
	return 0;
}

int http_check_request(struct http_msg *m, const char *base)
{
	bool te;
	int code;

	code = check_reqline(m, base);
	if (code)
		return code;

	/* llhttp 8.1 lets a space through in a header name ("Bad Name: v"); HAProxy does not */
	for (unsigned int i = 0; i < m->nhdr; i++)
		if (!is_token(base + m->hdr[i].name.off, m->hdr[i].name.len))
			return 400;
	code = check_te(m, base, &te);
	if (code)
		return code;
	if (te)
		drop_cl(m, base);
	else if ((code = check_cl(m, base))) {
		return code;
	}
	return check_host(m, base);
}

void http_unfold(struct http_msg *m, char *base)
{
	for (unsigned int i = 0; i < m->nhdr; i++) {
		char *v = base + m->hdr[i].value.off;

		for (uint32_t j = 0; j < m->hdr[i].value.len; j++)
			if (v[j] == '\r' || v[j] == '\n')
				v[j] = ' ';
	}
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
