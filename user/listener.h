/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_LISTENER_H
#define WSPLICE_LISTENER_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "loop.h"

struct ctx;

/* One listening socket of a frontend's "bind" line. */
struct listener {
	struct listener *next;
	struct fd_handler fh;
	struct ctx *ctx;
	struct proxy *fe;
	struct bind_conf *bind;
	int fd;
	bool paused;		/* not accepting: maxconn reached or out of fds */
	bool shut;		/* SIGTTOU: bound but not listening (listeners_shut) */
	struct timer retry;	/* after EMFILE and friends */
	unsigned int fails;	/* accepts failed for want of fds or memory since the last success */
	unsigned int fails_logged;
	uint64_t fail_start_ms, fail_log_ms;
};

/* Binds (or adopts, for fd@N) every frontend's listeners. Returns 0 or the number of failures,
 * each reported as HAProxy does ("Starting frontend X: cannot bind socket [ADDR:PORT]"). */
int listeners_open(struct ctx *ctx);

/* Starts accepting again where a slot is free (called when a connection closes). */
void listeners_resume(struct ctx *ctx);

void listeners_close(struct ctx *ctx);

/*
 * SIGTTOU and SIGTTIN, as HAProxy: listeners_shut() stops listening (shutdown() takes a TCP
 * socket out of LISTEN: new clients are refused) but keeps every socket bound, so the port
 * stays ours; listeners_relisten() listens again. Each logs "Paused proxy X." / "Resumed
 * proxy X." per frontend, as HAProxy does.
 */
void listeners_shut(struct ctx *ctx);
void listeners_relisten(struct ctx *ctx);

#endif /* WSPLICE_LISTENER_H */
