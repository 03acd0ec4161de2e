/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_CHECK_H
#define WSPLICE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

struct ctx;
struct http_check;

/*
 * Health checks, from the event loop and never blocking: for each server with "check", a TCP
 * connect to its address (or "addr"/"port") every interval, or with "option httpchk" an HTTP
 * request whose response must meet "http-check expect" (2xx or 3xx by default). HAProxy's
 * health counter decides the state: a server starts UP but falls at its first failure, goes
 * DOWN after "fall" consecutive failures once fully up, and comes back after "rise" successes.
 * Intervals: "inter" while fully UP, "downinter" while DOWN, "fastinter" in between. Transitions
 * are logged in HAProxy's words, each check too with "option log-health-checks". Checks are
 * not client sessions: they count nowhere.
 */
int checks_start(struct ctx *ctx);
void checks_stop(struct ctx *ctx);

/* The outcome of one check, in HAProxy's terms. */
struct chk_result {
	bool ok;
	const char *reason; /* "Layer4 connection problem", "Layer7 wrong status", ... */
	int code;	    /* HTTP status, 0 when none */
	char info[128];	    /* HAProxy's "info" text, empty when none */
};

/*
 * Judges an HTTP check response whose first len bytes are in buf; eof says the server closed.
 * Returns 1 with r filled when decided, 0 when more bytes are needed. Exposed for unit tests.
 */
int check_http_eval(const struct http_check *hc, const char *buf, size_t len, bool eof,
		    struct chk_result *r);

/* True when code is in a "status" list: "101", "200,300-399". */
bool check_status_match(const char *list, int code);

#endif /* WSPLICE_CHECK_H */
