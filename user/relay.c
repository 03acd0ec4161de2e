// SPDX-License-Identifier: GPL-2.0
#include "relay.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "log.h"
#include "splice.h"
#include "stream.h"

void relay_tunnel_start(struct stream *s)
{
	s->st = ST_TUNNEL_USER;
	/* a tunnel never goes back to HTTP */
	stream_drop_http(s);

	s->ctx->cnt.cur_tunnels++;
	s->ctx->cnt.cum_tunnels++;
}

/* Sends what c holds to dst and counts it as relayed. Returns -1 on a write error. */
static int relay_flush(struct stream *s, struct chan *c, struct side *dst)
{
	uint64_t before = dst->tx;
	int r;

	c->fwd = buf_len(&c->in);
	r = stream_flush(s, c, dst);
	s->ctx->cnt.user_relay_bytes += dst->tx - before;
	/* an idle tunnel holds no buffer (16 KiB each): the next read allocates one again */
	if (buf_empty(&c->in))
		buf_release(&c->in);
	if (buf_empty(&c->out))
		buf_release(&c->out);
	return r;
}

/* Propagates a FIN once everything read before it was sent. */
static void relay_shut(struct side *src, struct chan *c, struct side *dst)
{
	if (src->eof && buf_empty(&c->in) && buf_empty(&c->out) && !dst->shut_wr && dst->fd >= 0) {
		shutdown(dst->fd, SHUT_WR);
		dst->shut_wr = true;
	}
}

/* A direction whose FIN went out, or whose source ended with nothing left to send. Both
 * sources at EOF also means both receive queues are empty, so close() sends a FIN, no reset. */
static bool relay_done(const struct side *src, const struct chan *c, const struct side *dst)
{
	return dst->shut_wr || (src->eof && buf_empty(&c->in) && buf_empty(&c->out));
}

static bool relay_idle(const struct stream *s)
{
	return buf_empty(&s->req.in) && buf_empty(&s->req.out) && buf_empty(&s->res.in) &&
	       buf_empty(&s->res.out);
}

/* True while this tunnel is on its way to the kernel. */
static bool relay_splicing(const struct stream *s)
{
	return s->ctx->splice && !s->splice_failed;
}

/*
 * On the way to the kernel, a side is read only when the last read may have left an skb
 * partly consumed (the verdict takes queued skbs whole and would forward the consumed part
 * again), and then exactly what its receive queue holds (FIONREAD, valid before insertion):
 * every queued skb is consumed whole, and what arrives later stays queued, whole, for the
 * verdict. Returns the bytes read, 0 when none, -1 on EOF or error.
 */
static ssize_t relay_take_queue(struct stream *s, struct side *sd, struct chan *c)
{
	ssize_t got = 0, n;
	int queued = 0;

	if (sd->rx_empty || sd->eof || sd->fd < 0)
		return 0;
	if (ioctl(sd->fd, FIONREAD, &queued) < 0 || queued <= 0) {
		sd->rx_empty = queued == 0;
		return 0;
	}
	if (!buf_reserve(&c->in, queued)) {
		sd->err = ENOMEM;
		return -1;
	}
	while (got < queued) {
		n = recv(sd->fd, c->in.data + c->in.tail, queued - got, MSG_DONTWAIT);
		if (n <= 0) {
			if (n == 0)
				sd->eof = true;
			else if (errno != EAGAIN)
				sd->err = errno;
			break;
		}
		c->in.tail += n;
		sd->rx += n;
		got += n;
	}
	/*
	 * Empty only if nothing is queued now: TCP may have appended new bytes to the skb being
	 * read after FIONREAD counted it, and that skb, partly read, must not reach the verdict
	 * (1 tunnel in about 4,000 got a stretch twice in tests/45-chaos.bats when got == queued
	 * was taken for empty).
	 */
	queued = 0;
	sd->rx_empty = got > 0 && ioctl(sd->fd, FIONREAD, &queued) == 0 && queued == 0;
	sd->last_ms = loop_now_ms(s->ctx->loop);
	return got;
}

static ssize_t relay_recv(struct stream *s, struct side *sd, struct chan *c)
{
	if (relay_splicing(s))
		return relay_take_queue(s, sd, c);
	/* the last read emptied the queue: epoll (level-triggered) says when more comes, and the
	 * I/O callback reads it before calling here */
	if (sd->rx_empty)
		return 0;
	return stream_recv(s, sd, c, STREAM_BUFSIZE);
}

