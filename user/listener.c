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
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "stream.h"

/* After EMFILE/ENFILE/ENOMEM, accepting pauses this long: the backlog keeps the clients. */
#define ACCEPT_RETRY_MS 100

static int fe_maxconn(const struct ctx *ctx, const struct proxy *fe)
{
	return fe->maxconn ? fe->maxconn : ctx->maxconn;
}

static bool may_accept(const struct listener *l)
{
	return l->ctx->actconn < (unsigned int)l->ctx->maxconn &&
	       l->fe->cur_conns < (unsigned int)fe_maxconn(l->ctx, l->fe) && !l->ctx->stopping;
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
		if (l->paused && !loop_timer_armed(&l->retry) && may_accept(l)) {
			l->paused = false;
			loop_mod_fd(ctx->loop, &l->fh, EPOLLIN);
		}
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
			pr_warn("frontend '%s': accept: %s; pausing %d ms", l->fe->id,
				strerror(errno), ACCEPT_RETRY_MS);
			listener_pause(l);
			loop_timer_add(loop, &l->retry, ACCEPT_RETRY_MS);
			return;
		default:
			pr_alert("frontend '%s': accept: %s", l->fe->id, strerror(errno));
			return;
		}
	}
	listener_pause(l);
}

static int bind_one(struct proxy *fe, struct bind_conf *b)
{
	int fd, one = 1;

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
	(void)fe;
	return fd;
}

int listeners_open(struct ctx *ctx)
{
	int failed = 0;

	for (struct proxy *fe = ctx->cfg->proxies; fe; fe = fe->next) {
		if (!(fe->cap & PX_CAP_FE))
			continue;
		for (struct bind_conf *b = fe->binds; b; b = b->next) {
			struct listener *l = calloc(1, sizeof(*l));
			int fd = l ? bind_one(fe, b) : -ENOMEM;

			if (fd < 0) {
				pr_alert("Starting frontend %s: cannot bind socket [%s]: %s", fe->id,
					 b->text ? b->text : "?", strerror(-fd));
				free(l);
				failed++;
				continue;
			}
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
		free(l);
	}
}
