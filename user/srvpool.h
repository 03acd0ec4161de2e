/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_SRVPOOL_H
#define WSPLICE_SRVPOOL_H

#include "cfg.h"
#include "ctx.h"

/*
 * Idle server connections shared between clients ("http-reuse safe|aggressive|always"): a
 * stream whose response ended on a kept-alive server connection leaves it here, and a later
 * request to the same server may take it instead of connecting. An idle connection that the
 * server closes, or that sends anything, or that stays unused for IDLE_PURGE_MS, is closed.
 */

/* Takes ownership of fd, an idle connection to srv (closes it when the pool is full). */
void srvpool_put(struct ctx *ctx, struct server *srv, int fd);

/* An idle connection to srv, most recently used first, or -1. */
int srvpool_get(struct ctx *ctx, struct server *srv);

/* Closes every pooled connection (at exit). */
void srvpool_close_all(struct ctx *ctx);

#endif /* WSPLICE_SRVPOOL_H */
