// SPDX-License-Identifier: GPL-2.0
#include "backend.h"
#include "lb_hash.h"

/*
 * static-rr: HAProxy's map-based round robin. The servers in use are laid out once in a map
 * (each weight times, smoothly interleaved, lb_hash.c) and picks walk it. The map is rebuilt
 * only when the set of servers in use changes, which is what "static" means: no weight change
 * at run time, no limit on the number of servers. Full servers are skipped, as HAProxy does.
 */
static struct server *static_rr_pick(struct proxy *be, const struct lb_req *req)
{
	unsigned int i;
	struct server *s;

	(void)req;
	for (i = 0; i < be->lb_tot_weight; i++) {
		s = lb_map_at(be, be->lb_pos++);
		if (!s)
			return NULL;
		if (server_has_room(s))
			return s;
	}
	return NULL;
}

const struct lb_ops lb_static_rr = {
    .name = "static-rr",
    .pick = static_rr_pick,
};
