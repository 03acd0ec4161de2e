// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime API's commands, HAProxy's CLI syntax (doc/management.txt, section 9.3): one table
 * row per command with the access level it needs. stats.c owns the socket and the sessions; this
 * file only turns a command line into text.
 */
#include "cli.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "splice.h"
#include "stream.h"
#include "syslog.h"
#include "version.h"
#include "wsplice.h"

#define CLI_MAX_ARGS 16

struct cli_req {
	struct ctx *ctx;
	struct buf *out;
	int level;
};

static void out(struct cli_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct cli_req *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	/* answers are bounded by the number of streams and servers: grow as needed */
	if (buf_reserve(r->out, n))
		buf_append(r->out, line, n, r->out->cap);
}

static const char *stream_state_name(const struct stream *s)
{
	static const char *const names[] = {
		[ST_REQ_HEAD] = "req", [ST_CONNECT] = "connect", [ST_HTTP] = "http",
		[ST_TUNNEL_USER] = "tunnel-user", [ST_TUNNEL_KERNEL] = "tunnel-kernel",
		[ST_CLOSING] = "closing",
	};

	return names[s->st];
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int port;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
		snprintf(buf, len, "[%s]:%d", ip, port);
		return;
	}
	inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%d", ip, ntohs(((const struct sockaddr_in *)ss)->sin_port));
}

void stats_bytes(struct ctx *ctx, const struct proxy *px, const struct server *srv,
		 uint64_t *in, uint64_t *out_b)
{
	uint64_t up, down;

	*in = srv ? srv->bytes_in : px->bytes_in;
	*out_b = srv ? srv->bytes_out : px->bytes_out;
	/* and the transactions still open, so that counters move while tunnels live */
	for (struct stream *s = ctx->streams; s; s = s->next) {
		if (srv ? s->srv != srv : (s->fe != px && s->be != px))
			continue;
		stream_bytes(s, &up, &down);
		*in += up;
		*out_b += down;
	}
}

static void show_info(struct cli_req *r, char **args, int n)
{
	struct ctx *ctx = r->ctx;

	(void)args;
	(void)n;
	out(r, "Name: wsplice\nVersion: %s\nPid: %d\nUptime_sec: %llu\nMaxconn: %d\n",
	    WSPLICE_VERSION, (int)getpid(),
	    (unsigned long long)(loop_now_ms(ctx->loop) - ctx->start_ms) / 1000, ctx->maxconn);
	out(r, "CurrConns: %u\nCumConns: %llu\n", ctx->actconn,
	    (unsigned long long)ctx->cnt.cum_conns);
	/* HAProxy's: no pool of free pipes here, a tunnel closes its own */
	out(r, "Maxpipes: %d\nPipesUsed: %d\nPipesFree: 0\n", ctx->maxpipes, ctx->pipes_used);
	out(r, "SpliceMode: %s\nSpliceOffReason: %s\n", ctx->splice ? "bpf" : "userspace",
	    ctx->splice ? "-" : ctx->splice_off_why);
	out(r, "CurrTunnels: %llu\nCumTunnels: %llu\nSplicedTunnels: %llu\n",
	    (unsigned long long)ctx->cnt.cur_tunnels, (unsigned long long)ctx->cnt.cum_tunnels,
	    (unsigned long long)ctx->cnt.cur_spliced);
	out(r, "CumSplicedTunnels: %llu\nSpliceDemoted: %llu\n",
	    (unsigned long long)ctx->cnt.cum_spliced, (unsigned long long)ctx->cnt.demoted);
	/* HAProxy's name: log lines a target could not take at once (syslog.c) */
	out(r, "DroppedLogs: %llu\n", (unsigned long long)log_lines_dropped);
	/* HAProxy's: 1 while busy polling is in use (not in a process that is stopping) */
	out(r, "BusyPolling: %d\n", loop_busy(ctx->loop));
	out(r, "KernelBytes: %llu\nUserRelayBytes: %llu\nUserPipeBytes: %llu\n",
	    (unsigned long long)splice_kernel_bytes(ctx),
	    (unsigned long long)ctx->cnt.user_relay_bytes,
	    (unsigned long long)ctx->cnt.pipe_bytes);
	out(r, "UserHeldBytes: %llu\nFlowPauses: %llu\n",
	    (unsigned long long)ctx->cnt.held_bytes, (unsigned long long)ctx->cnt.flow_pauses);
	out(r, "RedirectFailures: %llu\n",
	    (unsigned long long)splice_stat(ctx, WSPLICE_STAT_REDIRECT_FAILED));
}

