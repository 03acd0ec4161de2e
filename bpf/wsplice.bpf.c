// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tunnel data path: an sk_skb verdict program on the sockets of spliced tunnels. Each skb a
 * tunnel socket receives is redirected to the egress of its peer, found through the per-socket
 * state, so tunnel bytes never reach user space. See docs/design.md for the handover, flow
 * control and EOF rules this program is one half of.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "wsplice.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Redirect targets: every tunnel socket, no program attached. Keeps the psock alive while a
 * direction is paused (removed from wsplice_socks). */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, WSPLICE_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} wsplice_targets SEC(".maps");

/* Sockets whose incoming bytes the verdict program forwards. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, WSPLICE_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} wsplice_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WSPLICE_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct wsplice_sock);
} wsplice_sock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WSPLICE_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct wsplice_limit);
} wsplice_limit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WSPLICE_EVENTS_SIZE);
} wsplice_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WSPLICE_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} wsplice_stats SEC(".maps");

static __always_inline void stat_add(enum wsplice_stat which, __u64 n)
{
	__u32 key = which;
	__u64 *v = bpf_map_lookup_elem(&wsplice_stats, &key);

	if (v)
		*v += n;
}

static __always_inline void notify(__u64 cookie, __u64 bytes)
{
	struct wsplice_event ev = { .cookie = cookie, .bytes = bytes };

	if (bpf_ringbuf_output(&wsplice_events, &ev, sizeof(ev), 0))
		stat_add(WSPLICE_STAT_EVENTS_LOST, 1);
	else
		stat_add(WSPLICE_STAT_EVENTS, 1);
}

/*
 * Tells user space that a socket crossed its flow-control mark. Crossing, not reaching, is tested
 * (before < mark <= after), so each mark raises exactly one event without a flag that user space
 * would have to reset.
 */
static __always_inline void check_limit(const struct wsplice_limit *lim, __u64 cookie, __u64 before,
					__u64 after)
{
	if (before >= lim->notify_at || after < lim->notify_at)
		return;
	notify(cookie, after);
}

/*
 * Leaves the skb on its socket for user space, which forwards such bytes in order. Nothing else
 * wakes user space for them: the first byte a socket ever holds raises an event, and from then
 * on user space polls the tunnel until that direction ends (splice_flow.c, dir_check).
 */
static __always_inline int hold(struct wsplice_sock *s, __u64 cookie, __u64 len,
				enum wsplice_stat why)
{
	__u64 before = __sync_fetch_and_add(&s->passed, len);

	s->last_ns = bpf_ktime_get_ns();
	stat_add(why, 1);
	stat_add(WSPLICE_STAT_PASSED_BYTES, len);
	if (!before)
		notify(cookie, s->bytes);
	return SK_PASS;
}

/* The mark of a socket without a wsplice_limit entry (include/wsplice.h) */
const struct wsplice_limit first_mark = { .notify_at = WSPLICE_FIRST_MARK };

SEC("sk_skb")
int wsplice_verdict(struct __sk_buff *skb)
{
	const struct wsplice_limit *lim;
	struct wsplice_sock *s;
	__u64 cookie, before, len = skb->len;
	long ret;

	/*
	 * 6.18 also runs the verdict on the zero-length FIN skb. Redirected, it puts EPIPE on the
	 * peer; passed, it puts EPIPE on this socket whenever redirected bytes wait in this
	 * socket's psock queue (the pass is queued behind them, and sk_psock_backlog() takes the
	 * 0 bytes its ingress copies as a broken pipe): a client half-closing while the server
	 * streamed lost the rest of the stream, 5 runs in 25 (tests/45-chaos.bats). TCP already
	 * recorded the FIN (RCV_SHUTDOWN, EPOLLRDHUP), which is what user space propagates: drop
	 * the empty skb.
	 */
	if (len == 0) {
		stat_add(WSPLICE_STAT_EMPTY_SKB, 1);
		return SK_DROP;
	}
	cookie = bpf_get_socket_cookie(skb);
	s = bpf_map_lookup_elem(&wsplice_sock, &cookie);
	if (!s) {
		stat_add(WSPLICE_STAT_NO_STATE, 1);
		return SK_PASS;
	}
	lim = bpf_map_lookup_elem(&wsplice_limit, &cookie);
	if (!lim) {
		lim = &first_mark;
		stat_add(WSPLICE_STAT_FIRST_MARK, 1);
	}
	/* passed bytes not yet forwarded by user space must go first */
	if (s->passed > lim->copied)
		return hold(s, cookie, len, WSPLICE_STAT_BEHIND_PASSED);
	ret = bpf_sk_redirect_hash(skb, &wsplice_targets, &s->peer, 0);
	if (ret != SK_PASS)
		/* never drop tunnel bytes: user space forwards them */
		return hold(s, cookie, len, WSPLICE_STAT_REDIRECT_FAILED);
	s->last_ns = bpf_ktime_get_ns();
	before = __sync_fetch_and_add(&s->bytes, len);
	stat_add(WSPLICE_STAT_REDIRECTED, 1);
	stat_add(WSPLICE_STAT_REDIRECTED_BYTES, len);
	check_limit(lim, cookie, before, before + len);
	return SK_PASS;
}
