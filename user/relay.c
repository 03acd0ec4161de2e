// SPDX-License-Identifier: GPL-2.0
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "splice.h"
#include "stream.h"

/* How long a tunnel under "option splice-auto" is relayed before it goes to the kernel. */
#define SPLICE_AUTO_MS 100

void relay_tunnel_start(struct stream *s)
{
	unsigned int opts = s->fe->options | (s->be ? s->be->options : 0);

	s->st = ST_TUNNEL_USER;
	/*
	 * "option splice-auto" (in the frontend or the backend, as HAProxy's): the handover costs
	 * six bpf() calls and a psock set up and torn down, which a tunnel that ends within
	 * moments never earns back (the churn benchmark, docs/performance.md). Such a tunnel is
	 * relayed first, and goes to the kernel once it has lived SPLICE_AUTO_MS.
	 */
	if (s->ctx->splice && (opts & PX_O_SPLICE_AUTO)) {
		s->splice_wait = true;
		s->splice_at = loop_now_ms(s->ctx->loop) + SPLICE_AUTO_MS;
	}
	/* a tunnel never goes back to HTTP */
	stream_drop_http(s);

	s->ctx->cnt.cur_tunnels++;
	s->ctx->cnt.cum_tunnels++;
}

/* True while this tunnel is on its way to the kernel. */
static bool relay_splicing(const struct stream *s)
{
	return s->ctx->splice && !s->splice_failed && !s->splice_wait;
}

static bool chan_empty(const struct chan *c)
{
	return buf_empty(&c->in) && buf_empty(&c->out) && !c->pipe.len;
}

/*
 * splice(2) pipes, HAProxy's kernel splicing, on the test of its "option splice-auto" but
 * without the option: a relayed direction whose buffer filled carries bulk, and takes a pipe
 * once it holds nothing. From then on its
 * bytes go source -> pipe -> destination as page references, never copied to user space and
 * back (docs/performance.md: bulk). Not with -dS or nosplice (maxpipes is 0 then, as
 * HAProxy's -dS and nosplice turn its splicing off), at most maxpipes at once, and never on
 * the way to the kernel, whose reads must take whole receive queues (relay_take_queue). A
 * pipe that cannot be had is no error: the direction copies, as HAProxy falls back.
 */
bool relay_pipe_wanted(const struct stream *s, const struct chan *c)
{
	return c->pipe.on ||
	       (c->bulk && !relay_splicing(s) && s->ctx->pipes_used < s->ctx->maxpipes);
}

/* Takes a pipe for c, which wants one (relay_pipe_wanted), once its buffers are empty: what
 * they hold goes first. */
static bool pipe_get(struct stream *s, struct chan *c)
{
	struct ctx *ctx = s->ctx;
	int fds[2];

	if (c->pipe.on)
		return true;
	if (!buf_empty(&c->in) || !buf_empty(&c->out))
		return false;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		/* out of fds: the next full buffer asks again */
		c->bulk = false;
		return false;
	}
	c->pipe = (struct chan_pipe){ .rd = fds[0], .wr = fds[1], .on = true };
	ctx->pipes_used++;
	return true;
}

static void pipe_put(struct stream *s, struct chan *c)
{
	if (!c->pipe.on)
		return;
	close(c->pipe.rd);
	close(c->pipe.wr);
	c->pipe = (struct chan_pipe){ 0 };
	s->ctx->pipes_used--;
}

/* Asks for more than a pipe holds (64 KiB by default): the kernel stops when it is full. */
#define PIPE_READ_MAX (1 << 20)

/*
 * Moves what the source has into the pipe, only once the pipe is empty: a destination that
 * does not take it holds the source back in its socket, where TCP slows the sender. With the
 * pipe empty, EAGAIN can only mean that the socket is. Same returns as stream_recv().
 */
static ssize_t pipe_recv(struct stream *s, struct side *sd, struct chan *c)
{
	ssize_t n;

	if (sd->rx_empty || sd->eof || sd->fd < 0 || c->pipe.len)
		return 0;
	n = splice(sd->fd, NULL, c->pipe.wr, NULL, PIPE_READ_MAX,
		   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0)
		c->pipe.len = n;
	return stream_read_done(s, sd, n);
}

/* Sends what the pipe holds to dst. Returns -1 on a write error, else 0. */
static int pipe_flush(struct stream *s, struct chan *c, struct side *dst)
{
	ssize_t n;

	while (c->pipe.len && dst->fd >= 0) {
		n = splice(c->pipe.rd, NULL, dst->fd, NULL, c->pipe.len,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == 0) {
			/* a pipe that holds bytes and gives none: never wait on it */
			dst->err = EPIPE;
			return -1;
		}
		n = stream_write_done(s, dst, n);
		if (n <= 0)
			return n;
		c->pipe.len -= n;
		s->ctx->cnt.pipe_bytes += n;
	}
	return 0;
}

void relay_release(struct stream *s)
{
	pipe_put(s, &s->req);
	pipe_put(s, &s->res);
}