const char *stats_server_status(const struct server *srv)
{
	if (srv->disabled)
		return "MAINT";
	if (srv->drain)
		return "DRAIN";
	if (!srv->check)
		return "no check";
	return srv->down ? "DOWN" : "UP";
}

/*
 * "show stat": HAProxy's CSV, its first 45 columns in its order (pxname .. hrsp_other), for the
 * fields wsplice has; the others are empty, as HAProxy leaves fields it does not know.
 */
static void stat_row(struct cli_req *r, const struct proxy *px, const struct server *srv,
		     int type, int iid, int sid)
{
	uint64_t in, out_b, cur, max, tot, slim;
	const unsigned long long *hrsp = srv ? srv->hrsp : px->hrsp;
	const char *name, *status;
	int weight = 0, act = 0, bck = 0;
	char dreq[24] = "", h[HRSP_NR][24] = { "" };

	stats_bytes(r->ctx, px, srv, &in, &out_b);
	/* HAProxy fills dreq for proxies, and hrsp_* in mode http only */
	if (!srv)
		snprintf(dreq, sizeof(dreq), "%llu", px->denied_req);
	for (int i = 0; i < HRSP_NR && px->mode == PX_MODE_HTTP; i++)
		snprintf(h[i], sizeof(h[i]), "%llu", hrsp[i]);
	if (srv) {
		name = srv->id;
		cur = srv->cur_conns;
		max = srv->max_conns;
		tot = srv->cum_conns;
		slim = srv->maxconn;
		status = stats_server_status(srv);
		weight = srv->weight;
		act = !srv->backup;
		bck = srv->backup;
	} else {
		name = type == 0 ? "FRONTEND" : "BACKEND";
		cur = px->cur_conns;
		max = px->max_conns;
		tot = px->cum_conns;
		slim = px->maxconn;
		status = type == 0 ? "OPEN" : (backend_usable(px) ? "UP" : "DOWN");
		for (const struct server *s = px->servers; type == 1 && s; s = s->next) {
			weight += server_usable(s) ? s->weight : 0;
			act += server_usable(s) && !s->backup;
			bck += server_usable(s) && s->backup;
		}
	}
	out(r, "%s,%s,%u,0,%llu,%llu,%llu,%llu,%llu,%llu,%s,,,,,,,%s,%d,%d,%d,,,,,,%d,%d,%d,,%llu,,%d,"
	       ",,,,,,%s,%s,%s,%s,%s,%s,\n",
	    px->id, name, type == 1 ? px->nqueued : 0, (unsigned long long)cur,
	    (unsigned long long)max,
	    (unsigned long long)slim, (unsigned long long)tot, (unsigned long long)in,
	    (unsigned long long)out_b, dreq, status, weight, act, bck, (int)getpid(), iid, sid,
	    (unsigned long long)tot, type, h[0], h[1], h[2], h[3], h[4], h[5]);
}

