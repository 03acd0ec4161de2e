/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_CLI_H
#define WSPLICE_CLI_H

#include "buf.h"
#include "ctx.h"

/*
 * Runs one runtime API command line at access level (0 user, 1 operator, 2 admin) and appends
 * its answer to out. The line is modified (split into words).
 */
void cli_run(struct ctx *ctx, struct buf *out, int level, char *line);

/*
 * The figures "show stat" shows, for prom.c to show the same: a proxy's (srv NULL) or a
 * server's bytes from and to clients, ended transactions and open ones (spliced tunnels read
 * from the BPF map), and a server's status word ("UP", "DOWN", "MAINT", "DRAIN", "no check").
 */
void stats_bytes(struct ctx *ctx, const struct proxy *px, const struct server *srv,
		 uint64_t *in, uint64_t *out);
const char *stats_server_status(const struct server *srv);

#endif /* WSPLICE_CLI_H */
