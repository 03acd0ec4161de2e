// SPDX-License-Identifier: GPL-2.0
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define MAX_EVENTS 256

struct loop {
	int epfd;
	bool stop;
	uint64_t now_ms;
	uint32_t next_gen;
	struct timer **heap;	/* min-heap on when_ms */
	int nheap, heap_cap;
	void (*before_sleep)(struct loop *loop, void *arg);
	void *before_sleep_arg;
	void **defer;		/* loop_free_later(): freed once the batch is dispatched */
	int ndefer, defer_cap;
	bool busy;		/* loop_set_busy(): poll with a zero timeout, never sleep */
};

uint64_t loop_update_time(struct loop *loop)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	loop->now_ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return loop->now_ms;
}

uint64_t loop_now_ms(const struct loop *loop)
{
	return loop->now_ms;
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	loop->next_gen = 1;
	loop_update_time(loop);
	return loop;
}

/* Frees what loop_free_later() was given; no event of the last batch can point there now. */
static void free_deferred(struct loop *loop)
{
	while (loop->ndefer)
		free(loop->defer[--loop->ndefer]);
}

void loop_free_later(struct loop *loop, void *p)
{
	void **grown;

	if (loop->ndefer == loop->defer_cap) {
		int cap = loop->defer_cap ? 2 * loop->defer_cap : 16;

		grown = realloc(loop->defer, cap * sizeof(*grown));
		if (!grown) {
			/* leak rather than let a queued event read freed memory */
			pr_warn("loop: out of memory, %p not freed", p);
			return;
		}
		loop->defer = grown;
		loop->defer_cap = cap;
	}
	loop->defer[loop->ndefer++] = p;
}

void loop_free(struct loop *loop)
{
	free_deferred(loop);
	free(loop->defer);
	if (!loop)
		return;
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

/*
 * The epoll data word carries the handler pointer in its low 48 bits (x86-64 and arm64 user
 * addresses fit) and the low 16 bits of the registration generation above them. A handler
 * re-registered for a new fd within one batch gets a new generation, so events queued for the
 * old fd no longer match it.
 */
#define TAG_PTR_BITS 48
#define TAG_PTR_MASK ((1ULL << TAG_PTR_BITS) - 1)

static uint64_t tag_pack(const struct fd_handler *h)
{
	return (uint64_t)(uintptr_t)h | ((uint64_t)(h->gen & 0xffff) << TAG_PTR_BITS);
}

static struct fd_handler *tag_handler(uint64_t tag)
{
	struct fd_handler *h = (struct fd_handler *)(uintptr_t)(tag & TAG_PTR_MASK);

	if (h->gen == 0 || (h->gen & 0xffff) != tag >> TAG_PTR_BITS)
		return NULL;
	return h;
}

static void new_gen(struct loop *loop, struct fd_handler *h)
{
	/* gen 0 means "not registered", also in its low 16 bits */
	if ((loop->next_gen & 0xffff) == 0)
		loop->next_gen++;
	h->gen = loop->next_gen++;
}

int loop_add_fd(struct loop *loop, struct fd_handler *h, int fd, uint32_t events, fd_cb cb)
{
	struct epoll_event ev = { .events = events };

	h->fd = fd;
	h->cb = cb;
	h->events = events;
	new_gen(loop, h);
	ev.data.u64 = tag_pack(h);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int loop_mod_fd(struct loop *loop, struct fd_handler *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag_pack(h) };

	if (h->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0)
		return -errno;
	h->events = events;
	return 0;
}

int loop_rebind_fd(struct loop *loop, struct fd_handler *h, uint32_t events, fd_cb cb)
{
	struct epoll_event ev = { .events = events };

	new_gen(loop, h);
	h->cb = cb;
	ev.data.u64 = tag_pack(h);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0) {
		h->gen = 0;
		h->events = 0;
		return -errno;
	}
	h->events = events;
	return 0;
}

void loop_forget_fd(struct fd_handler *h)
{
	h->gen = 0;
	h->events = 0;
}

