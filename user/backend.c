// SPDX-License-Identifier: GPL-2.0
#include "backend.h"

bool server_usable(const struct server *srv)
{
	return !srv->disabled && !srv->down && srv->weight > 0;
}

unsigned int backend_usable(const struct proxy *be)
{
	unsigned int n = 0;

	for (const struct server *s = be->servers; s; s = s->next)
		n += server_usable(s);
	return n;
}

static const struct lb_ops *lb_of(const struct proxy *be)
{
	switch (be->lb) {
	case LB_ROUNDROBIN:
	default:
		return &lb_roundrobin;
	}
}

struct server *lb_pick(struct proxy *be, const struct lb_req *req)
{
	return lb_of(be)->pick(be, req);
}
