// SPDX-License-Identifier: GPL-2.0
#include "check.h"

#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "ctx.h"
#include "log.h"
#include "stream.h"
#include "syslog.h"

/* A response is judged within this many bytes (HAProxy's check buffer is tune.bufsize). */
#define CHK_BUFSIZE 16384

enum chk_state {
	CHK_IDLE,    /* waiting for the next probe */
	CHK_CONNECT, /* connect() in progress */
	CHK_SEND,    /* sending the HTTP request */
	CHK_RECV,    /* reading the HTTP response */
};

struct srv_check {
	struct ctx *ctx;
	struct server *srv;
	struct timer timer; /* next probe, or the running probe's deadline */
	struct fd_handler fh;
	int fd; /* the probe's socket, -1 between probes */
	enum chk_state st;
	uint64_t started;
	unsigned int health; /* HAProxy's counter: 0 DOWN .. rise + fall - 1 fully UP */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *req; /* the HTTP request, NULL for TCP checks */
	size_t req_len, sent;
	size_t len; /* response bytes in buf */
	char buf[CHK_BUFSIZE];
};

/* ---- judging a response ------------------------------------------------------------------- */

bool check_status_match(const char *list, int code)
{
	const char *p = list;
	char *end;

	while (*p) {
		long a = strtol(p, &end, 10), b = a;

		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (code >= a && code <= b)
			return true;
		if (*end != ',')
			break;
		p = end + 1;
	}
	return false;
}

static void result(struct chk_result *r, bool ok, const char *reason, int code, const char *info)
{
	r->ok = ok;
	r->reason = reason;
	r->code = code;
	snprintf(r->info, sizeof(r->info), "%s", info ? info : "");
}

/* "HTTP/1.x NNN reason": the code, the reason in r->info. -1 when it is not a status line. */
static int status_line(const char *buf, size_t len, char *reason, size_t rlen)
{
	const char *eol = memchr(buf, '\n', len);
	size_t n;
	int code;

	if (len < 12 || memcmp(buf, "HTTP/", 5) || !eol)
		return -1;
	if (sscanf(buf, "HTTP/%*d.%*d %3d", &code) != 1 || code < 100 || code > 999)
		return -1;
	for (buf += 12; buf < eol && *buf == ' '; buf++)
		;
	n = (size_t)(eol - buf);
	if (n && eol[-1] == '\r')
		n--;
	snprintf(reason, rlen, "%.*s", (int)n, buf);
	return code;
}

static bool status_ok(const struct http_check *hc, int code)
{
	char text[16];
	bool m;

	switch (hc ? hc->expect : CHK_EXPECT_NONE) {
	case CHK_EXPECT_STATUS:
		m = check_status_match(hc->expect_text, code);
		break;
	case CHK_EXPECT_RSTATUS:
		snprintf(text, sizeof(text), "%d", code);
		m = !regexec(hc->expect_re, text, 0, NULL, 0);
		break;
	default:
		return code >= 200 && code < 400;
	}
	return m != hc->expect_neg;
}

/* The body is complete: Content-Length reached, the server closed, or the buffer is full. */
static bool body_done(const char *head, size_t hlen, size_t blen, bool eof, bool full)
{
	const char *p;

	if (eof || full)
		return true;
	for (p = head; (p = memchr(p, '\n', hlen - (size_t)(p - head)));) {
		p++;
		if ((size_t)(head + hlen - p) > 15 && !strncasecmp(p, "content-length:", 15))
			return blen >= strtoul(p + 15, NULL, 10);
	}
	return false;
}

static int eval_body(const struct http_check *hc, const char *buf, size_t len, bool eof,
		     struct chk_result *r, int code)
{
	const char *sep = memmem(buf, len, "\r\n\r\n", 4);
	char body[CHK_BUFSIZE + 1];
	size_t hlen, blen;
	bool m;

	if (!sep && !eof && len < CHK_BUFSIZE)
		return 0;
	if (!sep) {
		result(r, false, "Layer7 invalid response", 0, NULL);
		return 1;
	}
	hlen = (size_t)(sep - buf) + 4;
	blen = len - hlen;
	memcpy(body, buf + hlen, blen);
	body[blen] = '\0';
	if (hc->expect == CHK_EXPECT_STRING)
		m = memmem(body, blen, hc->expect_text, strlen(hc->expect_text)) != NULL;
	else
		m = !regexec(hc->expect_re, body, 0, NULL, 0);
	/* a match decides at once; its absence only once the whole body is in */
	if (!m && !body_done(buf, hlen, blen, eof, len >= CHK_BUFSIZE))
		return 0;
	if (m != hc->expect_neg)
		result(r, true, "Layer7 check passed", code, NULL);
	else
		result(r, false, "Layer7 invalid response", 0, "HTTP content check did not match");
	return 1;
}

