// SPDX-License-Identifier: GPL-2.0
/*
 * bulk: one tunnel, --bytes each way at the same time: a writer thread streams a pattern while
 * the main thread reads the echo back and checks it.
 *
 * The stream is cut in 64 KiB blocks: 8 bytes of block number, then a fixed pseudo-random body,
 * so a lost, duplicated or reordered block is caught with one memcmp per read. Throughput is
 * --bytes over the time from the first send to the last byte back; CPU is sampled at both ends.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define BLK	 65536
#define WCHUNK	 (16 * BLK)
#define RCHUNK	 (4 * BLK)

static char body[BLK];
static int fd;

static void fill_body(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;

	for (size_t i = 0; i < BLK; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(body + i, &x, 8);
	}
}

static void *writer(void *arg)
{
	char *buf = malloc(WCHUNK);
	uint64_t off = 0;

	(void)arg;
	if (!buf)
		die("out of memory");
	for (int b = 0; b < WCHUNK / BLK; b++)
		memcpy(buf + b * BLK, body, BLK);
	while (off < opt.bytes) {
		size_t boff = off % WCHUNK, len = WCHUNK - boff;
		ssize_t w;

		if (boff == 0)
			for (uint64_t b = 0; b < WCHUNK / BLK; b++) {
				uint64_t blk = off / BLK + b;

				memcpy(buf + b * BLK, &blk, 8);
			}
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

/*
 * Says where the bytes at stream offset off really come from, for the error message: a block
 * number where body bytes belong (or the reverse), or body bytes from another position of a block.
 */
static void explain(const char *rx, size_t n, uint64_t off)
{
	size_t in = off % BLK;

	if (n >= 8) {
		uint64_t v;

		memcpy(&v, rx, 8);
		if (v < opt.bytes / BLK + 16)
			die("stream byte %llu (block %llu + %zu): got the header of block %llu: "
			    "%lld bytes lost (negative: duplicated)",
			    (unsigned long long)off, (unsigned long long)(off / BLK), in,
			    (unsigned long long)v, (long long)(v * BLK - off));
	}
	if (n >= 16)
		for (size_t j = 8; j + 16 <= BLK; j++)
			if (!memcmp(body + j, rx, 16))
				die("stream byte %llu (block %llu + %zu): got the bytes of block offset "
				    "%zu: %lld bytes lost (negative: duplicated), modulo %d",
				    (unsigned long long)off, (unsigned long long)(off / BLK), in, j,
				    (long long)j - (long long)in, BLK);
	die("stream byte %llu (block %llu + %zu): %zu bytes that are not from the stream",
	    (unsigned long long)off, (unsigned long long)(off / BLK), in, n);
}

/* Checks rx[0..n), the bytes of the stream at offset off (n never crosses a block boundary). */
static void check(const char *rx, size_t n, uint64_t off)
{
	size_t in = off % BLK, h = in < 8 ? (n < 8 - in ? n : 8 - in) : 0;
	uint64_t blk = off / BLK;
	char head[8];

	memcpy(head, &blk, 8);
	if (!memcmp(rx, head + in % 8, h) && !memcmp(rx + h, body + in + h, n - h))
		return;
	for (size_t i = 0; i < n; i++)
		if (rx[i] != (in + i < 8 ? head[in + i] : body[in + i]))
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
	fill_body();
	fd = tunnel_open(opt.port, NULL);
	phase = "streaming";
	ca = cpu_snap_take();
	t0 = now_ns();
	if (pthread_create(&wt, NULL, writer, NULL))
		die("pthread_create failed");
	while (off < opt.bytes) {
		size_t want = BLK - off % BLK;
		ssize_t r;

		if (want > opt.bytes - off)
			want = opt.bytes - off;
		r = recv(fd, rx, want, 0);
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
