// SPDX-License-Identifier: GPL-2.0
/*
 * bulk: one tunnel, --bytes each way at the same time: a writer thread streams a pattern while
 * the main thread reads the echo back and checks every byte.
 *
 * The pattern never repeats: the 8-byte word at stream offset 8i is (i + 1) * K (K odd, so the
 * map is invertible modulo 2^64). Any 8 received bytes thus say which stream offset they were
 * sent from, and a mismatch is reported as the exact number of bytes lost or duplicated (a whole
 * skb, for example). Throughput is --bytes over the time from the first send to the last byte
 * back; CPU is sampled at both ends.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define K      0x9E3779B97F4A7C15ULL
#define WCHUNK (1 << 20)
#define RCHUNK (256 * 1024)

static int fd;

/* Fills buf with the pattern of the stream bytes [off, off + len), off and len multiples of 8. */
static void fill(char *buf, uint64_t off, size_t len)
{
	uint64_t w = (off / 8 + 1) * K;

	for (size_t i = 0; i < len; i += 8, w += K)
		memcpy(buf + i, &w, 8);
}

static void *writer(void *arg)
{
	char *buf = malloc(WCHUNK);
	uint64_t off = 0;

	(void)arg;
	if (!buf)
		die("out of memory");
	while (off < opt.bytes) {
		size_t boff = off % WCHUNK, len = WCHUNK - boff;
		ssize_t w;

		if (boff == 0)
			fill(buf, off, WCHUNK);
		if (len > opt.bytes - off)
			len = opt.bytes - off;
		w = send(fd, buf + boff, len, MSG_NOSIGNAL);
		if (w <= 0)
			die("send at byte %llu: %s", (unsigned long long)off, strerror(errno));
		off += w;
	}
	free(buf);
	return NULL;
}

/* The multiplicative inverse of K modulo 2^64 (Newton's iteration). */
static uint64_t k_inverse(void)
{
	uint64_t x = K;

	for (int i = 0; i < 6; i++)
		x *= 2 - K * x;
	return x;
}

/*
 * rx[0..n) should be the stream at offset off but rx[0] is wrong: finds, among the next 8-byte
 * windows, one that decodes to a sent offset and dies saying how many bytes were lost or
 * duplicated there.
 */
static void explain(const char *rx, size_t n, uint64_t off)
{
	uint64_t inv = k_inverse();

	for (size_t s = 0; s + 8 <= n && s < 64; s++) {
		uint64_t v, idx;

		memcpy(&v, rx + s, 8);
		idx = v * inv - 1;
		if (idx < opt.bytes / 8 + 1)
			die("at stream byte %llu the echo carries the bytes sent at %llu: %lld "
			    "bytes "
			    "%s",
			    (unsigned long long)(off + s), (unsigned long long)(8 * idx),
			    llabs((long long)(8 * idx) - (long long)(off + s)),
			    8 * idx > off + s ? "lost" : "duplicated");
	}
	die("at stream byte %llu the echo carries %zu bytes that were never sent",
	    (unsigned long long)off, n);
}

/* Checks rx[0..n), which should be the stream at offset off. */
static void check(const char *rx, size_t n, uint64_t off)
{
	uint64_t w = (off / 8 + 1) * K;
	size_t i = 0, lead = (8 - off % 8) % 8;
	char e[8];

	/* The bytes before the first word boundary, one by one. */
	memcpy(e, &w, 8);
	for (; i < lead && i < n; i++)
		if (rx[i] != e[off % 8 + i])
			explain(rx + i, n - i, off + i);
	if (lead)
		w += K;
	for (; i + 8 <= n; i += 8, w += K) {
		uint64_t v;

		memcpy(&v, rx + i, 8);
		if (v != w)
			break;
	}
	memcpy(e, &w, 8);
	for (size_t j = 0; i < n && j < 8; i++, j++)
		if (rx[i] != e[j])
			explain(rx + i, n - i, off + i);
}

void mode_bulk(void)
{
	char *rx = malloc(RCHUNK);
	uint64_t off = 0, t0, t1;
	struct cpu_snap *ca, *cb;
	pthread_t wt;

	if (!rx)
		die("out of memory");
	opt.bytes &= ~7ULL;
	fd = tunnel_open(opt.port, NULL);
	phase = "streaming";
	ca = cpu_snap_take();
	t0 = now_ns();
	if (pthread_create(&wt, NULL, writer, NULL))
		die("pthread_create failed");
	while (off < opt.bytes) {
		size_t want = opt.bytes - off < RCHUNK ? opt.bytes - off : RCHUNK;
		ssize_t r = recv(fd, rx, want, 0);

		if (r <= 0)
			die("%s after %llu bytes back", r ? strerror(errno) : "EOF",
			    (unsigned long long)off);
		check(rx, r, off);
		off += r;
	}
	t1 = now_ns();
	cb = cpu_snap_take();
	pthread_join(wt, NULL);
	jopen(NULL);
	jstr("mode", "bulk");
	jint("bytes_each_way", opt.bytes);
	jnum("secs", (t1 - t0) / 1e9);
	jnum("mib_per_s_each_way", opt.bytes / 1048576.0 / ((t1 - t0) / 1e9));
	jcpu(ca, cb);
	jclose();
	close(fd);
}
