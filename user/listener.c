// SPDX-License-Identifier: GPL-2.0
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "reload.h"
#include "stream.h"

/*
 * After EMFILE/ENFILE/ENOBUFS/ENOMEM, accepting pauses this long, or until a connection closes
 * (which gives fds and memory back): the backlog keeps the clients meanwhile. A listener that
 * stayed in epoll would wake the loop at once, forever, for the same refused client.
 */
#define ACCEPT_RETRY_MS 100
/* The condition is logged when it starts, then at most once per period with a count. */
#define ACCEPT_LOG_MS 10000

static int fe_maxconn(const struct ctx *ctx, const struct proxy *fe)
{
	return fe->maxconn ? fe->maxconn : ctx->maxconn;
}

static bool may_accept(const struct listener *l)
{
	return l->ctx->actconn < (unsigned int)l->ctx->maxconn &&
	       l->fe->cur_conns < (unsigned int)fe_maxconn(l->ctx, l->fe) && !l->ctx->stopping &&
	       !l->shut;
}

static void listener_pause(struct listener *l)
{
	if (l->paused)
		return;
	l->paused = true;
	loop_mod_fd(l->ctx->loop, &l->fh, 0);
}

void listeners_resume(struct ctx *ctx)
{
	for (struct listener *l = ctx->listeners; l; l = l->next)
		if (l->paused && may_accept(l)) {
			loop_timer_del(ctx->loop, &l->retry);
			l->paused = false;
			loop_mod_fd(ctx->loop, &l->fh, EPOLLIN);
		}
}

/*
 * Out of fds or memory: one warning when it starts (with the fd limit, the usual cause), then
 * one per ACCEPT_LOG_MS while it lasts, saying how many accepts failed meanwhile.
 */
static void accept_failed(struct listener *l, int err)
{
	uint64_t now = loop_now_ms(l->ctx->loop);
	struct rlimit rl = { 0 };

	if (!l->fails++) {
		getrlimit(RLIMIT_NOFILE, &rl);
		pr_warn("frontend '%s': accept: %s (open-files limit %llu); clients wait in the "
			"backlog, retrying every %d ms or when a connection closes",
			l->fe->id, strerror(err), (unsigned long long)rl.rlim_cur, ACCEPT_RETRY_MS);
		l->fail_start_ms = l->fail_log_ms = now;
		l->fails_logged = 1;
	} else if (now - l->fail_log_ms >= ACCEPT_LOG_MS) {
		pr_warn("frontend '%s': accept: %s: %u more failed accepts in %llu ms", l->fe->id,
			strerror(err), l->fails - l->fails_logged,
			(unsigned long long)(now - l->fail_log_ms));
		l->fail_log_ms = now;
		l->fails_logged = l->fails;
	}
	listener_pause(l);
	loop_timer_add(l->ctx->loop, &l->retry, ACCEPT_RETRY_MS);
}

/* The backlog drained after a run of failures: the condition is over. Not at the first success,
 * which a closing connection allows between two failures while the backlog is still full. */
static void accept_recovered(struct listener *l)
{
	pr_notice("frontend '%s': accepting again after %u failed accepts in %llu ms", l->fe->id,
		  l->fails, (unsigned long long)(loop_now_ms(l->ctx->loop) - l->fail_start_ms));
	l->fails = 0;
}

static void retry_accept(struct loop *loop, struct timer *t)
{
	struct listener *l = container_of(t, struct listener, retry);

	(void)loop;
	listeners_resume(l->ctx);
}

static void listener_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct listener *l = container_of(h, struct listener, fh);
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	(void)events;
	(void)loop;
	while (may_accept(l)) {
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			stream_new(l->ctx, l->fe, fd, &ss);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			/* the backlog is empty */
			if (l->fails)
				accept_recovered(l);
			return;
		case EINTR:
		case ECONNABORTED:
			/* the client left before we took it; the next one may be there */
		case EPROTO:
		case EPERM:
			/* a firewall or a protocol error refused this one only */
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* out of fds or memory: leave clients in the backlog until some close,
			 * rather than spin on a listener that stays readable */
			accept_failed(l, errno);
			return;
		default:
			pr_alert("frontend '%s': accept: %s", l->fe->id, strerror(errno));
			return;
		}
	}
	listener_pause(l);
}

