/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_HTTP_H
#define WSPLICE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "acl.h"

/*
 * HTTP/1.1 messages parsed with llhttp, in place: a message head must sit whole in its input
 * buffer (HAProxy's rule too: tune.bufsize minus maxrewrite), and the parsed pieces are offsets
 * from the first byte of the message, so the buffer may be compacted between reads. Bodies are
 * not copied: the parser only finds where the message ends, and the bytes are forwarded as they
 * came.
 */

/* HAProxy's tune.http.maxhdr default: more header lines is a 400. */
#define HTTP_MAX_HDRS 101
/* HAProxy's tune.bufsize (16384) less tune.maxrewrite (1024). */
#define HTTP_MAX_HEAD 15360

struct http_span {
	uint32_t off, len;
};

struct http_hdr_span {
	struct http_span name, value;
};

enum http_msg_state {
	HTTP_MSG_HEAD,	/* head not complete yet */
	HTTP_MSG_BODY,	/* head done, body (possibly empty) not finished */
	HTTP_MSG_DONE,	/* message complete */
};

struct http_msg {
	llhttp_t p;
	const char *base;	/* first byte of the message, valid during a parse call */
	enum http_msg_state state;
	struct http_span method, url, reason;
	struct http_hdr_span hdr[HTTP_MAX_HDRS];
	unsigned int nhdr;
	bool hdr_overflow;	/* more than HTTP_MAX_HDRS headers */
	bool in_value;		/* the last header's name is complete */
	bool te_cl;		/* Transfer-Encoding and Content-Length: CL dropped */
	bool hdr_drop[HTTP_MAX_HDRS]; /* headers not forwarded (duplicates, CL beside TE) */
	uint32_t parsed;	/* bytes of the head already given to llhttp */
	uint32_t head_len;	/* length of the head once complete */
	int status;		/* responses */
};

/* A message about to be parsed; type is HTTP_REQUEST or HTTP_RESPONSE. */
void http_msg_init(struct http_msg *m, llhttp_type_t type);

/*
 * Parses the head of the message whose first avail bytes are at base (earlier calls saw a
 * prefix of them). Returns 1 when the head is complete (m->head_len set), 0 when more bytes are
 * needed, or -1 when the head is invalid or too large.
 */
int http_parse_head(struct http_msg *m, const char *base, size_t avail);

/*
 * After a complete head: declares that the message has no body whatever its headers say (a
 * response to HEAD), before the first http_parse_body() call.
 */
void http_msg_skip_body(struct http_msg *m);

/*
 * Parses body bytes. *used is set to the bytes that belong to this message (all of len unless
 * it completed inside). Returns 1 when the message is complete, 0 when it needs more, -1 on a
 * framing error.
 */
int http_parse_body(struct http_msg *m, const char *data, size_t len, size_t *used);

/* End of input: returns 1 if that ends the message (close-delimited body), else -1. */
int http_msg_eof(struct http_msg *m);

/* True when the body runs until the connection closes. */
bool http_msg_needs_eof(const struct http_msg *m);

/* The connection may carry another message after this one (llhttp_should_keep_alive). */
bool http_msg_keep_alive(const struct http_msg *m);
bool http_msg_is_upgrade(const struct http_msg *m);

static inline const char *http_str(const struct http_msg *m, const char *base,
				   struct http_span s)
{
	(void)m;
	return base + s.off;
}

/* Index of the first header named name at or after index from, or -1. */
int http_hdr_find(const struct http_msg *m, const char *base, const char *name, int from);

/* True when some header name has token in its comma-separated list (case-insensitive). */
bool http_hdr_has_token(const struct http_msg *m, const char *base, const char *name,
			const char *token);

/*
 * Next element of the comma-separated list v[0..len) from *pos (0 at first): *tok and *tlen get
 * it with surrounding whitespace trimmed, possibly empty ("0," has "0" then ""). Returns false
 * past the last element.
 */
bool http_list_next(const char *v, size_t len, size_t *pos, const char **tok, size_t *tlen);

/*
 * HAProxy 2.6's checks of a request head against smuggling, after llhttp accepted it: returns
 * 0 when the request may go on, else the status to answer (400, or 422 for a transfer coding
 * other than chunked before chunked). Marks the headers not to forward in m->hdr_drop (every
 * Content-Length beside Transfer-Encoding, identical duplicate Content-Length and Host) and sets
 * m->te_cl when Transfer-Encoding overrode a Content-Length: the connection must close after.
 */
int http_check_request(struct http_msg *m, const char *base);

/*
 * The same for a response head: Transfer-Encoding wins over Content-Length, which is dropped
 * (m->te_cl set: the server connection is not reused); identical Content-Length are merged,
 * different ones make it invalid. Returns 0, or 502.
 */
int http_check_response(struct http_msg *m, const char *base);

/*
 * Replaces each CR and LF inside header values with a space: an obs-fold ("a\r\n b") that llhttp
 * accepted is forwarded as "a   b", as HAProxy does (RFC 9112 section 5.2: a proxy replaces it
 * with SP or refuses the message), so that no server behind sees a folded line it might take for
 * a header of its own. base is the head's own buffer.
 */
void http_unfold(struct http_msg *m, char *base);

/* Fills hdrs (HTTP_MAX_HDRS entries) and the request fields of an ACL sample. */
void http_acl_sample(const struct http_msg *m, const char *base, struct http_hdr *hdrs,
		     struct acl_sample *s);

#endif /* WSPLICE_HTTP_H */
