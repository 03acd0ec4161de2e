// SPDX-License-Identifier: GPL-2.0
#include "stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "http_rules.h"
#include "listener.h"
#include "log.h"
#include "cookie.h"
#include "relay.h"
#include "srvpool.h"
#include "stream_int.h"
#include "ws.h"

/* How long a closing connection drains what the client still sends. */
#define LINGER_MS 1000

static void cli_io(struct loop *loop, struct fd_handler *h, uint32_t events);
static void stream_timeout(struct loop *loop, struct timer *t);
static void stream_process(struct stream *s);
static void start_request(struct stream *s);

/* Socket I/O. Both return bytes moved (>0), 0 when nothing moved (EAGAIN or no room), or
 * -1 on EOF or error (side->eof or side->err set). */

static ssize_t side_recv(struct stream *s, struct side *sd, struct chan *c, size_t cap)
{
	size_t room = buf_prepare(&c->in, cap);
	ssize_t n;

	if (sd->fd < 0 || sd->eof || !room)
		return 0;
	n = recv(sd->fd, c->in.data + c->in.tail, room, 0);
	if (n > 0) {
		c->in.tail += n;
		/* a read that did not fill the room emptied the receive queue */
		sd->rx_empty = (size_t)n < room;
	}
	return stream_read_done(s, sd, n);
}

ssize_t stream_read_done(struct stream *s, struct side *sd, ssize_t n)
{
	if (n > 0) {
		sd->rx += n;
		sd->last_ms = loop_now_ms(s->ctx->loop);
		return n;
	}
	if (n == 0) {
		sd->eof = true;
		return -1;
	}
	if (errno == EAGAIN) {
		sd->rx_empty = true;
		return 0;
	}
	if (errno == EINTR)
		return 0;
	sd->err = errno;
	return -1;
}

