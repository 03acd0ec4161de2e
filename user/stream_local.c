// SPDX-License-Identifier: GPL-2.0
/*
 * The answers the proxy gives itself instead of a server's: error pages (stream_error) and the
 * replies of deny, return, use-service and monitor-uri.
 */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "http_rules.h"
#include "prom.h"
#include "stream_int.h"

/* The response for code: an errorfile of the backend, else of the frontend, else HAProxy's. */
static const char *error_page(const struct stream *s, int code, bool close, size_t *len)
{
	const struct http_errfile *e = NULL;

	if (s->be && s->be != s->fe)
		e = http_errfile_find(s->be->errfiles, code);
	if (!e)
		e = http_errfile_find(s->fe->errfiles, code);
	if (e) {
		*len = e->len;
		return e->data;
	}
	return http_error(code, close, len);
}

/*
 * The length of what the proxy sends of its own response page: all of it, or only its head
 * for a HEAD request, as HAProxy 2.6 answers (errors, deny, return, monitor-uri).
 */
static size_t reply_len(const struct stream *s, const char *page, size_t len)
{
	const char *end = s->head_req ? memmem(page, len, "\r\n\r\n", 4) : NULL;

	return end ? (size_t)(end + 4 - page) : len;
}

/*
 * The request is answered here: nothing of it goes to a server, and its body, if any, is read
 * and dropped (HAProxy does the same) so that the connection can carry the next request. What
 * of the body is already in the buffer is parsed now: a body not whole yet (or broken) closes
 * the connection after the answer, with "connection: close" in it, as HAProxy 2.6 does rather
 * than wait for the rest (docs/http.md).
 */
static void drop_request(struct stream *s)
{
	s->local = true;
	/* before routing, the head is still in the buffer; after it, the body bytes already
	 * parsed (req.fwd) were meant for the server */
	buf_consume(&s->req.in, s->st == ST_REQ_HEAD ? s->req.msg->head_len : s->req.fwd);
	s->req.fwd = 0;
	if (chan_parse_body(&s->req) < 0 || s->req.msg->state != HTTP_MSG_DONE)
		s->cli_close = true;
	buf_consume(&s->req.in, s->req.fwd);
	s->req.fwd = 0;
}

/* The local response is queued: ST_HTTP ends the transaction once it is sent (process_http()
 * drops what may follow of the body); a request not whole closes once the answer is sent. */
static void local_done(struct stream *s)
{
	side_close(s, &s->ss);
	s->idle_srv = NULL;
	s->res.msg->state = HTTP_MSG_DONE;
	s->st = s->req.msg->state == HTTP_MSG_DONE ? ST_HTTP : ST_CLOSING;
}

/* Answered by a rule or monitor-uri (deny, return, use-service). */
static void local_reply(struct stream *s, int status)
{
	s->status = status;
	local_done(s);
}

/*
 * Whether the client connection may outlive the proxy's own error: HAProxy 2.6 keeps it after a
 * 502, 503 or 504 once the request head was read (the table in docs/http.md), unless the
 * client, httpclose or a stop says close. A 400, 408, 422 or 500 closes it.
 */
static bool error_may_keep_alive(const struct stream *s, int code)
{
	unsigned int opts = s->fe->options | (s->be ? s->be->options : 0);

	if (code != 502 && code != 503 && code != 504)
		return false;
	return s->req.msg && s->req.msg->state != HTTP_MSG_HEAD && !s->cli_close &&
	       !(opts & PX_O_HTTPCLOSE);
}

/* An HTTP/1.0 client whose connection stays is told so, as HAProxy tells it. */
static bool says_keep_alive(const struct stream *s, bool keep)
{
	return keep && s->req.msg->p.http_major == 1 && s->req.msg->p.http_minor == 0;
}

/*
 * Appends a page to res.out (its head alone for HEAD); for an HTTP/1.0 client kept alive,
 * "connection: keep-alive" ends the head.
 */
