/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_LOGFMT_H
#define WSPLICE_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

/*
 * HAProxy's log-format language (configuration.txt 8.2.4): a format string is compiled once into
 * a list of nodes (literal text, separators, variables with +Q/-Q/+X options), then rendered for
 * each transaction from a struct log_rec snapshot. "option httplog", "option httplog clf" and
 * "option tcplog" are the formats below, exactly as HAProxy 2.6 defines them.
 */
#define LOGFMT_HTTPLOG                                                                             \
	"%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc "      \
	"%sq/%bq %hr %hs %{+Q}r"
#define LOGFMT_HTTPLOG_CLF                                                                         \
	"%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc " \
	"%ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
#define LOGFMT_TCPLOG "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"

/* What one log line may show: filled by httplog.c from a stream, -1 for "never happened". */
struct log_rec {
	struct sockaddr_storage cli, front, srv_addr; /* ss_family 0: unknown ("-") */
	struct timeval accept_date;	/* connection accepted, or previous transaction ended */
	long th, ti, tr_, tw, tc, tres, tt; /* %Th %Ti %TR %Tw %Tc %Tr %Tt in ms */
	int status;			/* -1: none */
	uint64_t bytes_out, bytes_in;	/* %B (to the client), %U (from it) */
	char term[5];			/* %tsc: cause, state, two cookie flags */
	unsigned int ac, fc, bc, sc, sq, bq;
	int retries;
	bool redispatched;
	bool asap;			/* logged before the end: %B %Ta %Tt get a "+" */
	const char *reqline;		/* NULL: "<BADREQ>" */
	const char *fe, *be, *srv;	/* srv NULL: "<NOSRV>" */
};

struct logfmt;

/*
 * Compiles fmt. Returns 0, or -1 with HAProxy's reason in err ("no such format variable 'x'...").
 * *out is owned by the caller (logfmt_free).
 */
int logfmt_parse(const char *fmt, struct logfmt **out, char *err, size_t errlen);
void logfmt_free(struct logfmt *lf);

/* Whether the format shows the frontend's address (%fi %fp): getsockname() only then. */
bool logfmt_uses_front(const struct logfmt *lf);

/* "ADDR:PORT" of an IPv4 or IPv6 address, "unix" otherwise, as %ci:%cp prints them. */
void logfmt_addr_port(const struct sockaddr_storage *ss, char *out, size_t len);

/* Renders r into out (at most len - 1 bytes, NUL-terminated); returns the length written. */
size_t logfmt_build(const struct logfmt *lf, const struct log_rec *r, char *out, size_t len);

/* HAProxy's %r escaping: a control byte, DEL and above, '"' and '#' become "#XX". */
size_t logfmt_escape(const char *in, char *out, size_t len);

#endif /* WSPLICE_LOGFMT_H */