static void show_stat(struct cli_req *r, char **args, int n)
{
	int iid = 0;

	(void)args;
	(void)n;
	out(r, "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
	       "wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,"
	       "sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,"
	       "check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,\n");
	for (const struct proxy *px = r->ctx->cfg->proxies; px; px = px->next) {
		int sid = 0;

		iid++;
		if (px->cap & PX_CAP_FE)
			stat_row(r, px, NULL, 0, iid, 0);
		if (!(px->cap & PX_CAP_BE))
			continue;
		for (const struct server *srv = px->servers; srv; srv = srv->next)
			stat_row(r, px, srv, 2, iid, ++sid);
		stat_row(r, px, NULL, 1, iid, 0);
	}
	out(r, "\n");
}

/* "show servers state [BACKEND]": HAProxy's version 1 format, for the columns wsplice has. */
static void show_servers_state(struct cli_req *r, char **args, int n)
{
	uint64_t now = loop_now_ms(r->ctx->loop);
	int be_id = 0;

	out(r, "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state "
	       "srv_uweight srv_iweight srv_time_since_last_change srv_check_status "
	       "srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id "
	       "srv_f_forced_id srv_fqdn srv_port srvrecord\n");
	for (const struct proxy *px = r->ctx->cfg->proxies; px; px = px->next) {
		int srv_id = 0;

		be_id++;
		if (!(px->cap & PX_CAP_BE) || (n > 3 && strcmp(args[3], px->id)))
			continue;
		for (const struct server *srv = px->servers; srv; srv = srv->next) {
			char addr[64], *colon;

			addr_str(&srv->addr, addr, sizeof(addr));
			colon = strrchr(addr, ':');
			*colon = 0;
			out(r, "%d %s %d %s %s %d %d %d %d %llu %d %d %d %d 0 0 0 - %s -\n", be_id,
			    px->id, ++srv_id, srv->id, addr, srv->down ? 0 : 2,
			    srv->disabled ? 1 : (srv->drain ? 8 : 0), srv->weight, srv->weight,
			    (unsigned long long)(now - srv->last_change_ms) / 1000,
			    srv->check ? 6 : 1, srv->down ? 1 : 3, srv->down ? 0 : srv->check_rise,
			    srv->check ? 6 : 0, colon + 1);
		}
	}
	out(r, "\n");
}

static void show_sess(struct cli_req *r, char **args, int n)
{
	uint64_t now = loop_now_ms(r->ctx->loop), up, down;
	char src[64];

	(void)args;
	(void)n;
	for (struct stream *s = r->ctx->streams; s; s = s->next) {
		const struct server *srv = s->srv ? s->srv : s->log_srv;

		addr_str(&s->cli_addr, src, sizeof(src));
		stream_bytes(s, &up, &down);
		out(r, "0x%llx: proto=tcpv%d src=%s fe=%s be=%s srv=%s state=%s age=%llus "
		       "bytes_in=%llu bytes_out=%llu\n",
		    (unsigned long long)s->id, s->cli_addr.ss_family == AF_INET6 ? 6 : 4, src,
		    s->fe->id, s->be ? s->be->id : "<NONE>", srv ? srv->id : "<none>",
		    stream_state_name(s), (unsigned long long)(now - s->t_start) / 1000,
		    (unsigned long long)up, (unsigned long long)down);
	}
	out(r, "\n");
}

/* "show tunnels": every tunnel with its data path, bytes each way and idle time. */
static void show_tunnels(struct cli_req *r, char **args, int n)
{
	uint64_t now = loop_now_ms(r->ctx->loop), up, down, cli, srv;
	char src[64];

	(void)args;
	(void)n;
	out(r, "# id src frontend backend/server path bytes_from_client bytes_to_client idle_ms\n");
	for (struct stream *s = r->ctx->streams; s; s = s->next) {
		if (s->st != ST_TUNNEL_USER && s->st != ST_TUNNEL_KERNEL)
			continue;
		addr_str(&s->cli_addr, src, sizeof(src));
		stream_bytes(s, &up, &down);
		cli = s->cs.last_ms;
		srv = s->ss.last_ms;
		if (s->st == ST_TUNNEL_KERNEL)
			splice_tunnel_last(s, &cli, &srv);
		out(r, "0x%llx %s %s %s/%s %s %llu %llu %llu\n", (unsigned long long)s->id, src,
		    s->fe->id, s->be->id, s->srv ? s->srv->id : "<none>",
		    s->st == ST_TUNNEL_KERNEL ? "kernel" : "user", (unsigned long long)up,
		    (unsigned long long)down,
		    (unsigned long long)(now - (cli > srv ? cli : srv)));
	}
	out(r, "\n");
}

