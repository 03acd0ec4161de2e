// SPDX-License-Identifier: GPL-2.0
/*
 * The server side of a stream: taking a server (sticky cookie, balancing), the backend queue,
 * idle connections from the pool, connecting with retries and redispatch, and the PROXY header.
 * Split from stream.c; the state machine calls in through stream_int.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "proxyproto.h"
#include "relay.h"
#include "srvpool.h"
#include "stream.h"
#include "stream_int.h"

/* HAProxy's defaults: "retries 3", and a turn-around of min(timeout connect, 1s) between
 * attempts so that a restarting server is not hammered. */
#define RETRY_DELAY_MS 1000

static void dequeue_next(struct proxy *be);

/* The stream no longer occupies its server; the log still names it. */
void release_server(struct stream *s)
{
	if (!s->srv)
		return;
	s->srv->cur_conns--;
	s->be->cur_conns--;
	s->log_srv = s->srv;
	s->srv = NULL;
	if (s->be->queue_head)
		dequeue_next(s->be);
}

/* --- the backend queue: requests that found every server at its maxconn ------------------- */

void queue_remove(struct stream *s)
{
	struct proxy *be = s->be;

	if (!s->queued)
		return;
	if (s->qprev)
		s->qprev->qnext = s->qnext;
	else
		be->queue_head = s->qnext;
	if (s->qnext)
		s->qnext->qprev = s->qprev;
	else
		be->queue_tail = s->qprev;
	be->nqueued--;
	s->queued = false;
	s->qnext = s->qprev = NULL;
	s->tw = (long)(loop_now_ms(s->ctx->loop) - s->t_queued);
}

/*
 * Waits for a slot, as HAProxy's backend queue: until a server frees one, or "timeout queue"
 * (else "timeout connect") expires, which answers 503 with termination state "sQ".
 */
void enqueue(struct stream *s)
{
	struct proxy *be = s->be;
	unsigned int t = be->timeout.queue ? be->timeout.queue : be->timeout.connect;

	s->queued = true;
	s->t_queued = loop_now_ms(s->ctx->loop);
	s->qprev = be->queue_tail;
	s->qnext = NULL;
	if (be->queue_tail)
		be->queue_tail->qnext = s;
	else
		be->queue_head = s;
	be->queue_tail = s;
	be->nqueued++;
	s->st = ST_CONNECT;
	if (t)
		loop_timer_add(s->ctx->loop, &s->timer, t);
	else
		loop_timer_del(s->ctx->loop, &s->timer);
}

/* A slot freed in be: the oldest queued request takes a server and connects. */
static void dequeue_next(struct proxy *be)
{
	struct stream *q = be->queue_head;

	if (!q || !pick_server(q, NULL))
		return;
	queue_remove(q);
	loop_timer_del(q->ctx->loop, &q->timer);
	connect_server(q);
	if (!q->killed)
		stream_update(q);
}

/* --- server connection ---------------------------------------------------------------------- */

