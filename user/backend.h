/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_BACKEND_H
#define WSPLICE_BACKEND_H

#include <stdbool.h>

#include "cfg.h"

/*
 * Server selection. Each "balance" algorithm is one file behind struct lb_ops; roundrobin
 * (lb_rr.c) is the only one so far.
 */
struct http_msg;

/* What an algorithm may look at to pick a server. msg and base are NULL in mode tcp. */
struct lb_req {
	const struct sockaddr *src;	/* client address */
	const struct http_msg *msg;	/* parsed request head (http.h), offsets from base */
	const char *base;
};

struct lb_ops {
	const char *name;
	struct server *(*pick)(struct proxy *be, const struct lb_req *req);
};

extern const struct lb_ops lb_roundrobin;

/* True when a server may take new connections: not disabled, not DOWN. */
bool server_usable(const struct server *srv);

/* Picks a server of be for a new connection; NULL when none is usable. */
struct server *lb_pick(struct proxy *be, const struct lb_req *req);

/* Number of usable servers, for HAProxy's "N active servers left" messages. */
unsigned int backend_usable(const struct proxy *be);

#endif /* WSPLICE_BACKEND_H */
