// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus text exposition (prom.h). Metrics are table rows: a name, a type, a help text
 * and where the value sits in a struct filled once per scrape from the sources "show info" and
 * "show stat" use. Each metric is written whole (HELP, TYPE, then every sample), as the format
 * requires: a metric's samples may not be interleaved with another's.
 */
#include "prom.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "backend.h"
#include "cli.h"
#include "ctx.h"
#include "splice.h"
#include "version.h"
#include "wsplice.h"

enum prom_type { PROM_GAUGE, PROM_COUNTER };

static const char *const type_name[] = {[PROM_GAUGE] = "gauge", [PROM_COUNTER] = "counter"};

/* One scrape's output; a failed allocation is remembered and reported once at the end. */
struct prom_out {
	struct buf *b;
	bool nomem;
};

static void put(struct prom_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct prom_out *o, const char *fmt, ...)
{
	struct buf *b = o->b;
	va_list ap;
	int n;

	/* measured first: a line holds config names, which have no length limit of their own */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, n + 1)) {
		o->nomem = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->tail, n + 1, fmt, ap);
	va_end(ap);
	b->tail += n;
}

static void put_head(struct prom_out *o, const char *name, enum prom_type t, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type_name[t]);
}

/* The uint64_t field at offset off of a values struct (a table row's offsetof()). */
static uint64_t u64_at(const void *vals, size_t off)
{
	return *(const uint64_t *)((const char *)vals + off);
}

/* --- process-wide metrics: "show info" ------------------------------------------------------ */

struct proc_vals {
	uint64_t uptime, maxconn, curconn, cumconn, splice_on;
	uint64_t tun_cur, tun_cum, spl_cur, spl_cum, demoted;
	uint64_t kbytes, relay_bytes, pipe_bytes, held_bytes, pauses, redir_fail;
	uint64_t maxpipes, pipes_used, pipes_free, busy_polling;
};

#define PV(f) offsetof(struct proc_vals, f)

static const struct {
	const char *name;
	enum prom_type type;
	size_t off;
	const char *help;
} proc_metrics[] = {
    {"haproxy_process_uptime_seconds", PROM_GAUGE, PV(uptime),
     "How long ago this worker process was started (seconds)"},
    {"haproxy_process_max_connections", PROM_GAUGE, PV(maxconn),
     "Hard limit on the number of per-process connections (configured or imposed by "
     "Ulimit-n)"},
    {"haproxy_process_current_connections", PROM_GAUGE, PV(curconn),
     "Current number of connections on this worker process"},
    {"haproxy_process_connections_total", PROM_COUNTER, PV(cumconn),
     "Total number of connections on this worker process since started"},
    {"haproxy_process_max_pipes", PROM_GAUGE, PV(maxpipes),
     "Configured maximum number of pipes"},
    {"haproxy_process_pipes_used_total", PROM_COUNTER, PV(pipes_used),
     "Number of pipes in use"},
    {"haproxy_process_pipes_free_total", PROM_COUNTER, PV(pipes_free),
     "Number of pipes unused"},
    {"haproxy_process_busy_polling_enabled", PROM_GAUGE, PV(busy_polling),
     "1 if busy-polling is currently in use, 0 otherwise."},
    {"wsplice_splice_enabled", PROM_GAUGE, PV(splice_on),
     "1 when tunnels are forwarded by the kernel (BPF), 0 on the userspace relay"},
    {"wsplice_tunnels_current", PROM_GAUGE, PV(tun_cur), "Tunnels open now"},
    {"wsplice_tunnels_total", PROM_COUNTER, PV(tun_cum), "Tunnels opened since start"},
    {"wsplice_tunnels_spliced", PROM_GAUGE, PV(spl_cur),
     "Tunnels forwarded by the kernel right now"},
    {"wsplice_tunnels_spliced_total", PROM_COUNTER, PV(spl_cum),
     "Tunnels handed to the kernel since start"},
    {"wsplice_tunnels_demoted_total", PROM_COUNTER, PV(demoted),
     "Spliced tunnels moved to the userspace relay because their receiver fell behind"},
    {"wsplice_kernel_bytes_total", PROM_COUNTER, PV(kbytes),
     "Tunnel bytes redirected by the BPF program since start"},
    {"wsplice_user_relay_bytes_total", PROM_COUNTER, PV(relay_bytes),
     "Tunnel bytes moved by the userspace relay"},
    {"wsplice_user_pipe_bytes_total", PROM_COUNTER, PV(pipe_bytes),
     "Of the relay's bytes, those moved through splice(2) pipes without a copy"},
    {"wsplice_user_held_bytes_total", PROM_COUNTER, PV(held_bytes),
     "Spliced-tunnel bytes the kernel left to user space, then copied by it"},
    {"wsplice_flow_control_pauses_total", PROM_COUNTER, PV(pauses),
     "Spliced directions paused by flow control"},
    {"wsplice_redirect_failures_total", PROM_COUNTER, PV(redir_fail),
     "skbs the BPF verdict could not redirect to the peer socket (left to user space)"},
};