int check_http_eval(const struct http_check *hc, const char *buf, size_t len, bool eof,
		    struct chk_result *r)
{
	char reason[96];
	int code;

	if (!memchr(buf, '\n', len) && !eof && len < CHK_BUFSIZE)
		return 0;
	code = status_line(buf, len, reason, sizeof(reason));
	if (code < 0) {
		result(r, false, "Layer7 invalid response", 0, NULL);
		return 1;
	}
	if (hc && (hc->expect == CHK_EXPECT_STRING || hc->expect == CHK_EXPECT_RSTRING))
		return eval_body(hc, buf, len, eof, r, code);
	if (status_ok(hc, code))
		result(r, true, "Layer7 check passed", code, NULL);
	else
		result(r, false, "Layer7 wrong status", code, reason);
	return 1;
}

/* ---- reporting ---------------------------------------------------------------------------- */

/* ", reason: R[, code: N][, info: "I"], check duration: Dms", as HAProxy's srv_append_status(). */
static void status_text(char *out, size_t len, const struct chk_result *r, uint64_t took)
{
	char code[24] = "", info[160] = "";

	if (r->code)
		snprintf(code, sizeof(code), ", code: %d", r->code);
	if (r->info[0])
		snprintf(info, sizeof(info), ", info: \"%s\"", r->info);
	snprintf(out, len, ", reason: %s%s%s, check duration: %llums", r->reason, code, info,
		 (unsigned long long)took);
}

/* A warning on stderr, and the same line in the backend's logs at HAProxy's severity
 * (LOG_SEV_*: notice for a check or a server coming UP, alert for one going DOWN). */
static void chk_log(const struct proxy *be, int sev, const char *msg)
{
	pr_warn("%s", msg);
	log_proxy(be, sev, msg);
}

/* HAProxy's "N active and M backup servers left/online[. Running on backup]". */
static int servers_left(char *out, size_t len, const struct proxy *be, const char *how)
{
	unsigned int act = backend_usable_of(be, false), bck = backend_usable_of(be, true);

	return snprintf(out, len, "%u active and %u backup servers %s.%s", act, bck, how,
			!act && bck ? " Running on backup." : "");
}

static const char *srv_word(const struct server *srv)
{
	return srv->backup ? "Backup Server" : "Server";
}

/* "Health check for server X/Y succeeded|failed, reason..., status: H/N UP|DOWN." */
static void log_check(const struct srv_check *c, const struct chk_result *r)
{
	const struct server *srv = c->srv;
	unsigned int rise = srv->check_rise, fall = srv->check_fall;
	bool up = c->health >= rise;
	char msg[512];
	int n;

	n = snprintf(msg, sizeof(msg), "Health check for %sserver %s/%s %s",
		     srv->backup ? "backup " : "", srv->be->id, srv->id,
		     r->ok ? "succeeded" : "failed");
	status_text(msg + n, sizeof(msg) - n, r, loop_now_ms(c->ctx->loop) - c->started);
	n = (int)strlen(msg);
	snprintf(msg + n, sizeof(msg) - n, ", status: %u/%u %s.",
		 up ? c->health - rise + 1 : c->health, up ? fall : rise, up ? "UP" : "DOWN");
	chk_log(srv->be, LOG_SEV_NOTICE, msg);
}

/*
 * on-marked-down shutdown-sessions: every stream on the server ends now. HAProxy logs such a
 * stream with termination cause 'D' ("killed because the server went DOWN") and the state it
 * was in; a tunnel is in its data phase ('D').
 */
static void shutdown_sessions(struct ctx *ctx, struct server *srv)
{
	struct stream *s, *next;

	for (s = ctx->streams; s; s = next) {
		next = s->next;
		if (s->srv != srv || s->killed)
			continue;
		stream_set_term(s, 'D',
				s->st == ST_CONNECT					? 'C'
				: s->st == ST_HTTP && s->res.msg->state == HTTP_MSG_HEAD ? 'H'
											: 'D');
		stream_kill(s);
	}
}

