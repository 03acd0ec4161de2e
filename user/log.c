// SPDX-License-Identifier: GPL-2.0
#include "log.h"
#include "cfg.h"
#include "syslog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum log_level log_max_level = LOG_LVL_NOTICE;
unsigned int log_alerts, log_warnings;
static struct log_tgt *traffic_targets;

static const char *const level_tag[] = {
	[LOG_LVL_ALERT] = "[ALERT]",     [LOG_LVL_WARNING] = "[WARNING]",
	[LOG_LVL_NOTICE] = "[NOTICE]",   [LOG_LVL_INFO] = "[INFO]",
	[LOG_LVL_DEBUG] = "[DEBUG]",
};

void log_set_level(enum log_level lvl)
{
	log_max_level = lvl;
}

bool log_enabled(enum log_level lvl)
{
	return lvl <= log_max_level;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	if (lvl == LOG_LVL_ALERT)
		log_alerts++;
	else if (lvl == LOG_LVL_WARNING)
		log_warnings++;
	if (!log_enabled(lvl))
		return;
	/* One write(2) per message so lines from a daemon and its children never interleave. */
	n = snprintf(buf, sizeof(buf), "%-9s (%d) : ", level_tag[lvl], (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	if (buf[n - 1] != '\n')
		buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nowhere left to report it */
	}
}

void log_traffic_set_target(struct log_tgt *t)
{
	int err = log_tgt_open(t);

	if (err < 0)
		pr_warn("log: cannot open a socket for a log target: %s", strerror(-err));
	traffic_targets = t;
}

void log_proxy(const struct proxy *px, int sev, const char *line)
{
	size_t n = strlen(line);

	if (n > log_line_max())
		n = log_line_max();
	if (px->log_global)
		log_tgt_send(traffic_targets, sev, line, n);
	log_tgt_send(px->logs, sev, line, n);
}

void log_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "[ALERT] BUG at %s:%d: %s\n", file, line, what);
	abort();
}