void relay_process(struct stream *s)
{
	/*
	 * A direction whose destination does not take what it holds stops the reads: the rest
	 * waits in the source's socket, where TCP holds the sender back. On the way to the kernel
	 * a read takes a whole receive queue (relay_take_queue), so a buffer can pass
	 * STREAM_BUFSIZE by one queue: hence >=. With == the loop ended only on a read that found
	 * nothing, and a server streaming to a client that never read kept it reading: 373 MB
	 * buffered, and the idle timer never ran (tests/47-faults.bats, the never-reading tunnel
	 * client, 3 runs in 18 on a loaded machine with the sanitized build; 0 in 12 since).
	 */
	while (relay_recv(s, &s->cs, &s->req) > 0 || relay_recv(s, &s->ss, &s->res) > 0) {
		if (relay_flush(s, &s->req, &s->ss) < 0 || relay_flush(s, &s->res, &s->cs) < 0)
			break;
		if (buf_len(&s->req.in) >= STREAM_BUFSIZE || buf_len(&s->res.in) >= STREAM_BUFSIZE)
			break;
	}
	relay_flush(s, &s->req, &s->ss);
	relay_flush(s, &s->res, &s->cs);
	if (s->cs.err || s->ss.err) {
		/* a reset or a write error: the side that failed aborted the tunnel */
		stream_set_term(s, s->cs.err ? 'C' : 'S', 'D');
		return stream_kill(s);
	}
	/* both directions finished: close() sends the FINs, shutdown() would be one more call */
	if (relay_done(&s->cs, &s->req, &s->ss) && relay_done(&s->ss, &s->res, &s->cs))
		return stream_kill(s);
	relay_shut(&s->cs, &s->req, &s->ss);
	relay_shut(&s->ss, &s->res, &s->cs);
	if (s->cs.shut_wr && s->ss.shut_wr)
		return stream_kill(s);
	/*
	 * A FIN before the handover means the tunnel never goes to the kernel (the handover below
	 * waits for none), and on the way there a side whose queue was found empty is not read
	 * again: relay from now on, or the other side's bytes would wait in its socket until the
	 * tunnel times out (tests/45-chaos.bats: a server sending a few bytes and its FIN right
	 * after the 101 while the client uploads).
	 */
	if (relay_splicing(s) && (s->cs.eof || s->ss.eof || s->cs.shut_wr || s->ss.shut_wr)) {
		s->splice_failed = true;
		s->cs.rx_empty = s->ss.rx_empty = false;
		return relay_process(s);
	}
	/*
	 * Hand over only with nothing held here for either direction (kernel bytes would overtake
	 * them), before any FIN (user space propagates those it has seen), and right after a read
	 * found each receive queue empty: the verdict takes queued skbs whole, so an skb that a
	 * read consumed in part would be forwarded again from its start (seen on 6.18 as 16 KiB,
	 * one read, duplicated: tests/30-splice.bats).
	 */
	if (relay_splicing(s) && relay_idle(s) && s->cs.rx_empty &&
	    s->ss.rx_empty && !s->cs.eof && !s->ss.eof && !s->cs.shut_wr && !s->ss.shut_wr)
		s->splice_failed = splice_tunnel_start(s) < 0;
}

uint64_t tunnel_deadline(const struct stream *s, uint64_t cli_ms, uint64_t srv_ms, bool half,
			 char *cause)
{
	const struct px_timeouts *fe = &s->fe->timeout, *be = &s->be->timeout;
	unsigned int tc = fe->client, ts = be->server;
	uint64_t dc, ds;

	if (be->tunnel)
		tc = ts = be->tunnel;
	if (half && fe->client_fin)
		tc = fe->client_fin;
	if (half && be->server_fin)
		ts = be->server_fin;
	/* with "timeout tunnel", inactivity counts in both directions at once */
	if (be->tunnel) {
		uint64_t last = cli_ms > srv_ms ? cli_ms : srv_ms;

		cli_ms = srv_ms = last;
	}
	dc = tc ? cli_ms + tc : 0;
	ds = ts ? srv_ms + ts : 0;
	if (dc && (!ds || dc <= ds)) {
		*cause = 'c';
		return dc;
	}
	*cause = 's';
	return ds;
}

void relay_update(struct stream *s)
{
	struct loop *loop = s->ctx->loop;
	uint32_t cev = EPOLLRDHUP, sev = EPOLLRDHUP;
	uint64_t when;
	char cause;

	/* on the way to the kernel, new bytes wait in the socket for the verdict */
	if (!s->cs.eof && buf_len(&s->req.in) < STREAM_BUFSIZE && !relay_splicing(s))
		cev |= EPOLLIN;
	if (!s->ss.eof && buf_len(&s->res.in) < STREAM_BUFSIZE && !relay_splicing(s))
		sev |= EPOLLIN;
	if (!buf_empty(&s->res.in) || !buf_empty(&s->res.out))
		cev |= EPOLLOUT;
	if (!buf_empty(&s->req.in) || !buf_empty(&s->req.out))
		sev |= EPOLLOUT;
	/* a side already at EOF only needs errors, or it would wake us forever */
	if (s->cs.eof)
		cev &= ~EPOLLRDHUP;
	if (s->ss.eof)
		sev &= ~EPOLLRDHUP;
	loop_mod_fd(loop, &s->cs.fh, cev);
	loop_mod_fd(loop, &s->ss.fh, sev);
	when = tunnel_deadline(s, s->cs.last_ms, s->ss.last_ms, s->cs.eof || s->ss.eof, &cause);
	if (when)
		loop_timer_at(loop, &s->timer, when);
	else
		loop_timer_del(loop, &s->timer);
}
