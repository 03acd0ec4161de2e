// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "check.h"
#include "ctx.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "splice.h"
#include "srvpool.h"
#include "stats.h"
#include "stream.h"
#include "version.h"

/* fds kept outside connections: listeners, checks, stats, BPF maps, logs. Each connection
 * costs two (client and server), as HAProxy counts maxsock = 2 * maxconn + reserve. */
#define FD_RESERVE 64

struct opts {
	const char **files;
	int nfiles;
	bool check_only, foreground, debug, daemon, nosplice;
	const char *pidfile;
	pid_t *stop_pids;	/* -sf: told to finish once we listen */
	int nstop;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage : wsplice [-f <cfgfile>]* [ -vdVD ] [ -n <maxconn> ] [ -p <pidfile> ]\n"
		   "        [ -dS ] [ -c ] [ -sf <pid>* ]\n"
		   "        -v displays version ; -vv shows known build options.\n"
		   "        -h displays this help\n"
		   "        -c check mode : only check config files and exit\n"
		   "        -d enters debug mode (foreground, debug messages) ; -db only disables "
		   "background mode.\n"
		   "        -D goes daemon ; -p writes pids of all children to this file\n"
		   "        -dS disables kernel splicing: tunnels are forwarded in user space\n"
		   "        -sf/-st [pid ]* finishes/terminates old pids.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	o->files = calloc(argc, sizeof(*o->files));
	o->stop_pids = calloc(argc, sizeof(*o->stop_pids));
	if (!o->files || !o->stop_pids)
		return -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-f") && i + 1 < argc) {
			o->files[o->nfiles++] = argv[++i];
		} else if (!strcmp(a, "-c")) {
			o->check_only = true;
		} else if (!strcmp(a, "-d")) {
			o->foreground = o->debug = true;
		} else if (!strcmp(a, "-db")) {
			o->foreground = true;
		} else if (!strcmp(a, "-dS")) {
			o->nosplice = true;
		} else if (!strcmp(a, "-D")) {
			o->daemon = true;
		} else if (!strcmp(a, "-p") && i + 1 < argc) {
			o->pidfile = argv[++i];
		} else if (!strcmp(a, "-sf") || !strcmp(a, "-st")) {
			/* both ask the old processes to finish; a hard "-st" kill is issue-level
			 * work on seamless reloads (SIGTERM is sent for -st) */
			int sig = a[2] == 'f' ? SIGUSR1 : SIGTERM;

			while (i + 1 < argc && argv[i + 1][0] != '-')
				o->stop_pids[o->nstop++] = sig == SIGUSR1 ? atoi(argv[++i])
									 : -atoi(argv[++i]);
		} else if (!strcmp(a, "-v") || !strcmp(a, "-vv") || !strcmp(a, "-V")) {
			printf("wsplice version %s\n", WSPLICE_VERSION);
			exit(0);
		} else if (!strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "[ALERT]    (%d) : unknown option '%s'.\n", (int)getpid(), a);
			usage(stderr);
			return -1;
		}
	}
	if (!o->nfiles) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int load_config(struct config *cfg, const struct opts *o)
{
	int errors = 0;

	for (int i = 0; i < o->nfiles; i++)
		errors += cfg_parse_file(cfg, o->files[i]);
	if (!errors)
		errors += cfg_check(cfg);
	if (errors) {
		pr_alert("Fatal errors found in configuration.");
		return -1;
	}
	return 0;
}

/*
 * Raises the open-files soft limit to the hard one and derives maxconn from it, as HAProxy
 * does: a configured maxconn that does not fit is lowered, with a warning.
 */
static int set_maxconn(struct ctx *ctx)
{
	struct rlimit rl;
	int fit, want = ctx->cfg->global.maxconn;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			pr_warn("cannot raise the open-files limit to %llu: %s",
				(unsigned long long)rl.rlim_max, strerror(errno));
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	fit = rl.rlim_cur > 2 * FD_RESERVE ? (int)((rl.rlim_cur - FD_RESERVE) / 2) : 1;
	if (!want) {
		ctx->maxconn = fit;
		pr_notice("maxconn set to %d from the open-files limit (%llu)", fit,
			  (unsigned long long)rl.rlim_cur);
	} else if (want > fit) {
		pr_warn("FD limit (%llu) too low for maxconn=%d/maxsock=%d. Please raise 'ulimit-n' "
			"to %d or more to avoid any trouble. Using maxconn=%d.",
			(unsigned long long)rl.rlim_cur, want, 2 * want + FD_RESERVE,
			2 * want + FD_RESERVE, fit);
		ctx->maxconn = fit;
	} else {
		ctx->maxconn = want;
	}
	return 0;
}

