// SPDX-License-Identifier: GPL-2.0
/*
 * churn: --threads client threads, each in a loop: connect, upgrade, send 64 bytes, read them
 * back, close. Tunnels completed inside the measured window count; failures are counted by step
 * and the thread goes on (a proxy that drops some handshakes under churn shows as errors, not as a
 * crash of the benchmark).
 *
 * --tunnels N instead: exactly N tunnels (split between the threads), no window and no timing
 * figure; a failed one fails the run. That is what scripts/bench --syscalls counts per tunnel.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MSG 64

struct worker {
	pthread_t th;
	uint64_t ok, failed, want;
	const char *last_err;
	struct samples cycle;
};

static uint64_t win_start, win_end;

/* One tunnel's life. Returns NULL on success or the failed step. */
static const char *one(void)
{
	char tx[MSG], rx[MSG];
	const char *err = NULL;
	int fd = tunnel_open(opt.port, &err), got = 0;

	if (fd < 0)
		return err;
	memset(tx, 'c', MSG);
	if (send(fd, tx, MSG, MSG_NOSIGNAL) != MSG)
		err = "send message";
	while (!err && got < MSG) {
		ssize_t r = recv(fd, rx + got, MSG - got, 0);

		if (r <= 0)
			err = r ? "recv echo" : "EOF before echo";
		else
			got += r;
	}
	if (!err && memcmp(tx, rx, MSG))
		err = "echo altered";
	close(fd);
	return err;
}

/* --tunnels: a fixed count, every one must succeed. */
static void *work_count(void *arg)
{
	struct worker *w = arg;

	while (w->ok < w->want) {
		const char *err = one();

		if (err) {
			w->failed++;
			w->last_err = err;
			return NULL;
		}
		w->ok++;
	}
	return NULL;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		uint64_t t = now_ns(), t1;
		const char *err;

		if (t >= win_end)
			break;
		err = one();
		t1 = now_ns();
		if (t < win_start || t1 > win_end)
			continue;
		if (err) {
			w->failed++;
			w->last_err = err;
			sleep_s(0.001);
			continue;
		}
		w->ok++;
		samples_add(&w->cycle, t1 - t);
	}
	return NULL;
}

static void churn_count(struct worker *w)
{
	uint64_t ok = 0;

	phase = "churning a fixed count";
	for (int i = 0; i < opt.threads; i++) {
		w[i].want = opt.tunnels / opt.threads + (i < opt.tunnels % opt.threads);
		if (pthread_create(&w[i].th, NULL, work_count, &w[i]))
			die("pthread_create failed");
	}
	for (int i = 0; i < opt.threads; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].failed)
			die("churn: tunnel %llu of thread %d failed: %s",
			    (unsigned long long)w[i].ok + 1, i, w[i].last_err);
		ok += w[i].ok;
	}
	jopen(NULL);
	jstr("mode", "churn");
	jint("threads", opt.threads);
	jint("ok", ok);
	jint("failed", 0);
	jclose();
}

void mode_churn(void)
{
	struct worker *w = calloc(opt.threads, sizeof(*w));
	struct cpu_snap *ca, *cb;
	struct samples all = {0};
	uint64_t ok = 0, failed = 0;
	const char *last = "";

	if (!w)
		die("out of memory");
	if (opt.tunnels)
		return churn_count(w);
	win_start = now_ns() + (uint64_t)(opt.warmup * 1e9);
	win_end = win_start + (uint64_t)(opt.duration * 1e9);
	phase = "churning";
	for (int i = 0; i < opt.threads; i++)
		if (pthread_create(&w[i].th, NULL, work, &w[i]))
			die("pthread_create failed");
	sleep_s(opt.warmup);
	ca = cpu_snap_take();
	while (now_ns() < win_end)
		sleep_s((win_end - now_ns()) / 1e9);
	cb = cpu_snap_take();
	for (int i = 0; i < opt.threads; i++) {
		pthread_join(w[i].th, NULL);
		ok += w[i].ok;
		failed += w[i].failed;
		if (w[i].last_err)
			last = w[i].last_err;
		samples_merge(&all, &w[i].cycle);
	}
	jopen(NULL);
	jstr("mode", "churn");
	jint("threads", opt.threads);
	jint("ok", ok);
	jint("failed", failed);
	jstr("last_error", last);
	jnum("tunnels_per_s", ok / opt.duration);
	jlatency("cycle", &all);
	jcpu(ca, cb);
	jclose();
}