static void proc_fill(struct ctx *ctx, struct proc_vals *v)
{
	v->uptime = (loop_now_ms(ctx->loop) - ctx->start_ms) / 1000;
	v->maxconn = ctx->maxconn;
	v->curconn = ctx->actconn;
	v->cumconn = ctx->cnt.cum_conns;
	v->splice_on = ctx->splice != NULL;
	v->tun_cur = ctx->cnt.cur_tunnels;
	v->tun_cum = ctx->cnt.cum_tunnels;
	v->spl_cur = ctx->cnt.cur_spliced;
	v->spl_cum = ctx->cnt.cum_spliced;
	v->demoted = ctx->cnt.demoted;
	v->kbytes = splice_kernel_bytes(ctx);
	v->relay_bytes = ctx->cnt.user_relay_bytes;
	v->pipe_bytes = ctx->cnt.pipe_bytes;
	v->maxpipes = ctx->maxpipes;
	v->pipes_used = ctx->pipes_used;
	v->pipes_free = 0;
	v->busy_polling = loop_busy(ctx->loop);
	v->held_bytes = ctx->cnt.held_bytes;
	v->pauses = ctx->cnt.flow_pauses;
	v->redir_fail = splice_stat(ctx, WSPLICE_STAT_REDIRECT_FAILED);
}

/* The per-CPU stats map's reasons (include/wsplice.h), as label values. */
static const char *const bpf_reason[] = {
    [WSPLICE_STAT_REDIRECTED] = "redirected",
    [WSPLICE_STAT_REDIRECTED_BYTES] = "redirected_bytes",
    [WSPLICE_STAT_EMPTY_SKB] = "empty_skb",
    [WSPLICE_STAT_NO_STATE] = "no_state",
    [WSPLICE_STAT_REDIRECT_FAILED] = "redirect_failed",
    [WSPLICE_STAT_FIRST_MARK] = "first_mark",
    [WSPLICE_STAT_BEHIND_PASSED] = "behind_passed",
    [WSPLICE_STAT_PASSED_BYTES] = "passed_bytes",
    [WSPLICE_STAT_EVENTS] = "events",
    [WSPLICE_STAT_EVENTS_LOST] = "events_lost",
};
/* a new reason in the ABI header must get its label here */
_Static_assert(sizeof(bpf_reason) / sizeof(bpf_reason[0]) == WSPLICE_STAT_NR,
	       "every enum wsplice_stat member needs a label");

static void dump_process(struct ctx *ctx, struct prom_out *o)
{
	struct proc_vals v;

	proc_fill(ctx, &v);
	put_head(o, "haproxy_process_build_info", PROM_GAUGE, "Build info");
	put(o, "haproxy_process_build_info{version=\"%s\"} 1\n", WSPLICE_VERSION);
	for (size_t i = 0; i < sizeof(proc_metrics) / sizeof(proc_metrics[0]); i++) {
		put_head(o, proc_metrics[i].name, proc_metrics[i].type, proc_metrics[i].help);
		put(o, "%s %llu\n", proc_metrics[i].name,
		    (unsigned long long)u64_at(&v, proc_metrics[i].off));
	}
	/* zeros on the userspace path: the series exist whatever the data path */
	put_head(o, "wsplice_bpf_stat_total", PROM_COUNTER,
		 "Per-reason counters of the BPF verdict (the wsplice_stats map, all CPUs)");
	for (unsigned int r = 0; r < WSPLICE_STAT_NR; r++)
		put(o, "wsplice_bpf_stat_total{reason=\"%s\"} %llu\n", bpf_reason[r],
		    (unsigned long long)splice_stat(ctx, r));
}

/* --- proxies and servers: "show stat" ------------------------------------------------------- */

enum obj_kind { OBJ_FE, OBJ_BE, OBJ_SRV, OBJ_NR };

#define K_FE  (1u << OBJ_FE)
#define K_BE  (1u << OBJ_BE)
#define K_SRV (1u << OBJ_SRV)

/* One row of "show stat", as numbers. */
struct obj {
	enum obj_kind kind;
	const struct proxy *px;
	const struct server *srv;
	const char *status; /* HAProxy's state label that is 1 */
	uint64_t cur, slim, tot, bin, bout, dreq, weight, act, bck, queue;
	const unsigned long long *hrsp; /* NULL outside mode http */
};