static int bind_one(struct ctx *ctx, struct bind_conf *b)
{
	int fd, one = 1;

	/* -x: the old process's socket for this address, already bound and listening */
	fd = b->fd < 0 ? reload_take_listener(ctx, &b->addr, b->addrlen) : -1;
	if (fd >= 0)
		return fd;
	if (b->fd >= 0) {
		/* fd@N: inherited, already bound and listening */
		fcntl(b->fd, F_SETFL, fcntl(b->fd, F_GETFL) | O_NONBLOCK);
		fcntl(b->fd, F_SETFD, FD_CLOEXEC);
		setsockopt(b->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return b->fd;
	}
	fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* accept() copies it to every client socket: one system call per connection less */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (b->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&b->addr, b->addrlen) < 0 || listen(fd, 1024) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * HAProxy's "option tcp-smart-accept", automatic in mode http: the client's request is not
 * acknowledged on its own but with the response, one packet less per connection (accept()
 * copies the listener's delayed-ACK mode to each new socket). Set either way, for a listening
 * socket taken from an old process (-x) that may have had it the other way.
 */
static void smart_accept(const struct proxy *fe, int fd)
{
	bool on = (fe->options & PX_O_TCP_SMARTACC) ||
		  (fe->mode == PX_MODE_HTTP && !(fe->options & PX_O_NO_TCP_SMARTACC));
	int quickack = !on;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &quickack, sizeof(quickack));
}

int listeners_open(struct ctx *ctx)
{
	int failed = 0;

	for (struct proxy *fe = ctx->cfg->proxies; fe; fe = fe->next) {
		if (!(fe->cap & PX_CAP_FE))
			continue;
		for (struct bind_conf *b = fe->binds; b; b = b->next) {
			struct listener *l = calloc(1, sizeof(*l));
			int fd = l ? bind_one(ctx, b) : -ENOMEM;

			if (fd < 0) {
				pr_alert("Starting frontend %s: cannot bind socket [%s]: %s", fe->id,
					 b->text ? b->text : "?", strerror(-fd));
				free(l);
				failed++;
				continue;
			}
			smart_accept(fe, fd);
			l->ctx = ctx;
			l->fe = fe;
			l->bind = b;
			l->fd = fd;
			loop_timer_init(&l->retry, retry_accept);
			loop_add_fd(ctx->loop, &l->fh, fd, EPOLLIN, listener_io);
			l->next = ctx->listeners;
			ctx->listeners = l;
		}
	}
	return failed;
}

void listeners_close(struct ctx *ctx)
{
	struct listener *l;

	while ((l = ctx->listeners)) {
		ctx->listeners = l->next;
		loop_del_fd(ctx->loop, &l->fh);
		loop_timer_del(ctx->loop, &l->retry);
		close(l->fd);
		loop_free_later(ctx->loop, l);
	}
}

/* Logs "VERB proxy X." once per frontend that has a listener in the state wanted. */
static void log_proxies(struct ctx *ctx, const char *verb)
{
	for (struct proxy *fe = ctx->cfg->proxies; fe; fe = fe->next)
		for (struct listener *l = ctx->listeners; l; l = l->next)
			if (l->fe == fe) {
				pr_warn("%s proxy %s.", verb, fe->id);
				break;
			}
}

void listeners_shut(struct ctx *ctx)
{
	for (struct listener *l = ctx->listeners; l; l = l->next) {
		if (l->shut)
			continue;
		/* Linux: shutdown() of a listening socket closes its accept queue and leaves it
		 * bound (TCP_CLOSE with the port kept), as HAProxy's tcp_pause_listener() uses */
		if (shutdown(l->fd, SHUT_RDWR) < 0) {
			pr_warn("frontend '%s': cannot pause [%s]: %s", l->fe->id,
				l->bind->text ? l->bind->text : "?", strerror(errno));
			continue;
		}
		l->shut = true;
		listener_pause(l);
	}
	log_proxies(ctx, "Paused");
}

void listeners_relisten(struct ctx *ctx)
{
	for (struct listener *l = ctx->listeners; l; l = l->next) {
		if (!l->shut)
			continue;
		if (listen(l->fd, 1024) < 0) {
			pr_alert("frontend '%s': cannot resume [%s]: %s", l->fe->id,
				 l->bind->text ? l->bind->text : "?", strerror(errno));
			continue;
		}
		l->shut = false;
	}
	listeners_resume(ctx);
	log_proxies(ctx, "Resumed");
}
