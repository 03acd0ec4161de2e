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

#endif /* WSPLICE_CLI_H */