static void mark_down(struct srv_check *c, const struct chk_result *r, bool verbose)
{
	struct server *srv = c->srv;
	unsigned int active = srv->cur_conns;
	char msg[768];
	int n;

	srv->down = true;
	n = snprintf(msg, sizeof(msg), "%s %s/%s is DOWN", srv_word(srv), srv->be->id, srv->id);
	if (verbose)
		status_text(msg + n, sizeof(msg) - n, r, loop_now_ms(c->ctx->loop) - c->started);
	n = (int)strlen(msg);
	n += snprintf(msg + n, sizeof(msg) - n, ". ");
	n += servers_left(msg + n, sizeof(msg) - n, srv->be, "left");
	snprintf(msg + n, sizeof(msg) - n, " %u sessions active, 0 requeued, 0 remaining in queue.",
		 active);
	chk_log(srv->be, LOG_SEV_ALERT, msg);
	if (!backend_usable(srv->be)) {
		/* HAProxy quotes the name on stderr, not in the log line, which is an emergency */
		pr_alert("backend '%s' has no server available!", srv->be->id);
		snprintf(msg, sizeof(msg), "backend %s has no server available!", srv->be->id);
		log_proxy(srv->be, LOG_SEV_EMERG, msg);
	}
	if (srv->shutdown_sessions)
		shutdown_sessions(c->ctx, srv);
}

static void mark_up(struct srv_check *c, const struct chk_result *r, bool verbose)
{
	struct server *srv = c->srv;
	char msg[768];
	int n;

	srv->down = false;
	n = snprintf(msg, sizeof(msg), "%s %s/%s is UP", srv_word(srv), srv->be->id, srv->id);
	if (verbose)
		status_text(msg + n, sizeof(msg) - n, r, loop_now_ms(c->ctx->loop) - c->started);
	n = (int)strlen(msg);
	n += snprintf(msg + n, sizeof(msg) - n, ". ");
	n += servers_left(msg + n, sizeof(msg) - n, srv->be, "online");
	snprintf(msg + n, sizeof(msg) - n, " 0 sessions requeued, 0 total in queue.");
	chk_log(srv->be, LOG_SEV_NOTICE, msg);
}

/*
 * HAProxy's health counter (set_server_check_status()): a failure takes one point and drops to
 * 0 below rise; a success adds one and jumps to the top at rise. Returns true when it moved,
 * which is when "option log-health-checks" logs the check.
 */
static bool health_update(struct srv_check *c, bool ok)
{
	unsigned int rise = c->srv->check_rise, top = rise + c->srv->check_fall - 1;

	if (!ok && c->health > 0) {
		if (--c->health < rise)
			c->health = 0;
		return true;
	}
	if (ok && c->health < top) {
		if (++c->health >= rise)
			c->health = top;
		return true;
	}
	return false;
}

static void check_report(struct srv_check *c, const struct chk_result *r)
{
	struct server *srv = c->srv;
	bool logchk = srv->be->options & PX_O_LOG_HEALTH_CHECKS;
	bool moved = health_update(c, r->ok);

	if (logchk && moved)
		log_check(c, r);
	if (!srv->down && c->health == 0)
		mark_down(c, r, !logchk);
	else if (srv->down && c->health >= srv->check_rise)
		mark_up(c, r, !logchk);
}

/* ---- probes ------------------------------------------------------------------------------- */

static void check_timer(struct loop *loop, struct timer *t);

/* HAProxy's srv_getinter(): inter when fully UP, downinter when DOWN, fastinter in between. */
static unsigned int check_interval(const struct srv_check *c)
{
	const struct server *srv = c->srv;

	if (c->health == srv->check_rise + srv->check_fall - 1)
		return srv->check_inter;
	if (c->health == 0 && srv->check_downinter)
		return srv->check_downinter;
	return srv->check_fastinter ? srv->check_fastinter : srv->check_inter;
}

/* The next interval with "spread-checks" jitter: up to that percentage either way. */
static uint64_t next_delay(const struct srv_check *c)
{
	unsigned int inter = check_interval(c), spread = c->ctx->cfg->global.spread_checks;
	long rv = (long)inter * spread / 100;

	if (rv)
		rv -= (long)(random() % (2 * rv + 1));
	return (uint64_t)((long)inter + rv);
}

static void probe_close(struct srv_check *c)
{
	if (c->fd < 0)
		return;
	loop_del_fd(c->ctx->loop, &c->fh);
	close(c->fd);
	c->fd = -1;
}

static void probe_done(struct srv_check *c, const struct chk_result *r)
{
	probe_close(c);
	c->st = CHK_IDLE;
	check_report(c, r);
	loop_timer_add(c->ctx->loop, &c->timer, next_delay(c));
}

