// SPDX-License-Identifier: GPL-2.0
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "ctx.h"
#include "log.h"

struct srv_check {
	struct ctx *ctx;
	struct server *srv;
	struct timer timer;
	struct fd_handler fh;
	int fd;			/* the probe's socket, -1 between probes */
	uint64_t started;
	unsigned int ok, failed; /* consecutive results */
};

static void check_start(struct loop *loop, struct timer *t);

static void check_done(struct srv_check *c, int err)
{
	struct server *srv = c->srv;
	uint64_t took = loop_now_ms(c->ctx->loop) - c->started;

	if (c->fd >= 0) {
		loop_del_fd(c->ctx->loop, &c->fh);
		close(c->fd);
		c->fd = -1;
	}
	if (err) {
		c->ok = 0;
		if (!srv->down && ++c->failed >= srv->check_fall) {
			srv->down = true;
			pr_warn("Server %s/%s is DOWN, reason: Layer4 %s, info: \"%s\", check duration: "
				"%llums. %u active and 0 backup servers left. %u sessions active, 0 "
				"requeued, 0 remaining in queue.",
				srv->be->id, srv->id,
				err == ETIMEDOUT ? "timeout" : "connection problem", strerror(err),
				(unsigned long long)took, backend_usable(srv->be), srv->cur_conns);
			if (!backend_usable(srv->be))
				pr_alert("backend '%s' has no server available!", srv->be->id);
		}
	} else {
		c->failed = 0;
		if (srv->down && ++c->ok >= srv->check_rise) {
			srv->down = false;
			pr_warn("Server %s/%s is UP, reason: Layer4 check passed, check duration: "
				"%llums. %u active and 0 backup servers online. 0 sessions requeued, 0 "
				"total in queue.",
				srv->be->id, srv->id, (unsigned long long)took, backend_usable(srv->be));
		}
	}
	loop_timer_add(c->ctx->loop, &c->timer, srv->check_inter);
}

static void check_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct srv_check *c = container_of(h, struct srv_check, fh);
	socklen_t len = sizeof(int);
	int err = 0;

	(void)loop;
	(void)events;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	check_done(c, err);
}

/* The timer either starts a probe or, while one runs, ends it as a timeout. */
static void check_start(struct loop *loop, struct timer *t)
{
	struct srv_check *c = container_of(t, struct srv_check, timer);
	struct server *srv = c->srv;

	if (c->fd >= 0)
		return check_done(c, ETIMEDOUT);
	c->started = loop_now_ms(loop);
	c->fd = socket(srv->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return check_done(c, errno);
	if (connect(c->fd, (struct sockaddr *)&srv->addr, srv->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int err = errno;

		close(c->fd);
		c->fd = -1;
		return check_done(c, err);
	}
	loop_add_fd(loop, &c->fh, c->fd, EPOLLOUT, check_io);
	/* HAProxy's check timeout defaults to "inter" */
	loop_timer_add(loop, &c->timer, srv->check_inter);
}

int checks_start(struct ctx *ctx)
{
	for (struct proxy *px = ctx->cfg->proxies; px; px = px->next)
		for (struct server *srv = px->servers; srv; srv = srv->next) {
			struct srv_check *c;

			if (!srv->check || srv->disabled)
				continue;
			c = calloc(1, sizeof(*c));
			if (!c)
				return -ENOMEM;
			c->ctx = ctx;
			c->srv = srv;
			c->fd = -1;
			srv->chk = c;
			loop_timer_init(&c->timer, check_start);
			/* spread the first probes over one interval so they do not fire at once */
			loop_timer_add(ctx->loop, &c->timer, random() % (srv->check_inter + 1));
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
			if (c->fd >= 0) {
				loop_del_fd(ctx->loop, &c->fh);
				close(c->fd);
			}
			free(c);
			srv->chk = NULL;
		}
}