static bool put_page(struct stream *s, const char *page, size_t len, bool keep)
{
	const char *end = memmem(page, len, "\r\n\r\n", 4);
	size_t hlen = end ? (size_t)(end + 2 - page) : 0;
	static const char ka[] = "connection: keep-alive\r\n";
	size_t max;

	/* room for the whole page, an errorfile larger than a buffer too, and never less than a
	 * buffer: the buffer stays for the next response's head when the connection does */
	if (!buf_reserve(&s->res.out, len + sizeof(ka) > STREAM_BUFSIZE ? len + sizeof(ka)
									: STREAM_BUFSIZE))
		return false;
	max = s->res.out.cap;
	len = reply_len(s, page, len);
	if (!hlen || !says_keep_alive(s, keep))
		return buf_append(&s->res.out, page, len, max);
	return buf_append(&s->res.out, page, hlen, max) &&
	       buf_append(&s->res.out, ka, sizeof(ka) - 1, max) &&
	       buf_append(&s->res.out, page + hlen, len - hlen, max);
}

/*
 * Queues an error page for the client. The stream then ends once the page is sent, or, where
 * HAProxy keeps the connection, the page ends the transaction as a local reply does, and the
 * next request follows on the same connection. HAProxy keeps it only when the whole request
 * was received by then: a client still sending its body is told "connection: close".
 */
void stream_error(struct stream *s, int code, char cause, char state)
{
	bool keep = error_may_keep_alive(s, code);
	const char *page;
	size_t len;

	stream_set_term(s, cause, state);
	s->status = code;
	buf_release(&s->res.out);
	s->res.fwd = 0;
	side_close(s, &s->ss);
	release_server(s);
	if (keep) {
		/* nothing of the failed server connection stays: the head it did not take and
		 * what it sent (a bad response) */
		buf_release(&s->req.out);
		buf_consume(&s->res.in, buf_len(&s->res.in));
		drop_request(s);
		keep = !s->cli_close;
	}
	page = error_page(s, code, !keep, &len);
	if (!put_page(s, page, len, keep))
		keep = false;
	if (!keep) {
		s->st = ST_CLOSING;
		return;
	}
	local_done(s);
}

/* "http-request return": HAProxy's head, lower-case, a Content-Length always. */
static void reply_return(struct stream *s, const struct http_rule *r)
{
	size_t blen = r->body ? strlen(r->body) : 0;
	const char *conn = "";
	char head[512];
	int n;

	drop_request(s);
	if (s->cli_close)
		conn = "connection: close\r\n";
	else if (says_keep_alive(s, true))
		conn = "connection: keep-alive\r\n";
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\n%s%s%s%s\r\n",
		     r->status, http_reason(r->status), blen, r->ctype ? "content-type: " : "",
		     r->ctype ? r->ctype : "", r->ctype ? "\r\n" : "", conn);
	if (n < 0 || (size_t)n >= sizeof(head) ||
	    !buf_append(&s->res.out, head, n, STREAM_BUFSIZE) ||
	    !buf_append(&s->res.out, r->body ? r->body : "", s->head_req ? 0 : blen,
			STREAM_BUFSIZE))
		return stream_error(s, 500, 'P', 'R');
	local_reply(s, r->status);
}

/* A page (deny, monitor-uri): an errorfile or HAProxy's. */
void reply_page(struct stream *s, int status, bool deny)
{
	const char *page;
	size_t len;

	if (deny)
		stream_set_term(s, 'P', 'R');
	drop_request(s);
	page = error_page(s, status, s->cli_close, &len);
	if (!put_page(s, page, len, !s->cli_close))
		return stream_error(s, 500, 'P', 'R');
	local_reply(s, status);
}

/* Runs a deny, return or use-service rule. */
void reply_rule(struct stream *s, const struct http_rule *r)
{
	if (r->act == HTTP_ACT_RETURN) {
		/* "LR": locally processed, as HAProxy logs a return */
		stream_set_term(s, 'L', 'R');
		return reply_return(s, r);
	}
	if (r->act == HTTP_ACT_SERVICE) {
		/* the only service: the metrics page, which may pass one buffer (prom.h); "LR",
		 * locally processed, as HAProxy logs its services */
		stream_set_term(s, 'L', 'R');
		drop_request(s);
		if (prom_reply(s->ctx, &s->res.out, s->head_req, s->cli_close) < 0)
			return stream_error(s, 500, 'P', 'R');
		return local_reply(s, 200);
	}
	/* denied: HAProxy counts it on the frontend, and on the backend once one is chosen */
	s->fe->denied_req++;
	if (s->be && s->be != s->fe)
		s->be->denied_req++;
	reply_page(s, r->status, true);
}
