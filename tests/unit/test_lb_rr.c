// SPDX-License-Identifier: GPL-2.0
/*
 * user/lb_rr.c and the server selection of user/backend.c: exact roundrobin sequences, weights,
 * weight 0, disabled and DOWN servers, backup takeover with and without "option allbackups",
 * per-server maxconn.
 */
#include "test_lb.h"

static void test_sequences(void)
{
	static const int w31[] = {3, 1}, w0[] = {1, 0, 1}, w321[] = {3, 2, 1};
	struct fx f;

	fx_init(&f, 3, NULL, LB_ROUNDROBIN);
	is_str(fx_seq(&f, 7, NULL, false), "s1 s2 s3 s1 s2 s3 s1", "1:1:1 in declaration order");
	fx_init(&f, 2, w31, LB_ROUNDROBIN);
	is_str(fx_seq(&f, 8, NULL, false), "s1 s1 s2 s1 s1 s1 s2 s1",
	       "3:1 smooth, not s1 s1 s1 s2");
	fx_init(&f, 3, w321, LB_ROUNDROBIN);
	is_str(fx_seq(&f, 6, NULL, false), "s1 s2 s1 s3 s2 s1",
	       "3:2:1 over one cycle (nginx's a b a c b a)");
	fx_init(&f, 3, w0, LB_ROUNDROBIN);
	is_str(fx_seq(&f, 4, NULL, false), "s1 s3 s1 s3", "weight 0 takes no traffic");
	fx_init(&f, 3, NULL, LB_ROUNDROBIN);
	f.srv[1].disabled = true;
	is_str(fx_seq(&f, 4, NULL, false), "s1 s3 s1 s3", "disabled takes no traffic");
	f.srv[1].disabled = false;
	f.srv[0].down = true;
	is_str(fx_seq(&f, 4, NULL, false), "s2 s3 s2 s3", "DOWN takes no traffic");
	f.srv[0].down = false;
	ok(strstr(fx_seq(&f, 3, NULL, false), "s1") != NULL, "back UP, picked again");
}

static void test_backup(void)
{
	struct fx f;

	fx_init(&f, 4, NULL, LB_ROUNDROBIN);
	f.srv[2].backup = f.srv[3].backup = true;
	is_str(fx_seq(&f, 4, NULL, false), "s1 s2 s1 s2", "backups unused while an active is UP");
	f.srv[0].down = true;
	is_str(fx_seq(&f, 3, NULL, false), "s2 s2 s2", "one active left: still no backup");
	f.srv[1].down = true;
	is_str(fx_seq(&f, 3, NULL, false), "s3 s3 s3", "no active: the first backup only");
	f.be.options |= PX_O_ALLBACKUPS;
	is_str(fx_seq(&f, 4, NULL, false), "s3 s4 s3 s4", "option allbackups: every backup");
	f.srv[2].down = true;
	f.be.options &= ~PX_O_ALLBACKUPS;
	is_str(fx_seq(&f, 2, NULL, false), "s4 s4", "first backup DOWN: the next one");
	f.srv[3].down = true;
	is_str(fx_seq(&f, 2, NULL, false), "- -", "nothing usable: NULL");
	is_int(backend_usable(&f.be), 0, "backend_usable 0");
	f.srv[1].down = false;
	is_str(fx_seq(&f, 2, NULL, false), "s2 s2", "an active back: backups left");
	is_int(backend_usable_of(&f.be, false), 1, "one active usable");
}

static void test_maxconn(void)
{
	struct fx f;

	fx_init(&f, 2, NULL, LB_ROUNDROBIN);
	f.srv[0].maxconn = 1;
	f.srv[1].maxconn = 2;
	is_str(fx_seq(&f, 4, NULL, true), "s1 s2 s2 -", "full servers skipped, then NULL");
	f.srv[0].cur_conns--;
	is_str(fx_seq(&f, 1, NULL, true), "s1", "a released slot is used");
	fx_init(&f, 2, NULL, LB_ROUNDROBIN);
	f.srv[0].backup = true;
	f.srv[1].maxconn = 1;
	is_str(fx_seq(&f, 2, NULL, true), "s2 -",
	       "an active server at maxconn does not hand over to the backups (HAProxy queues)");
}

int main(void)
{
	test_sequences();
	test_backup();
	test_maxconn();
	return done();
}