int relay_unpipe(struct stream *s)
{
	struct chan *chans[2] = { &s->req, &s->res };

	for (int i = 0; i < 2; i++) {
		struct chan *c = chans[i];
		ssize_t n;

		if (c->pipe.len && !buf_reserve(&c->in, c->pipe.len))
			return -ENOMEM;
		while (c->pipe.len) {
			n = read(c->pipe.rd, c->in.data + c->in.tail, c->pipe.len);
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			c->in.tail += n;
			c->pipe.len -= n;
		}
		c->bulk = false;
		pipe_put(s, c);
	}
	return 0;
}

/* Sends what c holds to dst and counts it as relayed. Returns -1 on a write error. */
static int relay_flush(struct stream *s, struct chan *c, struct side *dst)
{
	uint64_t before = dst->tx;
	int r;

	/* every read is flushed here, the I/O callbacks' included: a full buffer means bulk */
	if (buf_len(&c->in) >= STREAM_BUFSIZE)
		c->bulk = true;
	c->fwd = buf_len(&c->in);
	r = stream_flush(s, c, dst);
	if (!r && c->pipe.len && buf_empty(&c->in) && buf_empty(&c->out))
		r = pipe_flush(s, c, dst);
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
	if (src->eof && chan_empty(c) && !dst->shut_wr && dst->fd >= 0) {
		shutdown(dst->fd, SHUT_WR);
		dst->shut_wr = true;
	}
}

/* A direction whose FIN went out, or whose source ended with nothing left to send. Both
 * sources at EOF also means both receive queues are empty, so close() sends a FIN, no reset. */
static bool relay_done(const struct side *src, const struct chan *c, const struct side *dst)
{
	return dst->shut_wr || (src->eof && chan_empty(c));
}

static bool relay_idle(const struct stream *s)
{
	return chan_empty(&s->req) && chan_empty(&s->res);
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
	/* a slow destination would keep the buffer from ever emptying if reads refilled it */
	if (relay_pipe_wanted(s, c))
		return pipe_get(s, c) ? pipe_recv(s, sd, c) : 0;
	/* the last read emptied the queue: epoll (level-triggered) says when more comes, and the
	 * I/O callback reads it before calling here */
	if (sd->rx_empty)
		return 0;
	return stream_recv(s, sd, c, STREAM_BUFSIZE);
}

/*
 * A tunnel under "option splice-auto" that has lived long enough heads for the kernel, with
 * the same rules as any tunnel from its start: reads take whole receive queues from now on
 * (rx_empty cleared, as for a tunnel starting). One moving bulk through its pipes stays here
 * for now (a bulk tunnel would leave the kernel at once: docs/design.md) and asks again later.
 */
static void splice_auto_check(struct stream *s)
{
	uint64_t now = loop_now_ms(s->ctx->loop);

	if (!s->splice_wait || now < s->splice_at)
		return;
	if (s->req.pipe.len || s->res.pipe.len) {
		s->splice_at = now + SPLICE_AUTO_MS;
		return;
	}
	relay_release(s);
	s->splice_wait = false;
	s->cs.rx_empty = s->ss.rx_empty = false;
}

void relay_process(struct stream *s)
{
	splice_auto_check(s);
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

/* A direction whose destination has not taken what it holds: its source waits (with a pipe
 * wanted, until the buffer and the pipe are empty). */
static bool chan_blocked(const struct stream *s, const struct chan *c)
{
	return buf_len(&c->in) >= STREAM_BUFSIZE || (relay_pipe_wanted(s, c) && !chan_empty(c));
}

/*
 * The events of a side that is the source of c and the destination of back. A blocked
 * source gets neither EPOLLIN nor EPOLLRDHUP, and is edge-triggered: a FIN, a reset or a
 * hang-up pending there would otherwise wake the loop without end until the destination reads
 * (a splice into a full pipe reports neither). The destination's flush then sets the source
 * level-triggered again, and epoll reports at once what is pending.
 */
static uint32_t side_events(const struct stream *s, const struct side *sd,
			    const struct chan *c, const struct chan *back)
{
	bool blocked = chan_blocked(s, c);
	uint32_t ev = 0;

	if (!sd->eof && !blocked) {
		ev |= EPOLLRDHUP;
		/* on the way to the kernel, new bytes wait in the socket for the verdict */
		if (!relay_splicing(s))
			ev |= EPOLLIN;
	}
	if (!chan_empty(back))
		ev |= EPOLLOUT;
	if (!sd->eof && blocked)
		ev |= EPOLLET;
	return ev;
}

void relay_update(struct stream *s)
{
	struct loop *loop = s->ctx->loop;
	uint64_t when;
	char cause;

	loop_mod_fd(loop, &s->cs.fh, side_events(s, &s->cs, &s->req, &s->res));
	loop_mod_fd(loop, &s->ss.fh, side_events(s, &s->ss, &s->res, &s->req));
	when = tunnel_deadline(s, s->cs.last_ms, s->ss.last_ms, s->cs.eof || s->ss.eof, &cause);
	if (s->splice_wait && (!when || s->splice_at < when))
		when = s->splice_at;
	if (when)
		loop_timer_at(loop, &s->timer, when);
	else
		loop_timer_del(loop, &s->timer);
}
