// SPDX-License-Identifier: GPL-2.0
/*
 * stream: one end of a raw-TCP tunnel, for the splice tests.
 *
 *   stream client HOST:PORT [options]   upgrade by hand (GET /ws ... Sec-WebSocket-Key), then stream
 *   stream server PORT [options]        accept, validate the upgrade, answer a correct 101, stream
 *
 * Options: --shut: shutdown(SHUT_WR) once everything is sent. --eof: the --recv bytes must be
 * followed by EOF. --recv-first: send nothing until the receive side is complete (with --eof,
 * until the EOF). --wait-eof: once everything is sent and received, wait for the peer's EOF before
 * closing. --rate: read at most that many bytes/s. --abort-after N: reset (SO_LINGER 0) once N
 * bytes are sent. SIGUSR1: the same reset at once. --early N (server): the first N bytes go out
 * in the same send() as the 101. --interval MS --chunk N: send N bytes every MS milliseconds.
 * --delay MS: send nothing for MS milliseconds after the upgrade. --raw: no HTTP upgrade.
 *
 * After the upgrade each side sends --send bytes of a deterministic pattern and expects --recv
 * bytes of the peer's pattern. The pattern is a function of the byte offset and of the direction
 * (client->server and server->client differ), so a lost, duplicated, reordered or reflected byte is
 * reported at its exact offset. The bytes are raw, not WebSocket frames: the proxy forwards bytes.
 *
 * Exit status: 0 when every byte was sent and every expected byte (and EOF, with --eof) arrived
 * intact; 1 on a mismatch, short stream or socket error (message on stderr); 2 on bad usage.
 * On success one line on stdout: "ok sent=N recv=N secs=S eof_secs=S".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define BUFSZ (256 * 1024)

static struct {
	bool server;
	const char *host;
	int port;
	const char *path;
	uint64_t send, recv;
	double rate;		/* bytes/s the reader consumes, 0 = unlimited */
	bool shut, eof, recv_first, raw, wait_eof;
	long long abort_after;	/* RST after sending this many bytes, -1 = never */
	uint64_t early;		/* server: pattern bytes sent in the same write as the 101 */
	int interval_ms;	/* send in chunks of --chunk every interval_ms */
	int delay_ms;		/* send nothing for delay_ms after the upgrade */
	uint64_t chunk;
	double timeout;		/* give up after this many seconds of no progress */
} opt = { .path = "/ws", .abort_after = -1, .chunk = 65536, .timeout = 60 };

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "stream %s: ", opt.server ? "server" : "client");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Fills buf with the pattern of direction dir (0: client->server, 1: server->client) at off. */
static void pattern(uint8_t *buf, uint64_t off, size_t len, int dir)
{
	uint64_t salt = dir ? 0x5bd1e9955bd1e995ULL : 0x27d4eb2f165667c5ULL;
	size_t i = 0;

	while (i < len) {
		uint64_t o = off + i, w = splitmix64((o >> 3) ^ salt);
		size_t b = o & 7;

		for (; b < 8 && i < len; b++, i++)
			buf[i] = (uint8_t)(w >> (8 * b));
	}
}

/*
 * Where the 32 bytes at got (fewer if n < 32) sit in the pattern of dir within 64 MiB either side
 * of off: tells a duplicate (found before off) from a loss (found after). Returns -1 if nowhere.
 */
static long long locate(const uint8_t *got, size_t n, uint64_t off, int dir)
{
	const uint64_t span = 64ULL << 20;
	uint64_t from = off > span ? off - span : 0;
	size_t len = (size_t)(off + span - from);
	uint8_t *p = malloc(len), *hit;
	long long at = -1;

	if (!p)
		return -1;
	pattern(p, from, len, dir);
	hit = memmem(p, len, got, n < 32 ? n : 32);
	if (hit)
		at = (long long)(from + (hit - p));
	free(p);
	return at;
}

/* Compares buf with the pattern at off; dies naming the first wrong offset. */
static void verify(const uint8_t *buf, uint64_t off, size_t len, int dir)
{
	static uint8_t want[BUFSZ];
	long long at;
	size_t i;

	pattern(want, off, len, dir);
	if (memcmp(buf, want, len) == 0)
		return;
	for (i = 0; buf[i] == want[i]; i++)
		;
	at = locate(buf + i, len - i, off + i, dir);
	if (at >= 0)
		die("mismatch at offset %llu: got 0x%02x, want 0x%02x; the bytes received there are "
		    "the pattern's at offset %lld (%+lld)",
		    (unsigned long long)(off + i), buf[i], want[i], at, at - (long long)(off + i));
	die("mismatch at offset %llu: got 0x%02x, want 0x%02x (bytes not from this stream's pattern"
	    " within 64 MiB)", (unsigned long long)(off + i), buf[i], want[i]);
}