ssize_t stream_write_done(struct stream *s, struct side *sd, ssize_t n)
{
	if (n >= 0) {
		sd->tx += n;
		if (n)
			sd->last_ms = loop_now_ms(s->ctx->loop);
		return n;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	sd->err = errno;
	return -1;
}

static ssize_t send_some(struct stream *s, struct side *sd, const char *p, size_t len)
{
	return stream_write_done(s, sd, send(sd->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT));
}

/* Both at once: a head (or PROXY header) and the bytes after it leave in one system call, and in
 * one segment when they fit. Returns what send_some() returns; the caller consumes. */
static ssize_t send_two(struct stream *s, struct side *sd, struct chan *c)
{
	struct iovec iov[2] = {
		{ .iov_base = buf_ptr(&c->out), .iov_len = buf_len(&c->out) },
		{ .iov_base = buf_ptr(&c->in), .iov_len = c->fwd },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	return stream_write_done(s, sd, sendmsg(sd->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT));
}

/* Sends c->out then the forwardable bytes of c->in to sd. Returns -1 on a write error, else 0. */
static int chan_flush(struct stream *s, struct chan *c, struct side *sd)
{
	size_t head;
	ssize_t n;

	if (sd->fd < 0)
		return 0;
	if (!buf_empty(&c->out) && c->fwd) {
		head = buf_len(&c->out);
		n = send_two(s, sd, c);
		if (n <= 0)
			return n;
		buf_consume(&c->out, (size_t)n < head ? (size_t)n : head);
		if ((size_t)n > head) {
			buf_consume(&c->in, n - head);
			c->fwd -= n - head;
		}
	}
	while (!buf_empty(&c->out)) {
		n = send_some(s, sd, buf_ptr(&c->out), buf_len(&c->out));
		if (n <= 0)
			return n;
		buf_consume(&c->out, n);
	}
	while (c->fwd) {
		n = send_some(s, sd, buf_ptr(&c->in), c->fwd);
		if (n <= 0)
			return n;
		buf_consume(&c->in, n);
		c->fwd -= n;
	}
	return 0;
}

static bool chan_pending(const struct chan *c)
{
	return !buf_empty(&c->out) || c->fwd;
}

void side_close(struct stream *s, struct side *sd)
{
	if (sd->fd < 0)
		return;
	/*
	 * close() removes the epoll registration with the last reference to the socket, which
	 * this process holds unless a reload shared it (then explicitly: the registration would
	 * outlive close() with its events pointing at a freed stream). HAProxy deletes only such
	 * "cloned" fds too: two epoll_ctl per connection less.
	 */
	if (s->fds_shared)
		loop_del_fd(s->ctx->loop, &sd->fh);
	else
		loop_forget_fd(&sd->fh);
	close(sd->fd);
	sd->fd = -1;
}

static void set_term(struct stream *s, char cause, char state)
{
	if (s->term[0] == '-')
		s->term[0] = cause;
	if (s->term[1] == '-')
		s->term[1] = state;
}

/* The stream state letter HAProxy logs beside a termination cause. */
static char state_letter(const struct stream *s)
{
	switch (s->st) {
	case ST_REQ_HEAD:
		return 'R';
	case ST_CONNECT:
		return 'C';
	case ST_HTTP:
		return s->res.msg->state == HTTP_MSG_HEAD ? 'H' : 'D';
	default:
		return 'D';
	}
}

static void stream_link(struct ctx *ctx, struct stream *s)
{
	s->next = ctx->streams;
	if (ctx->streams)
		ctx->streams->prev = s;
	ctx->streams = s;
	ctx->actconn++;
	if (++s->fe->cur_conns > s->fe->max_conns)
		s->fe->max_conns = s->fe->cur_conns;
}

void stream_new(struct ctx *ctx, struct proxy *fe, int fd, const struct sockaddr_storage *addr)
{
	struct stream *s = calloc(1, sizeof(*s));
	/* both messages in one block, freed as one when the stream becomes a tunnel */
	struct http_msg *msgs = calloc(2, sizeof(*msgs));

	if (!s || !msgs) {
		pr_warn("frontend '%s': out of memory, connection dropped", fe->id);
		close(fd);
		free(s);
		free(msgs);
		return;
	}
	s->req.msg = &msgs[0];
	s->res.msg = &msgs[1];
	s->ctx = ctx;
	s->id = ctx->next_stream_id++;
	s->fe = fe;
	s->cli_addr = *addr;
	s->cs.fd = fd;
	s->ss.fd = -1;
	loop_timer_init(&s->timer, stream_timeout);
	/* TCP_NODELAY comes from the listening socket (listener.c): accept() copies it */
	if (loop_add_fd(ctx->loop, &s->cs.fh, fd, EPOLLIN | EPOLLRDHUP, cli_io) < 0) {
		pr_warn("frontend '%s': epoll: %s", fe->id, strerror(errno));
		close(fd);
		free(msgs);
		free(s);
		return;
	}
	stream_link(ctx, s);
	ctx->cnt.cum_conns++;
	fe->cum_conns++;
	s->cs.last_ms = loop_now_ms(ctx->loop);
	start_request(s);
	stream_log_accept(s);
	if (fe->mode == PX_MODE_TCP) {
		s->be = fe->defbe ? fe->defbe : fe;
		stream_process(s);
	}
	stream_update(s);
}

/* Resets per-request state; the client connection stays. */
static void start_request(struct stream *s)
{
	http_msg_init(s->req.msg, HTTP_REQUEST);
	http_msg_init(s->res.msg, HTTP_RESPONSE);
	free(s->reqline);
	s->reqline = NULL;
	s->status = -1;
	s->log_srv = NULL;
	memcpy(s->term, "--", 3);
	s->retries = 0;
	s->redispatched = false;
	s->ck_matched = false;
	s->ck_log[0] = s->ck_log[1] = 0;
	s->tw = 0;
	s->upgrade_req = s->head_req = s->cli_close = s->local = false;
	s->logged_asap = s->logged = s->nolog = false;
	s->t_conn_start = s->t_connected = s->t_resp = s->t_head = s->t_first = 0;
	s->t_start = loop_now_ms(s->ctx->loop);
	/* bytes of a pipelined request already read belong to it: count from its first byte */
	s->rx_start = s->cs.rx - buf_len(&s->req.in);
	s->tx_start = s->cs.tx;
	gettimeofday(&s->req_date, NULL);
	s->st = ST_REQ_HEAD;
}

void stream_kill(struct stream *s)
{
	struct ctx *ctx = s->ctx;

	if (s->killed)
		return;
	s->killed = true;
	queue_remove(s);
	if (s->st == ST_TUNNEL_KERNEL && s->handed_over)
		splice_tunnel_forget(s);
	else if (s->st == ST_TUNNEL_KERNEL)
		splice_tunnel_stop(s);
	if (s->st == ST_TUNNEL_USER || s->st == ST_TUNNEL_KERNEL)
		ctx->cnt.cur_tunnels--;
	/* (whether a connection that sent nothing is logged is decided there); one handed to a
	 * new process is logged there */
	if (!s->logged && !s->handed_over)
		stream_log(s, false);
	loop_timer_del(ctx->loop, &s->timer);
	side_close(s, &s->cs);
	side_close(s, &s->ss);
	relay_release(s);
	release_server(s);
	ctx->actconn--;
	s->fe->cur_conns--;
	/* unlink now, free before the next epoll_wait: events of this batch may still point here */
	if (s->prev)
		s->prev->next = s->next;
	else
		ctx->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = ctx->dead;
	ctx->dead = s;
	listeners_resume(ctx);
}

/*
 * Gives freed heap memory back to the system: free() returns only the top of glibc's heap.
 * - Idle again after serving, everything freed goes, once per idle period: 5,000 relayed
 *   tunnels left 110 MiB resident once closed (tests/45-chaos.bats).
 * - Busy, at most once a second and only when much of the heap is free: a burst of handshakes
 *   leaves their buffers (16 KiB each) and HTTP messages freed in the middle of the heap, so
 *   the tunnels that stay would go on paying for them in RSS (bench idle: 1.85 to 1.1 KiB per
 *   spliced tunnel).
 */
#define TRIM_EVERY_MS 1000
#define TRIM_FREE_MIN (4u << 20)

static void heap_trim(struct ctx *ctx)
{
	static uint64_t last;
	uint64_t now = loop_now_ms(ctx->loop);
	struct mallinfo2 mi;

	if (!ctx->actconn) {
		if (ctx->trimmed_at != ctx->cnt.cum_conns) {
			ctx->trimmed_at = ctx->cnt.cum_conns;
			malloc_trim(0);
		}
		return;
	}
	if (now - last < TRIM_EVERY_MS)
		return;
	last = now;
	mi = mallinfo2();
	if (mi.fordblks >= TRIM_FREE_MIN && mi.fordblks > mi.uordblks)
		malloc_trim(0);
}

void stream_reap(struct ctx *ctx)
{
	struct stream *s;

	while ((s = ctx->dead)) {
		ctx->dead = s->next;
		buf_release(&s->req.in);
		buf_release(&s->req.out);
		buf_release(&s->res.in);
		buf_release(&s->res.out);
		free(s->reqline);
		stream_drop_http(s);
		free(s);
	}
	heap_trim(ctx);
}

void stream_drop_http(struct stream *s)
{
	/* req.msg heads the block that holds both */
	free(s->req.msg);
	s->req.msg = s->res.msg = NULL;
}

/* --- request side --------------------------------------------------------------------------- */

static void keep_reqline(struct stream *s, const char *base)
{
	const struct http_msg *m = s->req.msg;
	size_t len = m->method.len + m->url.len + 12;

	s->reqline = malloc(len);
	if (s->reqline)
		snprintf(s->reqline, len, "%.*s %.*s HTTP/%d.%d", (int)m->method.len,
			 base + m->method.off, (int)m->url.len, base + m->url.off, m->p.http_major,
			 m->p.http_minor);
}

/* Picks the backend: the first matching use_backend rule, else default_backend, else the
 * proxy itself when it is a "listen". NULL: nobody to serve it (503). */
static struct proxy *route(struct stream *s, const struct acl_sample *smp)
{
	struct switching_rule *r;

	for (r = s->fe->rules; r; r = r->next)
		if (!r->cond || acl_cond_eval(r->cond, smp))
			return r->be;
	if (s->fe->defbe)
		return s->fe->defbe;
	return (s->fe->cap & PX_CAP_BE) ? s->fe : NULL;
}

static bool name_is(const char *base, struct http_span name, const char *str)
{
	return name.len == strlen(str) && !strncasecmp(base + name.off, str, name.len);
}

/*
 * Hop-by-hop headers go no further, except the Connection of an upgrade. Upgrade itself only
 * goes with an upgrade wsplice tunnels (HAProxy 2.6 forwards a stray one; without its
 * Connection it means nothing). TE is handled by put_headers.
 */
static bool is_hop_header(const char *base, struct http_span name, bool upgrade)
{
	static const char *const hop[] = { "connection", "keep-alive", "proxy-connection",
					   "upgrade" };

	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (name_is(base, name, hop[i]))
			return !upgrade;
	return false;
}

/* A header line; the value's trailing blanks (OWS, which llhttp leaves in it) are dropped, as
 * HAProxy forwards values: a server that does not trim them would read "chunked " as an unknown
 * coding and the rest of the connection as garbage (tests/27-malformed.bats). */
static bool put_header(struct buf *out, const char *name, size_t nlen, const char *value,
		       size_t vlen)
{
	while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		vlen--;
	return buf_append(out, name, nlen, STREAM_BUFSIZE) &&
	       buf_append(out, ": ", 2, STREAM_BUFSIZE) &&
	       buf_append(out, value, vlen, STREAM_BUFSIZE) &&
	       buf_append(out, "\r\n", 2, STREAM_BUFSIZE);
}

/*
 * Appends "name: value\r\n" for every header but the hop-by-hop ones and those the checks
 * dropped, then extra, then CRLF. TE keeps only "trailers", as HAProxy does: the other codings
 * are between the client and us.
 */
static bool put_headers(struct buf *out, const struct http_msg *m, const char *base, bool upgrade,
			const char *extra)
{
	bool ok = true;

	for (unsigned int i = 0; i < m->nhdr; i++) {
		const struct http_hdr_span *h = &m->hdr[i];

		if (m->hdr_drop[i] || is_hop_header(base, h->name, upgrade))
			continue;
		if (name_is(base, h->name, "te")) {
			if (http_hdr_find(m, base, "te", 0) == (int)i &&
			    http_hdr_has_token(m, base, "te", "trailers"))
				ok &= put_header(out, "TE", 2, "trailers", 8);
			continue;
		}
		ok &= put_header(out, base + h->name.off, h->name.len, base + h->value.off,
				 h->value.len);
	}
	if (extra)
		ok &= buf_append(out, extra, strlen(extra), STREAM_BUFSIZE);
	ok &= buf_append(out, "\r\n", 2, STREAM_BUFSIZE);
	return ok;
}

/*
 * The request head as the server gets it: same line, hop-by-hop headers rewritten, the rules'
 * headers (rw) appended.
 */
static bool build_request_head(struct stream *s, const char *base, const struct http_rw *rw)
{
	struct http_msg *m = s->req.msg;
	struct buf *out = &s->req.out;
	char line[64], extra[4096], ck[2048];
	int n, elen = http_rw_format(rw, extra, sizeof(extra) - 32 - sizeof(ck));

	if (elen < 0 || rw->overflow)
		return false;
	/* the sticky cookie as the server must see it (indirect insert: gone; prefix: stripped) */
	if (cookie_request_rewrite(s->be, m, base, ck, sizeof(ck)) && ck[0])
		elen += sprintf(extra + elen, "Cookie: %s\r\n", ck);
	if (!s->upgrade_req && s->srv_close)
		strcpy(extra + elen, "Connection: close\r\n");
	/* an HTTP/1.0 server connection closes after its response unless asked not to (HAProxy
	 * asks too): a pooled connection the server then closes would fail the next request */
	else if (!s->upgrade_req && m->p.http_major == 1 && m->p.http_minor == 0)
		strcpy(extra + elen, "Connection: keep-alive\r\n");

	n = snprintf(line, sizeof(line), " HTTP/%d.%d\r\n", m->p.http_major, m->p.http_minor);
	if (!buf_append(out, base + m->method.off, m->method.len, STREAM_BUFSIZE) ||
	    !buf_append(out, " ", 1, STREAM_BUFSIZE) ||
	    !buf_append(out, base + m->url.off, m->url.len, STREAM_BUFSIZE) ||
	    !buf_append(out, line, n, STREAM_BUFSIZE))
		return false;
	/* An upgrade keeps its Connection header untouched; otherwise the server side follows
	 * http-server-close (close after each response) or keep-alive. */
	return put_headers(out, m, base, s->upgrade_req, extra);
}

/*
 * monitor-uri, the frontend's http-request rules, routing, the backend's, then forwardfor and
 * the http-response conditions. Returns false when the request was answered here (or failed).
 */
static bool request_rules(struct stream *s, const char *base, struct http_rw *rw)
{
	struct http_hdr hdrs[HTTP_MAX_HDRS];
	struct acl_sample smp = { .src = (struct sockaddr *)&s->cli_addr };
	struct http_msg *m = s->req.msg;
	const struct http_rule *r;

	if (s->fe->monitor_uri && http_uri_is(m, base, s->fe->monitor_uri)) {
		s->nolog = true; /* HAProxy does not log monitor requests */
		reply_page(s, 200, false);
		return false;
	}
	http_acl_sample(m, base, hdrs, &smp);
	http_rw_init(rw, smp.src);
	if ((r = http_rules_request(s->fe->http_req_rules, m, base, &smp, rw))) {
		reply_rule(s, r);
		return false;
	}
	s->be = route(s, &smp);
	if (!s->be) {
		/* HAProxy logs it "SC": a proxy with no server to connect to */
		stream_error(s, 503, 'S', 'C');
		return false;
	}
	if (s->be != s->fe && (r = http_rules_request(s->be->http_req_rules, m, base, &smp, rw))) {
		reply_rule(s, r);
		return false;
	}
	http_fwdfor_apply(s->be->fwdfor ? s->be->fwdfor : s->fe->fwdfor, m, base, &smp, rw);
	s->res_rules_fe = http_rules_response_mask(s->fe->http_res_rules, &smp);
	s->res_rules_be = s->be == s->fe ? 0 : http_rules_response_mask(s->be->http_res_rules, &smp);
	return true;
}

/* A complete request head is at the start of req.in: route it and start the server side. */
static void on_request_head(struct stream *s)
{
	bool queue;
	const char *base = buf_ptr(&s->req.in);
	struct http_msg *m = s->req.msg;
	struct http_rw rw;
	enum ws_req ws;
	int code;

	s->t_head = loop_now_ms(s->ctx->loop);
	http_unfold(m, buf_ptr(&s->req.in));
	/* not routed yet: the previous request's backend must not lend its errorfiles */
	s->be = NULL;
	keep_reqline(s, base);
	s->head_req = m->method.len == 4 && !memcmp(base + m->method.off, "HEAD", 4);
	s->cli_close = !http_msg_keep_alive(m) || s->ctx->stopping;
	ws = ws_check_request(m, base, s->ws_key);
	if (ws == WS_REQ_BAD || m->hdr_overflow)
		return stream_error(s, 400, 'P', 'R');
	code = http_check_request(m, base);
	if (code)
		return stream_error(s, code, 'P', 'R');
	/* a body framed by Transfer-Encoding despite a Content-Length: HAProxy forwards it, then
	 * closes both connections so that nothing can hide behind the disagreement */
	if (m->te_cl)
		s->cli_close = true;
	s->upgrade_req = ws == WS_REQ_OK;
	/* the frontend's httpclose holds for what its rules answer too (HAProxy closes after a
	 * deny or return there); the backend's joins below, once it is known */
	if (s->fe->options & PX_O_HTTPCLOSE)
		s->cli_close = true;
	if (!request_rules(s, base, &rw))
		return;
	/* the most restrictive mode of the frontend and the backend applies, as in HAProxy:
	 * httpclose, then http-server-close, then keep-alive */
	if ((s->fe->options | s->be->options) & PX_O_HTTPCLOSE)
		s->cli_close = true;
	s->srv_close = ((s->be->options | s->fe->options) &
			(PX_O_HTTP_SERVER_CLOSE | PX_O_HTTPCLOSE)) ||
		       s->upgrade_req || m->te_cl;
	/* a sticky cookie names the server; else balance. No server now: wait in the queue
	 * if some server will free a slot, else 503 */
	s->ck_log[0] = cookie_request_flag(s->be, m, base);
	s->ck_matched = take_server(s, cookie_server(s->be, m, base));
	queue = !s->srv && !pick_server(s, base);
	if (queue && !backend_usable(s->be))
		return stream_error(s, 503, 'S', 'C');
	if (!build_request_head(s, base, &rw))
		return stream_error(s, 400, 'P', 'R');
	/* the head's bytes are gone from here on: everything needed was taken above */
	buf_consume(&s->req.in, m->head_len);
	s->req.fwd = 0;
	if (queue)
		return enqueue(s);
	if (s->ss.fd >= 0 && s->idle_srv == s->srv) {
		/* the kept-alive connection goes to the server picked: send on it */
		s->t_conn_start = s->t_connected = loop_now_ms(s->ctx->loop);
		s->st = ST_HTTP;
		return;
	}
	side_close(s, &s->ss);
	s->idle_srv = NULL;
	if (reuse_pooled(s))
		return;
	s->st = ST_CONNECT;
	connect_server(s);
}

/* --- HTTP forwarding ------------------------------------------------------------------------ */

/* Runs the parser over the unparsed bytes of c->in and makes them forwardable. Returns -1 on
 * a framing error, else 0. */
int chan_parse_body(struct chan *c)
{
	size_t used;
	int r;

	if (c->msg->state != HTTP_MSG_BODY)
		return 0;
	r = http_parse_body(c->msg, buf_ptr(&c->in) + c->fwd, buf_len(&c->in) - c->fwd, &used);
	c->fwd += used;
	return r < 0 ? -1 : 0;
}

/* The response head as the client gets it: the backend's http-response rules, then the
 * frontend's (HAProxy's order), and the client connection's fate. */
static bool build_response_head(struct stream *s, const char *base)
{
	struct http_msg *m = s->res.msg;
	struct buf *out = &s->res.out;
	char line[64], extra[4096];
	struct http_rw rw;
	int n, ck;

	http_rw_init(&rw, (struct sockaddr *)&s->cli_addr);
	if (s->be != s->fe)
		http_rules_response(s->be->http_res_rules, s->res_rules_be, m, base, &rw);
	http_rules_response(s->fe->http_res_rules, s->res_rules_fe, m, base, &rw);
	n = http_rw_format(&rw, extra, sizeof(extra) - 32);
	if (n < 0 || rw.overflow)
		return false;
	ck = cookie_response(s->be, s->srv ? s->srv : s->log_srv, s->ck_matched, m, base,
			     extra + n, sizeof(extra) - 32 - n);
	if (ck < 0)
		return false;
	s->ck_log[1] = !ck ? 'N' : s->be->ck_mode == CK_INSERT ? 'I' : 'R';
	n += ck;
	if (s->cli_close || http_msg_needs_eof(m)) {
		s->cli_close = true;
		strcpy(extra + n, "connection: close\r\n");
	} else if (s->req.msg->p.http_minor == 0) {
		strcpy(extra + n, "connection: keep-alive\r\n");
	}
	n = snprintf(line, sizeof(line), "HTTP/%d.%d %d ", m->p.http_major, m->p.http_minor,
		     m->status);
	return buf_append(out, line, n, STREAM_BUFSIZE) &&
	       buf_append(out, base + m->reason.off, m->reason.len, STREAM_BUFSIZE) &&
	       buf_append(out, "\r\n", 2, STREAM_BUFSIZE) && put_headers(out, m, base, false, extra);
}

/* A 101 answered an upgrade request: validate it, relay it verbatim, and become a tunnel. */
static void on_switching(struct stream *s)
{
	const char *base = buf_ptr(&s->res.in);

	if (!s->upgrade_req || !ws_check_response(s->res.msg, base, s->ws_key))
		return stream_error(s, 502, 'P', 'H');
	s->status = 101;
	/* the head goes out as the server wrote it; what followed it in the same read is tunnel
	 * data, which the relay sends (and counts) */
	s->res.fwd = s->res.msg->head_len;
	s->req.fwd = 0;
	/* the head is HTTP, not tunnel data: it goes now, uncounted by the relay */
	chan_flush(s, &s->res, &s->cs);
	stream_log_asap(s);
	relay_tunnel_start(s);
}

static void on_response_head(struct stream *s)
{
	struct http_msg *m = s->res.msg;
	const char *base = buf_ptr(&s->res.in);

	s->t_resp = loop_now_ms(s->ctx->loop);
	http_unfold(m, buf_ptr(&s->res.in));
	if (m->status == 101)
		return on_switching(s);
	if (m->status >= 100 && m->status < 200) {
		/* interim response: relayed as it came, the final one follows */
		s->res.fwd = m->head_len;
		http_msg_init(s->res.msg, HTTP_RESPONSE);
		return;
	}
	if (http_check_response(m, base))
		return stream_error(s, 502, 'P', 'H');
	s->status = m->status;
	/* a server that framed a body two ways is not trusted with the next request */
	if (!http_msg_keep_alive(m) || m->te_cl)
		s->srv_close = true;
	if (!build_response_head(s, base))
		return stream_error(s, 502, 'P', 'H');
	stream_log_asap(s);
	buf_consume(&s->res.in, m->head_len);
	s->res.fwd = 0;
	if (s->head_req)
		http_msg_skip_body(m);
	/* a response that has no body by definition: a broken server may send one anyway, maybe
	 * after we looked, so its connection is not used again */
	if (s->head_req || m->status == 204 || m->status == 304)
		s->srv_close = true;
}

/* Both messages are complete: log, then keep the client connection or close it. */
static void end_transaction(struct stream *s)
{
	stream_log(s, false);
	release_server(s);
	/*
	 * Keep-alive on the server side (neither side said close, no http-server-close): the
	 * connection stays with this client for its next request, and is used again if that
	 * request goes to the same server (HAProxy's "http-reuse never": private to the client).
	 * Bytes past the response (a body a broken server sent to HEAD) forbid reuse.
	 */
	if (s->ss.fd < 0 || !s->log_srv || s->srv_close || s->ss.eof || s->ss.err ||
	    !buf_empty(&s->res.in) || s->res.fwd) {
		side_close(s, &s->ss);
		s->idle_srv = NULL;
		/* what that server sent past its response (a body to HEAD) goes with it */
		buf_consume(&s->res.in, buf_len(&s->res.in));
		s->res.fwd = 0;
	} else if (s->be->http_reuse != HTTP_REUSE_NEVER && !s->log_srv->send_proxy) {
		/* (a connection that told the server who the client is stays with that client) */
		/* shared: into the server's pool, where this client will likely find it first */
		loop_del_fd(s->ctx->loop, &s->ss.fh);
		srvpool_put(s->ctx, s->log_srv, s->ss.fd);
		s->ss.fd = -1;
		s->idle_srv = NULL;
	} else {
		s->idle_srv = s->log_srv;
	}
	if (s->cli_close) {
		s->st = ST_CLOSING;
		return;
	}
	s->nreq++;
	start_request(s);
	s->req.fwd = 0;
}

static void process_http(struct stream *s)
{
	int r;

	if (chan_parse_body(&s->req) < 0)
		return stream_error(s, 400, 'P', 'D');
	if (s->local) {
		/* answered locally: the request body has nowhere to go */
		buf_consume(&s->req.in, s->req.fwd);
		s->req.fwd = 0;
	}
	if (s->res.msg->state == HTTP_MSG_HEAD) {
		r = http_parse_head(s->res.msg, buf_ptr(&s->res.in), buf_len(&s->res.in));
		if (r < 0)
			stream_error(s, 502, 'P', 'H');
		else if (r == 0 && (s->ss.eof || s->ss.err))
			stream_error(s, 502, 'S', 'H');
		else if (r == 0)
			return;
		else
			on_response_head(s);
		/* a 502 that keeps the client connection is a complete local response: the
		 * transaction ends below as any other */
		if (s->st != ST_HTTP)
			return;
	}
	if (chan_parse_body(&s->res) < 0) {
		set_term(s, 'S', 'D');
		return stream_kill(s);
	}
	if (s->res.msg->state != HTTP_MSG_DONE && (s->ss.eof || s->ss.err) &&
	    s->res.fwd == buf_len(&s->res.in)) {
		if (http_msg_eof(s->res.msg) < 0) {
			set_term(s, 'S', 'D');
			return stream_kill(s);
		}
	}
	if (s->req.msg->state != HTTP_MSG_DONE || s->res.msg->state != HTTP_MSG_DONE)
		return;
	/* the transaction ends once the client has the whole response */
	if (chan_flush(s, &s->res, &s->cs) < 0) {
		set_term(s, 'C', 'D');
		return stream_kill(s);
	}
	if (!chan_pending(&s->res))
		end_transaction(s);
}

/* --- the state machine ---------------------------------------------------------------------- */

static void process_request_head(struct stream *s)
{
	int r = http_parse_head(s->req.msg, buf_ptr(&s->req.in), buf_len(&s->req.in));

	if (!s->t_first && buf_len(&s->req.in))
		s->t_first = loop_now_ms(s->ctx->loop);
	if (r < 0)
		return stream_error(s, 400, 'P', 'R');
	if (r > 0)
		return on_request_head(s);
	if (s->cs.eof || s->cs.err) {
		/* a client leaving between requests is no event; one leaving mid-request is "CR" */
		if (buf_len(&s->req.in))
			set_term(s, 'C', 'R');
		stream_kill(s);
	}
}

/*
 * A last response is on its way; once sent, the write side is shut and what the client still
 * sends is read and dropped for a moment, so that our close does not turn into a reset that
 * would destroy the response before the client read it (nginx's lingering close).
 */
static void closing_process(struct stream *s)
{
	if (chan_flush(s, &s->res, &s->cs) < 0)
		return stream_kill(s);
	if (chan_pending(&s->res))
		return;
	if (!s->cs.shut_wr) {
		shutdown(s->cs.fd, SHUT_WR);
		s->cs.shut_wr = true;
		s->t_closing = loop_now_ms(s->ctx->loop);
	}
	buf_release(&s->req.in);
	while (stream_recv(s, &s->cs, &s->req, STREAM_BUFSIZE) > 0)
		buf_consume(&s->req.in, buf_len(&s->req.in));
	if (s->cs.eof || s->cs.err)
		stream_kill(s);
}

static void stream_process(struct stream *s)
{
	enum stream_state prev;

	do {
		prev = s->st;
		if (s->killed)
			return;
		switch (s->st) {
		case ST_REQ_HEAD:
			if (s->fe->mode == PX_MODE_TCP) {
				s->st = ST_CONNECT;
				connect_server(s);
			} else {
				process_request_head(s);
			}
			break;
		case ST_CONNECT:
			break;
		case ST_HTTP:
			process_http(s);
			break;
		case ST_TUNNEL_USER:
			relay_process(s);
			break;
		case ST_TUNNEL_KERNEL:
			return;
		case ST_CLOSING:
			closing_process(s);
			break;
		}
		if (s->killed)
			return;
		/* a tunnel's relay flushes (and counts) itself; nothing goes to a server before it
		 * accepted: send() would report the refusal */
		if (s->st == ST_TUNNEL_USER)
			continue;
		if ((s->st != ST_CONNECT && chan_flush(s, &s->req, &s->ss) < 0) ||
		    chan_flush(s, &s->res, &s->cs) < 0) {
			if (s->st == ST_TUNNEL_USER)
				continue; /* the relay sees side->err and closes properly */
			set_term(s, s->cs.err ? 'C' : 'S', state_letter(s));
			return stream_kill(s);
		}
	} while (s->st != prev && !s->killed);
}

uint32_t stream_srv_events(const struct stream *s)
{
	uint32_t ev = EPOLLRDHUP;

	if (s->st == ST_CONNECT)
		ev |= EPOLLOUT;
	else if (!s->ss.eof && buf_len(&s->res.in) < STREAM_BUFSIZE)
		ev |= EPOLLIN;
	if (chan_pending(&s->req))
		ev |= EPOLLOUT;
	return ev;
}

/* Which events each side needs, and the nearest deadline. */
void stream_update(struct stream *s)
{
	struct loop *loop = s->ctx->loop;
	uint32_t cev = EPOLLRDHUP;
	uint64_t now = loop_now_ms(loop), when = 0;
	struct px_timeouts *to = &s->fe->timeout;
	unsigned int t;

	if (s->killed || s->st == ST_TUNNEL_KERNEL)
		return;
	if (s->st == ST_TUNNEL_USER)
		return relay_update(s);
	if (!s->cs.eof && (s->st != ST_CLOSING || s->cs.shut_wr) &&
	    buf_len(&s->req.in) < STREAM_BUFSIZE)
		cev |= EPOLLIN;
	if (chan_pending(&s->res))
		cev |= EPOLLOUT;
	if (s->ss.fd >= 0)
		loop_mod_fd(loop, &s->ss.fh, stream_srv_events(s));
	loop_mod_fd(loop, &s->cs.fh, cev);

	switch (s->st) {
	case ST_REQ_HEAD:
		/* between requests, "timeout http-keep-alive" where set */
		t = s->nreq && to->http_keep_alive ? to->http_keep_alive
			: (to->http_request ? to->http_request : to->client);
		when = t ? s->t_start + t : 0;
		break;
	case ST_CONNECT:
		if (s->ss.fd >= 0)
			when = s->be->timeout.connect ? s->t_conn_start + s->be->timeout.connect : 0;
		else if (loop_timer_armed(&s->timer))
			when = s->timer.when_ms;
		else
			when = s->queued ? 0 : now; /* queued without a timeout: wait */
		break;
	case ST_HTTP:
		if (s->res.msg->state == HTTP_MSG_HEAD && s->be->timeout.server)
			when = s->ss.last_ms + s->be->timeout.server;
		else if (to->client)
			when = s->cs.last_ms + to->client;
		break;
	case ST_CLOSING:
		when = s->cs.shut_wr ? s->t_closing + LINGER_MS
				     : (to->client ? s->cs.last_ms + to->client : 0);
		break;
	default:
		break;
	}
	if (when)
		loop_timer_at(loop, &s->timer, when);
	else
		loop_timer_del(loop, &s->timer);
}

static void stream_timeout(struct loop *loop, struct timer *t)
{
	struct stream *s = container_of(t, struct stream, timer);

	switch (s->st) {
	case ST_REQ_HEAD:
		/* the first request of a connection gets a 408; a kept-alive connection that
		 * stays silent is closed without a word, as HAProxy does */
		if (s->req.msg->parsed || buf_len(&s->req.in) || s->nreq == 0) {
			stream_error(s, 408, 'c', 'R');
			break;
		}
		stream_kill(s);
		return;
	case ST_CONNECT:
		if (s->ss.fd >= 0) {
			connect_failed(s, ETIMEDOUT, true);
		} else if (s->queued) {
			queue_remove(s);
			stream_error(s, 503, 's', 'Q');
		} else {
			connect_server(s);
		}
		break;
	case ST_HTTP:
		if (s->res.msg->state == HTTP_MSG_HEAD) {
			stream_error(s, 504, 's', 'H');
			break;
		}
		set_term(s, 'c', 'D');
		stream_kill(s);
		return;
	case ST_CLOSING:
		if (!s->cs.shut_wr)
			set_term(s, 'c', 'D');
		stream_kill(s);
		return;
	case ST_TUNNEL_USER: {
		char cause;
		uint64_t when = tunnel_deadline(s, s->cs.last_ms, s->ss.last_ms,
						s->cs.eof || s->ss.eof, &cause);

		if (when && when <= loop_now_ms(loop)) {
			set_term(s, cause, 'D');
			stream_kill(s);
			return;
		}
		break;
	}
	default:
		return;
	}
	stream_process(s);
	stream_update(s);
}

/*
 * Something to read on sd. A read that did not fill the buffer emptied the receive queue: no
 * EAGAIN read after it (epoll is level-triggered and says when more comes). A tunnel direction
 * with a splice(2) pipe is read by the relay, into the pipe; an error is taken here, since a
 * splice into a pipe that still holds bytes does not report it.
 */
static void recv_event(struct stream *s, struct side *sd, struct chan *c, uint32_t events)
{
	socklen_t len = sizeof(sd->err);

	if (s->st != ST_TUNNEL_USER || !relay_pipe_wanted(s, c)) {
		while (side_recv(s, sd, c, STREAM_BUFSIZE) > 0 && !sd->rx_empty)
			;
		return;
	}
	sd->rx_empty = false;
	if ((events & EPOLLERR) && getsockopt(sd->fd, SOL_SOCKET, SO_ERROR, &sd->err, &len) < 0)
		sd->err = errno;
}

static void cli_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct stream *s = container_of(h, struct stream, cs.fh);

	(void)loop;
	/* a tunnel's relay flushes (and counts) in relay_process() */
	if ((events & EPOLLOUT) && s->st != ST_TUNNEL_USER)
		chan_flush(s, &s->res, &s->cs);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		recv_event(s, &s->cs, &s->req, events);
	if (s->cs.err && s->st != ST_TUNNEL_USER) {
		set_term(s, 'C', state_letter(s));
		return stream_kill(s);
	}
	stream_process(s);
	stream_update(s);
}

void srv_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct stream *s = container_of(h, struct stream, ss.fh);

	(void)loop;
	if (s->st == ST_REQ_HEAD || s->st == ST_CLOSING) {
		/* an idle kept-alive server connection: a close, or anything it sends, ends it */
		side_close(s, &s->ss);
		s->idle_srv = NULL;
		stream_update(s);
		return;
	}
	if (s->st == ST_CONNECT) {
		check_connect(s, events);
		if (s->st == ST_CONNECT) {
			stream_process(s);
			stream_update(s);
			return;
		}
	}
	if ((events & EPOLLOUT) && s->st != ST_TUNNEL_USER)
		chan_flush(s, &s->req, &s->ss);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		recv_event(s, &s->ss, &s->res, events);
	stream_process(s);
	stream_update(s);
}

