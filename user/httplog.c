// SPDX-License-Identifier: GPL-2.0
/*
 * Traffic log lines for streams: a snapshot of the stream (struct log_rec) rendered in the
 * frontend's log format (logfmt.c) and sent to its targets (syslog.c); docs/logging.md. The byte
 * counts of a spliced tunnel come from the BPF per-socket map.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "logfmt.h"
#include "splice.h"
#include "stream.h"
#include "syslog.h"

/* "option httplog" in a tcp frontend: HAProxy falls back to tcplog (with a warning at
 * parse time). Compiled once. */
static const struct logfmt *tcplog_fmt(void)
{
	static struct logfmt *lf;
	char err[128];

	if (!lf && logfmt_parse(LOGFMT_TCPLOG, &lf, err, sizeof(err)) < 0)
		BUG_ON(1);
	return lf;
}

void stream_bytes(struct stream *s, uint64_t *up, uint64_t *down)
{
	uint64_t c2s, s2c;

	/* this transaction's bytes: a kept-alive connection carries several */
	*up = s->cs.rx - s->rx_start;
	*down = s->cs.tx - s->tx_start;
	if (s->st == ST_TUNNEL_KERNEL || s->pair.demoted) {
		splice_tunnel_bytes(s, &c2s, &s2c);
		*up += c2s;
		*down += s2c;
	}
}

/* Adds an ended transaction's bytes to its proxies' and server's counters ("show stat"). */
static void account(struct stream *s, uint64_t up, uint64_t down)
{
	struct server *srv = s->srv ? s->srv : s->log_srv;
	unsigned int c = hrsp_class(s->status);

	/* a response the client got, whoever wrote it (a 101 included); -1 is none */
	if (s->fe->mode == PX_MODE_HTTP && s->status >= 0) {
		s->fe->hrsp[c]++;
		if (s->be && s->be != s->fe)
			s->be->hrsp[c]++;
		if (srv)
			srv->hrsp[c]++;
	}
	s->fe->bytes_in += up;
	s->fe->bytes_out += down;
	if (s->be && s->be != s->fe) {
		s->be->bytes_in += up;
		s->be->bytes_out += down;
	}
	if (srv) {
		srv->bytes_in += up;
		srv->bytes_out += down;
	}
}

/* The last two characters of %tsc, HAProxy's sess_cookie "NIDVEO" and sess_set_cookie
 * "NPDIRU": for a request (a transaction) to a backend with a "cookie" line, what the client's
 * cookie was (cookie_request_flag()), and whether wsplice inserted one (I), rewrote the
 * server's (R) or set none (N). Otherwise "--". */
static void cookie_flags(const struct stream *s, char *out)
{
	out[0] = out[1] = '-';
	if (!s->be || !s->be->ck_name || !s->reqline || s->fe->mode != PX_MODE_HTTP)
		return;
	out[0] = s->ck_log[0] ? s->ck_log[0] : 'N';
	out[1] = s->ck_log[1] ? s->ck_log[1] : 'N';
}

/* HAProxy writes no line for a connection that closes between two requests; with
 * "option dontlognull", none either for one that sent nothing at all (up: its bytes). */
static bool worth_logging(const struct stream *s, uint64_t up)
{
	bool null = !s->reqline && up == 0;

	if (s->fe->mode == PX_MODE_TCP)
		return !(up == 0 && (s->fe->options & PX_O_DONTLOGNULL));
	if (null && (s->fe->options & PX_O_DONTLOGNULL))
		return false;
	if (s->reqline || s->status >= 0 || s->term[0] != '-')
		return true;
	/* nothing: the first request of a connection is logged (400 CR), a later one is not */
	return s->nreq == 0;
}

static long since(uint64_t t, uint64_t from)
{
	return t ? (long)(t - from) : -1;
}

