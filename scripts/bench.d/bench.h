// SPDX-License-Identifier: GPL-2.0
/* What the load generator's files share: options, clocks, samples, JSON, /proc accounting. */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC 1000000000ULL

struct opts {
	const char *mode;
	int port;	 /* where tunnels connect: a proxy's frontend or the echo server */
	int conns;	 /* many, idle: tunnels open at once */
	double rate;	 /* many: messages per second per tunnel */
	int size;	 /* bytes per message */
	double warmup;	 /* seconds before the measured window */
	double duration; /* seconds of the measured window */
	double settle;	 /* idle: seconds between opening and sampling memory */
	uint64_t bytes;	 /* bulk: bytes each way */
	int threads;	 /* churn: client threads */
	int tunnels;	 /* churn: a fixed number of tunnels instead of a window (0: window) */
	int proxy_pid;	 /* 0 for the direct target */
	int echo_pid;
	unsigned deadline; /* seconds after which the whole run is abandoned */
};

extern struct opts opt;
/* Which step the run is in, named in the message if the deadline strikes. */
extern const char *volatile phase;

uint64_t now_ns(void);
void sleep_s(double secs);
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);

/* A growing array of nanosecond samples; pct() sorts it once. */
struct samples {
	uint64_t *v;
	size_t n, cap;
	bool sorted;
};
void samples_add(struct samples *s, uint64_t v);
void samples_merge(struct samples *dst, const struct samples *src);
double samples_pct(struct samples *s, double p); /* p in [0,1]; NAN when empty */
double samples_mean(const struct samples *s);

/* One JSON object on stdout, built with nested calls; key NULL only for the outer object. */
void jopen(const char *key);
void jclose(void);
void jnum(const char *key, double v); /* NAN and infinities print as null */
void jint(const char *key, long long v);
void jstr(const char *key, const char *v);
/* "key": {"p50_us":..., "p99_us":..., ...} from nanosecond samples. */
void jlatency(const char *key, struct samples *s);

/* CPU used over a window, from /proc/stat and every /proc/PID/stat (kernel threads included). */
struct cpu_snap;
struct cpu_snap *cpu_snap_take(void);
/* Prints "cpu": {...} in cores (CPU seconds per wall second) between a and b; frees both. */
void jcpu(struct cpu_snap *a, struct cpu_snap *b);

/* Memory of the proxy and of the kernel, in KiB. */
#define SLAB_MAX 512
struct slab_cache {
	char name[48];
	long long bytes;
};
struct mem_snap {
	long long proxy_rss, echo_rss, self_rss, all_rss;
	long long slab, sreclaimable, sunreclaim, percpu, kernel_stack, page_tables, mem_available;
	long long tcp_mem;		   /* /proc/net/sockstat TCP mem, converted from pages */
	long long tcp_inuse, tcp_orphan;   /* sockets, not KiB */
	struct slab_cache slabs[SLAB_MAX]; /* /proc/slabinfo, in bytes */
	int nslab;
};
void mem_snap_take(struct mem_snap *m);
double mem_settle(double max_s);
/* Prints "mem": {...}: the growth from a to b, in total and per tunnel. */
void jmem(const struct mem_snap *a, const struct mem_snap *b, int tunnels);

/* Tunnels: a hand-made WebSocket upgrade over TCP to 127.0.0.1:port. */
/* Blocking; returns the connected, upgraded fd, or dies; errors in *err instead when err != NULL
 * (then returns -1). */
int tunnel_open(int port, const char **err);
/* Opens n tunnels with at most 256 handshakes in flight; fds[] get non-blocking upgraded sockets.
 * Dies on any failure or after timeout_s seconds. */
void tunnels_open(int port, int n, int *fds, double timeout_s);
/* Each of fds[0..n) sends size bytes and must get them back, or the run dies. */
void tunnels_ping(const int *fds, int n, int size, double timeout_s);
int set_nonblock(int fd, bool on);

void mode_many(void);
void mode_idle(void);
void mode_pingpong(void);
void mode_bulk(void);
void mode_churn(void);

#endif