static void probe_fail_l4(struct srv_check *c, int err)
{
	struct chk_result r;

	result(&r, false, "Layer4 connection problem", 0, strerror(err));
	probe_done(c, &r);
}

/* Reads what the server sent; judges the response once it is enough. */
static void probe_recv(struct srv_check *c)
{
	struct chk_result r;
	bool eof = false;
	ssize_t n;

	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 && !c->len)
		return probe_fail_l4(c, errno);
	if (n <= 0)
		eof = true;
	else
		c->len += (size_t)n;
	if (check_http_eval(c->srv->be->httpchk, c->buf, c->len, eof, &r))
		probe_done(c, &r);
}

static void probe_send(struct srv_check *c)
{
	ssize_t n = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		return probe_fail_l4(c, errno);
	c->sent += (size_t)n;
	if (c->sent < c->req_len)
		return;
	c->st = CHK_RECV;
	loop_mod_fd(c->ctx->loop, &c->fh, EPOLLIN | EPOLLRDHUP);
	/* "timeout check" is the read timeout once connected; without it, inter covers all */
	if (c->srv->be->timeout_check)
		loop_timer_add(c->ctx->loop, &c->timer, c->srv->be->timeout_check);
}

static void probe_connected(struct srv_check *c)
{
	socklen_t len = sizeof(int);
	struct chk_result r;
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		return probe_fail_l4(c, err);
	if (!c->req) {
		result(&r, true, "Layer4 check passed", 0, NULL);
		return probe_done(c, &r);
	}
	c->st = CHK_SEND;
	c->sent = c->len = 0;
	probe_send(c);
}

static void check_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct srv_check *c = container_of(h, struct srv_check, fh);

	(void)loop;
	(void)events;
	switch (c->st) {
	case CHK_CONNECT:
		return probe_connected(c);
	case CHK_SEND:
		return probe_send(c);
	case CHK_RECV:
		return probe_recv(c);
	case CHK_IDLE:
		break;
	}
}

/*
 * Connect timeout: inter, or min(timeout connect, inter) with "timeout check" (HAProxy's
 * rule; "timeout check" then bounds the response).
 */
static unsigned int connect_timeout(const struct srv_check *c)
{
	const struct proxy *be = c->srv->be;
	unsigned int inter = check_interval(c);

	if (be->timeout_check && be->timeout.connect && be->timeout.connect < inter)
		return be->timeout.connect;
	return inter;
}

/*
 * The process out of descriptors or socket memory: the check fails as HAProxy 2.6's does, a
 * "Layer4 connection problem" with its info text, and counts as a failure (the server goes
 * DOWN after "fall" of them: no connection to it could be opened either). HAProxy also logs two
 * lines at every probe ("Cannot get a server socket." and an emergency "reached process FD
 * limit"), a flood at inter 200 ms; wsplice warns once when the condition starts and once when
 * a probe gets a socket again. The condition is the process's, not a server's: one state for
 * every check of this single-threaded daemon.
 */
static struct {
	unsigned int fails; /* probes without a socket since the condition started */
	uint64_t since;
} sock_short;

static const char *sock_err_info(int err)
{
	switch (err) {
	case EMFILE:
		return "Too many sockets on the process";
	case ENFILE:
		return "Too many sockets on the system";
	case ENOBUFS:
	case ENOMEM:
		return "Out of system buffers";
	default:
		return NULL;
	}
}

static void probe_no_socket(struct srv_check *c, int err)
{
	const char *what = sock_err_info(err);
	struct rlimit rl = { 0 };
	struct chk_result r;
	char info[128];

	if (!what)
		return probe_fail_l4(c, err);
	if (!sock_short.fails++) {
		sock_short.since = c->started;
		getrlimit(RLIMIT_NOFILE, &rl);
		pr_warn("health checks: socket: %s (open-files limit %llu); checks fail until "
			"descriptors free up", strerror(err), (unsigned long long)rl.rlim_cur);
	}
	snprintf(info, sizeof(info), "%s (%s)", what, strerror(err));
	result(&r, false, "Layer4 connection problem", 0, info);
	probe_done(c, &r);
}