/* Finds "BACKEND/SERVER"; says why not in the answer. */
static struct server *find_server(struct cli_req *r, const char *spec)
{
	const char *slash = strchr(spec, '/');
	struct proxy *px;

	if (!slash) {
		out(r, "Require 'backend/server'.\n");
		return NULL;
	}
	for (px = r->ctx->cfg->proxies; px; px = px->next)
		if ((px->cap & PX_CAP_BE) && strlen(px->id) == (size_t)(slash - spec) &&
		    !strncmp(px->id, spec, slash - spec))
			break;
	if (!px) {
		out(r, "No such backend.\n");
		return NULL;
	}
	for (struct server *srv = px->servers; srv; srv = srv->next)
		if (!strcmp(srv->id, slash + 1))
			return srv;
	out(r, "No such server.\n");
	return NULL;
}

static void set_state(struct cli_req *r, struct server *srv, const char *state)
{
	if (!strcmp(state, "ready")) {
		srv->disabled = srv->drain = false;
	} else if (!strcmp(state, "drain")) {
		srv->disabled = false;
		srv->drain = true;
	} else if (!strcmp(state, "maint")) {
		srv->disabled = true;
		srv->drain = false;
	} else {
		out(r, "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n");
		return;
	}
	srv->last_change_ms = loop_now_ms(r->ctx->loop);
	pr_warn("Server %s/%s is %s (runtime API).", srv->be->id, srv->id,
		srv->disabled ? "going into maintenance" : (srv->drain ? "draining" : "ready"));
}

static void cmd_server_state(struct cli_req *r, char **args, int n)
{
	struct server *srv;

	if (n < 3) {
		out(r, "Require 'backend/server'.\n");
		return;
	}
	srv = find_server(r, args[2]);
	if (srv)
		set_state(r, srv, args[0][0] == 'e' ? "ready" : "maint");
}

static void cmd_set_server(struct cli_req *r, char **args, int n)
{
	struct server *srv;
	char *end;
	long w;

	if (n < 5) {
		out(r, "'set server <srv>' only supports 'state' and 'weight'.\n");
		return;
	}
	srv = find_server(r, args[2]);
	if (!srv)
		return;
	if (!strcmp(args[3], "state"))
		return set_state(r, srv, args[4]);
	if (strcmp(args[3], "weight")) {
		out(r, "'set server <srv>' only supports 'state' and 'weight'.\n");
		return;
	}
	w = strtol(args[4], &end, 10);
	if (end == args[4] || (*end && strcmp(end, "%")) || w < 0 || w > 256) {
		out(r, "Integer value between 0 and 256 expected.\n");
		return;
	}
	srv->weight = *end ? (int)(srv->weight * w / 100) : (int)w;
	srv->last_change_ms = loop_now_ms(r->ctx->loop);
}

/* Ends streams as HAProxy's "shutdown session(s)": termination state "K", killed by admin. */
static void kill_stream(struct stream *s)
{
	stream_set_term(s, 'K', s->st == ST_REQ_HEAD ? 'R' : 'D');
	stream_kill(s);
}

static void cmd_shutdown_sessions(struct cli_req *r, char **args, int n)
{
	struct stream *s, *next;
	struct server *srv;

	if (n < 4 || strcmp(args[2], "server")) {
		out(r, "Require 'backend/server'.\n");
		return;
	}
	srv = find_server(r, args[3]);
	for (s = r->ctx->streams; srv && s; s = next) {
		next = s->next;
		if (s->srv == srv)
			kill_stream(s);
	}
}

