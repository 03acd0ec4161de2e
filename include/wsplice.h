/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef WSPLICE_H
#define WSPLICE_H

/*
 * The ABI shared by bpf/wsplice.bpf.c and user space: map names, keys, values and the stats enum.
 * Only __u32/__u64 types and no #include, so that both vmlinux.h and <linux/types.h> users can
 * include it. User space _Static_asserts every size (user/splice.c).
 */

#define WSPLICE_PIN_ROOT "/sys/fs/bpf/wsplice"

/*
 * Version of the maps' layout and meaning below. A reload hands spliced tunnels, and the maps
 * they are in, to a new process only when both were built with the same value: bump it with
 * any change to a map, key, value or to what the verdict does with them.
 */
#define WSPLICE_ABI 3

/* Upper bound of sockets in the maps: two per tunnel. */
#define WSPLICE_MAX_SOCKS 65536

/* Ring buffer for flow-control events, in bytes (a power of two, page multiple). */
#define WSPLICE_EVENTS_SIZE (256 * 1024)

/*
 * Per-socket state, in the HASH map "wsplice_sock" keyed by the socket cookie (SO_COOKIE).
 * User space writes the whole value once, before the socket joins "wsplice_socks", and deletes
 * it after the socket left both sockhashes. While the socket is in the maps only BPF writes it:
 * user space never updates it in place, since a map update replaces the element and would lose
 * concurrent increments.
 */
struct wsplice_sock {
	__u64 peer;	/* cookie of the socket that receives what this one reads */
	__u64 bytes;	/* bytes read on this socket and redirected to the peer */
	__u64 last_ns;	/* last byte read, bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 passed;	/* bytes left on this socket for user space (held or not redirectable) */
};

/*
 * Flow control, in the HASH map "wsplice_limit" keyed by cookie, owned by user space (written
 * whole, read by BPF):
 * - when "bytes" crosses notify_at, BPF sends one struct wsplice_event on "wsplice_events"; user
 *   space then measures what is still queued towards the peer and grants more or pauses the
 *   socket (takes it out of wsplice_socks);
 * - bytes the verdict could not redirect are left on the socket (SK_PASS, counted in passed);
 *   while user space has not forwarded all of them (passed > copied), later bytes are left
 *   there too, so that they cannot overtake them. The first byte a socket ever leaves sends a
 *   wsplice_event too; user space polls the socket from then on.
 * A socket has no entry until user space first moves its mark or forwards a passed byte: the
 * verdict then applies the first mark, { WSPLICE_FIRST_MARK, 0 } (two system calls fewer per
 * tunnel, where most never reach that mark).
 */
#define WSPLICE_FIRST_MARK (64u << 10)

struct wsplice_limit {
	__u64 notify_at;
	__u64 copied;	/* passed bytes user space has handed to the peer */
};

struct wsplice_event {
	__u64 cookie;
	__u64 bytes;
};

/* Per-CPU counters in the ARRAY map "wsplice_stats", one slot per reason. */
enum wsplice_stat {
	WSPLICE_STAT_REDIRECTED,	/* skbs redirected to the peer */
	WSPLICE_STAT_REDIRECTED_BYTES,	/* bytes redirected to the peer */
	WSPLICE_STAT_EMPTY_SKB,		/* zero-length skb (FIN) dropped: TCP has the FIN */
	WSPLICE_STAT_NO_STATE,		/* socket without a wsplice_sock entry: passed */
	WSPLICE_STAT_REDIRECT_FAILED,	/* peer missing or not redirectable: passed */
	WSPLICE_STAT_FIRST_MARK,	/* skbs of a socket without a wsplice_limit entry yet */
	WSPLICE_STAT_BEHIND_PASSED,	/* skbs passed to stay behind earlier passed bytes */
	WSPLICE_STAT_PASSED_BYTES,	/* bytes left to user space, for any reason */
	WSPLICE_STAT_EVENTS,		/* flow-control events sent */
	WSPLICE_STAT_EVENTS_LOST,	/* ring buffer full: event not sent */
	WSPLICE_STAT_NR,
};

#endif /* WSPLICE_H */
