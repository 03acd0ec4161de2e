// SPDX-License-Identifier: GPL-2.0
/*
 * CPU and memory accounting from /proc, taken by the load generator itself at the exact edges of
 * its measured window.
 *
 * CPU: the machine's busy time is wall time minus /proc/stat's idle and iowait, which NO_HZ kernels
 * measure exactly (nanoseconds kept at idle entry and exit). /proc/stat's user/system/softirq
 * columns are *sampled* by the tick and a task that runs in short bursts between ticks is missed:
 * at 20,000 wakeups/s they showed half the real busy time here ("machine_ticks", kept for
 * comparison). Every /proc/PID/stat (utime+stime, kernel threads included) is scaled to the task's
 * exact runtime; they split the busy time among the proxy, the echo server, the load generator,
 * kworkers, ksoftirqd, other kernel threads and other processes. Without IRQ_TIME_ACCOUNTING (this
 * kernel) softirq work done inline in a task's syscall (loopback delivers packets that way) is
 * part of that task's time; softirq run from the idle task belongs to no pid and is most of
 * "unattributed". A thread that exits inside the window takes its time with it ("vanished").
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define PF_KTHREAD 0x00200000

enum cat { C_PROXY, C_ECHO, C_SELF, C_KWORKER, C_KSOFTIRQD, C_KTHREAD, C_OTHER, C_NR };
static const char *const cat_name[C_NR] = {
    [C_PROXY] = "proxy",       [C_ECHO] = "echo",	    [C_SELF] = "loadgen",
    [C_KWORKER] = "kworker",   [C_KSOFTIRQD] = "ksoftirqd", [C_KTHREAD] = "kthread_other",
    [C_OTHER] = "other_procs",
};

struct pid_ticks {
	int pid;
	enum cat cat;
	unsigned long long ticks;
};

#define NCPU_MAX 64
struct cpu_snap {
	uint64_t t;
	unsigned long long busy, idle, softirq, irq;
	unsigned long long cpu_idle[NCPU_MAX];
	int ncpu;
	struct pid_ticks *p;
	size_t n, cap;
};

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r >= 0)
		buf[r] = 0;
	return r;
}

static void read_proc_stat(struct cpu_snap *s)
{
	static char buf[16384];
	char *line = buf;

	if (read_file("/proc/stat", buf, sizeof(buf)) <= 0)
		die("cannot read /proc/stat");
	while (line && !strncmp(line, "cpu", 3)) {
		unsigned long long u, ni, sy, id, io, irq, sirq, st;
		int cpu = -1;

		if (line[3] == ' ' && sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
					     &u, &ni, &sy, &id, &io, &irq, &sirq, &st) == 8) {
			s->busy = u + ni + sy + irq + sirq + st;
			s->idle = id + io;
			s->softirq = sirq;
			s->irq = irq;
		} else if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &u,
				  &ni, &sy, &id, &io, &irq, &sirq, &st) == 9 &&
			   cpu >= 0 && cpu < NCPU_MAX) {
			s->cpu_idle[cpu] = id + io;
			if (cpu + 1 > s->ncpu)
				s->ncpu = cpu + 1;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
}

static enum cat classify(int pid, const char *comm, unsigned long flags)
{
	if (pid == opt.proxy_pid)
		return C_PROXY;
	if (pid == opt.echo_pid)
		return C_ECHO;
	if (pid == getpid())
		return C_SELF;
	if (!(flags & PF_KTHREAD))
		return C_OTHER;
	if (!strncmp(comm, "kworker", 7))
		return C_KWORKER;
	if (!strncmp(comm, "ksoftirqd", 9))
		return C_KSOFTIRQD;
	return C_KTHREAD;
}

/* Parses one /proc/PID/stat: "pid (comm) state ppid ... flags(9) ... utime(14) stime(15)". */
static int read_pid(int pid, struct pid_ticks *out)
{
	char path[64], buf[1024], comm[64] = "";
	unsigned long flags = 0;
	unsigned long long ut = 0, st = 0;
	char *open_p, *close_p, *f;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p)
		return -1;
	snprintf(comm, sizeof(comm), "%.*s", (int)(close_p - open_p - 1), open_p + 1);
	/* Field 3 (state) starts after ") "; count fields from there. */
	f = close_p + 2;
	for (field = 3; f && field <= 15; field++) {
		if (field == 9)
			flags = strtoul(f, NULL, 10);
		else if (field == 14)
			ut = strtoull(f, NULL, 10);
		else if (field == 15)
			st = strtoull(f, NULL, 10);
		f = strchr(f, ' ');
		f = f ? f + 1 : NULL;
	}
	out->pid = pid;
	out->ticks = ut + st;
	out->cat = classify(pid, comm, flags);
	return 0;
}

