// SPDX-License-Identifier: GPL-2.0
/*
 * Opening tunnels: the WebSocket upgrade done by hand over TCP (RFC 6455's golden key, so the
 * 101's accept value is the one wsplice checks), one at a time (blocking) or thousands at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define HDR_MAX	 1024
#define INFLIGHT 256

static int request(char *buf, size_t len, int port)
{
	return snprintf(buf, len,
			"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
			"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n",
			port);
}

int set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static int connect_start(int port, bool nonblock)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * The response header so far in buf[0..len). Returns 0 while incomplete, 1 for a complete 101
 * with nothing after it (the server speaks only after we do), -1 otherwise.
 */
static int check_101(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);

	if (!end)
		return len >= HDR_MAX - 1 ? -1 : 0;
	if (strncmp(buf, "HTTP/1.1 101 ", 13) || (size_t)(end + 4 - buf) != len)
		return -1;
	return 1;
}

int tunnel_open(int port, const char **err)
{
	char buf[HDR_MAX];
	size_t len = 0;
	int fd, n, rc = 0;
	struct timeval tv = {.tv_sec = 10};

	fd = connect_start(port, false);
	if (fd < 0) {
		if (err)
			*err = "connect";
		else
			die("connect to port %d: %s", port, strerror(-fd));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = request(buf, sizeof(buf), port);
	if (send(fd, buf, n, MSG_NOSIGNAL) != n) {
		rc = -1;
		if (err)
			*err = "send request";
	}
	while (rc == 0) {
		ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (r <= 0) {
			rc = -1;
			if (err)
				*err = r == 0 ? "EOF before 101" : "recv 101";
			break;
		}
		len += r;
		rc = check_101(buf, len);
		if (rc < 0 && err)
			*err = "not a clean 101";
	}
	if (rc < 0) {
		if (!err)
			die("upgrade through port %d failed: %.*s", port, (int)len, buf);
		close(fd);
		return -1;
	}
	return fd;
}

enum hs_state { HS_IDLE, HS_CONNECTING, HS_WAIT_101, HS_OPEN };

struct hs {
	enum hs_state st;
	size_t len;
	char buf[HDR_MAX];
};

/* One event on tunnel i's handshake. Returns 1 once open, 0 to keep waiting; dies on failure. */
static int hs_event(int ep, int i, int fd, struct hs *h, int port)
{
	char req[512];
	int err = 0, n;
	socklen_t el = sizeof(err);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

	if (h->st == HS_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
			die("tunnel %d: connect to port %d: %s", i, port,
			    strerror(err ? err : errno));
		n = request(req, sizeof(req), port);
		if (send(fd, req, n, MSG_NOSIGNAL) != n)
			die("tunnel %d: short send of the request", i);
		h->st = HS_WAIT_101;
		epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
		return 0;
	}
	for (;;) {
		ssize_t r = recv(fd, h->buf + h->len, sizeof(h->buf) - 1 - h->len, 0);

		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r <= 0)
			die("tunnel %d: %s before the 101 (%zu header bytes)", i,
			    r ? strerror(errno) : "EOF", h->len);
		h->len += r;
		switch (check_101(h->buf, h->len)) {
		case 1:
			h->st = HS_OPEN;
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			return 1;
		case -1:
			die("tunnel %d: bad upgrade response: %.*s", i, (int)h->len, h->buf);
		}
	}
}

void tunnels_open(int port, int n, int *fds, double timeout_s)
{
	struct hs *hs = calloc(n, sizeof(*hs));
	int ep = epoll_create1(EPOLL_CLOEXEC), next = 0, open = 0, inflight = 0;
	uint64_t end = now_ns() + (uint64_t)(timeout_s * 1e9);
	struct epoll_event evs[256];

	if (!hs || ep < 0)
		die("out of memory");
	while (open < n) {
		while (next < n && inflight < INFLIGHT) {
			struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = next};

			fds[next] = connect_start(port, true);
			if (fds[next] < 0)
				die("tunnel %d: connect to port %d: %s (%d open)", next, port,
				    strerror(-fds[next]), open);
			hs[next].st = HS_CONNECTING;
			epoll_ctl(ep, EPOLL_CTL_ADD, fds[next], &ev);
			next++;
			inflight++;
		}
		if (now_ns() > end)
			die("only %d of %d tunnels open after %.0f s", open, n, timeout_s);
		int k = epoll_wait(ep, evs, 256, 100);

		for (int j = 0; j < k; j++) {
			int i = evs[j].data.u32;

			if (hs_event(ep, i, fds[i], &hs[i], port)) {
				open++;
				inflight--;
			}
		}
	}
	close(ep);
	free(hs);
}

void tunnels_ping(const int *fds, int n, int size, double timeout_s)
{
	char *msg = malloc(size), buf[4096];
	int *got = calloc(n, sizeof(*got)), ep = epoll_create1(EPOLL_CLOEXEC), done = 0;
	uint64_t end = now_ns() + (uint64_t)(timeout_s * 1e9);
	struct epoll_event evs[256];

	if (!msg || !got || ep < 0)
		die("out of memory");
	memset(msg, 'p', size);
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};

		if (send(fds[i], msg, size, MSG_NOSIGNAL) != size)
			die("tunnel %d: short send of the ping", i);
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	while (done < n) {
		if (now_ns() > end)
			die("%d of %d tunnels echoed their ping after %.0f s", done, n, timeout_s);
		int k = epoll_wait(ep, evs, 256, 100);

		for (int j = 0; j < k; j++) {
			int i = evs[j].data.u32;
			ssize_t r = recv(fds[i], buf, sizeof(buf), 0);

			if (r < 0 && errno == EAGAIN)
				continue;
			if (r <= 0)
				die("tunnel %d: %s while waiting for its ping", i,
				    r ? strerror(errno) : "EOF");
			for (ssize_t b = 0; b < r; b++)
				if (buf[b] != 'p')
					die("tunnel %d: ping came back altered", i);
			got[i] += r;
			if (got[i] > size)
				die("tunnel %d: %d bytes echoed for a %d-byte ping", i, got[i],
				    size);
			if (got[i] == size) {
				done++;
				epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
			}
		}
	}
	close(ep);
	free(got);
	free(msg);
}
