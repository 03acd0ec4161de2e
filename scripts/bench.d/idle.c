// SPDX-License-Identifier: GPL-2.0
/*
 * idle: what N open, idle tunnels cost in memory.
 *
 * A warm-up of 50 tunnels (opened, pinged, closed) lets the proxy allocate whatever it allocates
 * once (pools, the first BPF map entries) before the baseline, which waits until the kernel has
 * finished freeing the sockets of earlier runs (TCP sockets in use and orphaned, and Slab, steady
 * for 0.5 s; at most 15 s): the previous target's 8,000 tunnels are still being torn down when
 * this run starts, and their frees would cancel part of this run's growth. Then N tunnels are
 * opened, each echoes one 64-byte ping (so each is fully established, on the BPF path inside the
 * sockhash), and after --settle seconds memory is sampled again. The growth is split into the
 * proxy's RSS and the kernel's (slab, per-cpu, sockets, and which slab caches grew); the bench
 * subtracts the direct target's kernel growth (the client's and the echo server's own sockets)
 * to get the proxy's kernel share.
 */
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

#define WARM 50

void mode_idle(void)
{
	int n = opt.conns, *fds = calloc(n, sizeof(int));
	struct mem_snap a, b;
	double settled;

	if (!fds)
		die("out of memory");
	phase = "warming up";
	tunnels_open(opt.port, WARM, fds, 30);
	tunnels_ping(fds, WARM, 64, 30);
	for (int i = 0; i < WARM; i++)
		close(fds[i]);
	phase = "waiting for the kernel to settle";
	settled = mem_settle(15);
	mem_snap_take(&a);
	phase = "opening tunnels";
	tunnels_open(opt.port, n, fds, 120);
	phase = "pinging tunnels";
	tunnels_ping(fds, n, 64, 60);
	sleep_s(opt.settle);
	mem_snap_take(&b);
	jopen(NULL);
	jstr("mode", "idle");
	jint("tunnels", n);
	jnum("settle_wait_s", settled);
	jmem(&a, &b, n);
	jclose();
	phase = "closing";
	for (int i = 0; i < n; i++)
		close(fds[i]);
}