static void setup_splice(struct ctx *ctx, const struct opts *o)
{
	char *why = ctx->splice_off_why;
	size_t len = sizeof(ctx->splice_off_why);

	if (o->nosplice)
		snprintf(why, len, "disabled by -dS");
	else if (ctx->cfg->global.nosplice)
		snprintf(why, len, "disabled by 'nosplice'");
	else if (splice_kernel_ok(why, len) && splice_open(ctx, why, len) == 0)
		return;
	pr_notice("kernel splicing off (%s): tunnels are forwarded in user space", why);
}

/* Signals arrive through a signalfd, so handlers never run in the middle of the loop. */
struct sigs {
	struct fd_handler fh;
	struct ctx *ctx;
};

static void hard_stop(struct ctx *ctx)
{
	ctx->stopping = true;
	loop_stop(ctx->loop);
}

static void soft_stop_check(struct ctx *ctx)
{
	if (ctx->stopping && !ctx->streams)
		loop_stop(ctx->loop);
}

static void on_signal(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct sigs *sg = container_of(h, struct sigs, fh);
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(h->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			/* soft stop: stop accepting, finish what is open */
			pr_notice("soft stop: no longer accepting, %u connections to finish",
				  sg->ctx->actconn);
			sg->ctx->stopping = true;
			listeners_close(sg->ctx);
			soft_stop_check(sg->ctx);
		} else {
			hard_stop(sg->ctx);
		}
	}
}

static void before_sleep(struct loop *loop, void *arg)
{
	struct ctx *ctx = arg;

	(void)loop;
	stream_reap(ctx);
	soft_stop_check(ctx);
	/*
	 * Idle again after serving: give freed buffers back to the system. free() returns only
	 * the top of glibc's heap, so 5,000 relayed tunnels left 110 MiB resident once closed
	 * (tests/45-chaos.bats); malloc_trim() releases every free page. Once per idle period.
	 */
	if (!ctx->actconn && ctx->trimmed_at != ctx->cnt.cum_conns) {
		ctx->trimmed_at = ctx->cnt.cum_conns;
		malloc_trim(0);
	}
}

static int setup_signals(struct ctx *ctx, struct sigs *sg)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	sg->ctx = ctx;
	return loop_add_fd(ctx->loop, &sg->fh, fd, EPOLLIN, on_signal);
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) ? -errno : 0;
}

static void stop_old(const struct opts *o)
{
	for (int i = 0; i < o->nstop; i++) {
		pid_t pid = o->stop_pids[i];

		if (pid)
			kill(pid > 0 ? pid : -pid, pid > 0 ? SIGUSR1 : SIGTERM);
	}
}

static void enable_traffic_log(struct ctx *ctx)
{
	log_traffic_set_target(ctx->cfg->global.log);
}

static void shutdown_all(struct ctx *ctx)
{
	while (ctx->streams)
		stream_kill(ctx->streams);
	stream_reap(ctx);
	checks_stop(ctx);
	srvpool_close_all(ctx);
	stats_close(ctx);
	listeners_close(ctx);
	splice_close(ctx);
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct ctx ctx = { .cfg = &cfg };
	struct opts o = { 0 };
	struct sigs sg;
	int ret = 1;

	if (parse_args(argc, argv, &o) < 0)
		return 1;
	if (load_config(&cfg, &o) < 0)
		goto out;
	if (o.check_only) {
		printf("Configuration file is valid\n");
		ret = 0;
		goto out;
	}
	if (o.debug)
		log_set_level(LOG_LVL_DEBUG);
	srandom(time(NULL) ^ getpid());
	ctx.loop = loop_new();
	if (!ctx.loop || set_maxconn(&ctx) < 0)
		goto out;
	ctx.start_ms = loop_now_ms(ctx.loop);
	if (o.daemon && !o.foreground && daemon(1, 1) < 0) {
		pr_alert("cannot go daemon: %s", strerror(errno));
		goto out;
	}
	if (listeners_open(&ctx) || setup_signals(&ctx, &sg) < 0 || stats_open(&ctx) < 0 ||
	    checks_start(&ctx) < 0)
		goto out;
	setup_splice(&ctx, &o);
	if (o.pidfile && write_pidfile(o.pidfile) < 0)
		pr_warn("cannot write pidfile '%s': %s", o.pidfile, strerror(errno));
	enable_traffic_log(&ctx);
	stop_old(&o);
	loop_set_before_sleep(ctx.loop, before_sleep, &ctx);
	pr_notice("wsplice %s started: maxconn %d, tunnels forwarded by %s", WSPLICE_VERSION,
		  ctx.maxconn, ctx.splice ? "the kernel (BPF sockhash)" : "user space");
	loop_run(ctx.loop);
	ret = 0;
out:
	if (ctx.loop) {
		shutdown_all(&ctx);
		loop_free(ctx.loop);
	}
	if (o.pidfile && ret == 0 && !o.check_only)
		unlink(o.pidfile);
	cfg_free(&cfg);
	free(o.files);
	free(o.stop_pids);
	return ret;
}
