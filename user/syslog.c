// SPDX-License-Identifier: GPL-2.0
/*
 * "log" targets and their framings, byte for byte what HAProxy 2.6 sends (checked with its
 * UDP output): RFC 3164 "<PRI>Nov 27 09:54:49 localhost haproxy[28333]: line\n" (the host is
 * "localhost" unless log-send-hostname, which wsplice does not have), RFC 5424
 * "<PRI>1 2026-11-27T09:54:49.800882+00:00 - haproxy 28333 - - line\n", short "<SEV>line\n" and
 * raw "line\n"; "len N" truncates to N bytes before the newline. The program name here is
 * "wsplice".
 */
#include "syslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"

uint64_t log_lines_dropped;
static unsigned int max_len = 1024;

size_t log_line_max(void)
{
	return max_len - 1;
}

static const char *const facilities[] = {
    "kern",   "user",	"mail",	  "daemon", "auth",   "syslog", "lpr",	  "news",
    "uucp",   "cron",	"auth2",  "ftp",    "ntp",    "audit",	"alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

static const char *const levels[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static const char *const framings[] = {
    [LOG_FMT_RFC3164] = "rfc3164",
    [LOG_FMT_RFC5424] = "rfc5424",
    [LOG_FMT_SHORT] = "short",
    [LOG_FMT_RAW] = "raw",
};

static int lookup(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && !strcmp(w, list[i]))
			return (int)i;
	return -1;
}

#define LOOKUP(w, list) lookup(w, list, sizeof(list) / sizeof(list[0]))

static int parse_unix(struct log_tgt *t, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&t->addr;

	if (strlen(path) >= sizeof(un->sun_path)) {
		snprintf(err, errlen, "log : socket path '%s' is too long", path);
		return -1;
	}
	t->type = LOG_TGT_UNIX;
	un->sun_family = AF_UNIX;
	strcpy(un->sun_path, path);
	t->addrlen = sizeof(*un);
	return 0;
}

static int parse_udp(struct log_tgt *t, const char *a, char *err, size_t errlen)
{
	static const char *const prefixes[] = {"udp@", "udp4@", "udp6@", "ipv4@", "ipv6@"};
	char buf[300];

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(a, prefixes[i], strlen(prefixes[i])))
			a += strlen(prefixes[i]);
	if (strchr(a, '@')) {
		snprintf(err, errlen,
			 "log : address '%s' is not supported (stdout, stderr, "
			 "ADDR[:PORT] over UDP or a unix datagram socket path).",
			 a);
		return -1;
	}
	/* no port: syslog's 514, as HAProxy; several colons make a bare IPv6 address */
	if (!strchr(a, ':') || (*a == '[' && a[strlen(a) - 1] == ']'))
		snprintf(buf, sizeof(buf), "%s:514", a);
	else if (strchr(a, ':') != strrchr(a, ':') && *a != '[')
		snprintf(buf, sizeof(buf), "[%s]:514", a);
	else
		snprintf(buf, sizeof(buf), "%s", a);
	t->type = LOG_TGT_UDP;
	return cfg_parse_addr(buf, &t->addr, &t->addrlen, err, errlen);
}

/* "stdout", "stderr", "/path", "unix@path", "[udp@|udp4@|udp6@|ipv4@|ipv6@]ADDR[:PORT]". */
static int parse_target(struct log_tgt *t, const char *a, char *err, size_t errlen)
{
	if (!strcmp(a, "stdout") || !strcmp(a, "stderr")) {
		t->type = LOG_TGT_FD;
		t->fd = a[3] == 'o' ? STDOUT_FILENO : STDERR_FILENO;
		return 0;
	}
	if (!strncmp(a, "unix@", 5))
		return parse_unix(t, a + 5, err, errlen);
	if (*a == '/')
		return parse_unix(t, a, err, errlen);
	return parse_udp(t, a, err, errlen);
}

/* "len N" and "format F", in either order, before the facility. Returns the next index. */
static int parse_opts(struct log_tgt *t, char **args, int n, int i, char *err, size_t errlen)
{
	while (i < n && (!strcmp(args[i], "len") || !strcmp(args[i], "format") ||
			 !strcmp(args[i], "sample"))) {
		long v;
		int f;

		if (!strcmp(args[i], "sample")) {
			snprintf(err, errlen, "log : 'sample' is not supported.");
			return -1;
		}
		if (i + 1 >= n) {
			snprintf(err, errlen, "log : '%s' expects an argument", args[i]);
			return -1;
		}
		if (args[i][0] == 'l') {
			if (cfg_parse_int(args[i + 1], 80, 65535, &v) < 0) {
				snprintf(err, errlen,
					 "log : invalid log length '%s', must be between 80 and "
					 "65535",
					 args[i + 1]);
				return -1;
			}
			t->len = (unsigned int)v;
			if (t->len > max_len)
				max_len = t->len;
		} else if ((f = LOOKUP(args[i + 1], framings)) >= 0) {
			t->framing = f;
		} else {
			snprintf(err, errlen, "log : unknown log format '%s'", args[i + 1]);
			return -1;
		}
		i += 2;
	}
	return i;
}

