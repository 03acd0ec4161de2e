/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_CHECK_H
#define WSPLICE_CHECK_H

struct ctx;

/*
 * Health checks: a TCP connect to each server with "check", every "inter" ms, from the event
 * loop. "fall" consecutive failures mark a server DOWN, "rise" successes bring it back UP, with
 * HAProxy's log messages. Servers start UP, as in HAProxy.
 */
int checks_start(struct ctx *ctx);
void checks_stop(struct ctx *ctx);

#endif /* WSPLICE_CHECK_H */
