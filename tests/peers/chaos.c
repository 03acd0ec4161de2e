// SPDX-License-Identifier: GPL-2.0
/*
 * chaos: thousands of WebSocket tunnels at once, each with its own random plan, every byte checked.
 *
 *   chaos server PORT --seed S --conns TOTAL [--go FILE] [--timeout SECS]
 *   chaos client HOST:PORT --seed S --conns N [--first ID] [--go FILE] [--timeout SECS]
 *                [--plans FILE]
 *
 * The client opens N tunnels (ids FIRST..FIRST+N-1) with a hand-made upgrade, "GET
 * /ws/chaos/ID/HOLD", at most 256 handshakes in flight. The server answers the RFC 6455 101 for the
 * golden key. With --go, both ends hold every tunnel after its upgrade until FILE exists (the client
 * prints "open N" once all are upgraded), so that all N are open at the same time; HOLD tells the
 * server whether that tunnel waits for the file.
 *
 * Both ends derive the tunnel's plan from (seed, id): how many bytes each side sends, in writes of
 * random sizes; whether each side half-closes (shutdown SHUT_WR) as soon as it has sent everything
 * or only after the peer's EOF; and, for about one tunnel in ten per side, an abort (close with
 * SO_LINGER 0, an RST) after a random number of bytes. Each direction carries a pattern that is a
 * function of the byte offset, the direction and the id, so that a byte lost, duplicated,
 * reordered or taken from another tunnel is reported at its offset.
 *
 * What is checked, per tunnel end: every byte received matches the pattern and never goes past
 * what the peer sent. Without an abort in the plan: all the peer's bytes then EOF arrive, and no
 * socket error. With an abort (either side): what arrived is a prefix, and the end is closed (EOF
 * or RST) before the deadline; writes may fail.
 *
 * The server exits once TOTAL tunnels ended (--conns 0: never; SIGTERM then prints its summary,
 * a connection closed before any request byte, a health check, is not counted); the client once
 * its N did. Each prints one line
 * "ok ..." (exit 0), or the first failures and "FAIL ..." (exit 1). --plans FILE (client): one line
 * per tunnel "ID ABORTS" where ABORTS is "-" or which sides abort ("C", "S", "CS").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define NEVER UINT64_MAX
#define MAXSEG 65536
#define HEADMAX 1024
#define INFLIGHT 256	/* handshakes in progress at once (the daemon's backlog is 1024) */
#define MAXFAIL 20	/* failures printed */

enum side { CLI, SRV };
enum fin { FIN_EARLY, FIN_LATE };	/* SHUT_WR once all is sent, or only after the peer's EOF */
enum state { S_CONNECTING, S_HEAD, S_HOLD, S_DATA, S_DONE };

struct plan {
	uint64_t len[2];	/* bytes sent by the client [CLI] and by the server [SRV] */
	uint64_t abort_at[2];	/* that side resets once it has sent this many; NEVER */
	enum fin fin[2];
	uint32_t seg[2];	/* largest single write */
};

struct end {
	int fd;
	uint32_t id;
	enum state state;
	bool hold, shut, eof;
	struct plan p;
	uint64_t sent, recvd, rng;
	size_t hlen;
	char *head;		/* the HTTP head being read, freed after the upgrade */
};

static struct {
	bool server;
	const char *host, *go, *plans;
	int port;
	uint64_t seed;
	uint32_t conns, first;
	double timeout;
} opt = { .host = "127.0.0.1", .timeout = 120 };

static int ep;
static volatile sig_atomic_t stop;
static uint32_t done, failed, resets, open_ends, inflight, probes;
static uint64_t bytes_in, bytes_out;
static bool go_seen;
static uint8_t buf[MAXSEG], want[MAXSEG];

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The bytes [off, off+len) that side `from` of tunnel id sends. */
static void pattern(uint8_t *b, uint32_t id, int from, uint64_t off, size_t len)
{
	uint64_t salt = splitmix64(((uint64_t)id << 1 | from) ^ 0x27d4eb2f165667c5ULL);

	for (size_t i = 0; i < len;) {
		uint64_t o = off + i, w = splitmix64((o >> 3) ^ salt);

		for (size_t k = o & 7; k < 8 && i < len; k++, i++)
			b[i] = (uint8_t)(w >> (8 * k));
	}
}