static void probe_start(struct srv_check *c)
{
	struct loop *loop = c->ctx->loop;

	c->started = loop_now_ms(loop);
	c->fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return probe_no_socket(c, errno);
	if (sock_short.fails) {
		pr_notice("health checks: sockets again after %u probes without one in %llu ms",
			  sock_short.fails, (unsigned long long)(c->started - sock_short.since));
		sock_short.fails = 0;
	}
	if (connect(c->fd, (struct sockaddr *)&c->addr, c->addrlen) < 0 && errno != EINPROGRESS) {
		int err = errno;

		close(c->fd);
		c->fd = -1;
		return probe_fail_l4(c, err);
	}
	if (loop_add_fd(loop, &c->fh, c->fd, EPOLLOUT, check_io) < 0) {
		int err = errno;

		close(c->fd);
		c->fd = -1;
		return probe_fail_l4(c, err);
	}
	c->st = CHK_CONNECT;
	loop_timer_add(loop, &c->timer, connect_timeout(c));
}

/* The timer either starts a probe or, while one runs, ends it as a timeout. */
static void check_timer(struct loop *loop, struct timer *t)
{
	struct srv_check *c = container_of(t, struct srv_check, timer);
	struct chk_result r;

	(void)loop;
	switch (c->st) {
	case CHK_IDLE:
		return probe_start(c);
	case CHK_CONNECT:
		result(&r, false, "Layer4 timeout", 0, NULL);
		break;
	default:
		result(&r, false, "Layer7 timeout", 0, NULL);
		break;
	}
	probe_done(c, &r);
}

/* ---- setup -------------------------------------------------------------------------------- */

/* "METHOD URI VERSION", the "http-check send" headers, the body with its length, HAProxy's
 * defaults: OPTIONS / HTTP/1.0. */
static char *build_request(const struct http_check *hc, size_t *len)
{
	const char *body = hc->body ? hc->body : "";
	char clen[48] = "";
	char *req;
	int n;

	if (*body)
		snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", strlen(body));
	n = asprintf(&req, "%s %s %s\r\n%s%s\r\n%s", hc->method ? hc->method : "OPTIONS",
		     hc->uri ? hc->uri : "/", hc->version ? hc->version : "HTTP/1.0",
		     hc->hdrs ? hc->hdrs : "", clen, body);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return req;
}

static void check_addr(struct srv_check *c)
{
	const struct server *srv = c->srv;
	in_port_t port;

	if (srv->check_addrlen) {
		c->addr = srv->check_addr;
		c->addrlen = srv->check_addrlen;
		/* "addr" alone keeps the server's port */
		port = srv->addr.ss_family == AF_INET
			   ? ((const struct sockaddr_in *)&srv->addr)->sin_port
			   : ((const struct sockaddr_in6 *)&srv->addr)->sin6_port;
	} else {
		c->addr = srv->addr;
		c->addrlen = srv->addrlen;
		port = 0;
	}
	if (srv->check_port)
		port = htons((in_port_t)srv->check_port);
	if (!port)
		return;
	if (c->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&c->addr)->sin_port = port;
	else
		((struct sockaddr_in6 *)&c->addr)->sin6_port = port;
}

static int check_new(struct ctx *ctx, struct server *srv)
{
	struct srv_check *c = calloc(1, sizeof(*c));
	const struct proxy *be = srv->be;

	if (!c)
		return -ENOMEM;
	c->ctx = ctx;
	c->srv = srv;
	c->fd = -1;
	/* UP, but down at the first failure (HAProxy's starting point) */
	c->health = srv->check_rise;
	check_addr(c);
	if ((be->options & PX_O_HTTPCHK)) {
		static const struct http_check none;

		c->req = build_request(be->httpchk ? be->httpchk : &none, &c->req_len);
		if (!c->req) {
			free(c);
			return -ENOMEM;
		}
	}
	srv->chk = c;
	loop_timer_init(&c->timer, check_timer);
	/* spread the first probes over one interval so they do not fire at once */
	loop_timer_add(ctx->loop, &c->timer, (uint64_t)random() % (srv->check_inter + 1));
	return 0;
}

int checks_start(struct ctx *ctx)
{
	int err;

	for (struct proxy *px = ctx->cfg->proxies; px; px = px->next)
		for (struct server *srv = px->servers; srv; srv = srv->next) {
			if (!srv->check || srv->disabled)
				continue;
			err = check_new(ctx, srv);
			if (err)
				return err;
		}
	return 0;
}

void checks_stop(struct ctx *ctx)
{
	for (struct proxy *px = ctx->cfg->proxies; px; px = px->next)
		for (struct server *srv = px->servers; srv; srv = srv->next) {
			struct srv_check *c = srv->chk;

			if (!c)
				continue;
			loop_timer_del(ctx->loop, &c->timer);
			probe_close(c);
			free(c->req);
			free(c);
			srv->chk = NULL;
		}
}