/* SHA-1 (FIPS 180-1), only for Sec-WebSocket-Accept. */
static void sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	uint8_t block[64];
	uint64_t bits = (uint64_t)len * 8;
	size_t total = ((len + 8) / 64 + 1) * 64, off;

	for (off = 0; off < total; off += 64) {
		uint32_t w[80], a, b, c, d, e, f, k, t;
		int i;

		for (i = 0; i < 64; i++) {
			size_t p = off + i;

			if (p < len)
				block[i] = msg[p];
			else if (p == len)
				block[i] = 0x80;
			else if (p >= total - 8)
				block[i] = (uint8_t)(bits >> (8 * (total - 1 - p)));
			else
				block[i] = 0;
		}
		for (i = 0; i < 16; i++)
			w[i] = (uint32_t)block[4 * i] << 24 | block[4 * i + 1] << 16 |
			       block[4 * i + 2] << 8 | block[4 * i + 3];
		for (i = 16; i < 80; i++) {
			t = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
			w[i] = t << 1 | t >> 31;
		}
		a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
		for (i = 0; i < 80; i++) {
			if (i < 20)
				f = (b & c) | (~b & d), k = 0x5A827999;
			else if (i < 40)
				f = b ^ c ^ d, k = 0x6ED9EBA1;
			else if (i < 60)
				f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
			else
				f = b ^ c ^ d, k = 0xCA62C1D6;
			t = (a << 5 | a >> 27) + f + e + k + w[i];
			e = d, d = c, c = b << 30 | b >> 2, b = a, a = t;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
	}
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void ws_accept(const char *key, char out[29])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char buf[320];
	uint8_t d[21] = { 0 };
	int i, o = 0;

	snprintf(buf, sizeof(buf), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	sha1((const uint8_t *)buf, strlen(buf), d);
	for (i = 0; i < 21; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < 21 ? d[i + 1] << 8 : 0) |
			     (i + 2 < 21 ? d[i + 2] : 0);

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	out[27] = '=';	/* 20 bytes: 27 significant characters and one '=' */
	out[28] = 0;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0)
			die("handshake write: %s", strerror(errno));
		p += n, len -= n;
	}
}

/*
 * Reads an HTTP head (up to CRLFCRLF) into head; bytes read past it are copied to extra.
 * Returns the head length, 0 if the peer closed before sending anything.
 */
static size_t read_head(int fd, char *head, size_t cap, uint8_t *extra, size_t *nextra)
{
	size_t len = 0;
	char *end;

	for (;;) {
		ssize_t n = recv(fd, head + len, cap - 1 - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (len == 0 && opt.server)
				return 0;
			die("connection closed during the HTTP head (%zu bytes: %.*s)", len, (int)len,
			    head);
		}
		len += n;
		head[len] = 0;
		end = strstr(head, "\r\n\r\n");
		if (end) {
			size_t hl = end + 4 - head;

			*nextra = len - hl;
			memcpy(extra, head + hl, *nextra);
			head[hl] = 0;
			return hl;
		}
		if (len >= cap - 1)
			die("HTTP head too long");
	}
}

/* Value of header name in head (case-insensitive name), copied to val; false if absent. */
static bool header(const char *head, const char *name, char *val, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strstr(v, "\r\n");

			while (*v == ' ' || *v == '\t')
				v++;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			snprintf(val, cap, "%.*s", (int)(e - v), v);
			return true;
		}
		p = strstr(p, "\r\n");
	}
	return false;
}

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		die("bad address %s", opt.host);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect %s:%d: %s", opt.host, opt.port, strerror(errno));
	return fd;
}

/* Client handshake; leftover bytes after the 101 head are pattern bytes, returned in extra. */
static void client_upgrade(int fd, uint8_t *extra, size_t *nextra)
{
	char req[512], head[8192], val[256];

	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
		 opt.path, opt.host, opt.port);
	write_all(fd, req, strlen(req));
	read_head(fd, head, sizeof(head), extra, nextra);
	if (strncmp(head, "HTTP/1.1 101", 12))
		die("expected a 101, got: %s", head);
	if (!header(head, "Sec-WebSocket-Accept", val, sizeof(val)) ||
	    strcmp(val, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
		die("bad or missing Sec-WebSocket-Accept in: %s", head);
}

/*
 * Server: accepts until one connection carries a valid upgrade request (a connection closed
 * before any byte, such as a TCP health check, is skipped), answers 101 with the first --early
 * pattern bytes in the same send(). Returns the connected fd.
 */
static int server_accept(int lfd, uint8_t *extra, size_t *nextra, uint64_t *sent)
{
	char head[8192], val[256], acc[29], resp[8192];
	static uint8_t early[BUFSZ];
	size_t hl, el;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			die("accept: %s", strerror(errno));
		if (read_head(fd, head, sizeof(head), extra, nextra) == 0) {
			close(fd);
			continue;
		}
		if (strncmp(head, "GET ", 4))
			die("expected a GET, got: %s", head);
		if (!header(head, "Upgrade", val, sizeof(val)) || strcasecmp(val, "websocket"))
			die("no Upgrade: websocket in: %s", head);
		if (!header(head, "Connection", val, sizeof(val)) || !strcasestr(val, "upgrade"))
			die("no Connection: upgrade in: %s", head);
		if (!header(head, "Sec-WebSocket-Key", val, sizeof(val)))
			die("no Sec-WebSocket-Key in: %s", head);
		ws_accept(val, acc);
		hl = snprintf(resp, sizeof(resp),
			      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			      acc);
		el = opt.early < opt.send ? opt.early : opt.send;
		if (el > sizeof(early) || hl + el > sizeof(resp))
			die("--early too large");
		pattern(early, 0, el, 1);
		memcpy(resp + hl, early, el);
		write_all(fd, resp, hl + el);
		*sent = el;
		return fd;
	}
}

