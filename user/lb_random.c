// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "backend.h"

/*
 * random(N): HAProxy's "power of N random choices": N servers drawn at random in proportion to
 * their weight, and the least loaded of them (cur_conns / weight) is picked. N defaults to 2;
 * random(1) is plain weighted random. Unlike HAProxy, which would queue on a full server, only
 * servers with room are drawn.
 */
static struct server *draw(struct proxy *be)
{
	unsigned int tot = 0, r;
	struct server *s;

	for (s = be->servers; s; s = s->next)
		if (lb_candidate(be, s))
			tot += (unsigned int)s->weight;
	if (!tot)
		return NULL;
	r = (unsigned int)random() % tot;
	for (s = be->servers; s; s = s->next) {
		if (!lb_candidate(be, s))
			continue;
		if (r < (unsigned int)s->weight)
			return s;
		r -= (unsigned int)s->weight;
	}
	return NULL;
}

static struct server *random_pick(struct proxy *be, const struct lb_req *req)
{
	unsigned int draws = be->random_draws ? be->random_draws : 2;
	struct server *best = NULL, *s;

	(void)req;
	while (draws--) {
		s = draw(be);
		if (!s)
			return NULL;
		if (!best || (unsigned long long)s->cur_conns * (unsigned int)best->weight <
				 (unsigned long long)best->cur_conns * (unsigned int)s->weight)
			best = s;
	}
	return best;
}

const struct lb_ops lb_random = {
    .name = "random",
    .pick = random_pick,
};