/* Exposed to relay.c: the shared flush and receive helpers. */
int stream_flush(struct stream *s, struct chan *c, struct side *sd)
{
	return chan_flush(s, c, sd);
}

ssize_t stream_recv(struct stream *s, struct side *sd, struct chan *c, size_t cap)
{
	return side_recv(s, sd, c, cap);
}

/* Registers a userspace tunnel's sockets with the relay and runs it once. */
static void tunnel_user_attach(struct stream *s)
{
	struct loop *loop = s->ctx->loop;

	s->st = ST_TUNNEL_USER;
	/* reads start from a clean state: the relay's handover reads what is queued first */
	s->cs.rx_empty = s->ss.rx_empty = false;
	s->timer.cb = stream_timeout;
	if (loop_add_fd(loop, &s->cs.fh, s->cs.fd, EPOLLIN | EPOLLRDHUP, cli_io) < 0 ||
	    loop_add_fd(loop, &s->ss.fh, s->ss.fd, EPOLLIN | EPOLLRDHUP, srv_io) < 0) {
		set_term(s, 'S', 'D');
		return stream_kill(s);
	}
	relay_process(s);
	if (!s->killed)
		relay_update(s);
}

void stream_tunnel_to_user(struct stream *s)
{
	loop_del_fd(s->ctx->loop, &s->cs.fh);
	loop_del_fd(s->ctx->loop, &s->ss.fh);
	/* never back to the kernel; a reader fell behind, so this is bulk: splice(2) pipes */
	s->splice_failed = true;
	s->req.bulk = s->res.bulk = true;
	/* a direction the kernel path already closed stays closed */
	if (s->pair.dir[0].shut)
		s->cs.eof = s->ss.shut_wr = true;
	if (s->pair.dir[1].shut)
		s->ss.eof = s->cs.shut_wr = true;
	tunnel_user_attach(s);
}

struct stream *stream_adopt(struct ctx *ctx, struct proxy *fe, int cfd, int sfd)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s) {
		close(cfd);
		close(sfd);
		return NULL;
	}
	s->ctx = ctx;
	s->fe = fe;
	s->cs.fd = cfd;
	s->ss.fd = sfd;
	/* the old process closes its copies only once this one acknowledged them */
	s->fds_shared = true;
	loop_timer_init(&s->timer, stream_timeout);
	stream_link(ctx, s);
	ctx->cnt.cur_tunnels++;
	return s;
}

void stream_adopt_user(struct stream *s)
{
	tunnel_user_attach(s);
}

void stream_forget(struct stream *s)
{
	s->handed_over = true;
	stream_kill(s);
}

void stream_close_idle(struct ctx *ctx)
{
	struct stream *s, *next;

	for (s = ctx->streams; s; s = next) {
		next = s->next;
		if (s->st == ST_REQ_HEAD && s->nreq && buf_empty(&s->req.in))
			stream_kill(s);
	}
}

void stream_tunnel_end(struct stream *s, const char *term)
{
	set_term(s, term[0], term[1]);
	stream_kill(s);
}

void stream_set_term(struct stream *s, char cause, char state)
{
	set_term(s, cause, state);
}
