/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_LOOP_H
#define WSPLICE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The event loop, the size of redis' ae: file events on epoll, one-shot timers kept in a binary
 * heap, and a before-sleep hook. Single-threaded; nothing here blocks.
 *
 * Stale events: an fd closed and reused within one epoll_wait() batch must not receive the
 * events of its previous owner. Each registration carries a generation number (nginx's instance
 * bit, widened); loop_del_fd() bumps it, and events from an older generation are dropped.
 */

struct loop;
struct fd_handler;

/* Called with the epoll event mask (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR, EPOLLHUP). */
typedef void (*fd_cb)(struct loop *loop, struct fd_handler *h, uint32_t events);

/* Embedded in the owner's struct; container_of() gets the owner back in the callback. */
struct fd_handler {
	int fd;
	uint32_t events;	/* currently registered mask */
	uint32_t gen;		/* registration generation, see above */
	fd_cb cb;
};

struct timer;
typedef void (*timer_cb)(struct loop *loop, struct timer *t);

/* Embedded in the owner; idx < 0 when not armed. */
struct timer {
	uint64_t when_ms;
	int idx;
	timer_cb cb;
};

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/*
 * Frees p (a block holding an fd_handler, already loop_del_fd()ed) once the current batch of
 * events has been dispatched. An event of that batch may still name the handler, and its tag is
 * checked against the handler's memory: a callback that frees another object's handler (a
 * signal closing the listeners, a stream taking a pooled connection) must not free it at once.
 * Streams have their own deferred reaping (stream_reap()).
 */
void loop_free_later(struct loop *loop, void *p);

/* Current CLOCK_MONOTONIC time in ms, refreshed once per iteration (cheap to call). */
uint64_t loop_now_ms(const struct loop *loop);
uint64_t loop_update_time(struct loop *loop);

/* Register, change or remove interest in fd. Return 0 or -errno. */
int loop_add_fd(struct loop *loop, struct fd_handler *h, int fd, uint32_t events, fd_cb cb);
int loop_mod_fd(struct loop *loop, struct fd_handler *h, uint32_t events);
void loop_del_fd(struct loop *loop, struct fd_handler *h);

/* For an fd about to be closed that no other process holds: close() removes the registration,
 * so no epoll_ctl; events of the current batch are dropped, as after loop_del_fd(). */
void loop_forget_fd(struct fd_handler *h);

/* New events and callback for a registered fd in one epoll_ctl (MOD instead of DEL + ADD);
 * events already queued for the old registration are dropped, as after loop_del_fd(). */
int loop_rebind_fd(struct loop *loop, struct fd_handler *h, uint32_t events, fd_cb cb);

/* Arms (or re-arms) t to fire after ms; loop_timer_del() is a no-op on a disarmed timer. */
void loop_timer_init(struct timer *t, timer_cb cb);
void loop_timer_add(struct loop *loop, struct timer *t, uint64_t ms);
void loop_timer_at(struct loop *loop, struct timer *t, uint64_t when_ms);
void loop_timer_del(struct loop *loop, struct timer *t);
static inline bool loop_timer_armed(const struct timer *t)
{
	return t->idx >= 0;
}

/* Runs until loop_stop(). before_sleep, if set, runs before each epoll_wait(). */
void loop_set_before_sleep(struct loop *loop, void (*fn)(struct loop *loop, void *arg), void *arg);
void loop_run(struct loop *loop);

/*
 * Busy polling (global "busy-polling", HAProxy's): epoll_wait() with a zero timeout, so that
 * the process never sleeps. A wakeup then costs no IPI and no idle exit, which in a VM is a
 * VM exit each (docs/performance.md); the price is a whole CPU, even idle.
 */
void loop_set_busy(struct loop *loop, bool busy);
bool loop_busy(const struct loop *loop);
void loop_stop(struct loop *loop);

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

#endif /* WSPLICE_LOOP_H */
