// SPDX-License-Identifier: GPL-2.0
#include "reload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/types.h>
#include <unistd.h>

#include "wsplice.h"

#include "buf.h"
#include "ctx.h"
#include "listener.h"
#include "log.h"
#include "relay.h"
#include "splice.h"
#include "stream.h"
#include "stream_int.h"

/*
 * The wire format is this binary's structs, sent between two processes of one machine: the new
 * process names its protocol version and record size in its request, and an old process of
 * another version answers with no record (it then keeps its tunnels, as HAProxy's old
 * processes do). Bump RELOAD_PROTO when a record changes meaning.
 */
#define RELOAD_MAGIC 0x77737031u /* "wsp1" */
#define RELOAD_PROTO 1
#define RELOAD_TIMEOUT_S 5
#define NAME_LEN 128
#define REQLINE_MAX 65536
#define RELOAD_RETRY_MS 200

/* A tunnel's buffers, in this order after its request line. */
enum { HO_REQ_IN, HO_REQ_OUT, HO_RES_IN, HO_RES_OUT, HO_NBUFS };

struct ho_hdr {
	uint32_t magic, proto;
	int32_t pid;
	uint32_t splice;	/* the old process forwards tunnels in the kernel */
	uint32_t count;		/* records that follow */
	uint32_t left;		/* connections the old process keeps after these */
	char msg[104];		/* why none follows, when count is 0 */
};

/* The new process's answer to a batch: which records it refused (the old process keeps those,
 * and does not offer them again); their indices follow. */
struct ho_ack {
	uint32_t magic;
	uint32_t refused;
};

struct ho_listener {
	struct sockaddr_storage addr;
	uint32_t addrlen;
};

struct ho_side {
	uint64_t rx, tx, last_ms;
	uint8_t eof, shut_wr;
};

struct ho_dir {
	uint64_t cookie, dst_base, notify_at, reserved, copied;
	uint8_t paused, eof, shut;
};

/* One tunnel: what its log line, timeouts, counters and flow control need. Times are loop
 * times (CLOCK_MONOTONIC ms), the same clock in both processes. */
struct ho_tunnel {
	uint64_t id;
	uint32_t kernel;	/* 1: spliced (pair valid), 0: userspace relay */
	uint32_t reqline_len;	/* bytes of the request line that follow the record */
	uint32_t buf_len[HO_NBUFS]; /* then the bytes a relayed tunnel held in user space */
	char fe[NAME_LEN], be[NAME_LEN], srv[NAME_LEN];
	uint8_t srv_taken;	/* the stream occupies srv (else srv is only logged) */
	struct sockaddr_storage cli_addr;
	int64_t req_sec, req_usec;
	uint64_t t_start, t_head, t_conn_start, t_connected, t_resp;
	uint64_t t_first;	/* the log's %Ti and %TR */
	uint64_t rx_start, tx_start;
	struct ho_side cs, ss;
	struct ho_dir dir[2];
	uint64_t final_bytes[2];
	int64_t tw;
	int32_t status, retries;
	uint32_t nreq;
	uint8_t redispatched, ck_matched, logged_asap, demoted, splice_failed;
	char term[3];
	char ck_log[2];		/* the log's cookie flags */
};

/*
 * New process: the listeners the old process sent, until listener.c took them, and the
 * connection on which tunnels keep coming while the old process still has connections (each
 * one moves as soon as user space holds nothing of it that cannot travel).
 */
struct reload {
	struct ctx *ctx;
	int old_pid;
	bool old_splice;
	int n;
	int *fds;
	struct ho_listener *addrs;
	int tunnel_fd;
	struct timer retry;
};

/* --- blocking I/O with a timeout over the stats socket ------------------------------------- */