static int connect_fd(struct stream *s)
{
	struct server *srv = s->srv;
	int fd, one = 1;

	fd = socket(srv->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* "option tcp-smart-connect" (HAProxy's): the handshake's last ACK is not sent on its own
	 * but with the request, which send_early() sends at once */
	if (s->be->options & PX_O_TCP_SMARTCON) {
		int quickack = 0;

		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &quickack, sizeof(quickack));
	}
	if (connect(fd, (struct sockaddr *)&srv->addr, srv->addrlen) < 0 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Occupies srv (may be NULL) for this stream. Returns whether it did. */
bool take_server(struct stream *s, struct server *srv)
{
	if (!srv)
		return false;
	s->srv = srv;
	if (++srv->cur_conns > srv->max_conns)
		srv->max_conns = srv->cur_conns;
	srv->cum_conns++;
	if (++s->be->cur_conns > s->be->max_conns)
		s->be->max_conns = s->be->cur_conns;
	s->be->cum_conns++;
	return true;
}

/*
 * Takes a server of s->be for this stream; base is the request head (NULL in mode tcp), which
 * hashing algorithms read. Returns false when none is usable: HAProxy answers 503, "SC".
 */
bool pick_server(struct stream *s, const char *base)
{
	struct lb_req req = { .src = (struct sockaddr *)&s->cli_addr };

	if (base) {
		req.msg = s->req.msg;
		req.base = base;
	}
	return take_server(s, lb_pick(s->be, &req));
}

/*
 * Takes an idle connection to the picked server from the shared pool when the backend's
 * http-reuse allows it for this request: "safe" not for a client's first request (HAProxy's
 * reasoning: a first request may be the only one, and a failure on a reused connection would
 * hit it), "aggressive" and "always" for any (wsplice does not track which connections were
 * reused before, so aggressive behaves as always). Returns true when the request goes out on it.
 */
bool reuse_pooled(struct stream *s)
{
	enum http_reuse mode = s->be->http_reuse;
	int fd;

	if (mode == HTTP_REUSE_NEVER || (mode == HTTP_REUSE_SAFE && !s->nreq))
		return false;
	fd = srvpool_get(s->ctx, s->srv);
	if (fd < 0)
		return false;
	s->ss.fd = fd;
	s->ss.eof = s->ss.shut_wr = false;
	s->ss.err = 0;
	s->ss.last_ms = s->t_conn_start = s->t_connected = loop_now_ms(s->ctx->loop);
	if (loop_add_fd(s->ctx->loop, &s->ss.fh, fd, EPOLLIN | EPOLLRDHUP, srv_io) < 0) {
		side_close(s, &s->ss);
		return false;
	}
	s->st = ST_HTTP;
	return true;
}

/*
 * "send-proxy"/"send-proxy-v2": the PROXY header goes first on the new connection, before
 * whatever is already queued for the server (a request head, or in mode tcp early bytes).
 */
static bool prepend_proxy_header(struct stream *s)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	char hdr[PROXY_HEADER_MAX];
	struct buf out = { 0 };
	size_t n;

	if (getsockname(s->cs.fd, (struct sockaddr *)&local, &len) < 0)
		return false;
	n = proxy_header(s->srv->send_proxy, &s->cli_addr, &local, hdr, sizeof(hdr));
	if (!n || !buf_reserve(&out, n + buf_len(&s->req.out)))
		return false;
	buf_append(&out, hdr, n, out.cap);
	if (!buf_empty(&s->req.out))
		buf_append(&out, buf_ptr(&s->req.out), buf_len(&s->req.out), out.cap);
	buf_release(&s->req.out);
	s->req.out = out;
	return true;
}

/*
 * Whether this retry goes to another server: "option redispatch" with an interval of -1
 * redispatches on the last retry only, N > 0 every N retries (HAProxy's rules).
 */
static bool redispatch_now(const struct stream *s)
{
	int every = s->be->redispatch_interval;

	if (!(s->be->options & PX_O_REDISPATCH) || s->be->nservers < 2)
		return false;
	if (every < 0)
		return s->retries == s->be->retries;
	return s->retries % every == 0;
}

/* Another server than the one that failed; keeps the failed one if it is the only choice. */
static void redispatch(struct stream *s)
{
	struct server *failed = s->srv;

	release_server(s);
	for (unsigned int i = 0; i < s->be->nservers; i++) {
		if (!pick_server(s, NULL))
			break;
		if (s->srv != failed)
			break;
		release_server(s);
	}
	s->redispatched = true;
}

static void on_connected(struct stream *s)
{
	s->t_connected = loop_now_ms(s->ctx->loop);
	if (s->fe->mode == PX_MODE_TCP) {
		s->status = -1;
		stream_log_asap(s);
		relay_tunnel_start(s);
		return;
	}
	s->st = ST_HTTP;
}

/*
 * On loopback, and often on a LAN, the handshake is over when connect() returns: the request
 * then leaves at once and the socket is registered for the response, without a trip through
 * epoll for EPOLLOUT nor an epoll_ctl to change its events after (churn, docs/performance.md).
 * A connect still in progress makes send() say EAGAIN (the stream stays in ST_CONNECT); a
 * failed one says the error SO_ERROR would have given, before any byte left. Only in mode
 * http: in mode tcp the tunnel starts at on_connected(). Returns false when the connect failed
 * (handled).
 */
static bool send_early(struct stream *s)
{
	uint64_t tx = s->ss.tx;
	int err;

	if (s->fe->mode != PX_MODE_HTTP)
		return true;
	if (stream_flush(s, &s->req, &s->ss) < 0 && s->ss.tx == tx) {
		err = s->ss.err;
		s->ss.err = 0;
		connect_failed(s, err, false);
		return false;
	}
	/* connected once a byte left; an error after it is a write error, as it would have been
	 * after EPOLLOUT, and the socket reports it at once */
	if (s->ss.tx != tx)
		on_connected(s);
	return true;
}

/* Starts (or retries) the connection to a server of s->be. */
void connect_server(struct stream *s)
{
	struct ctx *ctx = s->ctx;
	int fd;

	if (!s->srv && !pick_server(s, NULL))
		return stream_error(s, 503, 'S', 'C');
	s->t_conn_start = loop_now_ms(ctx->loop);
	fd = connect_fd(s);
	if (fd < 0) {
		pr_warn("backend '%s': server '%s': socket: %s", s->be->id, s->srv->id,
			strerror(-fd));
		return stream_error(s, 503, 'S', 'C');
	}
	s->ss.fd = fd;
	s->ss.eof = s->ss.shut_wr = false;
	s->ss.err = 0;
	s->ss.last_ms = s->t_conn_start;
	if (s->srv->send_proxy && !prepend_proxy_header(s)) {
		side_close(s, &s->ss);
		return stream_error(s, 503, 'S', 'C');
	}
	s->st = ST_CONNECT;
	if (!send_early(s))
		return;
	/* registered once, with what its state asks: no epoll_ctl to change them after */
	if (loop_add_fd(ctx->loop, &s->ss.fh, fd, stream_srv_events(s), srv_io) < 0) {
		side_close(s, &s->ss);
		return stream_error(s, 503, 'S', 'C');
	}
}

/* The connection attempt failed (err) or timed out: retry, or answer 503. */
void connect_failed(struct stream *s, int err, bool timeout)
{
	unsigned int delay = s->be->timeout.connect;

	side_close(s, &s->ss);
	if (s->retries >= s->be->retries) {
		pr_debug("backend '%s': server '%s': connect: %s", s->be->id, s->srv->id,
			 timeout ? "timeout" : strerror(err));
		return stream_error(s, 503, timeout ? 's' : 'S', 'C');
	}
	s->retries++;
	if (!delay || delay > RETRY_DELAY_MS)
		delay = RETRY_DELAY_MS;
	if (redispatch_now(s)) {
		/* another server: no reason to wait for this one to come back */
		redispatch(s);
		delay = 0;
	}
	/* the timer fires with no server fd in ST_CONNECT: that is the retry */
	loop_timer_add(s->ctx->loop, &s->timer, timeout ? 0 : delay);
}

void check_connect(struct stream *s, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	/* writable without an error or a hangup: connected, no need to ask (one system call per
	 * connection); otherwise SO_ERROR says why */
	if ((events & EPOLLOUT) && !(events & (EPOLLERR | EPOLLHUP)))
		return on_connected(s);
	if (getsockopt(s->ss.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		return connect_failed(s, err, false);
	on_connected(s);
}
