// SPDX-License-Identifier: GPL-2.0
/*
 * user/lb_random.c: only usable servers with room are drawn, in proportion to their weight
 * with random(1), and random(2) (the default) evens out the load.
 */
#include <stdlib.h>

#include "test_lb.h"

int main(void)
{
	static const int w[] = {1, 3};
	int cnt[3] = {0}, i;
	struct fx f;

	srandom(42);
	fx_init(&f, 2, w, LB_RANDOM);
	f.be.random_draws = 1;
	for (i = 0; i < 4000; i++)
		cnt[fx_pick(&f, NULL, false)->puid - 1]++;
	ok(cnt[1] > 2 * cnt[0] && cnt[1] < 4 * cnt[0], "random(1) follows the weights 1:3 (%d %d)",
	   cnt[0], cnt[1]);
	fx_init(&f, 3, NULL, LB_RANDOM);
	f.be.random_draws = 2;
	for (i = 0; i < 300; i++)
		fx_pick(&f, NULL, true);
	ok(abs((int)f.srv[0].cur_conns - 100) <= 15 && abs((int)f.srv[1].cur_conns - 100) <= 15,
	   "random(2) keeps loads close (%u %u %u)", f.srv[0].cur_conns, f.srv[1].cur_conns,
	   f.srv[2].cur_conns);
	fx_init(&f, 3, NULL, LB_RANDOM);
	f.srv[1].down = true;
	f.srv[2].maxconn = 1;
	f.srv[2].cur_conns = 1;
	for (i = 0, cnt[0] = 0; i < 200; i++)
		cnt[0] += fx_pick(&f, NULL, false) == &f.srv[0];
	is_int(cnt[0], 200, "DOWN and full servers are never drawn");
	f.srv[0].down = true;
	ok(!fx_pick(&f, NULL, false), "nothing with room: NULL");
	return done();
}
