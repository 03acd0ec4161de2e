// SPDX-License-Identifier: GPL-2.0
/* user/lb_static_rr.c: the map walked in order, weights, servers leaving and coming back. */
#include "test_lb.h"

int main(void)
{
	static const int w21[] = {2, 1}, w0[] = {1, 0, 1};
	struct fx f;

	fx_init(&f, 3, NULL, LB_STATIC_RR);
	is_str(fx_seq(&f, 7, NULL, false), "s1 s2 s3 s1 s2 s3 s1", "1:1:1 in declaration order");
	fx_free(&f);
	fx_init(&f, 2, w21, LB_STATIC_RR);
	is_str(fx_seq(&f, 6, NULL, false), "s1 s2 s1 s1 s2 s1", "2:1 interleaved map");
	fx_free(&f);
	fx_init(&f, 3, w0, LB_STATIC_RR);
	is_str(fx_seq(&f, 4, NULL, false), "s1 s3 s1 s3", "weight 0 is not in the map");
	fx_free(&f);
	fx_init(&f, 3, NULL, LB_STATIC_RR);
	f.srv[1].down = true;
	is_str(fx_seq(&f, 4, NULL, false), "s1 s3 s1 s3", "DOWN: the map is rebuilt without it");
	f.srv[1].down = false;
	ok(strstr(fx_seq(&f, 3, NULL, false), "s2") != NULL, "UP again: back in the map at once");
	f.srv[0].maxconn = 1;
	f.srv[0].cur_conns = 1;
	ok(!strstr(fx_seq(&f, 6, NULL, false), "s1"), "a full server is skipped");
	f.srv[1].maxconn = f.srv[2].maxconn = 1;
	f.srv[1].cur_conns = f.srv[2].cur_conns = 1;
	is_str(fx_seq(&f, 1, NULL, false), "-", "all full: NULL");
	fx_free(&f);
	return done();
}
