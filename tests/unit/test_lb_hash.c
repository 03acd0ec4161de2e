// SPDX-License-Identifier: GPL-2.0
/*
 * user/lb_hash.c: the hash functions on known values, the map's interleaving, and the ring:
 * removing a server moves only the keys it held, adding one takes keys only for itself.
 */
#include "test_lb.h"

#define NKEYS 5000

int main(void)
{
	static struct server *before[NKEYS];
	static const int w[] = {2, 1, 1};
	unsigned int moved = 0, wrong = 0, on2 = 0, i;
	struct fx f;

	is_int(lb_hash_fn(LB_HASH_SDBM, "a", 1), 97, "sdbm('a')");
	is_int(lb_hash_fn(LB_HASH_DJB2, "a", 1), 5381 * 33 + 97, "djb2('a')");
	is_int(lb_hash_fn(LB_HASH_CRC32, "123456789", 9), 0xCBF43926u, "crc32 check value");
	ok(lb_hash_fn(LB_HASH_WT6, "abc", 3) != lb_hash_fn(LB_HASH_WT6, "abd", 3), "wt6 differs");
	ok(lb_full_hash(1) != 1 && lb_full_hash(1) != lb_full_hash(2), "full_hash mixes");

	fx_init(&f, 3, w, LB_SOURCE);
	lb_select(&f.be);
	is_str(lb_map_at(&f.be, 0)->id, "s1", "map[0]");
	is_str(lb_map_at(&f.be, 1)->id, "s2", "map[1]");
	is_str(lb_map_at(&f.be, 2)->id, "s3", "map[2]");
	is_int(lb_map_at(&f.be, 3)->puid, 1, "map[3]: weight 2 twice, spread out");
	is_int(lb_map_at(&f.be, 4)->puid, 1, "the map wraps around");
	fx_free(&f);

	fx_init(&f, 3, NULL, LB_SOURCE);
	f.be.hash_type = LB_HASH_CONSISTENT;
	f.srv[2].down = true;
	lb_select(&f.be);
	for (i = 0; i < NKEYS; i++)
		before[i] = lb_hash_server(&f.be, lb_full_hash(i));
	f.srv[2].down = false;
	lb_select(&f.be);
	for (i = 0; i < NKEYS; i++) {
		struct server *s = lb_hash_server(&f.be, lb_full_hash(i));

		moved += s != before[i];
		wrong += s != before[i] && s != &f.srv[2];
		on2 += s == &f.srv[2];
	}
	is_int(wrong, 0, "consistent: a server joining takes keys only for itself");
	ok(on2 > NKEYS / 5 && on2 < NKEYS / 2, "it takes about a third (%u)", on2);
	fx_free(&f);
	return done();
}
