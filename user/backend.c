// SPDX-License-Identifier: GPL-2.0
#include "backend.h"

#include <stdio.h>

#include "log.h"

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

/* One proxy's summary line of the SIGHUP dump, in HAProxy 2.6's words. */
static void dump_proxy(const struct proxy *px)
{
	unsigned int act = backend_usable_of(px, false), bck = backend_usable_of(px, true);
	unsigned int fe = px->cap & PX_CAP_FE ? px->cur_conns : 0;
	unsigned int be = px->cap & PX_CAP_BE ? px->cur_conns : 0;
	unsigned long long fe_tot = px->cap & PX_CAP_FE ? px->cum_conns : 0;
	unsigned long long be_tot = px->cap & PX_CAP_BE ? px->cum_conns : 0;
	char what[128];

	if (!px->servers)
		snprintf(what, sizeof(what), "has no servers.");
	else if (!act)
		snprintf(what, sizeof(what), "%s !",
			 bck ? "is running on backup servers" : "has no server available");
	else
		snprintf(what, sizeof(what),
			 "has %u active servers and %u backup servers available.", act, bck);
	pr_warn("SIGHUP: Proxy %s %s Conn: act(FE+BE): %u+%u, %u pend (%u unass), "
		"tot(FE+BE): %llu+%llu.",
		px->id, what, fe, be, px->nqueued, px->nqueued, fe_tot, be_tot);
}

void backends_dump_state(const struct config *cfg)
{
	pr_warn("SIGHUP received, dumping servers states.");
	for (const struct proxy *px = cfg->proxies; px; px = px->next) {
		for (const struct server *s = px->servers; s; s = s->next)
			pr_warn("SIGHUP: Server %s/%s is %s. Conn: %u act, 0 pend, %llu tot.", px->id,
				s->id, s->down ? "DOWN" : "UP", s->cur_conns, s->cum_conns);
		dump_proxy(px);
	}
}
