// SPDX-License-Identifier: GPL-2.0
#include "splice.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <limits.h>
#include <linux/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "wsplice.h"
#include "wsplice.skel.h"

#include "ctx.h"
#include "log.h"
#include "relay.h"
#include "stream.h"

_Static_assert(sizeof(struct wsplice_sock) == 32, "struct wsplice_sock is 4 x __u64");
_Static_assert(sizeof(struct wsplice_limit) == 16, "struct wsplice_limit is 2 x __u64");
_Static_assert(sizeof(struct wsplice_event) == 16, "struct wsplice_event is 2 x __u64");

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/*
 * Flow control. The redirect has no backpressure (sockmap-notes.md: 2 GiB queued towards a
 * backend that never read), so each direction may have at most FC_HIGH bytes redirected but not
 * yet handed to the destination's TCP stack; past that the tunnel leaves the kernel for the
 * userspace relay (pair_demote). A new tunnel starts with FC_FIRST of credit so that idle
 * tunnels reserve little of the global budget.
 */
#define FC_HIGH (16u << 20)
#define FC_FIRST (64u << 10)
#define FC_MIN_GRANT (16u << 10)
#define FC_POLL_MS 5
#define HASH_BITS 14
#define DRAIN_BUFSIZE (64u << 10)

struct splice {
	struct wsplice_bpf *skel;
	int socks_fd, targets_fd, sock_fd, limit_fd, stats_fd, link_fd;
	struct ring_buffer *rb;
	struct fd_handler rb_fh;
	struct timer poll;
	struct ctx *ctx;
	struct splice_dir *hash[1 << HASH_BITS];
	struct splice_pair *polling;	/* pairs with a paused or draining direction */
	uint64_t budget_max, budget_used;
	char pin_dir[64];
};

static void splice_cli_io(struct loop *loop, struct fd_handler *h, uint32_t events);
static int pair_demote(struct stream *s);
static void splice_srv_io(struct loop *loop, struct fd_handler *h, uint32_t events);
static void splice_timer(struct loop *loop, struct timer *t);
static void poll_timer(struct loop *loop, struct timer *t);
static void splice_arm_timer(struct stream *s, uint64_t cli, uint64_t srv, bool half);

static struct stream *pair_stream(struct splice_pair *p)
{
	return container_of(p, struct stream, pair);
}

/* Ends a tunnel whose sockets the stream closes right away: close() takes them out of the
 * sockhashes, no delete needed (map_forget). */
static void pair_end(struct stream *s, const char *term)
{
	s->pair.closing = true;
	stream_tunnel_end(s, term);
}

/* --- kernel checks and set-up --------------------------------------------------------------- */

/*
 * Splicing needs two sockmap fixes: duplicated bytes after a partial send (commit 3b4f14b7) and
 * a use-after-free between the backlog worker and close (CVE-2025-38154), both in 6.16 and in
 * the stable releases below. Older kernels get the userspace path.
 */
bool splice_kernel_ok(char *why, size_t whylen)
{
	static const struct {
		int major, minor, patch;
	} fixed[] = { { 6, 12, 34 }, { 6, 6, 94 }, { 6, 1, 142 }, { 5, 15, 186 } };
	int major = 0, minor = 0, patch = 0;
	struct utsname u;

	uname(&u);
	sscanf(u.release, "%d.%d.%d", &major, &minor, &patch);
	if (major > 6 || (major == 6 && minor >= 16))
		return true;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (major == fixed[i].major && minor == fixed[i].minor && patch >= fixed[i].patch)
			return true;
	snprintf(why, whylen,
		 "kernel %s lacks the sockmap fixes of 6.16 (6.12.34, 6.6.94, 6.1.142, 5.15.186)",
		 u.release);
	return false;
}

/* libbpf's messages go one level below ours (its warnings are our info, its info our debug,
 * its debug nowhere); they carry their own "libbpf: " prefix. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	char msg[512];
	int n;

	if (level == LIBBPF_DEBUG || !log_enabled(lvl))
		return 0;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	if (n > 0 && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	log_msg(lvl, "%s", msg);
	return 0;
}

static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
		return -errno;
	pr_notice("mounted bpffs at /sys/fs/bpf");
	return 0;
}

/* Unlinks every pin in dir, then dir. */
static void remove_pins(const char *dir)
{
	struct dirent *de;
	char path[512];
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

/* A crashed or killed instance leaves its pins: remove those of pids no longer running. */
static void clean_stale_pins(void)
{
	struct dirent *de;
	char path[300];
	DIR *d = opendir(WSPLICE_PIN_ROOT);

	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), WSPLICE_PIN_ROOT "/%s", de->d_name);
		pr_notice("removing BPF objects pinned by dead instance %d", pid);
		remove_pins(path);
	}
	closedir(d);
}