static int listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64))
		die("listen on %d: %s", port, strerror(errno));
	return fd;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: stream client HOST:PORT | server PORT  [--send N] [--recv N] [--rate B/s]\n"
		"  [--shut] [--eof] [--recv-first] [--abort-after N] [--early N] [--path P]\n"
		"  [--interval MS --chunk N] [--delay MS] [--raw] [--timeout S] [--wait-eof]\n"
		"N accepts suffixes K, M, G (powers of 1024).\n");
	exit(2);
}

static uint64_t size_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'G': v *= 1024;	/* fall through */
	case 'M': v *= 1024;	/* fall through */
	case 'K': v *= 1024;	/* fall through */
	case 0: break;
	default: usage();
	}
	return (uint64_t)v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "send", 1, 0, 's' }, { "recv", 1, 0, 'r' }, { "rate", 1, 0, 'R' },
		{ "shut", 0, 0, 'S' }, { "eof", 0, 0, 'E' }, { "recv-first", 0, 0, 'F' },
		{ "abort-after", 1, 0, 'A' }, { "early", 1, 0, 'e' }, { "path", 1, 0, 'p' },
		{ "interval", 1, 0, 'i' }, { "chunk", 1, 0, 'c' }, { "raw", 0, 0, 'w' },
		{ "timeout", 1, 0, 't' }, { "wait-eof", 0, 0, 'W' }, { "delay", 1, 0, 'd' }, { 0 }
	};
	int c;

	if (argc < 3)
		usage();
	opt.server = !strcmp(argv[1], "server");
	if (!opt.server && strcmp(argv[1], "client"))
		usage();
	if (opt.server) {
		opt.port = atoi(argv[2]);
	} else {
		static char host[64];
		char *colon = strrchr(argv[2], ':');

		if (!colon)
			usage();
		snprintf(host, sizeof(host), "%.*s", (int)(colon - argv[2]), argv[2]);
		opt.host = host;
		opt.port = atoi(colon + 1);
	}
	optind = 3;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': opt.send = size_arg(optarg); break;
		case 'r': opt.recv = size_arg(optarg); break;
		case 'R': opt.rate = (double)size_arg(optarg); break;
		case 'S': opt.shut = true; break;
		case 'E': opt.eof = true; break;
		case 'F': opt.recv_first = true; break;
		case 'A': opt.abort_after = (long long)size_arg(optarg); break;
		case 'e': opt.early = size_arg(optarg); break;
		case 'p': opt.path = optarg; break;
		case 'i': opt.interval_ms = atoi(optarg); break;
		case 'd': opt.delay_ms = atoi(optarg); break;
		case 'c': opt.chunk = size_arg(optarg); break;
		case 'w': opt.raw = true; break;
		case 't': opt.timeout = atof(optarg); break;
		case 'W': opt.wait_eof = true; break;
		default: usage();
		}
	}
	if (opt.chunk == 0 || opt.chunk > BUFSZ)
		usage();
}