struct cpu_snap *cpu_snap_take(void)
{
	struct cpu_snap *s = calloc(1, sizeof(*s));
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!s || !d)
		die("cannot read /proc");
	s->t = now_ns();
	read_proc_stat(s);
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 1024;
			s->p = realloc(s->p, s->cap * sizeof(*s->p));
			if (!s->p)
				die("out of memory");
		}
		if (read_pid(atoi(e->d_name), &s->p[s->n]) == 0)
			s->n++;
	}
	closedir(d);
	return s;
}

static const struct pid_ticks *find(const struct cpu_snap *s, int pid)
{
	/* readdir returns /proc in pid order, so both snapshots are sorted. */
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->p[mid].pid == pid)
			return &s->p[mid];
		if (s->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < s->n; i++) /* in case the order assumption ever fails */
		if (s->p[i].pid == pid)
			return &s->p[i];
	return NULL;
}

void jcpu(struct cpu_snap *a, struct cpu_snap *b)
{
	double hz = sysconf(_SC_CLK_TCK), secs = (b->t - a->t) / 1e9, sum = 0, busy;
	double by_cat[C_NR] = {0};
	int vanished = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct pid_ticks *old = find(a, b->p[i].pid);
		unsigned long long d = b->p[i].ticks;

		/* Born inside the window (or a reused pid): everything it ran is new. */
		if (old && old->ticks <= d)
			d -= old->ticks;
		by_cat[b->p[i].cat] += d / hz;
	}
	for (size_t i = 0; i < a->n; i++)
		if (!find(b, a->p[i].pid))
			vanished++;
	jopen("cpu");
	jnum("secs", secs);
	busy = b->ncpu - (b->idle - a->idle) / hz / secs;
	jnum("machine", busy);
	for (int c = 0; c < a->ncpu && c < b->ncpu; c++) {
		char k[16];

		snprintf(k, sizeof(k), "cpu%d", c);
		jnum(k, 1 - (b->cpu_idle[c] - a->cpu_idle[c]) / hz / secs);
	}
	jnum("machine_ticks", (b->busy - a->busy) / hz / secs);
	jnum("softirq", (b->softirq - a->softirq) / hz / secs);
	jnum("irq", (b->irq - a->irq) / hz / secs);
	for (int c = 0; c < C_NR; c++) {
		jnum(cat_name[c], by_cat[c] / secs);
		sum += by_cat[c];
	}
	jnum("tasks", sum / secs);
	jnum("unattributed", busy - sum / secs);
	jint("vanished", vanished);
	jclose();
	free(a->p);
	free(b->p);
	free(a);
	free(b);
}

/* The value of "Name:" in a /proc file of "Name: value kB" lines, or -1. */
static long long field(const char *path, const char *name)
{
	static char buf[65536];
	size_t len = strlen(name);
	char *p;

	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (p = buf; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, len) && p[len] == ':')
			return strtoll(p + len + 1, NULL, 10);
	return -1;
}

static long long rss(int pid)
{
	char path[64];

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return field(path, "VmRSS");
}

static long long all_rss(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long long sum = 0, v;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (isdigit((unsigned char)e->d_name[0]) && (v = rss(atoi(e->d_name))) > 0)
			sum += v;
	closedir(d);
	return sum;
}

static void sockstat(struct mem_snap *m)
{
	char buf[4096], *p;
	long long inuse, orphan, tw, alloc, mem;

	m->tcp_mem = m->tcp_inuse = m->tcp_orphan = -1;
	if (read_file("/proc/net/sockstat", buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "\nTCP: ")))
		return;
	if (sscanf(p, "\nTCP: inuse %lld orphan %lld tw %lld alloc %lld mem %lld", &inuse, &orphan,
		   &tw, &alloc, &mem) == 5) {
		m->tcp_inuse = inuse;
		m->tcp_orphan = orphan;
		m->tcp_mem = mem * (sysconf(_SC_PAGESIZE) / 1024);
	}
}

