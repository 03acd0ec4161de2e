// SPDX-License-Identifier: GPL-2.0
/*
 * pingpong: one tunnel, one message in flight: send --size bytes, block until they are back,
 * repeat. Round trips during --warmup are discarded; CPU is sampled over the measured window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

void mode_pingpong(void)
{
	int fd = tunnel_open(opt.port, NULL), size = opt.size;
	char *tx = malloc(size), *rx = malloc(size);
	uint64_t t0 = now_ns(), win_start = t0 + (uint64_t)(opt.warmup * 1e9);
	uint64_t win_end = win_start + (uint64_t)(opt.duration * 1e9), seq = 0;
	struct cpu_snap *ca = NULL, *cb;
	struct samples rtt = {0};

	if (!tx || !rx)
		die("out of memory");
	phase = "ping-pong";
	for (;;) {
		uint64_t t = now_ns();
		int got = 0;

		if (!ca && t >= win_start)
			ca = cpu_snap_take(), t = now_ns();
		if (t >= win_end)
			break;
		memset(tx, (char)seq, size);
		memcpy(tx, &seq, sizeof(seq));
		if (send(fd, tx, size, MSG_NOSIGNAL) != size)
			die("send: %s", strerror(errno));
		while (got < size) {
			ssize_t r = recv(fd, rx + got, size - got, 0);

			if (r <= 0)
				die("message %llu: %s", (unsigned long long)seq,
				    r ? strerror(errno) : "EOF");
			got += r;
		}
		if (memcmp(tx, rx, size))
			die("message %llu came back altered", (unsigned long long)seq);
		if (ca)
			samples_add(&rtt, now_ns() - t);
		seq++;
	}
	cb = cpu_snap_take();
	jopen(NULL);
	jstr("mode", "pingpong");
	jint("size", size);
	jnum("round_trips_per_s", rtt.n / opt.duration);
	jlatency("rtt", &rtt);
	jcpu(ca, cb);
	jclose();
	close(fd);
}