static void cmd_shutdown_session(struct cli_req *r, char **args, int n)
{
	unsigned long long id;

	if (n < 3) {
		out(r, "Session pointer expected (use 'show sess').\n");
		return;
	}
	id = strtoull(args[2], NULL, 16);
	for (struct stream *s = r->ctx->streams; s; s = s->next)
		if (s->id == id) {
			kill_stream(s);
			return;
		}
	out(r, "No such session (use 'show sess').\n");
}

static void cmd_help(struct cli_req *r, char **args, int n);

enum { LVL_USER, LVL_OPERATOR, LVL_ADMIN };

static const struct cli_cmd {
	const char *words[3];
	int level;
	const char *usage;
	void (*fn)(struct cli_req *r, char **args, int n);
} cmds[] = {
	{ { "help" }, LVL_USER, "help           : this message", cmd_help },
	{ { "show", "info" }, LVL_USER, "show info      : report information about the running process",
	  show_info },
	{ { "show", "stat" }, LVL_USER, "show stat      : report counters for each proxy and server",
	  show_stat },
	{ { "show", "servers", "state" }, LVL_USER,
	  "show servers state [<backend>] : dump volatile server information", show_servers_state },
	{ { "show", "tunnels" }, LVL_USER,
	  "show tunnels   : every tunnel, its data path, bytes each way, idle time", show_tunnels },
	{ { "show", "sess" }, LVL_OPERATOR, "show sess      : report the list of current sessions",
	  show_sess },
	{ { "enable", "server" }, LVL_ADMIN, "enable server <bk>/<srv> : enable a disabled server",
	  cmd_server_state },
	{ { "disable", "server" }, LVL_ADMIN,
	  "disable server <bk>/<srv> : disable a server for maintenance", cmd_server_state },
	{ { "set", "server" }, LVL_ADMIN,
	  "set server <bk>/<srv> state|weight <v> : change a server's state or weight",
	  cmd_set_server },
	{ { "shutdown", "sessions" }, LVL_ADMIN,
	  "shutdown sessions server <bk>/<srv> : kill sessions on a server", cmd_shutdown_sessions },
	{ { "shutdown", "session" }, LVL_ADMIN, "shutdown session <id> : kill a specific session",
	  cmd_shutdown_session },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void cmd_help(struct cli_req *r, char **args, int n)
{
	(void)args;
	(void)n;
	out(r, "The following commands are valid at this level:\n");
	for (size_t i = 0; i < NCMDS; i++)
		if (cmds[i].level <= r->level)
			out(r, "  %s\n", cmds[i].usage);
	out(r, "  prompt         : toggle interactive mode with prompt\n"
	       "  quit           : disconnect\n\n");
}

static bool matches(const struct cli_cmd *c, char **args, int n)
{
	for (int i = 0; i < 3 && c->words[i]; i++)
		if (i >= n || strcmp(args[i], c->words[i]))
			return false;
	return true;
}

void cli_run(struct ctx *ctx, struct buf *outbuf, int level, char *line)
{
	struct cli_req r = { .ctx = ctx, .out = outbuf, .level = level };
	char *args[CLI_MAX_ARGS];
	int n = 0;

	for (char *tok = strtok(line, " \t"); tok && n < CLI_MAX_ARGS; tok = strtok(NULL, " \t"))
		args[n++] = tok;
	if (!n)
		return;
	for (size_t i = 0; i < NCMDS; i++) {
		if (!matches(&cmds[i], args, n))
			continue;
		if (cmds[i].level > level) {
			out(&r, "Permission denied\n\n");
			return;
		}
		cmds[i].fn(&r, args, n);
		return;
	}
	out(&r, "Unknown command. Please enter one of the following commands only :\n");
	cmd_help(&r, args, n);
}
