// SPDX-License-Identifier: GPL-2.0
#include "backend.h"

/*
 * first: the first server in declaration order (HAProxy's id order, wsplice numbers servers as
 * they are declared) with a free slot under its maxconn. Weights other than 0 do not matter. A
 * server without maxconn takes everything, as in HAProxy: the algorithm is meant for servers
 * with a maxconn, to use as few of them as possible.
 */
static struct server *first_pick(struct proxy *be, const struct lb_req *req)
{
	(void)req;
	for (struct server *s = be->servers; s; s = s->next)
		if (lb_candidate(be, s))
			return s;
	return NULL;
}

const struct lb_ops lb_first = {
    .name = "first",
    .pick = first_pick,
};