/* Log-uniform in [0, max]: most values small, some large, as real messages are. */
static uint64_t logrand(uint64_t *r, unsigned max_bits)
{
	unsigned bits = (*r = splitmix64(*r)) % (max_bits + 1);

	*r = splitmix64(*r);
	return bits ? (1ULL << (bits - 1)) + *r % (1ULL << (bits - 1)) : 0;
}

static struct plan plan_of(uint32_t id)
{
	uint64_t r = splitmix64(opt.seed ^ ((uint64_t)id * 0x9e3779b97f4a7c15ULL));
	struct plan p;
	int late;

	for (int s = CLI; s <= SRV; s++) {
		p.len[s] = logrand(&r, 18);	/* up to 256 KiB */
		/* at most 64 writes a direction: 5,000 tunnels of 1-byte writes would measure
		 * only the per-skb cost of the BPF path */
		p.seg[s] = 1 + (uint32_t)logrand(&r, 16) % MAXSEG;
		if (p.seg[s] < p.len[s] / 64 + 1)
			p.seg[s] = p.len[s] / 64 + 1;
		r = splitmix64(r);
		p.abort_at[s] = r % 10 == 0 ? splitmix64(r) % (p.len[s] + 1) : NEVER;
		p.fin[s] = FIN_EARLY;
	}
	/* at most one side waits for the other's EOF, else both would wait forever */
	late = (r = splitmix64(r)) % 5;
	if (late < 2)
		p.fin[late] = FIN_LATE;
	return p;
}

static bool any_abort(const struct plan *p)
{
	return p->abort_at[CLI] != NEVER || p->abort_at[SRV] != NEVER;
}

static void fail(struct end *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void finish(struct end *e)
{
	if (e->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
		close(e->fd);
		e->fd = -1;
	}
	if (e->state == S_CONNECTING || e->state == S_HEAD)
		inflight--;
	free(e->head);
	e->head = NULL;
	e->state = S_DONE;
	done++;
}

static void fail(struct end *e, const char *fmt, ...)
{
	va_list ap;

	if (++failed <= MAXFAIL) {
		fprintf(stderr, "chaos %s: tunnel %u (sent %llu/%llu recv %llu/%llu): ",
			opt.server ? "server" : "client", e->id, (unsigned long long)e->sent,
			(unsigned long long)e->p.len[opt.server], (unsigned long long)e->recvd,
			(unsigned long long)e->p.len[!opt.server]);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	finish(e);
}

/* The peer's bytes [recvd, recvd+n) in buf: checked against its pattern and its length. */
static bool check(struct end *e, const uint8_t *b, size_t n)
{
	int from = !opt.server;
	uint64_t limit = e->p.len[from] < e->p.abort_at[from] ? e->p.len[from] : e->p.abort_at[from];
	size_t i;

	if (e->recvd + n > limit) {
		fail(e, "%zu bytes past the %llu the peer sends", (size_t)(e->recvd + n - limit),
		     (unsigned long long)limit);
		return false;
	}
	pattern(want, e->id, from, e->recvd, n);
	if (memcmp(b, want, n)) {
		for (i = 0; b[i] == want[i]; i++)
			;
		fail(e, "wrong byte at offset %llu: 0x%02x, want 0x%02x",
		     (unsigned long long)(e->recvd + i), b[i], want[i]);
		return false;
	}
	e->recvd += n;
	bytes_in += n;
	return true;
}

/* An error or EOF that the plan allows only when some side aborts. */
static void broken(struct end *e, const char *what, int err)
{
	if (!any_abort(&e->p)) {
		fail(e, "%s: %s", what, err ? strerror(err) : "EOF before all bytes");
		return;
	}
	resets += err != 0;
	finish(e);
}

static void reset(struct end *e)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(e->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	finish(e);
}

/* Sends what the plan allows now. Returns false once the end is finished. */
static bool do_send(struct end *e)
{
	int me = opt.server;
	uint64_t stop = e->p.len[me] < e->p.abort_at[me] ? e->p.len[me] : e->p.abort_at[me];

	while (e->sent < stop) {
		size_t n = 1 + (e->rng = splitmix64(e->rng)) % e->p.seg[me];
		ssize_t w;

		if (n > stop - e->sent)
			n = stop - e->sent;
		pattern(buf, e->id, me, e->sent, n);
		w = send(e->fd, buf, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN)
				return true;
			broken(e, "send", errno);
			return false;
		}
		e->sent += w;
		bytes_out += w;
	}
	if (e->sent == e->p.abort_at[me]) {
		reset(e);
		return false;
	}
	if (!e->shut && (e->p.fin[me] == FIN_EARLY || e->eof)) {
		shutdown(e->fd, SHUT_WR);
		e->shut = true;
	}
	return true;
}

/* Reads everything there is. Returns false once the end is finished. */
static bool do_recv(struct end *e)
{
	for (;;) {
		ssize_t n = recv(e->fd, buf, sizeof(buf), 0);

		if (n > 0) {
			if (!check(e, buf, n))
				return false;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0) {
			broken(e, "recv", errno);
			return false;
		}
		if (e->recvd < e->p.len[!opt.server]) {
			broken(e, "recv", 0);
			return false;
		}
		e->eof = true;
		return true;
	}
}

static void data_step(struct end *e)
{
	if (!do_recv(e) || !do_send(e))
		return;
	if (e->shut && e->eof)
		finish(e);
}

static void watch(struct end *e, int op)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = e };

	if (epoll_ctl(ep, op, e->fd, &ev) < 0) {
		perror("epoll_ctl");
		exit(1);
	}
}

