/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_CTX_H
#define WSPLICE_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "loop.h"

struct splice;
struct stream;
struct listener;
struct stats_srv;
struct reload;

/* Process-wide counters, shown by "show info" and in logs. */
struct counters {
	uint64_t cum_conns;
	uint64_t cur_tunnels;
	uint64_t cum_tunnels;
	uint64_t cur_spliced;		/* tunnels currently forwarded by the kernel */
	uint64_t cum_spliced;		/* tunnels handed to the kernel since start */
	uint64_t user_relay_bytes;	/* tunnel bytes moved by the userspace relay */
	uint64_t pipe_bytes;		/* of which through splice(2) pipes, never copied */
	uint64_t held_bytes;		/* spliced-tunnel bytes held by flow control, then copied */
	uint64_t flow_pauses;		/* spliced directions paused by flow control */
	uint64_t demoted;		/* spliced tunnels moved to user space (slow readers) */
};

/*
 * The one context of the daemon, owned by main.c and passed down. Modules keep their own state
 * behind the pointers here.
 */
struct ctx {
	struct config *cfg;
	struct loop *loop;
	struct splice *splice;		/* NULL: the userspace path forwards tunnels */
	char splice_off_why[160];	/* why splicing is off, for "show info" */
	struct listener *listeners;
	struct stats_srv *stats;
	struct reload *reload;		/* -x: what the old process handed over */
	int maxconn;			/* effective global maxconn */
	int maxpipes;			/* splice(2) pipes allowed at once; 0: none (-dS, nosplice) */
	int pipes_used;			/* pipes held by relayed tunnels */
	unsigned int actconn;		/* client connections open */
	struct stream *streams;		/* every live stream, for stats and stop */
	struct stream *dead;		/* closed, freed before the next epoll_wait */
	uint64_t next_stream_id;
	struct counters cnt;
	uint64_t start_ms;
	uint64_t trimmed_at;		/* cum_conns when the heap was last trimmed */
	bool stopping;
	bool given_up;			/* a new process took the listeners (reload.c) */
};

#endif /* WSPLICE_CTX_H */
