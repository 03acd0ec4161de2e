// SPDX-License-Identifier: GPL-2.0
/*
 * user/lb_uri.c: a URI keeps its server; the query string is ignored unless "whole"; "len" and
 * "depth" cut the key; "path-only" drops the authority; mode tcp falls back to round robin.
 */
#include "test_lb.h"

static struct server *pick_uri(struct fx *f, const char *uri)
{
	char head[512];
	struct http_msg m;
	struct lb_req req = {0};

	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", uri);
	if (fx_request(&m, head) < 0)
		return NULL;
	req.msg = &m;
	req.base = head;
	return fx_pick(f, &req, false);
}

/* True when a and b land on the same server for every hash-type, over 8 servers. */
static bool same(struct fx *f, const char *a, const char *b)
{
	return pick_uri(f, a) == pick_uri(f, b);
}

/* How many of n URIs "PREFIX<i>SUFFIX" land where "PREFIX<i>" does. */
static int agree(struct fx *f, const char *prefix, const char *suffix, int n)
{
	char a[128], b[128];
	int k = 0;

	for (int i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "%s%d", prefix, i);
		snprintf(b, sizeof(b), "%s%d%s", prefix, i, suffix);
		k += same(f, a, b);
	}
	return k;
}

int main(void)
{
	struct fx f;
	int cnt[8] = {0};
	char u[64];

	fx_init(&f, 8, NULL, LB_URI);
	for (int i = 0; i < 800; i++) {
		snprintf(u, sizeof(u), "/room/%d", i);
		cnt[pick_uri(&f, u)->puid - 1]++;
	}
	ok(cnt[0] && cnt[1] && cnt[2] && cnt[3] && cnt[4] && cnt[5] && cnt[6] && cnt[7],
	   "URIs spread over every server");
	ok(same(&f, "/ws/room/42", "/ws/room/42"), "a URI keeps its server");
	is_int(agree(&f, "/ws/room", "?token=abc", 50), 50, "query string ignored by default");
	f.be.uri_whole = true;
	ok(agree(&f, "/ws/room", "?token=abc", 50) < 20, "whole: the query string counts");
	f.be.uri_whole = false;
	f.be.uri_depth = 2;
	is_int(agree(&f, "/a/b", "/c/d", 1), 1, "depth 2: /a/b/c/d hashes as /a/b");
	ok(agree(&f, "/a", "/b", 50) < 20, "depth 2: /a<i>/b keeps its second level");
	f.be.uri_depth = 0;
	f.be.uri_len = 6;
	is_int(agree(&f, "/room", "/anything", 10), 10, "len 6: only the first 6 characters");
	f.be.uri_len = 0;
	f.be.uri_path_only = true;
	ok(same(&f, "http://example.com/chat/1", "/chat/1"),
	   "path-only drops scheme and authority");
	f.be.uri_path_only = false;
	f.be.hash_type = LB_HASH_CONSISTENT;
	ok(same(&f, "/ws/room/42?x", "/ws/room/42"), "consistent: stable too");
	fx_free(&f);
	fx_init(&f, 3, NULL, LB_URI);
	is_str(fx_seq(&f, 4, NULL, false), "s1 s2 s3 s1",
	       "no HTTP request (mode tcp): round robin");
	fx_free(&f);
	return done();
}