void loop_del_fd(struct loop *loop, struct fd_handler *h)
{
	if (h->gen == 0)
		return;
	/* Closing the fd would remove it too, but a dup()ed fd keeps the registration alive. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	loop_forget_fd(h);
}

/* Timers: a binary min-heap of pointers; each timer knows its index for O(log n) removal. */
static void heap_swap(struct loop *loop, int a, int b)
{
	struct timer *t = loop->heap[a];

	loop->heap[a] = loop->heap[b];
	loop->heap[b] = t;
	loop->heap[a]->idx = a;
	loop->heap[b]->idx = b;
}

static void heap_up(struct loop *loop, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;

		if (loop->heap[p]->when_ms <= loop->heap[i]->when_ms)
			break;
		heap_swap(loop, i, p);
		i = p;
	}
}

static void heap_down(struct loop *loop, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < loop->nheap && loop->heap[l]->when_ms < loop->heap[m]->when_ms)
			m = l;
		if (r < loop->nheap && loop->heap[r]->when_ms < loop->heap[m]->when_ms)
			m = r;
		if (m == i)
			return;
		heap_swap(loop, i, m);
		i = m;
	}
}

void loop_timer_init(struct timer *t, timer_cb cb)
{
	t->idx = -1;
	t->cb = cb;
	t->when_ms = 0;
}

void loop_timer_del(struct loop *loop, struct timer *t)
{
	int i = t->idx;

	if (i < 0)
		return;
	BUG_ON(i >= loop->nheap || loop->heap[i] != t);
	loop->nheap--;
	if (i != loop->nheap) {
		loop->heap[i] = loop->heap[loop->nheap];
		loop->heap[i]->idx = i;
		heap_down(loop, i);
		heap_up(loop, i);
	}
	t->idx = -1;
}

void loop_timer_at(struct loop *loop, struct timer *t, uint64_t when_ms)
{
	loop_timer_del(loop, t);
	if (loop->nheap == loop->heap_cap) {
		int cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		struct timer **h = realloc(loop->heap, cap * sizeof(*h));

		/* Timers are embedded in objects already allocated; running out of memory for a
		 * pointer here is not survivable in a useful way. */
		BUG_ON(!h);
		loop->heap = h;
		loop->heap_cap = cap;
	}
	t->when_ms = when_ms;
	t->idx = loop->nheap;
	loop->heap[loop->nheap++] = t;
	heap_up(loop, t->idx);
}

void loop_timer_add(struct loop *loop, struct timer *t, uint64_t ms)
{
	loop_timer_at(loop, t, loop->now_ms + ms);
}

static void run_timers(struct loop *loop)
{
	while (loop->nheap && loop->heap[0]->when_ms <= loop->now_ms) {
		struct timer *t = loop->heap[0];

		loop_timer_del(loop, t);
		t->cb(loop, t);
	}
}

static int next_timeout(const struct loop *loop)
{
	uint64_t when;

	if (!loop->nheap)
		return 1000;
	when = loop->heap[0]->when_ms;
	if (when <= loop->now_ms)
		return 0;
	return when - loop->now_ms > 1000 ? 1000 : (int)(when - loop->now_ms);
}

void loop_set_before_sleep(struct loop *loop, void (*fn)(struct loop *loop, void *arg), void *arg)
{
	loop->before_sleep = fn;
	loop->before_sleep_arg = arg;
}

void loop_set_busy(struct loop *loop, bool busy)
{
	loop->busy = busy;
}

bool loop_busy(const struct loop *loop)
{
	return loop->busy;
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}

/*
 * Dispatch. A callback may close the fds of later events in the same batch; owners call
 * loop_del_fd() first, which zeroes gen, and defer freeing the handler's memory to the
 * before-sleep hook (see conn.c), so tag_handler() can still read it.
 */
void loop_run(struct loop *loop)
{
	struct epoll_event evs[MAX_EVENTS];
	int i, n;

	while (!loop->stop) {
		if (loop->before_sleep)
			loop->before_sleep(loop, loop->before_sleep_arg);
		if (loop->stop)
			break;
		n = epoll_wait(loop->epfd, evs, MAX_EVENTS, loop->busy ? 0 : next_timeout(loop));
		if (n < 0 && errno != EINTR) {
			pr_alert("epoll_wait: %m");
			break;
		}
		loop_update_time(loop);
		for (i = 0; i < n; i++) {
			struct fd_handler *h = tag_handler(evs[i].data.u64);

			if (!h)
				continue;
			h->cb(loop, h, evs[i].events);
		}
		free_deferred(loop);
		run_timers(loop);
	}
}