/* Bytes held by each slab cache (active objects x object size); needs root, else empty. */
static void slabinfo(struct mem_snap *m)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];

	m->nslab = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && m->nslab < SLAB_MAX) {
		struct slab_cache *c = &m->slabs[m->nslab];
		long long active, total, size;

		if (sscanf(line, "%47s %lld %lld %lld", c->name, &active, &total, &size) == 4) {
			c->bytes = active * size;
			m->nslab++;
		}
	}
	fclose(f);
}

/* Waits (at most max_s) until the kernel stops freeing what earlier runs closed: TCP sockets
 * in use and orphaned, and Slab, steady for half a second. Returns the seconds waited. */
double mem_settle(double max_s)
{
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(max_s * 1e9);
	struct mem_snap a, b;

	mem_snap_take(&a);
	while (now_ns() < end) {
		sleep_s(0.5);
		mem_snap_take(&b);
		if (b.tcp_inuse == a.tcp_inuse && b.tcp_orphan == a.tcp_orphan &&
		    llabs(b.slab - a.slab) < 256)
			break;
		a = b;
	}
	return (now_ns() - t0) / 1e9;
}

void mem_snap_take(struct mem_snap *m)
{
	m->proxy_rss = rss(opt.proxy_pid);
	m->echo_rss = rss(opt.echo_pid);
	m->self_rss = rss(getpid());
	m->all_rss = all_rss();
	m->slab = field("/proc/meminfo", "Slab");
	m->sreclaimable = field("/proc/meminfo", "SReclaimable");
	m->sunreclaim = field("/proc/meminfo", "SUnreclaim");
	m->percpu = field("/proc/meminfo", "Percpu");
	m->kernel_stack = field("/proc/meminfo", "KernelStack");
	m->page_tables = field("/proc/meminfo", "PageTables");
	m->mem_available = field("/proc/meminfo", "MemAvailable");
	sockstat(m);
	slabinfo(m);
}

static int cmp_growth(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* "slab_top": the caches that grew most, in bytes per tunnel. */
static void jslab_top(const struct mem_snap *a, const struct mem_snap *b, int tunnels)
{
	struct {
		double per;
		const char *name;
	} g[SLAB_MAX];
	int n = 0;

	for (int i = 0; i < b->nslab; i++) {
		long long before = 0;

		for (int j = 0; j < a->nslab; j++)
			if (!strcmp(a->slabs[j].name, b->slabs[i].name))
				before = a->slabs[j].bytes;
		g[n].per = (double)(b->slabs[i].bytes - before) / tunnels;
		g[n++].name = b->slabs[i].name;
	}
	qsort(g, n, sizeof(g[0]), cmp_growth);
	jopen("slab_top_bytes_per_tunnel");
	for (int i = 0; i < n && i < 10; i++)
		jnum(g[i].name, g[i].per);
	jclose();
}

void jmem(const struct mem_snap *a, const struct mem_snap *b, int tunnels)
{
#define D(f) ((double)(b->f - a->f))
	jopen("mem");
	jint("tunnels", tunnels);
	jint("proxy_rss_before_kib", a->proxy_rss);
	jint("proxy_rss_after_kib", b->proxy_rss);
	jnum("proxy_rss_kib", D(proxy_rss));
	jnum("echo_rss_kib", D(echo_rss));
	jnum("loadgen_rss_kib", D(self_rss));
	/* Every other process's growth: noise from whatever else runs on the machine. */
	jnum("others_rss_kib", D(all_rss) - D(proxy_rss) - D(echo_rss) - D(self_rss));
	jnum("slab_kib", D(slab));
	jnum("sreclaimable_kib", D(sreclaimable));
	jnum("sunreclaim_kib", D(sunreclaim));
	jnum("percpu_kib", D(percpu));
	jnum("kernel_stack_kib", D(kernel_stack));
	jnum("page_tables_kib", D(page_tables));
	jnum("mem_available_kib", -D(mem_available));
	jnum("tcp_mem_kib", D(tcp_mem));
	jnum("tcp_sockets", D(tcp_inuse));
	jnum("proxy_rss_per_tunnel_kib", D(proxy_rss) / tunnels);
	jnum("slab_per_tunnel_kib", D(slab) / tunnels);
	jnum("sunreclaim_per_tunnel_kib", D(sunreclaim) / tunnels);
	jnum("percpu_per_tunnel_kib", D(percpu) / tunnels);
	if (b->nslab)
		jslab_top(a, b, tunnels);
	jclose();
#undef D
}
