// SPDX-License-Identifier: GPL-2.0
/*
 * user/lb_leastconn.c: fewest connections for the weight, ties broken round-robin, released
 * connections taken into account at once, full servers skipped.
 */
#include "test_lb.h"

int main(void)
{
	static const int w21[] = {2, 1};
	struct fx f;
	int i, cnt[3] = {0};

	fx_init(&f, 3, NULL, LB_LEASTCONN);
	is_str(fx_seq(&f, 6, NULL, true), "s1 s2 s3 s1 s2 s3", "equal loads: round robin");
	f.srv[1].cur_conns = 0;
	is_str(fx_seq(&f, 2, NULL, true), "s2 s2", "the server whose tunnels closed gets the next");
	fx_init(&f, 3, NULL, LB_LEASTCONN);
	is_str(fx_seq(&f, 4, NULL, false), "s1 s2 s3 s1", "no connection counted: still rotates");
	fx_init(&f, 2, w21, LB_LEASTCONN);
	fx_seq(&f, 30, NULL, true);
	is_int(f.srv[0].cur_conns, 20, "weight 2 takes twice the connections");
	is_int(f.srv[1].cur_conns, 10, "weight 1 takes its share");
	fx_init(&f, 3, NULL, LB_LEASTCONN);
	f.srv[0].cur_conns = 50;
	for (i = 0; i < 100; i++)
		cnt[fx_pick(&f, NULL, true)->puid - 1]++;
	ok(cnt[0] == 0 && cnt[1] == 50 && cnt[2] == 50,
	   "a loaded server waits until the others catch up (%d %d %d)", cnt[0], cnt[1], cnt[2]);
	cnt[0] = cnt[1] = cnt[2] = 0;
	for (i = 0; i < 30; i++)
		cnt[fx_pick(&f, NULL, true)->puid - 1]++;
	ok(cnt[0] == 10 && cnt[1] == 10 && cnt[2] == 10, "then all three share (%d %d %d)", cnt[0],
	   cnt[1], cnt[2]);
	fx_init(&f, 2, NULL, LB_LEASTCONN);
	f.srv[0].maxconn = 1;
	is_str(fx_seq(&f, 3, NULL, true), "s1 s2 s2", "full server skipped though least loaded");
	f.srv[1].maxconn = 2;
	is_str(fx_seq(&f, 1, NULL, true), "-", "all full: NULL");
	return done();
}