#define OV(f) offsetof(struct obj, f)

enum row_kind { ROW_VAL, ROW_STATE, ROW_HRSP };

static const char *const fe_states[] = {"DOWN", "UP", NULL};
static const char *const srv_states[] = {"DOWN", "UP", "MAINT", "DRAIN", "NOLB", NULL};

static const struct {
	const char *suffix; /* after "haproxy_<frontend|backend|server>_" */
	unsigned int kinds; /* K_* it exists for */
	enum row_kind row;
	enum prom_type type;
	size_t off; /* ROW_VAL */
	const char *help;
} obj_metrics[] = {
    {"status", K_FE | K_BE | K_SRV, ROW_STATE, PROM_GAUGE, 0,
     "Current status of the service, per state label value."},
    {"current_sessions", K_FE | K_BE | K_SRV, ROW_VAL, PROM_GAUGE, OV(cur),
     "Number of current sessions on the frontend, backend or server"},
    {"limit_sessions", K_FE | K_SRV, ROW_VAL, PROM_GAUGE, OV(slim),
     "Frontend's or server's maxconn (0: none)"},
    {"sessions_total", K_FE | K_BE | K_SRV, ROW_VAL, PROM_COUNTER, OV(tot),
     "Total number of sessions since process started"},
    {"bytes_in_total", K_FE | K_BE | K_SRV, ROW_VAL, PROM_COUNTER, OV(bin),
     "Total number of request bytes since process started (open tunnels included)"},
    {"bytes_out_total", K_FE | K_BE | K_SRV, ROW_VAL, PROM_COUNTER, OV(bout),
     "Total number of response bytes since process started (open tunnels included)"},
    {"requests_denied_total", K_FE | K_BE, ROW_VAL, PROM_COUNTER, OV(dreq),
     "Total number of denied requests since process started"},
    {"http_responses_total", K_FE | K_BE | K_SRV, ROW_HRSP, PROM_COUNTER, 0,
     "Total number of HTTP responses per status class returned by this object since the "
     "worker process started"},
    {"current_queue", K_BE, ROW_VAL, PROM_GAUGE, OV(queue), "Number of current queued connections"},
    {"weight", K_BE | K_SRV, ROW_VAL, PROM_GAUGE, OV(weight),
     "Server's effective weight, or sum of active servers' effective weights for a backend"},
    {"active_servers", K_BE, ROW_VAL, PROM_GAUGE, OV(act),
     "Total number of active UP servers with a non-zero weight"},
    {"backup_servers", K_BE, ROW_VAL, PROM_GAUGE, OV(bck),
     "Total number of backup UP servers with a non-zero weight"},
};

static const char *const kind_name[] = {"frontend", "backend", "server"};

/* show stat's status words as HAProxy's exporter labels them: "no check" is UP. */
static const char *srv_state(const struct server *srv)
{
	const char *st = stats_server_status(srv);

	return strcmp(st, "no check") ? st : "UP";
}

static void obj_fill(struct ctx *ctx, struct obj *b)
{
	const struct proxy *px = b->px;
	const struct server *srv = b->srv;

	stats_bytes(ctx, px, srv, &b->bin, &b->bout);
	b->hrsp = px->mode != PX_MODE_HTTP ? NULL : srv ? srv->hrsp : px->hrsp;
	if (srv) {
		b->status = srv_state(srv);
		b->cur = srv->cur_conns;
		b->slim = srv->maxconn;
		b->tot = srv->cum_conns;
		b->weight = srv->weight;
		return;
	}
	b->cur = px->cur_conns;
	b->slim = px->maxconn;
	b->tot = px->cum_conns;
	b->dreq = px->denied_req;
	b->queue = px->nqueued;
	if (b->kind == OBJ_FE) {
		b->status = "UP";
		return;
	}
	b->status = backend_usable(px) ? "UP" : "DOWN";
	for (const struct server *s = px->servers; s; s = s->next) {
		b->weight += server_usable(s) ? s->weight : 0;
		b->act += server_usable(s) && !s->backup;
		b->bck += server_usable(s) && s->backup;
	}
}

/* Every frontend, backend and server, in "show stat" order; *n set. NULL on ENOMEM. */
static struct obj *objs_collect(struct ctx *ctx, size_t *n)
{
	size_t cap = 0, i = 0;
	struct obj *objs;

