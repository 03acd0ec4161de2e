// SPDX-License-Identifier: GPL-2.0
#include "srvpool.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

/* HAProxy's pool-purge-delay default, and a bound per server so idle ones cannot pile up. */
#define IDLE_PURGE_MS 5000
#define IDLE_MAX_PER_SERVER 64

struct idle_conn {
	struct idle_conn *next, *prev;
	struct fd_handler fh;
	struct timer purge;
	struct server *srv;
	struct ctx *ctx;
};

static void unlink_idle(struct idle_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->srv->idle = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->srv->nidle--;
}

/* Forgets the entry; closes its fd unless keep. A stream that takes the connection does so from
 * its own callback, and the entry's event may follow in the same batch: freed after it. */
static int drop(struct idle_conn *c, bool keep)
{
	int fd = c->fh.fd;

	unlink_idle(c);
	loop_del_fd(c->ctx->loop, &c->fh);
	loop_timer_del(c->ctx->loop, &c->purge);
	loop_free_later(c->ctx->loop, c);
	if (!keep) {
		close(fd);
		return -1;
	}
	return fd;
}

static void idle_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	(void)loop;
	(void)events;
	/* a close, an error, or bytes nobody asked for: the connection is not reusable */
	drop(container_of(h, struct idle_conn, fh), false);
}

static void idle_purge(struct loop *loop, struct timer *t)
{
	(void)loop;
	drop(container_of(t, struct idle_conn, purge), false);
}

void srvpool_put(struct ctx *ctx, struct server *srv, int fd)
{
	struct idle_conn *c;

	if (srv->nidle >= IDLE_MAX_PER_SERVER || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->ctx = ctx;
	if (loop_add_fd(ctx->loop, &c->fh, fd, EPOLLIN | EPOLLRDHUP, idle_io) < 0) {
		close(fd);
		free(c);
		return;
	}
	loop_timer_init(&c->purge, idle_purge);
	loop_timer_add(ctx->loop, &c->purge, IDLE_PURGE_MS);
	c->next = srv->idle;
	if (srv->idle)
		srv->idle->prev = c;
	srv->idle = c;
	srv->nidle++;
}

int srvpool_get(struct ctx *ctx, struct server *srv)
{
	(void)ctx;
	return srv->idle ? drop(srv->idle, true) : -1;
}

void srvpool_close_all(struct ctx *ctx)
{
	for (struct proxy *px = ctx->cfg->proxies; px; px = px->next)
		for (struct server *srv = px->servers; srv; srv = srv->next)
			while (srv->idle)
				drop(srv->idle, false);
}
