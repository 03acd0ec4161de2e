// SPDX-License-Identifier: GPL-2.0
#include "backend.h"

/*
 * leastconn: the candidate with the fewest connections for its weight (cur_conns / weight,
 * compared by cross-multiplication), HAProxy's recommendation for long sessions such as
 * WebSocket tunnels, since cur_conns counts open tunnels. Ties are broken round-robin: the scan
 * starts after the last server picked and only a strictly lower load replaces the best so far,
 * as HAProxy's tree inserts equal keys behind the ones already there.
 */
static bool less_loaded(const struct server *a, const struct server *b)
{
	return (unsigned long long)a->cur_conns * (unsigned int)b->weight <
	       (unsigned long long)b->cur_conns * (unsigned int)a->weight;
}

static struct server *leastconn_pick(struct proxy *be, const struct lb_req *req)
{
	struct server *start = be->lb_last && be->lb_last->next ? be->lb_last->next : be->servers;
	struct server *s = start, *best = NULL;

	(void)req;
	do {
		if (lb_candidate(be, s) && (!best || less_loaded(s, best)))
			best = s;
		s = s->next ? s->next : be->servers;
	} while (s != start);
	if (best)
		be->lb_last = best;
	return best;
}

const struct lb_ops lb_leastconn = {
    .name = "leastconn",
    .pick = leastconn_pick,
};
