/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_STATS_H
#define WSPLICE_STATS_H

struct ctx;

/*
 * The runtime API on "stats socket PATH": HAProxy's CLI conventions, one command per line, the
 * connection closed after the answer unless "prompt" made it interactive. Commands: help,
 * prompt, quit, show info.
 */
int stats_open(struct ctx *ctx);
void stats_close(struct ctx *ctx);

#endif /* WSPLICE_STATS_H */
