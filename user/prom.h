/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_PROM_H
#define WSPLICE_PROM_H

#include <stdbool.h>

#include "buf.h"

struct ctx;

/*
 * "http-request use-service prometheus-exporter": the metrics in Prometheus' text exposition
 * format (version 0.0.4), HAProxy's metric names where HAProxy has the figure (haproxy_process_*,
 * haproxy_frontend_*, haproxy_backend_*, haproxy_server_*) and wsplice_* for the data path.
 * Every figure comes from where "show info" and "show stat" take it (cli.c), so that the two
 * agree; docs/management.md lists them.
 */

/* Appends the whole exposition text to out (grown as needed). Returns 0 or -ENOMEM. */
int prom_dump(struct ctx *ctx, struct buf *out);

/*
 * Appends the whole HTTP/1.1 response to out: a 200 head with a Content-Length, then the body
 * unless head_only (a HEAD request gets the head a GET would). close adds "connection: close".
 * out grows past one stream buffer when the text needs it. Returns 0 or -ENOMEM (out is then
 * as it was).
 */
int prom_reply(struct ctx *ctx, struct buf *out, bool head_only, bool close);

#endif /* WSPLICE_PROM_H */
