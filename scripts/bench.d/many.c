// SPDX-License-Identifier: GPL-2.0
/*
 * many: N tunnels, each sending one message every 1/rate seconds and reading its echo.
 *
 * Open loop: message k of the whole run is due at t0 + k / (N * rate) and belongs to tunnel k % N,
 * so sends are spread evenly instead of in bursts, and a slow proxy does not slow the offered load.
 * A message carries its tunnel, its sequence number and the time it was *due*; its round trip is
 * measured from that time (no coordinated omission: if the load generator's CPU was busy, the
 * delay counts). "lag" is how late sends actually went out, to show when the generator itself
 * falls behind. Only messages due inside [warmup, warmup + duration) are counted; CPU is sampled
 * at those two instants.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct msg_head {
	uint32_t idx, seq;
	uint64_t due;
};

struct mconn {
	int fd;
	uint32_t txseq, rxseq;
	int rxhave, txlen; /* bytes of the message being received; unsent bytes in tx */
	char *rx, *tx;
};

static struct mconn *conns;
static int ep;
static uint64_t win_start, win_end, sent, received, stalls;
static struct samples rtt, lag;

static void want_out(struct mconn *c, int i, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = i};

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void flush(struct mconn *c, int i)
{
	ssize_t w = send(c->fd, c->tx, c->txlen, MSG_NOSIGNAL);

	if (w < 0 && errno != EAGAIN)
		die("tunnel %d: send: %s", i, strerror(errno));
	if (w > 0) {
		memmove(c->tx, c->tx + w, c->txlen - w);
		c->txlen -= w;
	}
	want_out(c, i, c->txlen > 0);
}

static void send_msg(int i, uint64_t due, uint64_t now)
{
	struct mconn *c = &conns[i];
	struct msg_head h = {.idx = i, .seq = c->txseq++, .due = due};
	char *p;

	if (c->txlen + opt.size > 4 * opt.size)
		die("tunnel %d: 4 messages stuck in its send buffer: the proxy stopped reading", i);
	if (c->txlen)
		stalls++;
	p = c->tx + c->txlen;
	memset(p + sizeof(h), (char)h.seq, opt.size - sizeof(h));
	memcpy(p, &h, sizeof(h));
	c->txlen += opt.size;
	flush(c, i);
	sent++;
	if (due >= win_start && due < win_end)
		samples_add(&lag, now - due);
}

static void on_message(int i, uint64_t now)
{
	struct mconn *c = &conns[i];
	struct msg_head h;

	memcpy(&h, c->rx, sizeof(h));
	if (h.idx != (uint32_t)i || h.seq != c->rxseq ||
	    (unsigned char)c->rx[opt.size - 1] != (unsigned char)h.seq)
		die("tunnel %d: message %u came back as tunnel %u message %u: lost, duplicated or "
		    "mixed-up bytes",
		    i, c->rxseq, h.idx, h.seq);
	c->rxseq++;
	received++;
	if (h.due >= win_start && h.due < win_end)
		samples_add(&rtt, now - h.due);
}

static void on_readable(int i)
{
	struct mconn *c = &conns[i];
	char buf[16384];
	ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
	uint64_t now = now_ns();

	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0)
		die("tunnel %d: %s after %u echoes", i, r ? strerror(errno) : "EOF", c->rxseq);
	for (ssize_t off = 0; off < r;) {
		int n = r - off < opt.size - c->rxhave ? r - off : opt.size - c->rxhave;

		memcpy(c->rx + c->rxhave, buf + off, n);
		c->rxhave += n;
		off += n;
		if (c->rxhave == opt.size) {
			on_message(i, now);
			c->rxhave = 0;
		}
	}
}

static void poll_once(uint64_t until)
{
	struct epoll_event evs[512];
	uint64_t now = now_ns(), wait = until > now ? until - now : 0;
	struct timespec ts = {.tv_sec = wait / NSEC, .tv_nsec = wait % NSEC};
	int n = epoll_pwait2(ep, evs, 512, &ts, NULL);

	if (n < 0 && errno != EINTR)
		die("epoll_pwait2: %s", strerror(errno));
	for (int j = 0; j < n; j++) {
		int i = evs[j].data.u32;

		if (evs[j].events & EPOLLOUT)
			flush(&conns[i], i);
		if (evs[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(i);
	}
}

void mode_many(void)
{
	int n = opt.conns, *fds = calloc(n, sizeof(int));
	uint64_t t0, interval, k = 0, drain_end;
	struct cpu_snap *ca = NULL, *cb = NULL;

	conns = calloc(n, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!fds || !conns || ep < 0)
		die("out of memory");
	phase = "opening tunnels";
	tunnels_open(opt.port, n, fds, 120);
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

		conns[i].fd = fds[i];
		conns[i].rx = malloc(opt.size);
		conns[i].tx = malloc(4 * opt.size);
		if (!conns[i].rx || !conns[i].tx)
			die("out of memory");
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	phase = "sending";
	interval = (uint64_t)(1e9 / (opt.rate * n));
	t0 = now_ns() + 10000000;
	win_start = t0 + (uint64_t)(opt.warmup * 1e9);
	win_end = win_start + (uint64_t)(opt.duration * 1e9);
	for (;;) {
		uint64_t now = now_ns(), due = t0 + k * interval;

		if (!ca && now >= win_start)
			ca = cpu_snap_take();
		if (now >= win_end) {
			cb = cpu_snap_take();
			break;
		}
		for (; due <= now && due < win_end; due = t0 + ++k * interval)
			send_msg(k % n, due, now);
		poll_once(ca ? (due < win_end ? due : win_end)
			     : (due < win_start ? due : win_start));
	}
	/* Every message sent must come back: wait for the stragglers, bounded. */
	phase = "draining";
	drain_end = now_ns() + 5 * NSEC;
	while (received < sent && now_ns() < drain_end)
		poll_once(now_ns() + 100000000);
	if (received < sent)
		die("%llu of %llu messages never came back", (unsigned long long)(sent - received),
		    (unsigned long long)sent);
	jopen(NULL);
	jstr("mode", "many");
	jint("tunnels", n);
	jnum("rate_per_tunnel", opt.rate);
	jint("size", opt.size);
	jint("sent", sent);
	jint("received", received);
	jint("send_stalls", stalls);
	jnum("window_msgs_per_s", rtt.n / opt.duration);
	jlatency("rtt", &rtt);
	jlatency("lag", &lag);
	jcpu(ca, cb);
	jclose();
	for (int i = 0; i < n; i++)
		close(fds[i]);
}
