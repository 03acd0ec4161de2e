/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_BUF_H
#define WSPLICE_BUF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * A linear byte buffer: data[head, tail) is the content. Space is recovered by moving the
 * content to the front once it would not fit, so a reader always sees contiguous bytes (an HTTP
 * head is parsed in place). Storage is allocated on first use and may be released when empty,
 * so idle and spliced connections hold none.
 */
struct buf {
	char *data;
	size_t cap, head, tail;
};

static inline size_t buf_len(const struct buf *b)
{
	return b->tail - b->head;
}

static inline char *buf_ptr(const struct buf *b)
{
	return b->data + b->head;
}

static inline bool buf_empty(const struct buf *b)
{
	return b->tail == b->head;
}

/* Makes room at the tail; returns the room (0 only when full or out of memory). */
static inline size_t buf_prepare(struct buf *b, size_t cap)
{
	if (!b->data) {
		b->data = malloc(cap);
		if (!b->data)
			return 0;
		b->cap = cap;
		b->head = b->tail = 0;
	}
	if (b->head && b->tail == b->cap) {
		memmove(b->data, b->data + b->head, b->tail - b->head);
		b->tail -= b->head;
		b->head = 0;
	}
	return b->cap - b->tail;
}

/* Grows the buffer so that need more bytes fit after its content; false when out of memory. */
static inline bool buf_reserve(struct buf *b, size_t need)
{
	size_t len = buf_len(b);
	char *p;

	if (b->data && b->cap - b->tail >= need)
		return true;
	if (b->data && b->head) {
		memmove(b->data, b->data + b->head, len);
		b->head = 0;
		b->tail = len;
		if (b->cap - b->tail >= need)
			return true;
	}
	p = realloc(b->data, len + need);
	if (!p)
		return false;
	b->data = p;
	b->cap = len + need;
	if (!len)
		b->head = b->tail = 0;
	return true;
}

static inline void buf_consume(struct buf *b, size_t n)
{
	b->head += n;
	if (b->head == b->tail)
		b->head = b->tail = 0;
}

/* Appends len bytes; returns false when they do not fit in cap. */
static inline bool buf_append(struct buf *b, const void *p, size_t len, size_t cap)
{
	if (buf_prepare(b, cap) < len) {
		if (!b->data || b->cap - buf_len(b) < len)
			return false;
		memmove(b->data, b->data + b->head, buf_len(b));
		b->tail -= b->head;
		b->head = 0;
	}
	memcpy(b->data + b->tail, p, len);
	b->tail += len;
	return true;
}

static inline void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = b->head = b->tail = 0;
}

#endif /* WSPLICE_BUF_H */