static void upgraded(struct end *e, const char *extra, size_t n)
{
	free(e->head);
	e->head = NULL;
	inflight--;
	open_ends++;
	e->state = e->hold && !go_seen ? S_HOLD : S_DATA;
	if (n && !check(e, (const uint8_t *)extra, n))
		return;
	if (e->state == S_DATA)
		data_step(e);
}

/* Reads the HTTP head into e->head. Returns its length with the bytes after it, or 0 if more
 * is needed, or -1 once the end failed. */
static ssize_t read_head(struct end *e)
{
	char *p;
	ssize_t n;

	for (;;) {
		n = recv(e->fd, e->head + e->hlen, HEADMAX - 1 - e->hlen, 0);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n == 0 && !e->hlen && opt.server && !opt.conns) {
			/* a health check: connected, closed, asked nothing */
			probes++;
			finish(e);
			return -1;
		}
		if (n <= 0) {
			fail(e, "during the upgrade: %s", n ? strerror(errno) : "EOF");
			return -1;
		}
		e->hlen += n;
		e->head[e->hlen] = 0;
		if ((p = strstr(e->head, "\r\n\r\n")))
			return p + 4 - e->head;
		if (e->hlen == HEADMAX - 1) {
			fail(e, "HTTP head longer than %d bytes", HEADMAX);
			return -1;
		}
	}
}

static void client_head(struct end *e)
{
	ssize_t h = read_head(e);

	if (h <= 0)
		return;
	if (strncmp(e->head, "HTTP/1.1 101 ", 13) || !strstr(e->head, ACCEPT)) {
		fail(e, "not a 101 with the right accept: %.*s", (int)strcspn(e->head, "\r"),
		     e->head);
		return;
	}
	upgraded(e, e->head + h, e->hlen - h);
}

