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
#include "splice.h"
#include "version.h"

#define CLI_LINE_MAX 1024

struct stats_srv {
	struct ctx *ctx;
	struct fd_handler fh;
	int fd;
	char *path;
};

struct cli {
	struct fd_handler fh;
	struct ctx *ctx;
	char line[CLI_LINE_MAX];
	size_t len;
	int prompt;
};

static void cli_close(struct cli *c)
{
	loop_del_fd(c->ctx->loop, &c->fh);
	close(c->fh.fd);
	free(c);
}

/* Answers are small; a client that does not read them loses them rather than block us. */
static void cli_out(struct cli *c, const char *text)
{
	if (send(c->fh.fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* dropped */
	}
}

static void show_info(struct cli *c)
{
	struct ctx *ctx = c->ctx;
	char out[2048];

	snprintf(out, sizeof(out),
		 "Name: wsplice\nVersion: %s\nPid: %d\nUptime_sec: %llu\nMaxconn: %d\n"
		 "CurrConns: %u\nCumConns: %llu\nSpliceMode: %s\nSpliceOffReason: %s\n"
		 "CurrTunnels: %llu\nCumTunnels: %llu\nSplicedTunnels: %llu\nKernelBytes: %llu\n"
		 "UserRelayBytes: %llu\nUserHeldBytes: %llu\nFlowPauses: %llu\n\n",
		 WSPLICE_VERSION, (int)getpid(),
		 (unsigned long long)(loop_now_ms(ctx->loop) - ctx->start_ms) / 1000, ctx->maxconn,
		 ctx->actconn, (unsigned long long)ctx->cnt.cum_conns,
		 ctx->splice ? "bpf" : "userspace", ctx->splice ? "-" : ctx->splice_off_why,
		 (unsigned long long)ctx->cnt.cur_tunnels, (unsigned long long)ctx->cnt.cum_tunnels,
		 (unsigned long long)ctx->cnt.cur_spliced,
		 (unsigned long long)splice_kernel_bytes(ctx),
		 (unsigned long long)ctx->cnt.user_relay_bytes,
		 (unsigned long long)ctx->cnt.held_bytes,
		 (unsigned long long)ctx->cnt.flow_pauses);
	cli_out(c, out);
}

/* Runs one command; returns false when the connection must close. */
static bool cli_command(struct cli *c, char *line)
{
	line[strcspn(line, "\r")] = 0;
	while (*line == ' ')
		line++;
	if (!strcmp(line, "show info")) {
		show_info(c);
	} else if (!strcmp(line, "prompt")) {
		c->prompt = !c->prompt;
	} else if (!strcmp(line, "quit")) {
		return false;
	} else if (!strcmp(line, "help") || *line) {
		cli_out(c, *line && strcmp(line, "help") ? "Unknown command. Please enter one of the "
							   "following commands only :\n"
							 : "The following commands are valid at this "
							   "level:\n");
		cli_out(c, "  help           : this message\n"
			   "  prompt         : toggle interactive mode with prompt\n"
			   "  quit           : disconnect\n"
			   "  show info      : report information about the running process\n\n");
	}
	if (c->prompt)
		cli_out(c, "\n> ");
	return c->prompt;
}

static void cli_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct cli *c = container_of(h, struct cli, fh);
	char *nl;
	ssize_t n;

	(void)loop;
	(void)events;
	n = recv(h->fd, c->line + c->len, sizeof(c->line) - 1 - c->len, 0);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		return cli_close(c);
	}
	c->len += n;
	c->line[c->len] = 0;
	while ((nl = strchr(c->line, '\n'))) {
		*nl = 0;
		if (!cli_command(c, c->line))
			return cli_close(c);
		c->len -= nl + 1 - c->line;
		memmove(c->line, nl + 1, c->len + 1);
	}
	if (c->len == sizeof(c->line) - 1)
		cli_close(c);
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
}

int stats_open(struct ctx *ctx)
{
	struct global *g = &ctx->cfg->global;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stats_srv *st;
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
	loop_add_fd(ctx->loop, &st->fh, st->fd, EPOLLIN, stats_accept);
	ctx->stats = st;
	return 0;
}

void stats_close(struct ctx *ctx)
{
	struct stats_srv *st = ctx->stats;

	if (!st)
		return;
	loop_del_fd(ctx->loop, &st->fh);
	close(st->fd);
	unlink(st->path);
	free(st);
	ctx->stats = NULL;
}
