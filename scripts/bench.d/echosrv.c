// SPDX-License-Identifier: GPL-2.0
/*
 * echosrv: the benchmark's WebSocket echo server, one thread, one epoll loop.
 *
 *   echosrv [--port N] [--timeout SECS]
 *
 * Listens on 127.0.0.1 (port 0 = the kernel picks one) and prints "listening PORT" on stdout once
 * it accepts. Each connection first sends an HTTP upgrade request; once its header is complete the
 * server answers the RFC 6455 101 for the golden key and from then on echoes every byte it reads.
 * No WebSocket framing: the proxies under test forward bytes. A peer that stops reading is
 * backpressured: nothing more is read from it until what it owes has been written.
 *
 * Bounded: exits 0 on SIGTERM/SIGINT; SIGALRM kills it once --timeout seconds (default 900) passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESPONSE                                                                                   \
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"        \
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
#define HDR_MAX 4096
#define IOBUF	(256 * 1024)

struct conn {
	int fd;
	bool upgraded;
	uint32_t events; /* what epoll watches now: EPOLLIN or EPOLLOUT */
	size_t hlen;	 /* header bytes held in hdr before the upgrade */
	char *hdr;
	char *pend; /* bytes read but not yet echoed (the peer's send buffer was full) */
	size_t plen, poff, pcap;
};

static volatile sig_atomic_t stop;
static int ep;
static char iobuf[IOBUF];

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->hdr);
	free(c->pend);
	free(c);
}

static int watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->events == events)
		return 0;
	c->events = events;
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Keeps the unsent tail of a short write. Returns 0, or -1 when memory runs out. */
static int keep(struct conn *c, const char *p, size_t n)
{
	if (c->plen - c->poff + n > c->pcap || c->poff) {
		size_t have = c->plen - c->poff, cap = have + n > c->pcap ? have + n : c->pcap;
		char *np = malloc(cap);

		if (!np)
			return -1;
		memcpy(np, c->pend + c->poff, have);
		free(c->pend);
		c->pend = np;
		c->pcap = cap;
		c->plen = have;
		c->poff = 0;
	}
	memcpy(c->pend + c->plen, p, n);
	c->plen += n;
	return 0;
}

/* Writes p[0..n) or keeps what the socket refused. Returns 0, or -1 when the connection is done. */
static int echo_out(struct conn *c, const char *p, size_t n)
{
	ssize_t w = 0;

	if (c->plen == c->poff) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN)
			return -1;
		if (w < 0)
			w = 0;
	}
	if ((size_t)w == n)
		return 0;
	if (keep(c, p + w, n - w) < 0)
		return -1;
	return watch(c, EPOLLOUT);
}

/* Header bytes before the upgrade. Returns 0 while the header is incomplete or once answered. */
static int on_header(struct conn *c, const char *p, size_t n)
{
	char *end;
	size_t used;

	if (c->hlen + n >= HDR_MAX)
		return -1;
	memcpy(c->hdr + c->hlen, p, n);
	c->hlen += n;
	c->hdr[c->hlen] = 0;
	end = strstr(c->hdr, "\r\n\r\n");
	if (!end)
		return 0;
	if (strncmp(c->hdr, "GET ", 4))
		return -1;
	used = end + 4 - c->hdr;
	c->upgraded = true;
	if (echo_out(c, RESPONSE, sizeof(RESPONSE) - 1) < 0)
		return -1;
	return used < c->hlen ? echo_out(c, c->hdr + used, c->hlen - used) : 0;
}

/* Readable: reads until EAGAIN or until the peer's output backs up. Returns -1 to close. */
static int on_read(struct conn *c)
{
	for (int i = 0; i < 64 && c->plen == c->poff; i++) {
		ssize_t r = recv(c->fd, iobuf, c->upgraded ? IOBUF : HDR_MAX, 0);

		if (r == 0)
			return -1;
		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		if ((c->upgraded ? echo_out(c, iobuf, r) : on_header(c, iobuf, r)) < 0)
			return -1;
	}
	return 0;
}

/* Writable: flushes what was kept, then reads again. Returns -1 to close. */
static int on_write(struct conn *c)
{
	while (c->poff < c->plen) {
		ssize_t w = send(c->fd, c->pend + c->poff, c->plen - c->poff, MSG_NOSIGNAL);

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->poff += w;
	}
	c->plen = c->poff = 0;
	return watch(c, EPOLLIN);
}

static void on_accept(int lfd)
{
	for (int i = 0; i < 256; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct conn *c;
		struct epoll_event ev;

		/* EAGAIN: drained; EMFILE and the like: the client sees the failure, not us. */
		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c || !(c->hdr = malloc(HDR_MAX))) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			conn_close(c);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t slen = sizeof(sa);
	struct epoll_event evs[256], ev;
	struct rlimit rl;
	int lfd, one = 1;
	double timeout = 900;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port"))
			sa.sin_port = htons(atoi(argv[i + 1]));
		else if (!strcmp(argv[i], "--timeout"))
			timeout = atof(argv[i + 1]);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &slen) < 0) {
		perror("echosrv: listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	alarm((unsigned)timeout + 1);
	signal(SIGALRM, SIG_DFL);
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, 1000);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			int rc;

			if (!c) {
				on_accept(lfd);
				continue;
			}
			rc = (evs[i].events & EPOLLOUT) ? on_write(c) : 0;
			if (rc == 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			    c->events == EPOLLIN)
				rc = on_read(c);
			if (rc < 0 || (evs[i].events & EPOLLERR))
				conn_close(c);
		}
	}
	return 0;
}
