// SPDX-License-Identifier: GPL-2.0
/*
 * user/lb_source.c with both hash-types: a client keeps its server, clients spread over all
 * servers by weight, and when a server leaves consistent hashing moves only its clients while
 * map-based moves many more.
 */
#include "test_lb.h"

#define NCLI 3000

static struct server *pick_ip(struct fx *f, unsigned int n)
{
	struct sockaddr_in a = fx_addr(n * 2654435761u);
	struct lb_req req = {.src = (struct sockaddr *)&a};

	return fx_pick(f, &req, false);
}

static void check_type(enum lb_hash_type type, const char *name, unsigned int *moved_out)
{
	static struct server *before[NCLI];
	static const int w[] = {1, 1, 2, 1};
	unsigned int cnt[4] = {0}, moved = 0, wrong = 0, to_down = 0, i;
	bool stable = true;
	struct fx f;

	fx_init(&f, 4, w, LB_SOURCE);
	f.be.hash_type = type;
	for (i = 0; i < NCLI; i++) {
		before[i] = pick_ip(&f, i);
		cnt[before[i]->puid - 1]++;
		stable &= pick_ip(&f, i) == before[i];
	}
	ok(stable, "%s: a client address always gets the same server", name);
	ok(cnt[0] > NCLI / 10 && cnt[1] > NCLI / 10 && cnt[3] > NCLI / 10 &&
	       cnt[2] > cnt[0] + cnt[0] / 4,
	   "%s: every server gets clients, weight 2 more (%u %u %u %u)", name, cnt[0], cnt[1],
	   cnt[2], cnt[3]);
	f.srv[1].down = true;
	for (i = 0; i < NCLI; i++) {
		struct server *s = pick_ip(&f, i);

		moved += s != before[i];
		wrong += s != before[i] && before[i] != &f.srv[1];
		to_down += s == &f.srv[1];
	}
	is_int(to_down, 0, "%s: the DOWN server gets nothing", name);
	*moved_out = moved;
	if (type == LB_HASH_CONSISTENT) {
		is_int(wrong, 0, "consistent: only the departed server's clients move");
		is_int(moved, cnt[1], "consistent: all of its clients move");
	}
	f.srv[1].down = false;
	for (i = 0, stable = true; i < NCLI; i++)
		stable &= pick_ip(&f, i) == before[i];
	ok(stable, "%s: when it comes back, every client is where it was", name);
	fx_free(&f);
}

int main(void)
{
	unsigned int map_moved, ch_moved;
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
	struct lb_req req = {.src = (struct sockaddr *)&a6};
	struct fx f;

	check_type(LB_HASH_MAP, "map-based", &map_moved);
	check_type(LB_HASH_CONSISTENT, "consistent", &ch_moved);
	ok(map_moved > 2 * ch_moved, "map-based moves many more clients (%u) than consistent (%u)",
	   map_moved, ch_moved);
	fx_init(&f, 3, NULL, LB_SOURCE);
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	ok(fx_pick(&f, &req, false) == fx_pick(&f, &req, false), "IPv6 clients are hashed too");
	is_str(fx_seq(&f, 3, NULL, false), "s1 s2 s3", "no address: round robin");
	{
		unsigned int full = 0, bad = 0;

		for (unsigned int i = 0; i < 300; i++) {
			struct server *was;

			f.srv[0].maxconn = 0;
			was = pick_ip(&f, i);
			f.srv[0].maxconn = 1;
			f.srv[0].cur_conns = 1;
			full += !pick_ip(&f, i);
			bad += (pick_ip(&f, i) == NULL) != (was == &f.srv[0]);
		}
		ok(full > 0 && !bad,
		   "a client hashed to a full server gets NULL (503), the others are unaffected "
		   "(%u, %u)",
		   full, bad);
	}
	fx_free(&f);
	return done();
}
