/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_TAP_H
#define WSPLICE_TAP_H

/*
 * A minimal TAP producer for the C unit tests: each check prints "ok N - name" or
 * "not ok N - name" (with the expected and actual values as "#" diagnostics), and done() prints
 * the "1..N" plan last (unless plan() announced it) and returns the exit status, so a test that
 * crashes half-way is seen as a missing plan by tests/05-unit.bats. Header-only.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed, tap_planned = -1;

/* Optional: announces the count first; otherwise done() prints the plan at the end. */
static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

static inline bool tap_vok(bool cond, const char *fmt, va_list ap)
{
	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline bool __attribute__((format(printf, 2, 3))) ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

static inline bool __attribute__((format(printf, 3, 4)))
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got: %lld\n#   expected: %lld\n", got, want);
	return r;
}

static inline bool __attribute__((format(printf, 3, 4)))
is_str(const char *got, const char *want, const char *fmt, ...)
{
	bool same = got == want || (got && want && !strcmp(got, want));
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(same, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got: '%s'\n#   expected: '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
	return r;
}

/* Like is_str() but passes when want is a substring of got (for messages). */
static inline bool __attribute__((format(printf, 3, 4)))
has_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(got && strstr(got, want), fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got: '%s'\n#   expected to contain: '%s'\n", got ? got : "(null)",
		       want);
	return r;
}

static inline void diag(const char *msg)
{
	printf("# %s\n", msg);
}

/* Prints the plan; returns the exit status for main(). */
static inline int done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
	if (tap_planned >= 0 && tap_planned != tap_run)
		return 1;
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_run);
	return tap_failed ? 1 : 0;
}

#endif /* WSPLICE_TAP_H */