static int parse_levels(struct log_tgt *t, char **args, int n, int i, char *err, size_t errlen)
{
	if (i >= n || (t->facility = LOOKUP(args[i], facilities)) < 0) {
		snprintf(err, errlen, "log : unknown log facility '%s'", i < n ? args[i] : "");
		return -1;
	}
	if (++i < n && (t->maxlvl = LOOKUP(args[i], levels)) < 0) {
		snprintf(err, errlen, "log : unknown optional log level '%s'", args[i]);
		return -1;
	}
	if (i < n && ++i < n && (t->minlvl = LOOKUP(args[i], levels)) < 0) {
		snprintf(err, errlen, "log : unknown optional minimum log level '%s'", args[i]);
		return -1;
	}
	if (i < n && ++i < n) {
		snprintf(err, errlen, "log : unexpected argument '%s'", args[i]);
		return -1;
	}
	return 0;
}

int log_tgt_parse(char **args, int n, struct log_tgt **list, char *err, size_t errlen)
{
	struct log_tgt *t = calloc(1, sizeof(*t)), **pp = list;
	int i;

	if (!t)
		return -1;
	*t = (struct log_tgt){.fd = -1, .maxlvl = LOG_SEV_DEBUG, .len = 1024};
	if (n < 3) {
		snprintf(err, errlen, "log : expects <address> and <facility> as arguments.");
		goto fail;
	}
	if (parse_target(t, args[1], err, errlen) < 0)
		goto fail;
	i = parse_opts(t, args, n, 2, err, errlen);
	if (i < 0 || parse_levels(t, args, n, i, err, errlen) < 0)
		goto fail;
	while (*pp)
		pp = &(*pp)->next;
	*pp = t;
	return 0;
fail:
	free(t);
	return -1;
}

int log_tgt_dup(struct log_tgt **dst, const struct log_tgt *src)
{
	for (; src; src = src->next) {
		struct log_tgt *t = malloc(sizeof(*t));

		if (!t)
			return -ENOMEM;
		*t = *src;
		t->next = NULL;
		t->opened = false;
		if (t->type != LOG_TGT_FD)
			t->fd = -1;
		*dst = t;
		dst = &t->next;
	}
	return 0;
}

void log_tgt_free(struct log_tgt *list)
{
	while (list) {
		struct log_tgt *next = list->next;

		if (list->type != LOG_TGT_FD && list->fd >= 0)
			close(list->fd);
		free(list);
		list = next;
	}
}

/* stdout or stderr on a pipe or socket: non-blocking, or a slow reader would stall the loop
 * (a terminal or a file never blocks for long, and its mode is shared with the shell). */
static void fd_nonblock(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Opens one target once; a socket that cannot be made stays closed and its lines count as
 * dropped. Returns 0 or a negative errno. */
static int open_one(struct log_tgt *t)
{
	if (t->opened)
		return 0;
	t->opened = true;
	if (t->type == LOG_TGT_FD) {
		fd_nonblock(t->fd);
		return 0;
	}
	t->fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return t->fd < 0 ? -errno : 0;
}

int log_tgt_open(struct log_tgt *t)
{
	int err = 0;

	for (; t; t = t->next)
		if (open_one(t) < 0 && !err)
			err = -errno;
	return err;
}

/* The framing's header for severity sev; returns its length. */
static int header(const struct log_tgt *t, int sev, char *h, size_t len)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int pri = t->facility * 8 + sev;
	struct timeval tv;
	struct tm tm;
	long off;

	if (t->framing == LOG_FMT_RAW)
		return 0;
	if (t->framing == LOG_FMT_SHORT)
		return snprintf(h, len, "<%d>", sev);
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	if (t->framing == LOG_FMT_RFC3164)
		return snprintf(h, len, "<%d>%s %2d %02d:%02d:%02d localhost wsplice[%d]: ", pri,
				mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				(int)getpid());
	off = tm.tm_gmtoff / 60;
	return snprintf(
	    h, len, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ld%c%02ld:%02ld - wsplice %d - - ", pri,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long)tv.tv_usec, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60, (int)getpid());
}

static void send_one(struct log_tgt *t, int sev, const char *line, size_t len)
{
	char buf[65536 + 128];
	size_t n;
	ssize_t w;

	open_one(t);
	n = (size_t)header(t, sev, buf, sizeof(buf));
	if (n + len > t->len)
		len = n < t->len ? t->len - n : 0;
	memcpy(buf + n, line, len);
	n += len;
	buf[n++] = '\n';
	/* one write per line: a line is never split, and EAGAIN drops it whole */
	if (t->type == LOG_TGT_FD)
		w = write(t->fd, buf, n);
	else
		w = t->fd < 0 ? -1
			      : sendto(t->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL,
				       (struct sockaddr *)&t->addr, t->addrlen);
	if (w == (ssize_t)n) {
		t->sent++;
		return;
	}
	t->dropped++;
	log_lines_dropped++;
}

void log_tgt_send(struct log_tgt *list, int sev, const char *line, size_t len)
{
	for (struct log_tgt *t = list; t; t = t->next) {
		int s = sev;

		if (s > t->maxlvl)
			continue;
		if (s < t->minlvl)
			s = t->minlvl;
		send_one(t, s, line, len);
	}
}
