/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_SPLICE_H
#define WSPLICE_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "loop.h"

/*
 * The kernel data path: BPF objects (bpf/wsplice.bpf.c), their pins under
 * /sys/fs/bpf/wsplice/<pid>/, and the user-space half of each spliced tunnel: handover and
 * teardown (splice.c), flow control, EOF propagation and idle timeouts (splice_flow.c; the two
 * share splice_int.h). docs/design.md tells the rules and the measurements behind them.
 */

struct ctx;
struct splice;
struct stream;
struct splice_pair;

/* One direction of a spliced tunnel, named by the socket it reads from. */
struct splice_dir {
	struct splice_dir *hnext;	/* cookie hash chain */
	struct splice_pair *pair;
	uint64_t cookie;		/* source socket */
	int src_fd, dst_fd;
	uint64_t dst_base;		/* dst's acked + queued bytes at insertion */
	uint64_t notify_at;		/* current flow-control mark */
	uint64_t reserved;		/* share of the global in-flight budget */
	uint64_t copied;		/* bytes BPF left on src that user space sent to dst */
	struct buf rest;		/* those bytes on their way */
	bool paused;			/* out of wsplice_socks: flow control */
	bool unspliced;			/* never joined wsplice_socks: user space copies it all */
	bool eof;			/* FIN seen on src */
	bool shut;			/* FIN propagated: shutdown(dst, SHUT_WR) */
	bool limited;			/* has a wsplice_limit entry (else: the first mark) */
};

struct splice_pair {
	struct splice_dir dir[2];	/* [0] client to server, [1] server to client */
	bool inserted;
	bool polled;			/* on the poll list: a direction paused or draining */
	bool demoting;			/* leaving the kernel for the userspace relay */
	bool demoted;			/* left it: final_bytes holds what the kernel carried */
	bool closing;			/* ended by splice_flow.c: the stream closes both sockets now */
	struct splice_pair *poll_next, *poll_prev;
	uint64_t final_bytes[2];	/* kernel byte counts, kept once the maps forget them */
};

/*
 * Loads and attaches the BPF program and pins everything. Returns 0, or a negative errno with
 * the reason in why (the caller then uses the userspace path).
 */
int splice_open(struct ctx *ctx, char *why, size_t whylen);
void splice_close(struct ctx *ctx);

/*
 * Lets the process remove its own pins after privs.c dropped it to uid/gid: the pin directory
 * becomes theirs, and WSPLICE_PIN_ROOT sticky and writable by all (01733, as /tmp; a fresh
 * bpffs root is 01777): uid may then remove the directory it owns, and no other one. No-op
 * without splicing. Returns 0 or a negative errno.
 */
int splice_pins_chown(struct ctx *ctx, unsigned int uid, unsigned int gid);

/* Reads the stats map through the fd loaded as root, for privs.c to learn whether bpf() still
 * works without capabilities. Returns 0 or the negative errno of the bpf() call. */
int splice_probe(struct ctx *ctx);

/* True when this kernel has the sockmap fixes splicing relies on (see splice.c). */
bool splice_kernel_ok(char *why, size_t whylen);

/*
 * Hands a tunnel whose user-space buffers are empty to the kernel. On success the stream is in
 * ST_TUNNEL_KERNEL and splice_flow.c owns its events and timer until it calls
 * stream_tunnel_end(). Returns 0 or a negative errno (nothing changed: the caller keeps
 * relaying in user space).
 */
int splice_tunnel_start(struct stream *s);

/* Removes a tunnel's sockets from every map (an abort: queued bytes are discarded). */
void splice_tunnel_stop(struct stream *s);

/* Bytes the kernel forwarded for this tunnel: client to server and server to client. */
void splice_tunnel_bytes(struct stream *s, uint64_t *c2s, uint64_t *s2c);

/* Raises *cli_ms and *srv_ms (loop time) to the last activity BPF saw on each side. Returns 0,
 * or -1 when the tunnel is not in the maps. */
int splice_tunnel_last(struct stream *s, uint64_t *cli_ms, uint64_t *srv_ms);

/* Total bytes forwarded by the BPF program since it was loaded (all CPUs). */
uint64_t splice_kernel_bytes(struct ctx *ctx);

/*
 * Reload (reload.c). New process: splice_adopt() takes the BPF objects pinned by process pid
 * instead of loading its own (0 or -errno, why set); splice_tunnel_adopt() takes over a tunnel
 * whose s->pair the old process described (0 or -errno). Old process: splice_tunnel_movable()
 * says whether a tunnel can go, splice_give_up() stops its event consumer and new kernel
 * tunnels, splice_tunnel_forget() drops a tunnel handed over without touching the maps.
 */
int splice_adopt(struct ctx *ctx, int pid, char *why, size_t whylen);
bool splice_adopted(const struct ctx *ctx);
int splice_tunnel_adopt(struct stream *s);
bool splice_tunnel_movable(const struct stream *s);
void splice_give_up(struct ctx *ctx);
void splice_tunnel_forget(struct stream *s);

/* One counter of the per-CPU "wsplice_stats" map (enum wsplice_stat), summed over CPUs; 0 when
 * splicing is off. */
uint64_t splice_stat(struct ctx *ctx, unsigned int reason);

#endif /* WSPLICE_SPLICE_H */
