// SPDX-License-Identifier: GPL-2.0
#include "backend.h"

bool server_usable(const struct server *srv)
{
	return !srv->disabled && !srv->down && !srv->drain && srv->weight > 0;
}

unsigned int backend_usable_of(const struct proxy *be, bool backup)
{
	unsigned int n = 0;

	for (const struct server *s = be->servers; s; s = s->next)
		n += server_usable(s) && s->backup == backup;
	return n;
}

unsigned int backend_usable(const struct proxy *be)
{
	return backend_usable_of(be, false) + backend_usable_of(be, true);
}

static const struct lb_ops *const lb_table[] = {
    [LB_ROUNDROBIN] = &lb_roundrobin,
    [LB_STATIC_RR] = &lb_static_rr,
    [LB_LEASTCONN] = &lb_leastconn,
    [LB_FIRST] = &lb_first,
    [LB_SOURCE] = &lb_source,
    [LB_URI] = &lb_uri,
    [LB_HDR] = &lb_hdr,
    [LB_RANDOM] = &lb_random,
};

static const struct lb_ops *lb_of(const struct proxy *be)
{
	if ((unsigned int)be->lb < sizeof(lb_table) / sizeof(lb_table[0]) && lb_table[be->lb])
		return lb_table[be->lb];
	return &lb_roundrobin;
}

const char *lb_name(const struct proxy *be)
{
	return lb_of(be)->name;
}

/* FNV-1a step over a server's position: the signature of the set in use. */
static unsigned long long sig_add(unsigned long long sig, unsigned int v)
{
	return (sig ^ v) * 0x100000001b3ULL;
}

/*
 * HAProxy's rule: the active servers while one of them is usable; otherwise the backups, only
 * the first usable one (declaration order, which is HAProxy's id order) unless "option
 * allbackups". The signature changes whenever the set does, whoever flipped a server's state
 * (checks, a future CLI), so the tables of lb_hash.c never need to be told.
 */
void lb_select(struct proxy *be)
{
	unsigned long long sig = 0xcbf29ce484222325ULL;
	unsigned int n = 0, tot = 0;
	struct server *s;

	be->lb_backup = backend_usable_of(be, false) == 0;
	be->lb_only = NULL;
	if (be->lb_backup && !(be->options & PX_O_ALLBACKUPS)) {
		for (s = be->servers; s && !(server_usable(s) && s->backup); s = s->next)
			;
		be->lb_only = s;
	}
	for (s = be->servers; s; s = s->next) {
		if (!lb_eligible(be, s))
			continue;
		n++;
		tot += (unsigned int)s->weight;
		sig = sig_add(sig, s->puid);
		sig = sig_add(sig, (unsigned int)s->weight);
	}
	be->lb_neligible = n;
	be->lb_tot_weight = tot;
	be->lb_sig = sig_add(sig, n);
}

struct server *lb_pick(struct proxy *be, const struct lb_req *req)
{
	lb_select(be);
	if (!be->lb_neligible)
		return NULL;
	return lb_of(be)->pick(be, req);
}
