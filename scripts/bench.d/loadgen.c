// SPDX-License-Identifier: GPL-2.0
/*
 * loadgen: the benchmark's load generator. One workload per run, one JSON object on stdout.
 *
 *   loadgen MODE --port P [--proxy-pid PID] [--echo-pid PID] [options]
 *
 *   many      --conns 2000 --rate 10 --size 256 --warmup 2 --duration 8
 *             open-loop: every tunnel sends one message every 1/rate s, phases spread evenly
 *   idle      --conns 8000 --settle 1       memory growth while the tunnels sit open
 *   pingpong  --size 64 --warmup 0.5 --duration 5   one tunnel, one message in flight
 *   bulk      --bytes 1073741824            one tunnel, that many bytes each way at once
 *   churn     --threads 4 --warmup 0.5 --duration 5   connect, upgrade, one message, close
 *             (--tunnels N: exactly N of them, no timing: for counting system calls)
 *
 * --port is a proxy's frontend or, for the direct target, the echo server itself. Every byte that
 * comes back is checked (a lost or duplicated byte fails the run: exit 1, reason on stderr).
 * --deadline SECS (default 300) bounds the whole run: SIGALRM then exits with status 4.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

struct opts opt = {
    .conns = 2000,
    .rate = 10,
    .size = 256,
    .warmup = 2,
    .duration = 8,
    .settle = 1,
    .bytes = 1ULL << 30,
    .threads = 4,
    .deadline = 300,
};
const char *volatile phase = "start";

static void on_alarm(int sig)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "loadgen %s: deadline of %u s passed while %s\n",
			 opt.mode, opt.deadline, phase);

	(void)sig;
	if (write(2, msg, n) < 0)
		_exit(5);
	_exit(4);
}

static void usage(void)
{
	fputs("usage: loadgen many|idle|pingpong|bulk|churn --port P [--proxy-pid N] "
	      "[--echo-pid N]\n"
	      "       [--conns N] [--rate R] [--size B] [--warmup S] [--duration S] [--settle S]\n"
	      "       [--bytes B] [--threads N] [--tunnels N] [--deadline S]\n",
	      stderr);
	exit(2);
}

static void parse(int argc, char **argv)
{
	if (argc < 2)
		usage();
	opt.mode = argv[1];
	for (int i = 2; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(k, "--port"))
			opt.port = atoi(v);
		else if (!strcmp(k, "--proxy-pid"))
			opt.proxy_pid = atoi(v);
		else if (!strcmp(k, "--echo-pid"))
			opt.echo_pid = atoi(v);
		else if (!strcmp(k, "--conns"))
			opt.conns = atoi(v);
		else if (!strcmp(k, "--rate"))
			opt.rate = atof(v);
		else if (!strcmp(k, "--size"))
			opt.size = atoi(v);
		else if (!strcmp(k, "--warmup"))
			opt.warmup = atof(v);
		else if (!strcmp(k, "--duration"))
			opt.duration = atof(v);
		else if (!strcmp(k, "--settle"))
			opt.settle = atof(v);
		else if (!strcmp(k, "--bytes"))
			opt.bytes = strtoull(v, NULL, 0);
		else if (!strcmp(k, "--tunnels"))
			opt.tunnels = atoi(v);
		else if (!strcmp(k, "--threads"))
			opt.threads = atoi(v);
		else if (!strcmp(k, "--deadline"))
			opt.deadline = atoi(v);
		else
			usage();
	}
	if (opt.port <= 0 || opt.conns <= 0 || opt.rate <= 0 || opt.size < 16 || opt.size > 65536 ||
	    opt.threads <= 0 || opt.threads > 64 || opt.duration <= 0 || opt.tunnels < 0)
		usage();
}

int main(int argc, char **argv)
{
	struct rlimit rl;

	parse(argc, argv);
	/* 8,000 tunnels need more descriptors than the usual soft limit of 1,024. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Timers fire when asked, not up to 50 us later: the open-loop schedule depends on it. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(opt.deadline);
	if (!strcmp(opt.mode, "many"))
		mode_many();
	else if (!strcmp(opt.mode, "idle"))
		mode_idle();
	else if (!strcmp(opt.mode, "pingpong"))
		mode_pingpong();
	else if (!strcmp(opt.mode, "bulk"))
		mode_bulk();
	else if (!strcmp(opt.mode, "churn"))
		mode_churn();
	else
		usage();
	return 0;
}
