// SPDX-License-Identifier: GPL-2.0
/* Clocks, fatal errors, latency samples and the JSON writer of the load generator. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

void sleep_s(double secs)
{
	struct timespec ts = {.tv_sec = (time_t)secs};

	ts.tv_nsec = (long)((secs - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0)
		;
}

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "loadgen %s: ", opt.mode ? opt.mode : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void samples_add(struct samples *s, uint64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 65536;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory for %zu samples", s->cap);
	}
	s->v[s->n++] = v;
	s->sorted = false;
}

void samples_merge(struct samples *dst, const struct samples *src)
{
	for (size_t i = 0; i < src->n; i++)
		samples_add(dst, src->v[i]);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p of all samples at or below it. */
double samples_pct(struct samples *s, double p)
{
	size_t i;

	if (!s->n)
		return NAN;
	if (!s->sorted)
		qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	s->sorted = true;
	i = (size_t)ceil(p * s->n);
	return s->v[i ? i - 1 : 0];
}

double samples_mean(const struct samples *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->v[i];
	return s->n ? sum / s->n : NAN;
}

/* JSON: depth-indexed "first member" flags decide where commas go. */
static int jdepth;
static bool jfirst[16];

static void jkey(const char *key)
{
	if (jdepth && !jfirst[jdepth])
		putchar(',');
	jfirst[jdepth] = false;
	if (key)
		printf("\"%s\":", key);
}

void jopen(const char *key)
{
	jkey(key);
	putchar('{');
	jfirst[++jdepth] = true;
}

void jclose(void)
{
	putchar('}');
	if (--jdepth == 0) {
		putchar('\n');
		fflush(stdout);
	}
}

void jnum(const char *key, double v)
{
	jkey(key);
	if (isfinite(v))
		printf("%.10g", v);
	else
		fputs("null", stdout);
}

void jint(const char *key, long long v)
{
	jkey(key);
	printf("%lld", v);
}

void jstr(const char *key, const char *v)
{
	jkey(key);
	putchar('"');
	for (; *v; v++)
		if (*v == '"' || *v == '\\')
			printf("\\%c", *v);
		else if ((unsigned char)*v < 0x20)
			printf("\\u%04x", *v);
		else
			putchar(*v);
	putchar('"');
}

void jlatency(const char *key, struct samples *s)
{
	jopen(key);
	jint("n", (long long)s->n);
	jnum("p50_us", samples_pct(s, 0.50) / 1e3);
	jnum("p90_us", samples_pct(s, 0.90) / 1e3);
	jnum("p99_us", samples_pct(s, 0.99) / 1e3);
	jnum("p999_us", samples_pct(s, 0.999) / 1e3);
	jnum("max_us", samples_pct(s, 1.0) / 1e3);
	jnum("mean_us", samples_mean(s) / 1e3);
	jclose();
}
