/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_SYSLOG_H
#define WSPLICE_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Where traffic log lines go: HAProxy's "log" targets. One struct per "log" line, in a list
 * owned by the global section or by a proxy. Sends never block: sockets and pipes are
 * non-blocking, and a line that cannot go at once is dropped and counted.
 */
enum log_tgt_type {
	LOG_TGT_FD,	/* stdout or stderr */
	LOG_TGT_UDP,	/* syslog over UDP, "ADDR[:PORT]" (514 by default) */
	LOG_TGT_UNIX,	/* a unix datagram socket such as /dev/log */
};

/* "format": how a line is framed (HAProxy's names). */
enum log_framing {
	LOG_FMT_RFC3164,	/* "<PRI>Mmm dd hh:mm:ss localhost wsplice[PID]: " (the default) */
	LOG_FMT_RFC5424,	/* "<PRI>1 TIMESTAMP - wsplice PID - - " */
	LOG_FMT_SHORT,		/* "<LEVEL>" */
	LOG_FMT_RAW,		/* the line alone */
};

/* Syslog severities, the numbers of RFC 5424. */
#define LOG_SEV_EMERG 0
#define LOG_SEV_ALERT 1
#define LOG_SEV_ERR 3
#define LOG_SEV_NOTICE 5
#define LOG_SEV_INFO 6
#define LOG_SEV_DEBUG 7

struct log_tgt {
	struct log_tgt *next;
	enum log_tgt_type type;
	enum log_framing framing;
	int fd;				/* sockets: -1 until opened */
	bool opened;			/* by log_tgt_open() or at the first line */
	struct sockaddr_storage addr;	/* UDP and UNIX */
	socklen_t addrlen;
	int facility;			/* 0..23 */
	int maxlvl, minlvl;		/* send only severities <= maxlvl; raise those < minlvl */
	unsigned int len;		/* "len": longest line, framing included (default 1024) */
	uint64_t sent, dropped;
};

/*
 * Parses "log TARGET [len N] [format F] FACILITY [MAXLEVEL [MINLEVEL]]" (args[0] is "log") into
 * a new target appended to *list. Returns 0, or -1 with HAProxy's message in err.
 */
int log_tgt_parse(char **args, int n, struct log_tgt **list, char *err, size_t errlen);

/* Deep copy of a list (a proxy inheriting its defaults' targets): 0 or -ENOMEM. */
int log_tgt_dup(struct log_tgt **dst, const struct log_tgt *src);
void log_tgt_free(struct log_tgt *list);

/* Opens the sockets of a list (non-blocking). Returns 0 or a negative errno. */
int log_tgt_open(struct log_tgt *list);

/* Sends one line (without its newline) at severity sev to every target of the list. */
void log_tgt_send(struct log_tgt *list, int sev, const char *line, size_t len);

/*
 * The longest line, before framing: HAProxy's global.max_syslog_len (the largest "len" of any
 * target, at least 1024) less one. A longer line is cut there, then each target cuts its framed
 * line at its own "len".
 */
size_t log_line_max(void);

/* Lines dropped because a target could not take them at once, process-wide. */
extern uint64_t log_lines_dropped;

#endif /* WSPLICE_SYSLOG_H */