/* Resets the connection (SO_LINGER 0): what is still in the send queue is thrown away. */
static int abort_stream(int fd, uint64_t sent, uint64_t got)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	printf("aborted sent=%llu recv=%llu\n", (unsigned long long)sent, (unsigned long long)got);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t rbuf[BUFSZ], sbuf[BUFSZ];
	uint8_t extra[8192];
	size_t nextra = 0;
	uint64_t sent = 0, got = 0;
	bool rdone = false, sdone = false, eof_seen = false, shut_done = false;
	int fd, sdir, rdir;
	double t0, last_progress, next_send = 0, eof_at = 0;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	/* no SA_RESTART: the signal interrupts poll() */
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_usr1 }, NULL);
	sdir = opt.server ? 1 : 0;
	rdir = !sdir;
	if (opt.server) {
		int lfd = listen_on(opt.port);

		if (opt.raw) {
			fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				die("accept: %s", strerror(errno));
		} else {
			fd = server_accept(lfd, extra, &nextra, &sent);
		}
		close(lfd);
	} else {
		fd = dial();
		if (!opt.raw)
			client_upgrade(fd, extra, &nextra);
	}
	t0 = last_progress = now();
	next_send = t0 + opt.delay_ms / 1000.0;

	/* Pattern bytes that came with the handshake. */
	if (nextra) {
		if (nextra > opt.recv)
			die("%zu bytes after the HTTP head, only %llu expected", nextra,
			    (unsigned long long)opt.recv);
		verify(extra, 0, nextra, rdir);
		got = nextra;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

	for (;;) {
		struct pollfd pfd = { .fd = fd };
		double t = now(), wait_ms = 1000;
		bool can_read, can_send;

		rdone = got >= opt.recv && (!opt.eof || eof_seen);
		sdone = sent >= opt.send;
		if (sdone && opt.shut && !shut_done) {
			if (shutdown(fd, SHUT_WR))
				die("shutdown: %s", strerror(errno));
			shut_done = true;
		}
		if (rdone && sdone && (!opt.wait_eof || eof_seen))
			break;
		if (usr1)
			return abort_stream(fd, sent, got);
		if (t - last_progress > opt.timeout)
			die("no progress for %.0fs: sent %llu/%llu, received %llu/%llu%s", opt.timeout,
			    (unsigned long long)sent, (unsigned long long)opt.send,
			    (unsigned long long)got, (unsigned long long)opt.recv,
			    eof_seen ? " (EOF seen)" : "");

		/* The rate limit: read only when the bytes so far are behind the schedule. */
		can_read = !rdone || (sdone && opt.wait_eof && !eof_seen);
		if (can_read && opt.rate > 0 && got > (t - t0) * opt.rate) {
			double ahead = got / opt.rate - (t - t0);

			can_read = false;
			wait_ms = ahead * 1000 + 1;
		}
		can_send = !sdone && !(opt.recv_first && !rdone);
		if (can_send && t < next_send) {
			can_send = false;
			if ((next_send - t) * 1000 < wait_ms)
				wait_ms = (next_send - t) * 1000 + 1;
		}
		pfd.events = (can_read ? POLLIN : 0) | (can_send ? POLLOUT : 0);
		if (poll(&pfd, 1, (int)wait_ms) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (pfd.revents & (POLLERR | POLLHUP) && !(pfd.revents & POLLIN)) {
			int err = 0;
			socklen_t l = sizeof(err);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (err || !can_read)
				die("socket error after sent %llu, received %llu: %s",
				    (unsigned long long)sent, (unsigned long long)got,
				    err ? strerror(err) : "hangup");
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR) && can_read) {
			size_t want = BUFSZ;
			ssize_t n;

			if (opt.rate > 0) {
				/* Small reads, so the rate is smooth and the window stays small. */
				want = 16384;
			}
			n = recv(fd, rbuf, want, 0);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("recv after %llu bytes: %s", (unsigned long long)got,
				    strerror(errno));
			if (n == 0) {
				if (got < opt.recv)
					die("EOF after %llu of %llu bytes", (unsigned long long)got,
					    (unsigned long long)opt.recv);
				eof_seen = true;
				eof_at = now();
			} else if (n > 0) {
				if (got + n > opt.recv)
					die("%llu bytes received, only %llu expected",
					    (unsigned long long)(got + n),
					    (unsigned long long)opt.recv);
				verify(rbuf, got, n, rdir);
				got += n;
				last_progress = now();
			}
		}
		if (pfd.revents & POLLOUT && can_send) {
			size_t len = opt.send - sent < BUFSZ ? opt.send - sent : BUFSZ;
			ssize_t n;

			if (opt.interval_ms && len > opt.chunk)
				len = opt.chunk;
			if (opt.abort_after >= 0 && sent + len > (uint64_t)opt.abort_after)
				len = opt.abort_after - sent;
			pattern(sbuf, sent, len, sdir);
			n = len ? send(fd, sbuf, len, MSG_NOSIGNAL) : 0;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("send after %llu bytes: %s", (unsigned long long)sent,
				    strerror(errno));
			if (n > 0) {
				sent += n;
				last_progress = now();
				if (opt.interval_ms)
					next_send = now() + opt.interval_ms / 1000.0;
			}
			if (opt.abort_after >= 0 && sent >= (uint64_t)opt.abort_after)
				return abort_stream(fd, sent, got);
		}
	}
	printf("ok sent=%llu recv=%llu secs=%.3f eof_secs=%.3f\n", (unsigned long long)sent,
	       (unsigned long long)got, now() - t0, eof_seen ? eof_at - t0 : -1.0);
	close(fd);
	return 0;
}
