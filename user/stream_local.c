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

/* Queues an error page for the client and ends the stream once it is sent. */
void stream_error(struct stream *s, int code, char cause, char state)
{
	bool close = true;
	const char *page;
	size_t len;

	stream_set_term(s, cause, state);
	page = error_page(s, code, close, &len);
	len = reply_len(s, page, len);
	s->status = code;
	buf_release(&s->res.out);
	if (!buf_append(&s->res.out, page, len, len))
		close = true;
	s->res.fwd = 0;
	side_close(s, &s->ss);
	release_server(s);
	s->st = ST_CLOSING;
}

/*
 * The request is answered here (deny, return, monitor-uri): the response goes to the client,
 * nothing to a server, and the request's body, if any, is read and dropped (HAProxy does the
 * same) so that the connection can carry the next request.
 */
static void local_reply(struct stream *s, int status)
{
	s->status = status;
	s->local = true;
	buf_consume(&s->req.in, s->req.msg->head_len);
	s->req.fwd = 0;
	side_close(s, &s->ss);
	s->idle_srv = NULL;
	s->res.msg->state = HTTP_MSG_DONE;
	/* ST_HTTP ends the transaction once the response is sent and the body dropped */
	s->st = ST_HTTP;
}

/* "http-request return": HAProxy's head, lower-case, a Content-Length always. */
static void reply_return(struct stream *s, const struct http_rule *r)
{
	bool close = s->cli_close;
	size_t blen = r->body ? strlen(r->body) : 0;
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\n%s%s%s%s\r\n",
		     r->status, http_reason(r->status), blen, r->ctype ? "content-type: " : "",
		     r->ctype ? r->ctype : "", r->ctype ? "\r\n" : "",
		     close ? "connection: close\r\n" : "");
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
	bool close = s->cli_close;
	const char *page;
	size_t len;

	if (deny)
		stream_set_term(s, 'P', 'R');
	page = error_page(s, status, close, &len);
	if (!buf_append(&s->res.out, page, reply_len(s, page, len), STREAM_BUFSIZE))
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
