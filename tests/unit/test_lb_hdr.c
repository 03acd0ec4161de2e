// SPDX-License-Identifier: GPL-2.0
/*
 * user/lb_hdr.c: a header value keeps its server, the first comma-separated value counts,
 * "use_domain_only" groups the hosts of a domain, a missing or empty header means round robin.
 */
#include "test_lb.h"

static char heads[2][512];

static struct server *pick_hdr(struct fx *f, const char *hdrs, int slot)
{
	struct http_msg m;
	struct lb_req req = {0};

	snprintf(heads[slot], sizeof(heads[slot]), "GET / HTTP/1.1\r\n%s\r\n", hdrs);
	if (fx_request(&m, heads[slot]) < 0)
		return NULL;
	req.msg = &m;
	req.base = heads[slot];
	return fx_pick(f, &req, false);
}

int main(void)
{
	int cnt[6] = {0}, same = 0, i;
	char h[128];
	struct fx f;

	fx_init(&f, 6, NULL, LB_HDR);
	f.be.hdr_name = "X-User";
	for (i = 0; i < 600; i++) {
		snprintf(h, sizeof(h), "X-User: user%d\r\n", i);
		cnt[pick_hdr(&f, h, 0)->puid - 1]++;
	}
	ok(cnt[0] && cnt[1] && cnt[2] && cnt[3] && cnt[4] && cnt[5], "values spread over servers");
	ok(pick_hdr(&f, "X-User: alice\r\n", 0) == pick_hdr(&f, "x-user:   alice \r\n", 1),
	   "a value keeps its server; name case and spaces do not matter");
	ok(pick_hdr(&f, "X-User: alice, bob\r\n", 0) == pick_hdr(&f, "X-User: alice\r\n", 1),
	   "the first comma-separated value is hashed");
	is_str(pick_hdr(&f, "Host: a\r\n", 0)->id, "s1", "no header: round robin (1)");
	is_str(pick_hdr(&f, "Host: a\r\n", 0)->id, "s2", "no header: round robin (2)");
	is_str(pick_hdr(&f, "X-User:\r\n", 0)->id, "s3", "empty value: round robin");
	f.be.hdr_name = "Host";
	f.be.hdr_domain_only = true;
	for (i = 0; i < 50; i++) {
		snprintf(h, sizeof(h), "Host: host%d.example.com:8080\r\n", i);
		same += pick_hdr(&f, h, 0) == pick_hdr(&f, "Host: example.com\r\n", 1);
	}
	is_int(same, 50, "use_domain_only: every host of example.com on one server");
	f.be.hash_type = LB_HASH_CONSISTENT;
	f.be.hdr_domain_only = false;
	ok(pick_hdr(&f, "Host: a.example\r\n", 0) == pick_hdr(&f, "Host: a.example\r\n", 1),
	   "consistent: stable");
	fx_free(&f);
	return done();
}
