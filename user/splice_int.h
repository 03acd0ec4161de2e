/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_SPLICE_INT_H
#define WSPLICE_SPLICE_INT_H

#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wsplice.h"

#include "ctx.h"
#include "loop.h"
#include "splice.h"

/*
 * Internal to the kernel data path: splice.c (the BPF objects and their pins, the handover of a
 * tunnel and its end, reload) and splice_flow.c (what runs while a tunnel is in the kernel: flow
 * control, the copy of bytes the verdict passed, EOF, demotion, the poll list, socket events and
 * idle timeouts). Not for other modules: they use splice.h.
 */

/*
 * Flow control. The redirect has no backpressure (sockmap-notes.md: 2 GiB queued towards a
 * backend that never read), so each direction may have at most FC_HIGH bytes redirected but not
 * yet handed to the destination's TCP stack; past that the tunnel leaves the kernel for the
 * userspace relay (pair_demote). A new tunnel starts with FC_FIRST of credit so that idle
 * tunnels reserve little of the global budget.
 */
#define FC_HIGH (16u << 20)
#define FC_FIRST WSPLICE_FIRST_MARK
#define FC_MIN_GRANT (16u << 10)
#define FC_POLL_MS 5
#define HASH_BITS 14

struct splice {
	struct wsplice_bpf *skel;
	int socks_fd, targets_fd, sock_fd, limit_fd, stats_fd, events_fd, link_fd;
	struct ring_buffer *rb;
	struct fd_handler rb_fh;
	struct timer poll;
	struct ctx *ctx;
	struct splice_dir *hash[1 << HASH_BITS];
	struct splice_pair *polling;	/* pairs with a paused or draining direction */
	uint64_t budget_max, budget_used;
	char pin_dir[64];
	bool adopted;		/* maps taken from the process this one replaced (no skeleton) */
	bool given_up;		/* tunnels handed to a new process: no event, no new tunnel */
	int root_dirfd;		/* WSPLICE_PIN_ROOT, for removal after a chroot */
};

/* A socket's BPF state (wsplice_sock) by its cookie, in *v. Returns 0 or -errno. */
static inline int sock_state(struct splice *sp, uint64_t cookie, struct wsplice_sock *v)
{
	if (bpf_map_lookup_elem(sp->sock_fd, &cookie, v) < 0)
		return -errno;
	return 0;
}

/* Sets d's share of the global in-flight budget (budget_used) to amount. */
static inline void reserve(struct splice *sp, struct splice_dir *d, uint64_t amount)
{
	sp->budget_used -= d->reserved;
	d->reserved = amount;
	sp->budget_used += amount;
}

/* splice.c */
/* The direction whose source socket has this cookie, or NULL (a tunnel this process forgot). */
struct splice_dir *splice_dir_find(struct splice *sp, uint64_t cookie);

/* splice_flow.c */
/* Puts a pair on the poll list (FC_POLL_MS), once; flow_poll_del() takes it off, if on it. */
void flow_poll_add(struct splice *sp, struct splice_pair *p);
void flow_poll_del(struct splice *sp, struct splice_pair *p);
/* Bytes a socket has handed to TCP since it was created, in *sent. Returns 0 or -errno. */
int flow_tcp_sent(int fd, uint64_t *sent);
/* The event ring's callback (ring_buffer__new): a direction crossed its flow-control mark. */
int flow_on_event(void *arg, void *data, size_t size);
/* The poll list's timer, struct splice's poll: checks every pair on the list again. */
void flow_poll_timer(struct loop *loop, struct timer *t);
/* A spliced tunnel's socket events (SPLICE_EVENTS, errors and FINs): client and server side. */
void flow_cli_io(struct loop *loop, struct fd_handler *h, uint32_t events);
void flow_srv_io(struct loop *loop, struct fd_handler *h, uint32_t events);
/* A spliced tunnel's timer: arms it from user space's last activity; flow_timer is its callback. */
void flow_arm_timer(struct stream *s, uint64_t cli, uint64_t srv, bool half);
void flow_timer(struct loop *loop, struct timer *t);

#endif /* WSPLICE_SPLICE_INT_H */
