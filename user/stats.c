// SPDX-License-Identifier: GPL-2.0
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "cli.h"
#include "reload.h"

#define CLI_LINE_MAX 1024
/* Out of fds or memory, the stats socket stops accepting for this long (see stats_accept). */
#define STATS_RETRY_MS 100

struct stats_srv {
	struct ctx *ctx;
	struct fd_handler fh;
	int fd;
	char *path;
	dev_t dev;		/* the socket file we created, so that we remove only it */
	ino_t ino;
	struct timer retry;
};

struct cli {
	struct fd_handler fh;
	struct ctx *ctx;
	char line[CLI_LINE_MAX];
	size_t len;
	bool prompt;		/* interactive: stays open, prints "> " */
	bool done;		/* close once the answer is sent */
	struct buf out;		/* answer not yet sent */
};

static void cli_close(struct cli *c)
{
	loop_del_fd(c->ctx->loop, &c->fh);
	close(c->fh.fd);
	buf_release(&c->out);
	loop_free_later(c->ctx->loop, c);
}

/* Runs one line; prompt and quit are the session's, the rest cli.c's. */
static void cli_line(struct cli *c, char *line)
{
	bool keep = false;

	line[strcspn(line, "\r")] = 0;
	while (*line == ' ')
		line++;
	if (!strcmp(line, "prompt"))
		c->prompt = !c->prompt;
	else if (!strcmp(line, "quit"))
		c->done = true;
	else if (line[0] == '_')
		/* the reload's internal commands: they write to the socket themselves */
		keep = reload_cli(c->ctx, c->fh.fd, c->ctx->cfg->global.stats_socket_level, line,
				  &c->out);
	else
		cli_run(c->ctx, &c->out, c->ctx->cfg->global.stats_socket_level, line);
	if (!c->prompt && !keep)
		c->done = true;
	else if (c->prompt && !c->done && buf_reserve(&c->out, 3))
		buf_append(&c->out, "\n> ", 3, c->out.cap);
}

/* Sends what the answer still holds; closes when it is all sent and the session is over. */
static void cli_flush(struct cli *c)
{
	ssize_t n;

	while (!buf_empty(&c->out)) {
		n = send(c->fh.fd, buf_ptr(&c->out), buf_len(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			loop_mod_fd(c->ctx->loop, &c->fh, EPOLLIN | EPOLLOUT);
			return;
		}
		if (n <= 0)
			return cli_close(c);
		buf_consume(&c->out, n);
	}
	if (c->done)
		return cli_close(c);
	loop_mod_fd(c->ctx->loop, &c->fh, EPOLLIN);
}

static void cli_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct cli *c = container_of(h, struct cli, fh);
	char *nl;
	ssize_t n;

	(void)loop;
	if ((events & EPOLLOUT) || c->done)
		return cli_flush(c);
	n = recv(h->fd, c->line + c->len, sizeof(c->line) - 1 - c->len, 0);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		return cli_close(c);
	}
	c->len += n;
	c->line[c->len] = 0;
	while (!c->done && (nl = strchr(c->line, '\n'))) {
		*nl = 0;
		cli_line(c, c->line);
		c->len -= nl + 1 - c->line;
		memmove(c->line, nl + 1, c->len + 1);
	}
	if (c->len == sizeof(c->line) - 1)
		c->done = true;
	cli_flush(c);
}

static void stats_accept(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct stats_srv *st = container_of(h, struct stats_srv, fh);
	struct cli *c;
	int fd;

	(void)events;
	while ((fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->ctx = st->ctx;
		if (loop_add_fd(loop, &c->fh, fd, EPOLLIN, cli_io) < 0) {
			close(fd);
			free(c);
		}
	}
	/*
	 * Out of fds or memory, the waiting client stays in the backlog and the listening socket
	 * stays readable: watched, it would wake the loop at once, forever (87% of a CPU measured
	 * with the open-files limit reached and one "show info" waiting). Look again later.
	 */
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
		loop_mod_fd(loop, &st->fh, 0);
		loop_timer_add(loop, &st->retry, STATS_RETRY_MS);
	}
}

static void stats_retry(struct loop *loop, struct timer *t)
{
	struct stats_srv *st = container_of(t, struct stats_srv, retry);

	loop_mod_fd(loop, &st->fh, EPOLLIN);
}

int stats_open(struct ctx *ctx)
{
	struct global *g = &ctx->cfg->global;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stats_srv *st;
	struct stat sb;
	int err;

	if (!g->stats_socket)
		return 0;
	if (strlen(g->stats_socket) >= sizeof(sun.sun_path)) {
		pr_alert("stats socket '%s': path too long", g->stats_socket);
		return -ENAMETOOLONG;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	strcpy(sun.sun_path, g->stats_socket);
	unlink(g->stats_socket);
	st->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->fd < 0 || bind(st->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(g->stats_socket, g->stats_socket_mode ? g->stats_socket_mode : 0600) < 0 ||
	    listen(st->fd, 16) < 0) {
		err = -errno;
		pr_alert("stats socket '%s': %s", g->stats_socket, strerror(-err));
		if (st->fd >= 0)
			close(st->fd);
		free(st);
		return err;
	}
	st->ctx = ctx;
	st->path = g->stats_socket;
	if (stat(st->path, &sb) == 0) {
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
	}
	loop_timer_init(&st->retry, stats_retry);
	loop_add_fd(ctx->loop, &st->fh, st->fd, EPOLLIN, stats_accept);
	ctx->stats = st;
	return 0;
}

void stats_close(struct ctx *ctx)
{
	struct stats_srv *st = ctx->stats;
	struct stat sb;

	if (!st)
		return;
	loop_del_fd(ctx->loop, &st->fh);
	loop_timer_del(ctx->loop, &st->retry);
	close(st->fd);
	/* after a reload the path is the new process's socket: leave it. A process whose tunnels a
	 * new one took (-x) never removes it: it may exit while the new one binds the same path,
	 * and would then remove the new socket between our stat() and our unlink() */
	if (!ctx->given_up && stat(st->path, &sb) == 0 && sb.st_dev == st->dev &&
	    sb.st_ino == st->ino)
		unlink(st->path);
	free(st);
	ctx->stats = NULL;
}
