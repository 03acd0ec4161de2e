// SPDX-License-Identifier: GPL-2.0
#include "lb_hash.h"

#include <stdlib.h>

/* HAProxy's BE_WEIGHT_SCALE: ring points per unit of weight. */
#define RING_SCALE 16
/* HAProxy's SRV_EWGHT_RANGE: keeps the points of two servers apart in the key space. */
#define RING_RANGE (256 * RING_SCALE)

struct lb_point {
	uint32_t key;
	struct server *srv;
};

struct lb_tbl {
	unsigned long long map_sig, ring_sig; /* lb_sig the tables were built for */
	struct server **map;
	unsigned int map_len;
	struct lb_point *ring;
	unsigned int ring_len;
};

uint32_t lb_full_hash(uint32_t a)
{
	a = (a + 0x7ed55d16) + (a << 12);
	a = (a ^ 0xc761c23c) ^ (a >> 19);
	a = (a + 0x165667b1) + (a << 5);
	a = (a + 0xd3a2646c) ^ (a << 9);
	a = (a + 0xfd7046c5) + (a << 3);
	a = (a ^ 0xb55a4f09) ^ (a >> 16);
	return a;
}

static uint32_t hash_sdbm(const unsigned char *k, size_t len)
{
	uint32_t h = 0;

	while (len--)
		h = *k++ + (h << 6) + (h << 16) - h;
	return h;
}

static uint32_t hash_djb2(const unsigned char *k, size_t len)
{
	uint32_t h = 5381;

	while (len--)
		h = (h << 5) + h + *k++;
	return h;
}

static uint32_t rol32(uint32_t v, unsigned int n)
{
	n &= 31;
	return n ? (v << n) | (v >> (32 - n)) : v;
}

/* HAProxy's hash_wt6 (Willy Tarreau's 6-step hash). */
static uint32_t hash_wt6(const unsigned char *k, size_t len)
{
	uint32_t h0 = 0xa53c965a, h1 = 0x5ca6953a, t;
	unsigned int step0 = 6, step1 = 18;

	for (; len; len--) {
		t = *k++;
		h0 = ~(h0 ^ t);
		h1 = ~(h1 + t);
		t = rol32(h1, step0);
		h1 = rol32(h0, step1);
		h0 = t;
		t = ((h0 >> 16) ^ h1) & 0xffff;
		step0 = t & 0x1f;
		step1 = t >> 11;
	}
	return h0 ^ h1;
}

/* CRC-32 (IEEE, reflected), bit by bit: keys are short. */
static uint32_t hash_crc32(const unsigned char *k, size_t len)
{
	uint32_t c = 0xffffffff;

	while (len--) {
		c ^= *k++;
		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}

uint32_t lb_hash_fn(enum lb_hash_fn fn, const void *key, size_t len)
{
	switch (fn) {
	case LB_HASH_DJB2:
		return hash_djb2(key, len);
	case LB_HASH_WT6:
		return hash_wt6(key, len);
	case LB_HASH_CRC32:
		return hash_crc32(key, len);
	case LB_HASH_SDBM:
	default:
		return hash_sdbm(key, len);
	}
}

uint32_t lb_hash_key(const struct proxy *be, const void *key, size_t len)
{
	uint32_t h = lb_hash_fn(be->hash_fn, key, len);

	return be->hash_avalanche ? lb_full_hash(h) : h;
}

static struct lb_tbl *tbl_get(struct proxy *be)
{
	if (!be->lb_tbl)
		be->lb_tbl = calloc(1, sizeof(*be->lb_tbl));
	return be->lb_tbl;
}

/*
 * The map: total-weight entries in smooth weighted round robin order, so that a server of
 * weight 2 among two of weight 1 gives a b a c, not a a b c. Returns 0 or -ENOMEM.
 */
static int map_build(struct proxy *be, struct lb_tbl *t)
{
	unsigned int len = be->lb_tot_weight, i;
	struct server **map, *s, *best;
	int *credit = calloc(be->nservers ? be->nservers : 1, sizeof(*credit));

	map = calloc(len ? len : 1, sizeof(*map));
	if (!map || !credit) {
		free(map);
		free(credit);
		return -1;
	}
	for (i = 0; i < len; i++) {
		best = NULL;
		for (s = be->servers; s; s = s->next) {
			if (!lb_eligible(be, s))
				continue;
			credit[s->puid - 1] += s->weight;
			if (!best || credit[s->puid - 1] > credit[best->puid - 1])
				best = s;
		}
		credit[best->puid - 1] -= (int)len;
		map[i] = best;
	}
	free(credit);
	free(t->map);
	t->map = map;
	t->map_len = len;
	t->map_sig = be->lb_sig;
	return 0;
}

static int point_cmp(const void *a, const void *b)
{
	const struct lb_point *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->srv->puid < y->srv->puid ? -1 : x->srv->puid > y->srv->puid;
}

/*
 * The ring: a point's key depends only on its server's puid and its index, so a server's
 * points are the same whoever else is in use (HAProxy's chash_init_server_tree()).
 */
static int ring_build(struct proxy *be, struct lb_tbl *t)
{
	unsigned int len = be->lb_tot_weight * RING_SCALE, i = 0, node;
	struct lb_point *ring = calloc(len ? len : 1, sizeof(*ring));
	struct server *s;

	if (!ring)
		return -1;
	for (s = be->servers; s; s = s->next) {
		if (!lb_eligible(be, s))
			continue;
		for (node = 0; node < (unsigned int)s->weight * RING_SCALE; node++) {
			ring[i].key = lb_full_hash(s->puid * RING_RANGE + node);
			ring[i++].srv = s;
		}
	}
	qsort(ring, len, sizeof(*ring), point_cmp);
	free(t->ring);
	t->ring = ring;
	t->ring_len = len;
	t->ring_sig = be->lb_sig;
	return 0;
}

/* The point nearest to hash, either side, around the ring (HAProxy's chash lookup). */
static struct server *ring_lookup(const struct lb_tbl *t, uint32_t hash)
{
	unsigned int lo = 0, hi = t->ring_len, next, prev;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (t->ring[mid].key < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	next = lo == t->ring_len ? 0 : lo;
	prev = lo == 0 ? t->ring_len - 1 : lo - 1;
	/* unsigned differences wrap around the ring */
	if (hash - t->ring[prev].key <= t->ring[next].key - hash)
		return t->ring[prev].srv;
	return t->ring[next].srv;
}

struct server *lb_map_at(struct proxy *be, unsigned int pos)
{
	struct lb_tbl *t = tbl_get(be);

	if (!t || !be->lb_tot_weight)
		return NULL;
	if ((t->map_sig != be->lb_sig || !t->map) && map_build(be, t) < 0)
		return NULL;
	return t->map[pos % t->map_len];
}

struct server *lb_hash_server(struct proxy *be, uint32_t hash)
{
	struct lb_tbl *t = tbl_get(be);
	struct server *s;

	if (!t || !be->lb_tot_weight)
		return NULL;
	if (be->hash_type == LB_HASH_CONSISTENT) {
		if ((t->ring_sig != be->lb_sig || !t->ring) && ring_build(be, t) < 0)
			return NULL;
		s = ring_lookup(t, hash);
	} else {
		s = lb_map_at(be, hash);
	}
	return s && server_has_room(s) ? s : NULL;
}

void lb_tbl_free(struct lb_tbl *t)
{
	if (!t)
		return;
	free(t->map);
	free(t->ring);
	free(t);
}