static void server_head(struct end *e)
{
	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				   "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n";
	unsigned id, hold;
	ssize_t h = read_head(e);

	if (h <= 0)
		return;
	if (sscanf(e->head, "GET /ws/chaos/%u/%u HTTP/1.1\r\n", &id, &hold) != 2 ||
	    !strstr(e->head, "Sec-WebSocket-Key: " KEY "\r\n")) {
		fail(e, "bad upgrade request: %.*s", (int)strcspn(e->head, "\r"), e->head);
		return;
	}
	e->id = id;
	e->hold = hold;
	e->p = plan_of(id);
	e->rng = splitmix64(opt.seed ^ id ^ 0x5555);
	if (send(e->fd, resp, sizeof(resp) - 1, MSG_NOSIGNAL) != sizeof(resp) - 1) {
		fail(e, "sending the 101: %s", strerror(errno));
		return;
	}
	upgraded(e, e->head + h, e->hlen - h);
}

static void client_connected(struct end *e)
{
	char req[256];
	int err = 0, n;
	socklen_t len = sizeof(err);

	getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		fail(e, "connect: %s", strerror(err));
		return;
	}
	n = snprintf(req, sizeof(req),
		     "GET /ws/chaos/%u/%d HTTP/1.1\r\nHost: chaos\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		     "Sec-WebSocket-Version: 13\r\n\r\n",
		     e->id, e->hold);
	if (send(e->fd, req, n, MSG_NOSIGNAL) != n) {
		fail(e, "sending the upgrade: %s", strerror(errno));
		return;
	}
	e->state = S_HEAD;
	client_head(e);
}

static void on_event(struct end *e)
{
	switch (e->state) {
	case S_CONNECTING:
		client_connected(e);
		break;
	case S_HEAD:
		if (opt.server)
			server_head(e);
		else
			client_head(e);
		break;
	case S_DATA:
		data_step(e);
		break;
	case S_HOLD:
	case S_DONE:
		break;
	}
}

static struct end *end_new(int fd)
{
	struct end *e = calloc(1, sizeof(*e));

	if (!e || !(e->head = malloc(HEADMAX))) {
		fprintf(stderr, "chaos: out of memory\n");
		exit(1);
	}
	e->fd = fd;
	e->state = S_HEAD;
	inflight++;
	return e;
}

static void client_open(struct end **ends, uint32_t i, const struct sockaddr_in *sa)
{
	struct end *e;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	e = ends[i] = end_new(fd);
	e->id = opt.first + i;
	e->hold = opt.go != NULL;
	e->p = plan_of(e->id);
	e->rng = splitmix64(opt.seed ^ e->id ^ 0xaaaa);
	e->state = S_CONNECTING;
	watch(e, EPOLL_CTL_ADD);
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)
		fail(e, "connect: %s", strerror(errno));
}

static void release_holds(struct end **ends, uint32_t n)
{
	struct stat st;

	if (go_seen || !opt.go || stat(opt.go, &st) < 0)
		return;
	go_seen = true;
	for (uint32_t i = 0; i < n; i++)
		if (ends[i] && ends[i]->state == S_HOLD) {
			ends[i]->state = S_DATA;
			data_step(ends[i]);
		}
}

static int listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		perror("listen");
		exit(1);
	}
	return fd;
}

/*
 * The one loop of both roles. The server keeps every end it accepted in ends[] (at most
 * opt.conns), the client creates them as handshake slots free up.
 */
