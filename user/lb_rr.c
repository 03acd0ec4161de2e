// SPDX-License-Identifier: GPL-2.0
#include "backend.h"

/*
 * Weighted round robin, smooth (nginx's algorithm): each pick adds every candidate's weight to
 * its credit and takes the server with the most credit, which then pays the total back.
 * Weights 1:1 alternate strictly; 3:1 gives a a b a, not a a a b. Servers that go DOWN, come
 * back or reach their maxconn simply stop or start taking part, so the order adapts at once
 * (HAProxy's "dynamic"; like HAProxy, a full server is skipped rather than waited for).
 */
static struct server *rr_pick(struct proxy *be, const struct lb_req *req)
{
	struct server *s, *best = NULL;
	int total = 0;

	(void)req;
	for (s = be->servers; s; s = s->next) {
		if (!lb_candidate(be, s))
			continue;
		s->rr_credit += s->weight;
		total += s->weight;
		if (!best || s->rr_credit > best->rr_credit)
			best = s;
	}
	if (best)
		best->rr_credit -= total;
	return best;
}

const struct lb_ops lb_roundrobin = {
    .name = "roundrobin",
    .pick = rr_pick,
};
