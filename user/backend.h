/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_BACKEND_H
#define WSPLICE_BACKEND_H

#include <stdbool.h>

#include "cfg.h"

/*
 * Server selection. Each "balance" algorithm is one file behind struct lb_ops (lb_*.c). Before an
 * algorithm runs, lb_pick() decides which servers are in use, as HAProxy does: the usable active
 * servers, or when there is none the first usable backup server (all of them with "option
 * allbackups"). An algorithm then only looks at lb_candidate() servers: in use and below their
 * maxconn.
 */
struct http_msg;

/* What an algorithm may look at to pick a server. msg and base are NULL in mode tcp. */
struct lb_req {
	const struct sockaddr *src; /* client address */
	const struct http_msg *msg; /* parsed request head (http.h), offsets from base */
	const char *base;
};

/*
 * pick() returns a server with room for one more connection, or NULL. It is only called when
 * at least one server is in use (be->lb_neligible > 0). It does not count the connection: the
 * caller increments srv->cur_conns.
 */
struct lb_ops {
	const char *name;
	struct server *(*pick)(struct proxy *be, const struct lb_req *req);
};

extern const struct lb_ops lb_roundrobin, lb_static_rr, lb_leastconn, lb_first, lb_source, lb_uri,
    lb_hdr, lb_random;

/* True when a server may take new connections: not disabled, not DOWN, weight above 0. */
bool server_usable(const struct server *srv);

/* True when a server is below its maxconn (or has none). */
static inline bool server_has_room(const struct server *srv)
{
	return !srv->maxconn || srv->cur_conns < srv->maxconn;
}

/* True when srv belongs to the set lb_pick() chose for this request (load not considered). */
static inline bool lb_eligible(const struct proxy *be, const struct server *srv)
{
	return server_usable(srv) && srv->backup == be->lb_backup &&
	       (!be->lb_only || srv == be->lb_only);
}

/* Eligible and with room: what an algorithm may return. */
static inline bool lb_candidate(const struct proxy *be, const struct server *srv)
{
	return lb_eligible(be, srv) && server_has_room(srv);
}

/*
 * Picks a server of be for a new connection; NULL when none is usable or every server in use is
 * at its maxconn (the stream answers 503: there is no queue yet).
 */
struct server *lb_pick(struct proxy *be, const struct lb_req *req);

/* Decides which servers are in use (lb_pick() does it first); exposed for tests and checks. */
void lb_select(struct proxy *be);

/* Number of usable servers, for HAProxy's "N active servers left" messages. */
unsigned int backend_usable(const struct proxy *be);

/* Number of usable active (backup false) or backup (backup true) servers. */
unsigned int backend_usable_of(const struct proxy *be, bool backup);

/* SIGHUP: each server's state and each proxy's connections, logged as HAProxy 2.6 does. */
void backends_dump_state(const struct config *cfg);

/* The algorithm's name for messages ("roundrobin", ...). */
const char *lb_name(const struct proxy *be);

#endif /* WSPLICE_BACKEND_H */