static int pin_all(struct splice *sp)
{
	struct bpf_map *map;
	char path[128];
	int err;

	mkdir(WSPLICE_PIN_ROOT, 0700);
	snprintf(sp->pin_dir, sizeof(sp->pin_dir), WSPLICE_PIN_ROOT "/%d", getpid());
	if (mkdir(sp->pin_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	bpf_object__for_each_map(map, sp->skel->obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", sp->pin_dir, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err)
			return err;
	}
	snprintf(path, sizeof(path), "%s/wsplice_verdict", sp->pin_dir);
	err = bpf_program__pin(sp->skel->progs.wsplice_verdict, path);
	if (err)
		return err;
	if (sp->link_fd >= 0) {
		snprintf(path, sizeof(path), "%s/wsplice_link", sp->pin_dir);
		if (bpf_obj_pin(sp->link_fd, path) < 0)
			return -errno;
	}
	return 0;
}

/* Attaches the verdict to wsplice_socks: a link where the kernel has sockmap links (6.10+), so
 * it goes away with the process; a plain attach otherwise. */
static int attach_verdict(struct splice *sp)
{
	int prog = bpf_program__fd(sp->skel->progs.wsplice_verdict);

	sp->link_fd = bpf_link_create(prog, sp->socks_fd, BPF_SK_SKB_VERDICT, NULL);
	if (sp->link_fd >= 0)
		return 0;
	if (bpf_prog_attach(prog, sp->socks_fd, BPF_SK_SKB_VERDICT, 0) < 0)
		return -errno;
	return 0;
}

static int on_event(void *arg, void *data, size_t size);

static void rb_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct splice *sp = container_of(h, struct splice, rb_fh);

	(void)loop;
	(void)events;
	ring_buffer__consume(sp->rb);
}

/* The global in-flight budget: 1/16 of RAM, between 64 MiB and 1 GiB. */
static uint64_t budget_for_machine(void)
{
	uint64_t ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / 16;

	if (ram < (64ull << 20))
		return 64ull << 20;
	return ram > (1ull << 30) ? 1ull << 30 : ram;
}

int splice_open(struct ctx *ctx, char *why, size_t whylen)
{
	struct splice *sp = calloc(1, sizeof(*sp));
	int err;

	if (!sp)
		return -ENOMEM;
	sp->ctx = ctx;
	sp->link_fd = -1;
	loop_timer_init(&sp->poll, poll_timer);
	libbpf_set_print(libbpf_print);
	err = ensure_bpffs();
	if (err) {
		snprintf(why, whylen, "cannot mount bpffs: %s", strerror(-err));
		goto cleanup;
	}
	clean_stale_pins();
	sp->skel = wsplice_bpf__open_and_load();
	if (!sp->skel) {
		err = -errno;
		snprintf(why, whylen, "cannot load the BPF program: %s", strerror(-err));
		goto cleanup;
	}
	sp->socks_fd = bpf_map__fd(sp->skel->maps.wsplice_socks);
	sp->targets_fd = bpf_map__fd(sp->skel->maps.wsplice_targets);
	sp->sock_fd = bpf_map__fd(sp->skel->maps.wsplice_sock);
	sp->limit_fd = bpf_map__fd(sp->skel->maps.wsplice_limit);
	sp->stats_fd = bpf_map__fd(sp->skel->maps.wsplice_stats);
	err = attach_verdict(sp);
	if (err) {
		snprintf(why, whylen, "cannot attach the verdict program: %s", strerror(-err));
		goto cleanup;
	}
	err = pin_all(sp);
	if (err) {
		snprintf(why, whylen, "cannot pin under %s: %s", sp->pin_dir, strerror(-err));
		goto cleanup;
	}
	sp->rb = ring_buffer__new(bpf_map__fd(sp->skel->maps.wsplice_events), on_event, sp, NULL);
	if (!sp->rb) {
		err = -errno;
		snprintf(why, whylen, "cannot open the event ring: %s", strerror(-err));
		goto cleanup;
	}
	err = loop_add_fd(ctx->loop, &sp->rb_fh, ring_buffer__epoll_fd(sp->rb), EPOLLIN, rb_io);
	if (err) {
		snprintf(why, whylen, "epoll: %s", strerror(-err));
		goto cleanup;
	}
	sp->budget_max = budget_for_machine();
	ctx->splice = sp;
	return 0;
cleanup:
	ctx->splice = sp;
	splice_close(ctx);
	return err;
}

void splice_close(struct ctx *ctx)
{
	struct splice *sp = ctx->splice;

	if (!sp)
		return;
	if (sp->rb) {
		loop_del_fd(ctx->loop, &sp->rb_fh);
		ring_buffer__free(sp->rb);
	}
	loop_timer_del(ctx->loop, &sp->poll);
	if (sp->pin_dir[0])
		remove_pins(sp->pin_dir);
	if (sp->link_fd >= 0)
		close(sp->link_fd);
	wsplice_bpf__destroy(sp->skel);
	free(sp);
	ctx->splice = NULL;
}

uint64_t splice_kernel_bytes(struct ctx *ctx)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 key = WSPLICE_STAT_REDIRECTED_BYTES;
	uint64_t sum = 0, *vals;

	if (!ctx->splice || ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (vals && bpf_map_lookup_elem(ctx->splice->stats_fd, &key, vals) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

/* --- per-tunnel state ----------------------------------------------------------------------- */

static unsigned int hash_of(uint64_t cookie)
{
	return (cookie * 0x9e3779b97f4a7c15ull) >> (64 - HASH_BITS);
}

static void hash_add(struct splice *sp, struct splice_dir *d)
{
	unsigned int h = hash_of(d->cookie);

	d->hnext = sp->hash[h];
	sp->hash[h] = d;
}

static void hash_del(struct splice *sp, struct splice_dir *d)
{
	struct splice_dir **pp = &sp->hash[hash_of(d->cookie)];

	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
}

static struct splice_dir *hash_find(struct splice *sp, uint64_t cookie)
{
	struct splice_dir *d = sp->hash[hash_of(cookie)];

	while (d && d->cookie != cookie)
		d = d->hnext;
	return d;
}

static void poll_add(struct splice *sp, struct splice_pair *p)
{
	if (p->polled)
		return;
	p->polled = true;
	p->poll_next = sp->polling;
	p->poll_prev = NULL;
	if (sp->polling)
		sp->polling->poll_prev = p;
	sp->polling = p;
	if (!loop_timer_armed(&sp->poll))
		loop_timer_add(sp->ctx->loop, &sp->poll, FC_POLL_MS);
}

static void poll_del(struct splice *sp, struct splice_pair *p)
{
	if (!p->polled)
		return;
	if (p->poll_prev)
		p->poll_prev->poll_next = p->poll_next;
	else
		sp->polling = p->poll_next;
	if (p->poll_next)
		p->poll_next->poll_prev = p->poll_prev;
	p->polled = false;
}

/* Bytes a socket has handed to TCP since it was created: acknowledged plus still queued. */
static int tcp_sent(int fd, uint64_t *sent)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int outq = 0;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || ioctl(fd, SIOCOUTQ, &outq) < 0)
		return -errno;
	*sent = ti.tcpi_bytes_acked + (uint64_t)outq;
	return 0;
}

static int sock_state(struct splice *sp, uint64_t cookie, struct wsplice_sock *v)
{
	if (bpf_map_lookup_elem(sp->sock_fd, &cookie, v) < 0)
		return -errno;
	return 0;
}

/*
 * Bytes BPF redirected from d's source that d's destination has not taken into its TCP stack
 * yet: what dst took since the handover, less what user space wrote to it itself. Also returns
 * the source's BPF state. Returns 0 or -errno.
 */
static int dir_measure(struct splice *sp, struct splice_dir *d, struct wsplice_sock *v,
		       uint64_t *inflight)
{
	uint64_t sent;
	int err;

	err = sock_state(sp, d->cookie, v);
	if (!err)
		err = tcp_sent(d->dst_fd, &sent);
	if (err)
		return err;
	sent = sent > d->dst_base + d->copied ? sent - d->dst_base - d->copied : 0;
	*inflight = v->bytes > sent ? v->bytes - sent : 0;
	return 0;
}

static int write_limit(struct splice *sp, struct splice_dir *d)
{
	struct wsplice_limit lim = {
		.notify_at = d->notify_at,
		.copied = d->copied,
	};

	if (bpf_map_update_elem(sp->limit_fd, &d->cookie, &lim, BPF_ANY) < 0)
		return -errno;
	return 0;
}

static void reserve(struct splice *sp, struct splice_dir *d, uint64_t amount)
{
	sp->budget_used -= d->reserved;
	d->reserved = amount;
	sp->budget_used += amount;
}

/* Bytes this direction may be granted now: up to FC_HIGH in flight, within the global budget
 * (what the other directions reserve). */
static uint64_t grant_for(struct splice *sp, struct splice_dir *d, uint64_t inflight)
{
	uint64_t others = sp->budget_used - d->reserved, want, avail;

	want = inflight < FC_HIGH ? FC_HIGH - inflight : 0;
	avail = sp->budget_max > others + inflight ? sp->budget_max - others - inflight : 0;
	return want < avail ? want : avail;
}

/*
 * Forwards what the verdict left on the source, in order: bytes it could not redirect (the
 * peer gone) and, once the FIN arrived, what a pause kept in the TCP receive queue. The caller
 * only calls this once everything BPF redirected reached the destination's TCP stack, and BPF
 * redirects nothing new while passed > copied. Returns 1 once the source's EOF was read with
 * nothing left to send, 0 when it would block or nothing is left, -1 on error.
 */
static int dir_copy(struct stream *s, struct splice_dir *d, uint64_t passed)
{
	uint64_t before = d->copied, held;
	size_t want;
	int r = 0;
	ssize_t n;

	for (;;) {
		if (!buf_empty(&d->rest)) {
			n = send(d->dst_fd, buf_ptr(&d->rest), buf_len(&d->rest),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				r = errno == EAGAIN ? 0 : -1;
				break;
			}
			buf_consume(&d->rest, n);
			d->copied += n;
			if (!buf_empty(&d->rest))
				break;
		}
		/*
		 * Before the FIN, read only the bytes the verdict left in the psock's queue: a read
		 * past them would take from the TCP receive queue, where the verdict later takes
		 * each skb whole and would forward a partly read one twice. After the FIN the
		 * socket never rejoins the sockhash, so everything left is read.
		 */
		held = passed - d->copied - buf_len(&d->rest);
		want = d->eof ? DRAIN_BUFSIZE : held;
		if (!want)
			break;
		if (!buf_prepare(&d->rest, DRAIN_BUFSIZE)) {
			r = -1;
			break;
		}
		if (want > d->rest.cap - d->rest.tail)
			want = d->rest.cap - d->rest.tail;
		n = recv(d->src_fd, d->rest.data + d->rest.tail, want, MSG_DONTWAIT);
		if (n <= 0) {
			r = n == 0 ? 1 : (errno == EAGAIN ? 0 : -1);
			break;
		}
		d->rest.tail += n;
	}
	s->ctx->cnt.held_bytes += d->copied - before;
	if (buf_empty(&d->rest))
		buf_release(&d->rest);
	return r;
}

/*
 * Pausing takes the source out of wsplice_socks, so that new bytes stay in its TCP receive
 * queue and TCP's own window holds the sender back. Detaching the verdict races with a verdict
 * run in softirq on another CPU: one that finds no program drops its skb (sk_psock_verdict_recv
 * defaults to __SK_DROP). SO_RCVLOWAT at its maximum first closes that race: TCP then does not
 * run the verdict before half a receive buffer is queued, and the queue was just emptied by it.
 * A paused source never rejoins the sockhash (the tunnel is on its way to user space).
 */
static int dir_pause(struct splice *sp, struct splice_dir *d, uint64_t inflight)
{
	int lowat = INT_MAX;

	setsockopt(d->src_fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	if (bpf_map_delete_elem(sp->socks_fd, &d->cookie) < 0 && errno != ENOENT)
		return -errno;
	d->paused = true;
	reserve(sp, d, inflight);
	sp->ctx->cnt.flow_pauses++;
	return 0;
}

/*
 * Flow control of one direction, on a crossed mark and on each poll: grants more credit while
 * the destination keeps up, takes the tunnel out of the kernel when FC_HIGH bytes are queued
 * towards the destination, and forwards what the verdict left on the source once the
 * destination caught up. Returns 1 when the direction needs polling, 0 when not, -1 on error.
 */
/*
 * A destination that cannot keep up takes its tunnel out of the kernel for good: both sources
 * leave wsplice_socks (new bytes wait in TCP, whose window holds the senders back), and once
 * what the kernel redirected has reached both destinations, user space relays the rest with its
 * bounded buffers. Pausing and later resuming the redirect instead was measured to duplicate a
 * whole skb now and then on 6.18 (docs/design.md, "Known problem"); a tunnel leaves the kernel
 * once and never comes back. Returns 0 or -1.
 */
static int pair_demote(struct stream *s)
{
	struct splice *sp = s->ctx->splice;
	struct splice_pair *p = &s->pair;

	if (p->demoting)
		return 0;
	p->demoting = true;
	for (int i = 0; i < 2; i++)
		if (!p->dir[i].paused && dir_pause(sp, &p->dir[i], 0) < 0)
			return -1;
	poll_add(sp, p);
	return 0;
}

/* Both directions drained, nothing held in a psock: the tunnel continues in user space. */
static bool pair_drained(struct stream *s)
{
	struct splice *sp = s->ctx->splice;
	struct wsplice_sock v;
	uint64_t inflight;

	for (int i = 0; i < 2; i++) {
		struct splice_dir *d = &s->pair.dir[i];

		/* a direction already closed is done; one closing finishes first */
		if (d->shut)
			continue;
		if (d->eof || d->rest.data || dir_measure(sp, d, &v, &inflight) < 0 || inflight ||
		    v.passed > d->copied)
			return false;
	}
	return true;
}

static void pair_finish_demote(struct stream *s)
{
	int lowat = 1;

	splice_tunnel_stop(s);
	for (int i = 0; i < 2; i++)
		setsockopt(s->pair.dir[i].src_fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	s->pair.demoted = true;
	s->ctx->cnt.demoted++;
	pr_debug("stream %llu: tunnel moves to user space (slow reader)", (unsigned long long)s->id);
	stream_tunnel_to_user(s);
}

/* Says which step of the flow control failed, and why (the caller aborts the tunnel). */
static int dir_fail(struct stream *s, struct splice_dir *d, const char *step)
{
	pr_debug("stream %llu: %s direction: %s: %s", (unsigned long long)s->id,
		 d == &s->pair.dir[0] ? "client" : "server", step, strerror(errno));
	return -1;
}

static int dir_check(struct stream *s, struct splice_dir *d)
{
	struct splice *sp = s->ctx->splice;
	uint64_t inflight = 0, grant, copied;
	struct wsplice_sock v;
	int r = 0;

	for (int round = 0; round < 4; round++) {
		if (dir_measure(sp, d, &v, &inflight) < 0)
			return dir_fail(s, d, "measure");
		copied = d->copied;
		if (inflight == 0 && (v.passed > d->copied || d->rest.data || d->eof)) {
			r = dir_copy(s, d, v.passed);
			if (r < 0)
				return dir_fail(s, d, "copy");
			if (d->copied != copied && write_limit(sp, d) < 0)
				return dir_fail(s, d, "limit");
		}
		if (d->eof)
			break;
		grant = grant_for(sp, d, inflight);
		if (!d->paused && grant < FC_MIN_GRANT)
			return pair_demote(s) < 0 ? dir_fail(s, d, "pause") : 1;
		/* paused: the tunnel is leaving the kernel, pair_poll() finishes that */
		if (d->paused) {
			reserve(sp, d, inflight);
			return 1;
		}
		d->notify_at = v.bytes + grant;
		reserve(sp, d, inflight + grant);
		if (write_limit(sp, d) < 0)
			return dir_fail(s, d, "limit");
		/* BPF tests for crossing the mark: one crossed while it was being written raised
		 * no event, so look again */
		if (sock_state(sp, d->cookie, &v) < 0 || v.bytes < d->notify_at)
			break;
	}
	if (r == 1 && d->eof) {
		struct wsplice_sock now;

		/*
		 * epoll may report the FIN before the verdict ran over bytes that came in the same
		 * skb (tcp_fin() wakes us before tcp_data_ready() runs it), so the count measured
		 * above may miss them. recv() returned 0 under the socket lock, after that softirq:
		 * the count is complete now. If it moved, measure again before passing the FIN on.
		 */
		if (sock_state(sp, d->cookie, &now) < 0)
			return dir_fail(s, d, "measure");
		if (now.bytes != v.bytes)
			return 1;
		/* the other direction closed already: the caller ends the tunnel now and close()
		 * sends this FIN (dst's receive queue was read to its EOF: no reset) */
		if (!d->pair->dir[d == d->pair->dir ? 1 : 0].shut)
			shutdown(d->dst_fd, SHUT_WR);
		d->shut = true;
		/* nothing follows a FIN: this direction's count is final */
		d->pair->final_bytes[d - d->pair->dir] = now.bytes + d->copied;
		return 0;
	}
	return d->paused || d->rest.data || v.passed > d->copied || (d->eof && !d->shut);
}

static int on_event(void *arg, void *data, size_t size)
{
	struct splice *sp = arg;
	const struct wsplice_event *ev = data;
	struct splice_dir *d;
	int r;

	if (size < sizeof(*ev))
		return 0;
	d = hash_find(sp, ev->cookie);
	/* (a direction whose FIN went out has nothing left to count) */
	if (!d || d->paused || d->shut)
		return 0;
	r = dir_check(pair_stream(d->pair), d);
	if (r < 0)
		pair_end(pair_stream(d->pair), d == &d->pair->dir[0] ? "CD" : "SD");
	else if (d->pair->dir[0].shut && d->pair->dir[1].shut)
		pair_end(pair_stream(d->pair), "--");
	else if (r > 0)
		poll_add(sp, d->pair);
	return 0;
}

/* --- handover -------------------------------------------------------------------------------- */

static int sock_cookie(int fd, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) < 0)
		return -errno;
	return 0;
}

/* base: what user space handed to dst's TCP stack so far, when it knows; else TCP says. */
static int dir_init(struct splice *sp, struct splice_dir *d, int src, int dst,
		    const uint64_t *base)
{
	int err;

	d->src_fd = src;
	d->dst_fd = dst;
	if (base) {
		d->dst_base = *base;
	} else {
		err = tcp_sent(dst, &d->dst_base);
		if (err)
			return err;
	}
	reserve(sp, d, FC_FIRST);
	d->notify_at = FC_FIRST;
	return 0;
}

/*
 * Both sockets' state and first flow-control marks, one batch per map (two system calls where
 * four single updates were: bench --syscalls). Nothing reads them before the sockets join
 * wsplice_socks.
 */
static int pair_write_state(struct splice *sp, struct splice_pair *p)
{
	uint64_t keys[2] = { p->dir[0].cookie, p->dir[1].cookie };
	struct wsplice_sock v[2] = { { .peer = keys[1] }, { .peer = keys[0] } };
	struct wsplice_limit lim[2] = { { .notify_at = p->dir[0].notify_at },
					{ .notify_at = p->dir[1].notify_at } };
	__u32 n = 2;

	/* (batches take no BPF_NOEXIST; socket cookies are never reused) */
	if (bpf_map_update_batch(sp->sock_fd, keys, v, &n, NULL) < 0)
		return -errno;
	n = 2;
	if (bpf_map_update_batch(sp->limit_fd, keys, lim, &n, NULL) < 0)
		return -errno;
	return 0;
}

/*
 * Forgets a tunnel's sockets. close() removes a socket from the sockhashes itself, so sockets
 * about to be closed skip those deletes; the hash entries keyed by cookie go in one batch per
 * map, one by one if the batch fails (an entry a failed start never wrote).
 */
static void map_forget(struct splice *sp, struct splice_pair *p, bool closing)
{
	uint64_t keys[2] = { p->dir[0].cookie, p->dir[1].cookie };
	int fds[2] = { sp->sock_fd, sp->limit_fd };
	__u32 n;

	for (int i = 0; i < 2; i++) {
		if (!keys[i] || closing)
			continue;
		bpf_map_delete_elem(sp->socks_fd, &keys[i]);
		bpf_map_delete_elem(sp->targets_fd, &keys[i]);
	}
	for (int m = 0; m < 2; m++) {
		n = 2;
		if (keys[0] && keys[1] && bpf_map_delete_batch(fds[m], keys, &n, NULL) == 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (keys[i])
				bpf_map_delete_elem(fds[m], &keys[i]);
	}
}

/* Inserts both sockets, targets first: a verdict may run as soon as a socket is in
 * wsplice_socks, and its peer must then be a valid redirect target. */
static int insert_pair(struct splice *sp, struct splice_pair *p)
{
	uint64_t fd;
	int i;

	for (i = 0; i < 2; i++) {
		fd = p->dir[i].src_fd;
		if (bpf_map_update_elem(sp->targets_fd, &p->dir[i].cookie, &fd, BPF_NOEXIST) < 0)
			return -errno;
	}
	for (i = 0; i < 2; i++) {
		fd = p->dir[i].src_fd;
		if (bpf_map_update_elem(sp->socks_fd, &p->dir[i].cookie, &fd, BPF_NOEXIST) < 0)
			return -errno;
	}
	return 0;
}

static void undo_start(struct splice *sp, struct splice_pair *p, bool closing)
{
	for (int i = 0; i < 2; i++)
		reserve(sp, &p->dir[i], 0);
	map_forget(sp, p, closing);
}

int splice_tunnel_start(struct stream *s)
{
	struct splice *sp = s->ctx->splice;
	struct splice_pair *p = &s->pair;
	struct loop *loop = s->ctx->loop;
	int err, one = 1;

	memset(p, 0, sizeof(*p));
	p->dir[0].pair = p->dir[1].pair = p;
	err = sock_cookie(s->cs.fd, &p->dir[0].cookie);
	if (!err)
		err = sock_cookie(s->ss.fd, &p->dir[1].cookie);
	/* every byte the client socket ever got went through send_some(), counted in cs.tx (two
	 * system calls saved; an accepted socket's tcpi_bytes_acked counts data only). Not the
	 * server socket: it may have served others before (http-reuse), and a connecting
	 * socket's tcpi_bytes_acked counts its SYN too (measured on 6.18) */
	if (!err)
		err = dir_init(sp, &p->dir[0], s->cs.fd, s->ss.fd, NULL);
	if (!err)
		err = dir_init(sp, &p->dir[1], s->ss.fd, s->cs.fd, &s->cs.tx);
	if (!err)
		err = pair_write_state(sp, p);
	if (!err)
		err = insert_pair(sp, p);
	if (err) {
		pr_warn("frontend '%s': splice: %s; tunnel stays in user space", s->fe->id,
			strerror(-err));
		undo_start(sp, p, false);
		return err;
	}
	p->inserted = true;
	hash_add(sp, &p->dir[0]);
	hash_add(sp, &p->dir[1]);
	/* bytes queued before insertion stay stuck until more arrive: this runs the verdict
	 * over them, in order (sockmap-notes.md, handover step 4) */
	setsockopt(s->cs.fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	setsockopt(s->ss.fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	/* EPOLLIN would wake us once per skb; only the FIN and errors matter now, each once
	 * (edge-triggered: a FIN stays readable and would wake us forever) */
	loop_rebind_fd(loop, &s->cs.fh, EPOLLRDHUP | EPOLLET, splice_cli_io);
	loop_rebind_fd(loop, &s->ss.fh, EPOLLRDHUP | EPOLLET, splice_srv_io);
	buf_release(&s->req.in);
	buf_release(&s->req.out);
	buf_release(&s->res.in);
	buf_release(&s->res.out);
	s->st = ST_TUNNEL_KERNEL;
	s->ctx->cnt.cur_spliced++;
	s->timer.cb = splice_timer;
	/* no byte went through the kernel yet: the deadline follows from what user space saw,
	 * without asking the maps (splice_timer does once it falls due) */
	splice_arm_timer(s, s->cs.last_ms, s->ss.last_ms, false);
	return 0;
}

void splice_tunnel_bytes(struct stream *s, uint64_t *c2s, uint64_t *s2c)
{
	struct splice_pair *p = &s->pair;
	struct wsplice_sock v;

	/* a shut direction's count is final, recorded when its FIN went out */
	for (int i = 0; i < 2; i++)
		if (p->inserted && !p->dir[i].shut &&
		    sock_state(s->ctx->splice, p->dir[i].cookie, &v) == 0)
			p->final_bytes[i] = v.bytes + p->dir[i].copied;
	*c2s = p->final_bytes[0];
	*s2c = p->final_bytes[1];
}

int splice_tunnel_last(struct stream *s, uint64_t *cli_ms, uint64_t *srv_ms)
{
	struct wsplice_sock c, v;

	if (!s->pair.inserted || sock_state(s->ctx->splice, s->pair.dir[0].cookie, &c) < 0 ||
	    sock_state(s->ctx->splice, s->pair.dir[1].cookie, &v) < 0)
		return -1;
	if (c.last_ns / 1000000 > *cli_ms)
		*cli_ms = c.last_ns / 1000000;
	if (v.last_ns / 1000000 > *srv_ms)
		*srv_ms = v.last_ns / 1000000;
	return 0;
}

void splice_tunnel_stop(struct stream *s)
{
	struct splice *sp = s->ctx->splice;
	struct splice_pair *p = &s->pair;
	uint64_t c2s, s2c;

	if (!p->inserted)
		return;
	splice_tunnel_bytes(s, &c2s, &s2c);
	poll_del(sp, p);
	for (int i = 0; i < 2; i++) {
		hash_del(sp, &p->dir[i]);
		buf_release(&p->dir[i].rest);
	}
	undo_start(sp, p, p->closing);
	p->inserted = false;
	s->ctx->cnt.cur_spliced--;
}

/* --- EOF, errors, timeouts ------------------------------------------------------------------ */

/* Progress of a tunnel with a held or closing direction. Returns true to keep polling. */
static bool pair_poll(struct stream *s)
{
	struct splice_pair *p = &s->pair;
	bool again = false;
	int i, r;

	for (i = 0; i < 2; i++) {
		struct splice_dir *d = &p->dir[i];

		if (d->shut)
			continue;
		r = dir_check(s, d);
		if (r < 0) {
			pair_end(s, i ? "SD" : "CD");
			return false;
		}
		again |= r > 0;
	}
	if (p->dir[0].shut && p->dir[1].shut) {
		pair_end(s, "--");
		return false;
	}
	if (p->demoting && pair_drained(s)) {
		poll_del(s->ctx->splice, p);
		pair_finish_demote(s);
		return false;
	}
	return again;
}

static void poll_timer(struct loop *loop, struct timer *t)
{
	struct splice *sp = container_of(t, struct splice, poll);
	struct splice_pair *p, *next;

	for (p = sp->polling; p; p = next) {
		next = p->poll_next;
		/* pair_poll may end the tunnel, which unlinks p (and only p) */
		if (!pair_poll(pair_stream(p)))
			poll_del(sp, p);
	}
	if (sp->polling)
		loop_timer_add(loop, t, FC_POLL_MS);
}

static void splice_side_io(struct stream *s, bool client, uint32_t events)
{
	struct fd_handler *h = client ? &s->cs.fh : &s->ss.fh;
	struct splice_dir *d = &s->pair.dir[client ? 0 : 1];
	socklen_t len = sizeof(int);
	int err = 0, r;

	/* a reset or an error always comes with EPOLLERR (tcp_poll); a HUP alone is both
	 * directions closed, the peer's FIN after ours */
	if (events & EPOLLERR) {
		getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			pr_debug("stream %llu: %s side: %s", (unsigned long long)s->id,
				 client ? "client" : "server", strerror(err));
			return pair_end(s, client ? "CD" : "SD");
		}
	}
	if (!(events & (EPOLLRDHUP | EPOLLHUP)) || d->eof)
		return;
	d->eof = true;
	/*
	 * Only this direction has news; the other one is looked at by the poll timer if it is on
	 * the poll list, else by its own events (three system calls fewer per FIN than
	 * pair_poll()).
	 */
	r = dir_check(s, d);
	if (r < 0)
		return pair_end(s, client ? "CD" : "SD");
	if (s->pair.dir[0].shut && s->pair.dir[1].shut)
		return pair_end(s, "--");
	if (r > 0)
		poll_add(s->ctx->splice, &s->pair);
	/* the half-closed timeouts, where set, replace the others from now on */
	if (s->fe->timeout.client_fin || s->be->timeout.server_fin)
		splice_timer(s->ctx->loop, &s->timer);
}

static void splice_cli_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	(void)loop;
	splice_side_io(container_of(h, struct stream, cs.fh), true, events);
}

static void splice_srv_io(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	(void)loop;
	splice_side_io(container_of(h, struct stream, ss.fh), false, events);
}

/* Arms the idle timeout from the last activity on each side (loop time), the tunnel's start
 * counting as activity. */
static void splice_arm_timer(struct stream *s, uint64_t cli, uint64_t srv, bool half)
{
	uint64_t start = s->t_connected, when;
	char cause;

	when = tunnel_deadline(s, cli > start ? cli : start, srv > start ? srv : start, half,
			       &cause);
	if (when)
		loop_timer_at(s->ctx->loop, &s->timer, when);
	else
		loop_timer_del(s->ctx->loop, &s->timer);
}

/* Idle timeouts from the last activity BPF recorded on each socket. */
static void splice_timer(struct loop *loop, struct timer *t)
{
	struct stream *s = container_of(t, struct stream, timer);
	struct splice *sp = s->ctx->splice;
	struct wsplice_sock c = { 0 }, v = { 0 };
	uint64_t now = loop_now_ms(loop), cli, srv, when, start = s->t_connected;
	char cause;

	sock_state(sp, s->pair.dir[0].cookie, &c);
	sock_state(sp, s->pair.dir[1].cookie, &v);
	/* no byte yet: the tunnel's start counts as activity */
	cli = c.last_ns ? c.last_ns / 1000000 : s->cs.last_ms;
	srv = v.last_ns ? v.last_ns / 1000000 : s->ss.last_ms;
	if (cli < start)
		cli = s->cs.last_ms > start ? s->cs.last_ms : start;
	if (srv < start)
		srv = s->ss.last_ms > start ? s->ss.last_ms : start;
	when = tunnel_deadline(s, cli, srv, s->pair.dir[0].eof || s->pair.dir[1].eof, &cause);
	if (!when)
		return;
	if (when <= now) {
		char term[3] = { cause, 'D', 0 };

		return pair_end(s, term);
	}
	loop_timer_at(loop, t, when);
}
