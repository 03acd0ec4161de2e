/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_LOG_H
#define WSPLICE_LOG_H

#include <stdbool.h>

/*
 * Diagnostics (startup, config, internal events) go to stderr with HAProxy's prefixes:
 * "[ALERT]", "[WARNING]", "[NOTICE]", "[DEBUG]". Traffic logs (one line per connection) go to
 * the configured "log" targets through log_proxy() (httplog.c for streams). The level is checked before formatting so
 * debug calls stay compiled in at no cost.
 */
enum log_level {
	LOG_LVL_ALERT,
	LOG_LVL_WARNING,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

extern enum log_level log_max_level;

void log_set_level(enum log_level lvl);
bool log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_alert(...) log_msg(LOG_LVL_ALERT, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define pr_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define pr_debug(...)                                                                              \
	do {                                                                                       \
		if (log_max_level >= LOG_LVL_DEBUG)                                                \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                       \
	} while (0)

/* Traffic log lines: the global "log" targets (syslog.h), opened here (non-blocking) by main.c
 * once the configuration is loaded; streams log through httplog.c. */
struct log_tgt;
struct proxy;
void log_traffic_set_target(struct log_tgt *global_targets);
/* One line from proxy px at syslog severity sev (0 emerg .. 7 debug): to the global targets
 * with "log global", and to the proxy's own. */
void log_proxy(const struct proxy *px, int sev, const char *line);

/* Count of alerts and warnings emitted so far, for "-c" reporting. */
extern unsigned int log_alerts, log_warnings;

/* Stop processing on an impossible state: prints where, then aborts. */
#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (__builtin_expect(!!(cond), 0))                                                 \
			log_bug(__FILE__, __LINE__, #cond);                                        \
	} while (0)

void log_bug(const char *file, int line, const char *what) __attribute__((noreturn));

#endif /* WSPLICE_LOG_H */