static int set_blocking(int fd)
{
	struct timeval tv = { .tv_sec = RELOAD_TIMEOUT_S };

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static int write_full(int fd, const void *p, size_t len)
{
	ssize_t n;

	for (size_t done = 0; done < len; done += n) {
		n = send(fd, (const char *)p + done, len - done, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
	return 0;
}

static int read_full(int fd, void *p, size_t len)
{
	ssize_t n;

	for (size_t done = 0; done < len; done += n) {
		n = recv(fd, (char *)p + done, len - done, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
	return 0;
}

/* Sends len bytes (one record) with nfds descriptors attached. Returns 0 or -errno. */
static int send_fds(int sock, const void *p, size_t len, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	if (nfds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	/* the descriptors went with the first byte; the rest of a short send follows plainly */
	return (size_t)n == len ? 0 : write_full(sock, (const char *)p + n, len - n);
}

/*
 * Receives one record of len bytes and exactly nfds descriptors (close-on-exec). A record is
 * one sendmsg, and a unix stream read never runs past a message that carries descriptors, so
 * a read of exactly len bytes ends at this record. Returns 0 or -errno (no fd left open).
 */
static int recv_fds(int sock, void *p, size_t len, int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = p, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int got = 0, err;
	ssize_t n;

	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return n == 0 ? -ECONNRESET : (errno == EAGAIN ? -ETIMEDOUT : -errno);
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (got < nfds)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	err = got == nfds && !(mh.msg_flags & MSG_CTRUNC) ? 0 : -EPROTO;
	if (!err && (size_t)n < len)
		err = read_full(sock, (char *)p + n, len - n);
	if (err)
		while (got)
			close(fds[--got]);
	return err;
}

/* Connects to the old process's stats socket and sends one command line. Returns an fd or
 * -errno. */
static int cli_request(const char *path, const char *line)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = set_blocking(fd);
	if (!err && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		err = -errno;
	if (!err)
		err = write_full(fd, line, strlen(line));
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Reads the answer's header. An old process that refuses answers in text (a CLI error such as
 * "Permission denied"); that text is logged. Returns 0 or -errno.
 */
static int read_hdr(int fd, const char *path, struct ho_hdr *h)
{
	ssize_t n = recv(fd, h, sizeof(*h), MSG_WAITALL);
	int err;

	if (n == (ssize_t)sizeof(*h) && h->magic == RELOAD_MAGIC && h->proto == RELOAD_PROTO) {
		h->msg[sizeof(h->msg) - 1] = 0;
		return 0;
	}
	if (n == 0)
		return -ECONNRESET;	/* the old process exited: the caller tells */
	err = n < 0 ? -errno : -EPROTO;
	if (n > 0) {
		char *text = (char *)h;

		text[n < (ssize_t)sizeof(*h) ? n : (ssize_t)sizeof(*h) - 1] = 0;
		text[strcspn(text, "\n")] = 0;
		pr_warn("reload: %s: the old process answered '%s'", path, text);
	} else {
		pr_warn("reload: %s: %s", path, strerror(-err));
	}
	return err;
}

static void retry_tunnels(struct loop *loop, struct timer *t);

/* --- new process: listeners ------------------------------------------------------------------ */

static struct reload *reload_get(struct ctx *ctx)
{
	struct reload *r = ctx->reload;

	if (r)
		return r;
	r = ctx->reload = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ctx = ctx;
	r->tunnel_fd = -1;
	loop_timer_init(&r->retry, retry_tunnels);
	return r;
}

int reload_get_listeners(struct ctx *ctx, const char *path)
{
	struct reload *r = reload_get(ctx);
	struct ho_hdr h;
	int fd, err;

	if (!r)
		return -ENOMEM;
	fd = cli_request(path, "_getsocks\n");
	if (fd < 0) {
		pr_warn("reload: cannot reach the old process on %s: %s", path, strerror(-fd));
		return fd;
	}
	err = read_hdr(fd, path, &h);
	if (!err) {
		r->old_pid = h.pid;
		r->old_splice = h.splice;
		r->fds = calloc(h.count + 1, sizeof(*r->fds));
		r->addrs = calloc(h.count + 1, sizeof(*r->addrs));
		err = r->fds && r->addrs ? 0 : -ENOMEM;
	}
	for (uint32_t i = 0; !err && i < h.count; i++) {
		err = recv_fds(fd, &r->addrs[r->n], sizeof(r->addrs[0]), &r->fds[r->n], 1);
		if (!err)
			r->n++;
	}
	close(fd);
	if (err) {
		pr_warn("reload: cannot take the old process's listeners: %s", strerror(-err));
		return err;
	}
	pr_notice("reload: received %d listening sockets from process %d", r->n, r->old_pid);
	return 0;
}

int reload_take_listener(struct ctx *ctx, const struct sockaddr_storage *addr, socklen_t len)
{
	struct reload *r = ctx->reload;

	for (int i = 0; r && i < r->n; i++) {
		int fd = r->fds[i];

		if (fd >= 0 && r->addrs[i].addrlen == len && !memcmp(&r->addrs[i].addr, addr, len)) {
			r->fds[i] = -1;
			return fd;
		}
	}
	return -1;
}

void reload_listeners_done(struct ctx *ctx)
{
	struct reload *r = ctx->reload;

	for (int i = 0; r && i < r->n; i++)
		if (r->fds[i] >= 0) {
			/* a bind the new configuration dropped */
			close(r->fds[i]);
			r->fds[i] = -1;
		}
}

int reload_old_splice_pid(const struct ctx *ctx)
{
	return ctx->reload && ctx->reload->old_splice ? ctx->reload->old_pid : 0;
}

/* --- new process: tunnels --------------------------------------------------------------------- */

static struct server *find_server(struct proxy *be, const char *name)
{
	for (struct server *srv = be ? be->servers : NULL; srv; srv = srv->next)
		if (!strcmp(srv->id, name))
			return srv;
	return NULL;
}

static void side_from(struct side *sd, const struct ho_side *h)
{
	sd->rx = h->rx;
	sd->tx = h->tx;
	sd->last_ms = h->last_ms;
	sd->eof = h->eof;
	sd->shut_wr = h->shut_wr;
}

static void pair_from(struct splice_pair *p, const struct ho_tunnel *t)
{
	for (int i = 0; i < 2; i++) {
		struct splice_dir *d = &p->dir[i];

		d->cookie = t->dir[i].cookie;
		d->dst_base = t->dir[i].dst_base;
		d->notify_at = t->dir[i].notify_at;
		d->reserved = t->dir[i].reserved;
		d->copied = t->dir[i].copied;
		d->paused = t->dir[i].paused;
		d->eof = t->dir[i].eof;
		d->shut = t->dir[i].shut;
		p->final_bytes[i] = t->final_bytes[i];
	}
	p->demoted = t->demoted;
}

/* Fills a new stream from a record. The proxies and servers are looked up by name in the new
 * configuration; a tunnel whose frontend or backend is gone cannot be logged and is refused. */
static int stream_from(struct stream *s, const struct ho_tunnel *t, char *reqline,
		       struct buf *bufs)
{
	struct server *srv = find_server(s->be, t->srv);

	s->id = t->id;
	if (s->id >= s->ctx->next_stream_id)
		s->ctx->next_stream_id = s->id + 1;
	if (t->srv_taken && srv)
		take_server(s, srv);
	s->log_srv = srv;
	s->cli_addr = t->cli_addr;
	s->req_date.tv_sec = t->req_sec;
	s->req_date.tv_usec = t->req_usec;
	s->t_start = t->t_start;
	s->t_head = t->t_head;
	s->t_conn_start = t->t_conn_start;
	s->t_connected = t->t_connected;
	s->t_resp = t->t_resp;
	s->t_first = t->t_first;
	memcpy(s->ck_log, t->ck_log, sizeof(s->ck_log));
	s->rx_start = t->rx_start;
	s->tx_start = t->tx_start;
	side_from(&s->cs, &t->cs);
	side_from(&s->ss, &t->ss);
	s->tw = t->tw;
	s->status = t->status;
	s->retries = t->retries;
	s->nreq = t->nreq;
	s->redispatched = t->redispatched;
	s->ck_matched = t->ck_matched;
	s->logged_asap = t->logged_asap;
	s->splice_failed = t->splice_failed;
	memcpy(s->term, t->term, sizeof(s->term));
	s->term[2] = 0;
	s->reqline = reqline;
	s->req.in = bufs[HO_REQ_IN];
	s->req.out = bufs[HO_REQ_OUT];
	s->res.in = bufs[HO_RES_IN];
	s->res.out = bufs[HO_RES_OUT];
	memset(bufs, 0, HO_NBUFS * sizeof(*bufs));
	pair_from(&s->pair, t);
	return 0;
}

/* A tunnel fits in this process when its frontend and backend still exist (it is logged with
 * them) and, for a spliced one, when this process took the maps it is in. */
static bool placeable(struct ctx *ctx, struct ho_tunnel *t)
{
	t->fe[NAME_LEN - 1] = t->be[NAME_LEN - 1] = t->srv[NAME_LEN - 1] = 0;
	if (cfg_find_proxy(ctx->cfg, t->fe, PX_CAP_FE) && cfg_find_proxy(ctx->cfg, t->be, PX_CAP_BE) &&
	    (!t->kernel || splice_adopted(ctx)))
		return true;
	pr_warn("reload: tunnel %llu (frontend '%s', backend '%s') has no place in the new "
		"configuration; it stays with the old process", (unsigned long long)t->id, t->fe,
		t->be);
	return false;
}

static int adopt_one(struct ctx *ctx, struct ho_tunnel *t, const int fds[2], char *reqline,
		     struct buf *bufs)
{
	struct proxy *fe = cfg_find_proxy(ctx->cfg, t->fe, PX_CAP_FE);
	struct proxy *be = cfg_find_proxy(ctx->cfg, t->be, PX_CAP_BE);
	struct stream *s;
	int err;

	s = stream_adopt(ctx, fe, fds[0], fds[1]);
	if (!s) {
		free(reqline);
		for (int b = 0; b < HO_NBUFS; b++)
			buf_release(&bufs[b]);
		return -ENOMEM;
	}
	s->be = be;
	stream_from(s, t, reqline, bufs);
	if (!t->kernel) {
		stream_adopt_user(s);
		return 0;
	}
	err = splice_tunnel_adopt(s);
	if (err) {
		pr_warn("reload: tunnel %llu: %s; closed", (unsigned long long)t->id, strerror(-err));
		stream_set_term(s, 'K', 'D');
		stream_kill(s);
	}
	return err;
}

struct received {
	struct ho_tunnel *recs;
	int *fds;
	char **reqlines;
	struct buf *bufs;	/* HO_NBUFS per record */
	uint32_t n;
};

/* Closes record i's sockets (the old process keeps its own) and frees what came with it. */
static void received_drop(struct received *rv, uint32_t i)
{
	close(rv->fds[2 * i]);
	close(rv->fds[2 * i + 1]);
	rv->fds[2 * i] = rv->fds[2 * i + 1] = -1;
	free(rv->reqlines[i]);
	rv->reqlines[i] = NULL;
	for (int b = 0; b < HO_NBUFS; b++)
		buf_release(&rv->bufs[HO_NBUFS * i + b]);
}

static void received_free(struct received *rv, bool close_all)
{
	for (uint32_t i = 0; close_all && i < rv->n; i++)
		received_drop(rv, i);
	free(rv->bufs);
	free(rv->recs);
	free(rv->fds);
	free(rv->reqlines);
}

/* Reads len bytes into b (empty when len is 0). Returns 0 or -errno. */
static int read_buf(int fd, struct buf *b, uint32_t len)
{
	if (!len)
		return 0;
	if (len > TUNNEL_BUFSIZE + STREAM_BUFSIZE)
		return -EPROTO;
	if (!buf_reserve(b, len))
		return -ENOMEM;
	b->tail += len;
	return read_full(fd, b->data + b->head, len);
}

/* Receives count records; the caller frees rv (closing what arrived) on error. Returns 0 or
 * -errno. */
static int receive_tunnels(int fd, uint32_t count, struct received *rv)
{
	int err = 0;

	rv->recs = calloc(count + 1, sizeof(*rv->recs));
	rv->fds = calloc(2 * count + 2, sizeof(*rv->fds));
	rv->reqlines = calloc(count + 1, sizeof(*rv->reqlines));
	rv->bufs = calloc(HO_NBUFS * (count + 1), sizeof(*rv->bufs));
	if (!rv->recs || !rv->fds || !rv->reqlines || !rv->bufs)
		return -ENOMEM;
	for (uint32_t i = 0; i < count; i++) {
		struct ho_tunnel *t = &rv->recs[i];
		char *line = NULL;

		err = recv_fds(fd, t, sizeof(*t), &rv->fds[2 * i], 2);
		if (err)
			break;
		if (t->reqline_len > REQLINE_MAX)
			err = -EPROTO;
		if (!err && t->reqline_len) {
			line = calloc(1, t->reqline_len + 1);
			err = line ? read_full(fd, line, t->reqline_len) : -ENOMEM;
		}
		rv->reqlines[i] = line;
		rv->n++;
		for (int b = 0; !err && b < HO_NBUFS; b++)
			err = read_buf(fd, &rv->bufs[HO_NBUFS * i + b], t->buf_len[b]);
		if (err)
			break;
	}
	return err;
}

/*
 * Tells the old process which records this one cannot place (it keeps them), and drops them
 * here; the old process forgets the others once it has read this. Returns 0 or -errno.
 */
static int send_ack(struct ctx *ctx, int fd, struct received *rv)
{
	struct ho_ack ack = { .magic = RELOAD_MAGIC };
	uint32_t *idx = calloc(rv->n + 1, sizeof(*idx));
	int err;

	if (!idx)
		return -ENOMEM;
	for (uint32_t i = 0; i < rv->n; i++)
		if (!placeable(ctx, &rv->recs[i]))
			idx[ack.refused++] = i;
	err = write_full(fd, &ack, sizeof(ack));
	if (!err && ack.refused)
		err = write_full(fd, idx, ack.refused * sizeof(*idx));
	for (uint32_t i = 0; !err && i < ack.refused; i++)
		received_drop(rv, idx[i]);
	free(idx);
	return err;
}

/*
 * One exchange on the tunnel connection: asks for what the old process can hand over now,
 * receives it, acknowledges it and adopts it. Returns the number of connections the old process
 * keeps, or -errno (then it keeps everything it had: it forgets tunnels only once acknowledged).
 */
static int take_tunnels(struct ctx *ctx, struct reload *r)
{
	struct received rv = { 0 };
	unsigned int kernel = 0, failed = 0, took = 0;
	struct ho_hdr h;
	char line[128];
	int err;

	/* kernel tunnels only go where their maps went */
	snprintf(line, sizeof(line), "_gettunnels %d %zu %d %d\n", RELOAD_PROTO,
		 sizeof(struct ho_tunnel), WSPLICE_ABI, splice_adopted(ctx));
	err = write_full(r->tunnel_fd, line, strlen(line));
	if (!err)
		err = read_hdr(r->tunnel_fd, "stats socket", &h);
	if (!err && !h.count && h.msg[0])
		pr_warn("reload: process %d keeps its tunnels: %s", h.pid, h.msg);
	if (!err)
		err = receive_tunnels(r->tunnel_fd, h.count, &rv);
	if (!err && h.count)
		err = send_ack(ctx, r->tunnel_fd, &rv);
	if (err) {
		received_free(&rv, true);
		return err;
	}
	for (uint32_t i = 0; i < rv.n; i++) {
		if (rv.fds[2 * i] < 0)
			continue;	/* refused: the old process keeps it */
		took++;
		kernel += rv.recs[i].kernel;
		failed += adopt_one(ctx, &rv.recs[i], &rv.fds[2 * i], rv.reqlines[i],
				    &rv.bufs[HO_NBUFS * i]) < 0;
	}
	if (rv.n)
		pr_notice("reload: took %u tunnels from process %d (%u in the kernel, %u failed), "
			  "%u connections left there", took, h.pid, kernel, failed,
			  h.left + rv.n - took);
	received_free(&rv, false);
	return h.left;
}

static void tunnels_done(struct reload *r)
{
	if (r->tunnel_fd >= 0)
		close(r->tunnel_fd);
	r->tunnel_fd = -1;
}

/* While the old process finishes connections, those that become tunnels it can hand over come
 * here: polled every RELOAD_RETRY_MS until it has none left or exits (the connection ends). */
static void retry_tunnels(struct loop *loop, struct timer *t)
{
	struct reload *r = container_of(t, struct reload, retry);
	int left = take_tunnels(r->ctx, r);

	if (left > 0 && !r->ctx->stopping) {
		loop_timer_add(loop, t, RELOAD_RETRY_MS);
		return;
	}
	if (left < 0 && left != -ECONNRESET)
		pr_warn("reload: tunnels of process %d: %s", r->old_pid, strerror(-left));
	tunnels_done(r);
}

int reload_get_tunnels(struct ctx *ctx, const char *path)
{
	struct reload *r = reload_get(ctx);
	int left;

	if (!r)
		return -ENOMEM;
	/* a connection of its own, kept: our stats socket will soon take the path */
	r->tunnel_fd = cli_request(path, "");
	if (r->tunnel_fd < 0) {
		pr_warn("reload: cannot reach the old process on %s: %s", path,
			strerror(-r->tunnel_fd));
		return r->tunnel_fd;
	}
	left = take_tunnels(ctx, r);
	if (left < 0) {
		pr_warn("reload: tunnels of the old process: %s; it keeps them", strerror(-left));
		tunnels_done(r);
		return left;
	}
	if (left)
		loop_timer_add(ctx->loop, &r->retry, RELOAD_RETRY_MS);
	else
		tunnels_done(r);
	return 0;
}

void reload_free(struct ctx *ctx)
{
	struct reload *r = ctx->reload;

	if (!r)
		return;
	loop_timer_del(ctx->loop, &r->retry);
	tunnels_done(r);
	reload_listeners_done(ctx);
	free(r->fds);
	free(r->addrs);
	free(r);
	ctx->reload = NULL;
}

/* --- old process ------------------------------------------------------------------------------ */

static void hdr_init(struct ctx *ctx, struct ho_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->magic = RELOAD_MAGIC;
	h->proto = RELOAD_PROTO;
	h->pid = getpid();
	h->splice = ctx->splice != NULL;
}

static void send_listeners(struct ctx *ctx, int fd)
{
	struct ho_listener rec;
	struct ho_hdr h;
	socklen_t len;
	int err;

	hdr_init(ctx, &h);
	for (struct listener *l = ctx->listeners; l; l = l->next)
		h.count++;
	err = write_full(fd, &h, sizeof(h));
	for (struct listener *l = ctx->listeners; l && !err; l = l->next) {
		memset(&rec, 0, sizeof(rec));
		len = sizeof(rec.addr);
		if (getsockname(l->fd, (struct sockaddr *)&rec.addr, &len) < 0)
			len = 0;
		rec.addrlen = len;
		err = send_fds(fd, &rec, sizeof(rec), &l->fd, 1);
	}
	if (err)
		pr_warn("reload: sending listeners: %s", strerror(-err));
}

static void side_to(struct ho_side *h, const struct side *sd)
{
	h->rx = sd->rx;
	h->tx = sd->tx;
	h->last_ms = sd->last_ms;
	h->eof = sd->eof;
	h->shut_wr = sd->shut_wr;
}

static void record_of(const struct stream *s, struct ho_tunnel *t)
{
	const struct server *srv = s->srv ? s->srv : s->log_srv;

	memset(t, 0, sizeof(*t));
	t->id = s->id;
	t->kernel = s->st == ST_TUNNEL_KERNEL;
	t->reqline_len = s->reqline ? strlen(s->reqline) : 0;
	snprintf(t->fe, NAME_LEN, "%s", s->fe->id);
	snprintf(t->be, NAME_LEN, "%s", s->be->id);
	snprintf(t->srv, NAME_LEN, "%s", srv ? srv->id : "");
	t->srv_taken = s->srv != NULL;
	t->cli_addr = s->cli_addr;
	t->req_sec = s->req_date.tv_sec;
	t->req_usec = s->req_date.tv_usec;
	t->t_start = s->t_start;
	t->t_head = s->t_head;
	t->t_conn_start = s->t_conn_start;
	t->t_connected = s->t_connected;
	t->t_resp = s->t_resp;
	t->t_first = s->t_first;
	memcpy(t->ck_log, s->ck_log, sizeof(t->ck_log));
	t->rx_start = s->rx_start;
	t->tx_start = s->tx_start;
	side_to(&t->cs, &s->cs);
	side_to(&t->ss, &s->ss);
	for (int i = 0; i < 2; i++) {
		const struct splice_dir *d = &s->pair.dir[i];

		t->dir[i] = (struct ho_dir){ d->cookie, d->dst_base, d->notify_at, d->reserved,
					     d->copied, d->paused, d->eof, d->shut };
		t->final_bytes[i] = s->pair.final_bytes[i];
	}
	t->tw = s->tw;
	t->status = s->status;
	t->retries = s->retries;
	t->nreq = s->nreq;
	t->redispatched = s->redispatched;
	t->ck_matched = s->ck_matched;
	t->logged_asap = s->logged_asap;
	t->demoted = s->pair.demoted;
	t->splice_failed = s->splice_failed;
	memcpy(t->term, s->term, sizeof(t->term));
}

static bool names_fit(const struct stream *s)
{
	const struct server *srv = s->srv ? s->srv : s->log_srv;

	return strlen(s->fe->id) < NAME_LEN && s->be && strlen(s->be->id) < NAME_LEN &&
	       (!srv || strlen(srv->id) < NAME_LEN) &&
	       (!s->reqline || strlen(s->reqline) <= REQLINE_MAX);
}

/*
 * A tunnel can move when all user space holds of it can travel: a spliced one that no
 * direction of is paused, draining or leaving the kernel (and only to a process that took the
 * maps), a relayed one with its buffers. Other connections finish here, or move once they are
 * such tunnels.
 */
static bool movable(const struct stream *s, bool kernel_ok)
{
	if (s->killed || s->reload_refused || s->cs.fd < 0 || s->ss.fd < 0 || !names_fit(s))
		return false;
	if (s->st == ST_TUNNEL_KERNEL)
		return kernel_ok && splice_tunnel_movable(s);
	return s->st == ST_TUNNEL_USER;
}

/*
 * Waits for the new process's acknowledgement (it received every record) and marks the streams
 * it refused: they stay here, and are not offered again. Returns 0 or -errno.
 */
static int wait_ack(int fd, struct stream **list, uint32_t count)
{
	struct ho_ack ack;
	uint32_t i;
	int err = read_full(fd, &ack, sizeof(ack));

	if (!err && (ack.magic != RELOAD_MAGIC || ack.refused > count))
		err = -EPROTO;
	while (!err && ack.refused--) {
		err = read_full(fd, &i, sizeof(i));
		if (!err && i >= count)
			err = -EPROTO;
		if (!err)
			list[i]->reload_refused = true;
	}
	return err;
}

static struct buf *tunnel_bufs(struct stream *s, int i)
{
	struct buf *bufs[HO_NBUFS] = { &s->req.in, &s->req.out, &s->res.in, &s->res.out };

	return bufs[i];
}

/* Sends one tunnel: the record with both sockets, its request line, its buffers. */
static int send_tunnel(int fd, struct stream *s)
{
	int fds[2] = { s->cs.fd, s->ss.fd }, err;
	struct ho_tunnel t;

	/* a pipe's bytes travel in the buffers; a refused tunnel copies them from there */
	err = relay_unpipe(s);
	if (err)
		return err;
	/* from here the new process may hold them too, even if it refuses the tunnel */
	s->fds_shared = true;
	record_of(s, &t);
	for (int b = 0; b < HO_NBUFS; b++)
		t.buf_len[b] = buf_len(tunnel_bufs(s, b));
	err = send_fds(fd, &t, sizeof(t), fds, 2);
	if (!err && t.reqline_len)
		err = write_full(fd, s->reqline, t.reqline_len);
	for (int b = 0; !err && b < HO_NBUFS; b++)
		if (t.buf_len[b])
			err = write_full(fd, buf_ptr(tunnel_bufs(s, b)), t.buf_len[b]);
	return err;
}

/*
 * "_gettunnels PROTO RECSIZE ABI KERNEL_OK": hands over every tunnel that can move now. The
 * first one also ends accepting here. Returns true when connections are left that may move
 * later (the new process asks again on the same connection).
 */
static bool send_tunnels(struct ctx *ctx, int fd, char **args, int n)
{
	bool kernel_ok = n == 5 && atoi(args[3]) == WSPLICE_ABI && atoi(args[4]) == 1;
	unsigned int count = 0, spliced = 0, moved = 0;
	struct stream **list = NULL, *s;
	bool first;
	struct ho_hdr h;
	int err = 0;

	hdr_init(ctx, &h);
	first = !ctx->given_up;
	if (first) {
		ctx->given_up = true;
		/* from now on the new process accepts: this one only finishes what it has */
		ctx->stopping = true;
		listeners_close(ctx);
		splice_give_up(ctx);
		stream_close_idle(ctx);
	}
	if (n != 5 || atoi(args[1]) != RELOAD_PROTO ||
	    strtoul(args[2], NULL, 10) != sizeof(struct ho_tunnel)) {
		snprintf(h.msg, sizeof(h.msg), "reload protocol mismatch (this is %d/%zu)",
			 RELOAD_PROTO, sizeof(struct ho_tunnel));
	} else {
		for (s = ctx->streams; s; s = s->next)
			count++;
		list = calloc(count + 1, sizeof(*list));
		for (s = ctx->streams; list && s; s = s->next) {
			if (movable(s, kernel_ok))
				list[h.count++] = s;
			else
				spliced += s->st == ST_TUNNEL_KERNEL && !kernel_ok;
		}
	}
	if (spliced)
		pr_warn("reload: %u spliced tunnels stay here: the new process did not take the "
			"BPF objects (nosplice, -dS, or another build)", spliced);
	for (s = ctx->streams; s; s = s->next)
		h.left += !s->killed;
	h.left -= h.count;
	err = write_full(fd, &h, sizeof(h));
	for (uint32_t i = 0; !err && i < h.count; i++)
		err = send_tunnel(fd, list[i]);
	if (!err && h.count)
		err = wait_ack(fd, list, h.count);
	if (err) {
		pr_warn("reload: handing tunnels over: %s; this process keeps them", strerror(-err));
		for (uint32_t i = 0; i < h.count; i++)
			list[i]->reload_refused = false;
		h.left += h.count;
		h.count = 0;
	}
	for (uint32_t i = 0; i < h.count; i++) {
		if (!list[i]->reload_refused) {
			stream_forget(list[i]);
			moved++;
		}
	}
	h.left += h.count - moved;
	if (first || h.count || err)
		pr_notice("reload: %u tunnels handed to the new process, %u connections left to "
			  "finish here", moved, h.left);
	free(list);
	return !err && h.left;
}

bool reload_cli(struct ctx *ctx, int fd, int level, char *line, struct buf *out)
{
	static const char denied[] = "Permission denied\n\n";
	bool keep = false;
	char *args[8];
	int n = 0;

	for (char *tok = strtok(line, " \t"); tok && n < 8; tok = strtok(NULL, " \t"))
		args[n++] = tok;
	if (!n)
		return false;
	if (strcmp(args[0], "_getsocks") && strcmp(args[0], "_gettunnels")) {
		if (buf_reserve(out, 64))
			buf_append(out, "Unknown command.\n\n", 18, out->cap);
		return false;
	}
	/* as HAProxy: only an admin socket with "expose-fd listeners" hands out descriptors */
	if (level < 2 || !ctx->cfg->global.stats_expose_fd) {
		if (buf_reserve(out, sizeof(denied)))
			buf_append(out, denied, sizeof(denied) - 1, out->cap);
		return false;
	}
	if (set_blocking(fd) < 0)
		return false;
	if (!strcmp(args[0], "_getsocks"))
		send_listeners(ctx, fd);
	else
		keep = send_tunnels(ctx, fd, args, n);
	/* the CLI goes on reading this connection from the event loop */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return keep;
}
