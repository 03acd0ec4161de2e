// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "backend.h"
#include "cfg.h"
#include "check.h"
#include "ctx.h"
#include "listener.h"
#include "log.h"
#include "reload.h"
#include "loop.h"
#include "privs.h"
#include "sdnotify.h"
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
	const char *reload_sock;	/* -x: the old process's stats socket */
	int maxconn;			/* -n: overrides global maxconn */
	pid_t *stop_pids;	/* -sf: told to finish once we listen */
	int nstop;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage : wsplice [-f <cfgfile>]* [ -vdVD ] [ -n <maxconn> ] [ -p <pidfile> ]\n"
		   "        [ -dS ] [ -c ] [ -x <unix_socket> ] [ -sf <pid>* ]\n"
		   "        -v displays version ; -vv shows known build options.\n"
		   "        -h displays this help\n"
		   "        -c check mode : only check config files and exit\n"
		   "        -d enters debug mode (foreground, debug messages) ; -db only disables "
		   "background mode.\n"
		   "        -D goes daemon ; -p writes pids of all children to this file\n"
		   "        -n sets the maximum total # of connections (uses ulimit -n)\n"
		   "        -dS disables kernel splicing: tunnels are forwarded in user space\n"
		   "        -sf/-st [pid ]* finishes/terminates old pids.\n"
		   "        -x <unix_socket> get listening sockets and tunnels from a unix socket\n");
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
		} else if (!strcmp(a, "-n") && i + 1 < argc) {
			o->maxconn = atoi(argv[++i]);
			if (o->maxconn <= 0) {
				fprintf(stderr, "[ALERT]    (%d) : -n expects a positive number.\n",
					(int)getpid());
				return -1;
			}
		} else if (!strcmp(a, "-x") && i + 1 < argc) {
			o->reload_sock = argv[++i];
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
 * Raises the open-files soft limit to the hard one and derives maxconn and maxpipes from it, as
 * HAProxy does: a connection costs two fds (client and server), a splice(2) pipe two. Unset,
 * maxpipes is maxconn / 4 (0 when pipes are off) and maxconn what leaves room for both. A
 * configured maxconn that does not fit is lowered, with a warning; pipes then get the fds the
 * connections leave, and fewer than asked only with a notice: they are an optimisation, a
 * direction without one copies (relay.c).
 */
static int set_limits(struct ctx *ctx, bool pipes)
{
	int want = ctx->cfg->global.maxconn, want_pipes = ctx->cfg->global.maxpipes;
	long long avail, fit;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			pr_warn("cannot raise the open-files limit to %llu: %s",
				(unsigned long long)rl.rlim_max, strerror(errno));
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	avail = rl.rlim_cur > 2 * FD_RESERVE ? (long long)rl.rlim_cur - FD_RESERVE : 2;
	if (avail > 2LL * INT_MAX)
		avail = 2LL * INT_MAX;
	fit = avail / 2;
	if (!want) {
		if (pipes && want_pipes)
			fit = (avail - 2LL * want_pipes) / 2;
		else if (pipes)
			fit = avail * 2 / 5; /* a quarter of a pipe per connection: 2.5 fds each */
		ctx->maxconn = fit > 0 ? (int)fit : 1;
		pr_notice("maxconn set to %d from the open-files limit (%llu)", ctx->maxconn,
			  (unsigned long long)rl.rlim_cur);
	} else if (want > fit) {
		pr_warn("FD limit (%llu) too low for maxconn=%d/maxsock=%d. Please raise 'ulimit-n' "
			"to %d or more to avoid any trouble. Using maxconn=%d.",
			(unsigned long long)rl.rlim_cur, want, 2 * want + FD_RESERVE,
			2 * want + FD_RESERVE, (int)fit);
		ctx->maxconn = (int)fit;
	} else {
		ctx->maxconn = want;
	}
	if (!pipes)
		return 0;
	ctx->maxpipes = want_pipes ? want_pipes : ctx->maxconn >= 4 ? ctx->maxconn / 4 : 1;
	fit = (avail - 2LL * ctx->maxconn) / 2;
	if (ctx->maxpipes > fit) {
		pr_notice("maxpipes %d does not fit the open-files limit (%llu) with maxconn %d: "
			  "using %lld",
			  ctx->maxpipes, (unsigned long long)rl.rlim_cur, ctx->maxconn,
			  fit > 0 ? fit : 0);
		ctx->maxpipes = fit > 0 ? (int)fit : 0;
	}
	return 0;
}

/* A reload takes the old process's BPF objects, with its spliced tunnels; else loads its own. */
static int open_splice(struct ctx *ctx, char *why, size_t len)
{
	int old = reload_old_splice_pid(ctx);

	if (old > 0 && splice_adopt(ctx, old, why, len) == 0)
		return 0;
	if (old > 0)
		pr_warn("reload: cannot take the BPF objects of process %d (%s): its spliced "
			"tunnels stay with it", old, why);
	return splice_open(ctx, why, len);
}

static void setup_splice(struct ctx *ctx, const struct opts *o)
{
	char *why = ctx->splice_off_why;
	size_t len = sizeof(ctx->splice_off_why);

	if (o->nosplice) {
		snprintf(why, len, "disabled by -dS");
	} else if (ctx->cfg->global.nosplice) {
		snprintf(why, len, "disabled by 'nosplice'");
	} else if (splice_kernel_ok(why, len) && open_splice(ctx, why, len) == 0) {
		return;
	}
	pr_notice("kernel splicing off (%s): tunnels are forwarded in user space", why);
}

/* Signals arrive through a signalfd, so handlers never run in the middle of the loop. */
struct sigs {
	struct fd_handler fh;
	struct ctx *ctx;
	struct timer hard_stop_after;	/* armed by a soft stop with "hard-stop-after" */
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

static void hard_stop_after(struct loop *loop, struct timer *t)
{
	struct sigs *sg = container_of(t, struct sigs, hard_stop_after);

	(void)loop;
	pr_warn("soft-stop running for too long, performing a hard-stop.");
	pr_warn("hard-stop: %u remaining connections will be closed.", sg->ctx->actconn);
	hard_stop(sg->ctx);
}

static void on_signal(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct sigs *sg = container_of(h, struct sigs, fh);
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	/* SIGTTOU and SIGTTIN pending together come lowest number first, SIGTTIN before SIGTTOU,
	 * whatever order they were sent in. A reload sends SIGTTOU, then SIGTTIN if the new
	 * process failed (examples/wsplice.service): both seen in one read mean that, so the pause
	 * goes first and the listeners end resumed (19-install saw them end paused, loaded). */
	bool pause = false, resume = false;

	while (read(h->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			/* soft stop: stop accepting, finish what is open */
			pr_notice("soft stop: no longer accepting, %u connections to finish",
				  sg->ctx->actconn);
			sg->ctx->stopping = true;
			listeners_close(sg->ctx);
			stream_close_idle(sg->ctx);
			/* a second SIGUSR1 does not push the deadline back */
			if (sg->ctx->cfg->global.hard_stop_after &&
			    !loop_timer_armed(&sg->hard_stop_after))
				loop_timer_add(loop, &sg->hard_stop_after,
					       sg->ctx->cfg->global.hard_stop_after);
			soft_stop_check(sg->ctx);
		} else if (si.ssi_signo == SIGHUP) {
			backends_dump_state(sg->ctx->cfg);
		} else if (si.ssi_signo == SIGTTOU) {
			pause = true;
		} else if (si.ssi_signo == SIGTTIN) {
			resume = true;
		} else {
			/* no STOPPING=1 on SIGUSR1: that soft stop may be a reload's (-sf) */
			sdnotify_stopping();
			hard_stop(sg->ctx);
		}
	}
	if (pause)
		listeners_shut(sg->ctx);
	if (resume)
		listeners_relisten(sg->ctx);
}

static void before_sleep(struct loop *loop, void *arg)
{
	struct ctx *ctx = arg;

	stream_reap(ctx);
	soft_stop_check(ctx);
	/* as HAProxy's, an old process finishing its connections (a soft stop, a reload) stops
	 * busy polling: it would take a CPU from the new one */
	loop_set_busy(loop, ctx->cfg->global.busy_polling && !ctx->stopping);
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
	sigaddset(&set, SIGTTOU);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTTIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	sg->ctx = ctx;
	loop_timer_init(&sg->hard_stop_after, hard_stop_after);
	return loop_add_fd(ctx->loop, &sg->fh, fd, EPOLLIN, on_signal);
}

/* Removes the pidfile only while it names this process: after a reload it is the new one's. A
 * process whose tunnels a new one took (-x) leaves it alone: it may exit before the new one has
 * written its own, and would then remove it between our read and our unlink. */
static void remove_pidfile(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = 0;

	if (!f)
		return;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid == (int)getpid())
		unlink(path);
}

/* Written aside and renamed, so that a reader never sees it empty or half written. */
static int write_pidfile(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) || rename(tmp, path) < 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
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
	/* the command line wins over the configuration, as in HAProxy */
	if (o.maxconn)
		cfg.global.maxconn = o.maxconn;
	if (o.check_only) {
		printf("Configuration file is valid\n");
		ret = 0;
		goto out;
	}
	/* "daemon" and "pidfile" in global are -D and -p; the command line wins */
	o.daemon |= cfg.global.daemon;
	if (!o.pidfile)
		o.pidfile = cfg.global.pidfile;
	sdnotify_open();
	if (o.nstop)
		sdnotify_reloading();
	if (o.debug)
		log_set_level(LOG_LVL_DEBUG);
	srandom(time(NULL) ^ getpid());
	ctx.loop = loop_new();
	/* splice(2) pipes (relay.c), off with -dS and nosplice as HAProxy's */
	if (!ctx.loop || set_limits(&ctx, !o.nosplice && !cfg.global.nosplice) < 0)
		goto out;
	ctx.start_ms = loop_now_ms(ctx.loop);
	if (o.reload_sock)
		reload_get_listeners(&ctx, o.reload_sock);
	if (listeners_open(&ctx))
		goto out;
	/* the daemon forks once bound, before splice_open pins under its own pid, and before the
	 * signalfd goes into epoll: epoll would watch the parent's signal queue */
	if (o.daemon && !o.foreground && sdnotify_daemonize() < 0) {
		pr_alert("cannot go daemon: %s", strerror(errno));
		goto out;
	}
	if (setup_signals(&ctx, &sg) < 0)
		goto out;
	reload_listeners_done(&ctx);
	setup_splice(&ctx, &o);
	/* before our stats socket replaces the old process's at the same path */
	if (o.reload_sock)
		reload_get_tunnels(&ctx, o.reload_sock);
	if (stats_open(&ctx) < 0 || checks_start(&ctx) < 0)
		goto out;
	if (o.pidfile) {
		int err = write_pidfile(o.pidfile);

		if (err < 0)
			pr_warn("cannot write pidfile '%s': %s", o.pidfile, strerror(-err));
	}
	enable_traffic_log(&ctx);
	sdnotify_ready();
	stop_old(&o);
	if (privs_drop(&ctx) < 0)
		goto out;
	sdnotify_started();
	loop_set_before_sleep(ctx.loop, before_sleep, &ctx);
	pr_notice("wsplice %s started: maxconn %d, tunnels forwarded by %s", WSPLICE_VERSION,
		  ctx.maxconn, ctx.splice ? "the kernel (BPF sockhash)" : "user space");
	loop_run(ctx.loop);
	ret = 0;
out:
	if (ctx.loop) {
		reload_free(&ctx);
		shutdown_all(&ctx);
		loop_free(ctx.loop);
	}
	if (o.pidfile && ret == 0 && !o.check_only && !ctx.given_up)
		remove_pidfile(o.pidfile);
	cfg_free(&cfg);
	free(o.files);
	free(o.stop_pids);
	return ret;
}