static void fill_rec(struct stream *s, const struct logfmt *lf, struct log_rec *r, uint64_t up,
		     uint64_t down, bool asap)
{
	const struct server *srv = s->srv ? s->srv : s->log_srv;
	uint64_t now = loop_now_ms(s->ctx->loop);
	socklen_t len = sizeof(r->front);
	/* at the end the server is as good as released (HAProxy counts it so); at logasap not */
	unsigned int self = !asap && s->srv ? 1 : 0;

	memset(r, 0, sizeof(*r));
	r->cli = s->cli_addr;
	if (logfmt_uses_front(lf) && s->cs.fd >= 0 &&
	    getsockname(s->cs.fd, (struct sockaddr *)&r->front, &len) < 0)
		r->front.ss_family = 0;
	if (srv)
		memcpy(&r->srv_addr, &srv->addr, sizeof(r->srv_addr));
	r->accept_date = s->req_date;
	r->ti = since(s->t_first, s->t_start);
	r->tr_ = since(s->t_head, s->t_first ? s->t_first : s->t_start);
	r->tw = s->t_conn_start || s->tw ? s->tw : -1;
	r->tc = since(s->t_connected, s->t_conn_start);
	r->tres = s->t_resp && s->t_connected ? (long)(s->t_resp - s->t_connected) : -1;
	r->tt = (long)(now - s->t_start);
	r->status = s->status;
	r->bytes_out = down;
	r->bytes_in = up;
	memcpy(r->term, s->term, 2);
	if (s->fe->mode == PX_MODE_HTTP && !s->reqline && s->status < 0) {
		/* a connection that sent no complete request: HAProxy logs a 400, CR */
		r->status = 400;
		if (r->term[0] == '-')
			memcpy(r->term, "CR", 2);
	}
	cookie_flags(s, r->term + 2);
	r->ac = s->ctx->actconn;
	r->fc = s->fe->cur_conns;
	r->bc = s->be ? s->be->cur_conns - self : 0;
	r->sc = s->srv ? s->srv->cur_conns - self : 0;
	r->bq = s->be ? s->be->nqueued : 0;
	r->retries = s->retries;
	r->redispatched = s->redispatched;
	r->asap = asap;
	r->reqline = s->reqline;
	r->fe = s->fe->id;
	r->be = s->be ? s->be->id : s->fe->id;
	r->srv = srv ? srv->id : NULL;
}


static bool fe_logs(const struct stream *s)
{
	return (s->fe->log_global && s->ctx->cfg->global.log) || s->fe->logs;
}

/*
 * Log line of a transaction in the frontend's format (option httplog, tcplog, log-format).
 * asap: the logasap line, at the 101 or the response head; HAProxy then writes no other line
 * for that transaction. Also adds the ended transaction's bytes to the "show stat" counters.
 */
void stream_log(struct stream *s, bool asap)
{
	const struct logfmt *lf;
	struct log_rec r;
	uint64_t up, down;
	char line[8192];

	stream_bytes(s, &up, &down);
	/* logasap: the bytes known at log time, the 101 head included */
	if (asap) {
		down += buf_len(&s->res.out) + s->res.fwd;
	} else {
		account(s, up, down);
		s->logged = true;
		if (s->logged_asap)
			return;
	}
	if (!s->fe->logfmt || !fe_logs(s) || s->nolog || !worth_logging(s, up))
		return;
	lf = s->fe->mode == PX_MODE_TCP && s->fe->log_httplog ? tcplog_fmt() : s->fe->logfmt;
	fill_rec(s, lf, &r, up, down, asap);
	logfmt_build(lf, &r, line, sizeof(line));
	log_proxy(s->fe, LOG_SEV_INFO, line);
}

void stream_log_asap(struct stream *s)
{
	if (!(s->fe->options & PX_O_LOGASAP) || s->logged_asap)
		return;
	stream_log(s, true);
	s->logged_asap = true;
}

/* A frontend without a log format logs each connection at accept, as HAProxy does:
 * "Connect from 127.0.0.1:46706 to 127.0.0.1:21001 (fe_plain/HTTP)". */
void stream_log_accept(struct stream *s)
{
	struct sockaddr_storage front = {0};
	socklen_t len = sizeof(front);
	char line[512], a[64], b[64];

	if (s->fe->logfmt || !fe_logs(s))
		return;
	if (getsockname(s->cs.fd, (struct sockaddr *)&front, &len) < 0)
		front.ss_family = 0;
	logfmt_addr_port(&s->cli_addr, a, sizeof(a));
	logfmt_addr_port(&front, b, sizeof(b));
	snprintf(line, sizeof(line), "Connect from %s to %s (%s/%s)", a, b, s->fe->id,
		 s->fe->mode == PX_MODE_TCP ? "TCP" : "HTTP");
	log_proxy(s->fe, LOG_SEV_INFO, line);
}
