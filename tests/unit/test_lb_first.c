// SPDX-License-Identifier: GPL-2.0
/* user/lb_first.c: the first server with a free slot, in declaration order. */
#include "test_lb.h"

int main(void)
{
	struct fx f;

	fx_init(&f, 3, NULL, LB_FIRST);
	for (int i = 0; i < 3; i++)
		f.srv[i].maxconn = 2;
	is_str(fx_seq(&f, 7, NULL, true), "s1 s1 s2 s2 s3 s3 -", "fills s1, then s2, then s3");
	f.srv[0].cur_conns--;
	is_str(fx_seq(&f, 1, NULL, true), "s1", "a slot freed on s1 is used first");
	f.srv[0].down = true;
	f.srv[1].cur_conns = 0;
	is_str(fx_seq(&f, 2, NULL, true), "s2 s2", "s1 DOWN: s2 first");
	fx_init(&f, 2, NULL, LB_FIRST);
	is_str(fx_seq(&f, 3, NULL, true), "s1 s1 s1", "without maxconn the first takes all");
	fx_init(&f, 2, NULL, LB_FIRST);
	f.srv[0].weight = 0;
	is_str(fx_seq(&f, 2, NULL, true), "s2 s2", "weight 0 is skipped");
	return done();
}