static void run(void)
{
	bool forever = opt.server && !opt.conns;
	struct end **ends = calloc(forever ? 1 : opt.conns, sizeof(*ends));
	struct epoll_event evs[512];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(opt.port) };
	int lfd = -1;
	uint32_t nends = 0;
	bool said_open = false;
	double deadline = forever ? 1e18 : now() + opt.timeout;

	ep = epoll_create1(0);
	if (!ends || ep < 0 || inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1) {
		fprintf(stderr, "chaos: setup failed\n");
		exit(2);
	}
	if (opt.server) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		lfd = listen_on(opt.port);
		epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
		printf("listening %d\n", opt.port);
		fflush(stdout);
	}
	while ((forever || done < opt.conns) && now() < deadline && !stop) {
		int n;

		while (!opt.server && nends < opt.conns && inflight < INFLIGHT)
			client_open(ends, nends++, &sa);
		if (!said_open && !opt.server && open_ends + failed == opt.conns) {
			printf("open %u\n", open_ends);
			fflush(stdout);
			said_open = true;
		}
		release_holds(ends, nends);
		n = epoll_wait(ep, evs, 512, 100);
		for (int i = 0; i < n; i++) {
			struct end *e = evs[i].data.ptr;
			int fd;

			if (e) {
				on_event(e);
				continue;
			}
			while ((forever || nends < opt.conns) &&
			       (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				/* forever: ends are not kept (nor freed: a few hundred bytes each) */
				e = end_new(fd);
				if (!forever)
					ends[nends++] = e;
				watch(e, EPOLL_CTL_ADD);
				server_head(e);
			}
		}
	}
	for (uint32_t i = 0; i < nends; i++)
		if (ends[i]->state != S_DONE)
			fail(ends[i], "still open after %.0f s (state %d, shut %d, eof %d)",
			     opt.timeout, ends[i]->state, ends[i]->shut, ends[i]->eof);
	if (!forever && nends < opt.conns && ++failed)
		fprintf(stderr, "chaos %s: only %u of %u tunnels started\n",
			opt.server ? "server" : "client", nends, opt.conns);
	if (forever)
		opt.conns = done - probes;
	if (opt.plans) {
		FILE *f = fopen(opt.plans, "w");

		for (uint32_t i = 0; f && i < opt.conns; i++) {
			struct plan p = plan_of(opt.first + i);

			fprintf(f, "%u %s%s%s\n", opt.first + i, any_abort(&p) ? "" : "-",
				p.abort_at[CLI] != NEVER ? "C" : "", p.abort_at[SRV] != NEVER ? "S" : "");
		}
		if (!f || fclose(f))
			perror(opt.plans);
	}
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < opt.conns + 64) {
		fprintf(stderr, "chaos: %u tunnels need %u fds, the limit is %llu\n", opt.conns,
			opt.conns + 64, (unsigned long long)rl.rlim_cur);
		exit(2);
	}
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: chaos server PORT --seed S --conns TOTAL [--go FILE] [--timeout S]\n"
			"       chaos client HOST:PORT --seed S --conns N [--first ID] [--go FILE]"
			" [--timeout S] [--plans FILE]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", 1, 0, 's' }, { "conns", 1, 0, 'n' }, { "first", 1, 0, 'f' },
		{ "go", 1, 0, 'g' },   { "timeout", 1, 0, 't' }, { "plans", 1, 0, 'p' },
		{ 0 },
	};
	static char host[64];
	char *colon;
	int c;

	if (argc < 3)
		usage();
	opt.server = !strcmp(argv[1], "server");
	if (!opt.server && strcmp(argv[1], "client"))
		usage();
	colon = strrchr(argv[2], ':');
	if (!opt.server && (!colon || colon - argv[2] >= (long)sizeof(host)))
		usage();
	if (!opt.server) {
		memcpy(host, argv[2], colon - argv[2]);
		opt.host = host;
	}
	opt.port = atoi(opt.server ? argv[2] : colon + 1);
	optind = 3;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'n': opt.conns = strtoul(optarg, NULL, 0); break;
		case 'f': opt.first = strtoul(optarg, NULL, 0); break;
		case 'g': opt.go = optarg; break;
		case 't': opt.timeout = atof(optarg); break;
		case 'p': opt.plans = optarg; break;
		default: usage();
		}
	}
	if ((!opt.conns && !opt.server) || opt.port <= 0)
		usage();
}

int main(int argc, char **argv)
{
	double t0 = now();

	parse_args(argc, argv);
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	run();
	if (failed) {
		printf("FAIL %u of %u tunnels\n", failed, opt.conns);
		return 1;
	}
	printf("ok %u tunnels, %u resets seen, %llu bytes out, %llu bytes in, %.1f s\n",
	       done - probes, resets, (unsigned long long)bytes_out, (unsigned long long)bytes_in, now() - t0);
	return 0;
}