	for (const struct proxy *px = ctx->cfg->proxies; px; px = px->next)
		cap += 2 + px->nservers;
	objs = calloc(cap ? cap : 1, sizeof(*objs));
	if (!objs)
		return NULL;
	for (const struct proxy *px = ctx->cfg->proxies; px; px = px->next) {
		if (px->cap & PX_CAP_FE)
			objs[i++] = (struct obj){.kind = OBJ_FE, .px = px};
		if (!(px->cap & PX_CAP_BE))
			continue;
		for (const struct server *s = px->servers; s && i < cap; s = s->next)
			objs[i++] = (struct obj){.kind = OBJ_SRV, .px = px, .srv = s};
		objs[i++] = (struct obj){.kind = OBJ_BE, .px = px};
	}
	for (size_t j = 0; j < i; j++)
		obj_fill(ctx, &objs[j]);
	*n = i;
	return objs;
}

/*
 * The labels of an object, without braces: proxy="..." and server="...", in a string to free.
 * Names are config words and may hold anything: a quote, backslash or newline is escaped as the
 * format requires. NULL on ENOMEM.
 */
static char *labels(const struct obj *b)
{
	const char *names[2] = {b->px->id, b->srv ? b->srv->id : NULL};
	const char *keys[2] = {"proxy", "server"};
	size_t o = 0, len = 32;
	char *out;

	for (int k = 0; k < 2 && names[k]; k++)
		len += 2 * strlen(names[k]);
	out = malloc(len);
	if (!out)
		return NULL;
	for (int k = 0; k < 2 && names[k]; k++) {
		o += sprintf(out + o, "%s%s=\"", k ? "," : "", keys[k]);
		for (const char *c = names[k]; *c; c++) {
			if (*c == '"' || *c == '\\' || *c == '\n')
				out[o++] = '\\';
			out[o++] = *c == '\n' ? 'n' : *c;
		}
		out[o++] = '"';
	}
	out[o] = 0;
	return out;
}

static void put_samples(struct prom_out *o, const char *name, size_t m, const struct obj *b)
{
	static const char *const codes[HRSP_NR] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
	const char *const *states = b->kind == OBJ_SRV ? srv_states : fe_states;
	char *lbl = labels(b);

	if (!lbl) {
		o->nomem = true;
		return;
	}
	switch (obj_metrics[m].row) {
	case ROW_VAL:
		put(o, "%s{%s} %llu\n", name, lbl,
		    (unsigned long long)u64_at(b, obj_metrics[m].off));
		break;
	case ROW_STATE:
		for (int i = 0; states[i]; i++)
			put(o, "%s{%s,state=\"%s\"} %d\n", name, lbl, states[i],
			    !strcmp(states[i], b->status));
		break;
	case ROW_HRSP:
		for (int i = 0; b->hrsp && i < HRSP_NR; i++)
			put(o, "%s{%s,code=\"%s\"} %llu\n", name, lbl, codes[i], b->hrsp[i]);
		break;
	}
	free(lbl);
}

static void dump_objects(struct prom_out *o, const struct obj *objs, size_t n)
{
	char name[96];

	for (int k = 0; k < OBJ_NR; k++) {
		for (size_t m = 0; m < sizeof(obj_metrics) / sizeof(obj_metrics[0]); m++) {
			if (!(obj_metrics[m].kinds & (1u << k)))
				continue;
			snprintf(name, sizeof(name), "haproxy_%s_%s", kind_name[k],
				 obj_metrics[m].suffix);
			put_head(o, name, obj_metrics[m].type, obj_metrics[m].help);
			for (size_t i = 0; i < n; i++)
				if (objs[i].kind == (enum obj_kind)k)
					put_samples(o, name, m, &objs[i]);
		}
	}
}

int prom_dump(struct ctx *ctx, struct buf *out)
{
	struct prom_out o = {.b = out};
	size_t n = 0, len = buf_len(out);
	struct obj *objs = objs_collect(ctx, &n);

	if (!objs)
		return -ENOMEM;
	dump_process(ctx, &o);
	dump_objects(&o, objs, n);
	free(objs);
	if (o.nomem) {
		out->tail = out->head + len;
		return -ENOMEM;
	}
	return 0;
}

int prom_reply(struct ctx *ctx, struct buf *out, bool head_only, bool close)
{
	struct buf body = {0};
	char head[256];
	int n, err;

	err = prom_dump(ctx, &body);
	if (err < 0)
		goto cleanup;
	/* HAProxy's head, except the framing: a length rather than chunks (known here) */
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\n"
		     "content-type: text/plain; version=0.0.4\r\ncontent-length: %zu\r\n%s\r\n",
		     buf_len(&body), close ? "connection: close\r\n" : "");
	if (!buf_reserve(out, n + (head_only ? 0 : buf_len(&body)))) {
		err = -ENOMEM;
		goto cleanup;
	}
	buf_append(out, head, n, out->cap);
	if (!head_only)
		buf_append(out, buf_ptr(&body), buf_len(&body), out->cap);
cleanup:
	buf_release(&body);
	return err;
}
