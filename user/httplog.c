// SPDX-License-Identifier: GPL-2.0
/*
 * Traffic log lines for streams: HAProxy's httplog and tcplog shapes (docs/logging.md). The byte
 * counts of a spliced tunnel come from the BPF per-socket map.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "splice.h"
#include "stream.h"

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

/* Log line, HAProxy's httplog shape with the upload byte count added (docs/logging.md). */
void stream_log(struct stream *s, bool asap)
{
	char date[64], addr[INET6_ADDRSTRLEN + 8];
	uint64_t now = loop_now_ms(s->ctx->loop), up, down;
	const struct server *srv;
	long tr, tc, tres, ta;
	struct tm tm;
	int port = 0;

	stream_bytes(s, &up, &down);
	/* logasap: the bytes known at log time, the 101 head included */
	if (asap)
		down += buf_len(&s->res.out) + s->res.fwd;
	else
		account(s, up, down);
	if (!s->fe->log_global)
		return;
	if (s->cli_addr.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->cli_addr;

		inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
		port = ntohs(a->sin6_port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&s->cli_addr;

		inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
		port = ntohs(a->sin_port);
	}
	localtime_r(&s->req_date.tv_sec, &tm);
	strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
	srv = s->srv ? s->srv : s->log_srv;
	tr = s->t_head ? (long)(s->t_head - s->t_start) : -1;
	tc = s->t_connected ? (long)(s->t_connected - s->t_conn_start) : -1;
	tres = s->t_resp ? (long)(s->t_resp - s->t_connected) : -1;
	ta = (long)(now - s->t_start);
	if (!asap)
		s->logged = true;
	if (s->fe->mode == PX_MODE_TCP) {
		/* tcplog: %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %U %ts %ac/%fc/%bc/%sc/%rc %sq/%bq */
		log_traffic("%s:%d [%s.%03ld] %s %s/%s 0/%ld/%s%ld %s%llu %s%llu %c%c %u/%u/%u/%u/%s%d 0/0",
			    addr, port, date, (long)s->req_date.tv_usec / 1000, s->fe->id,
			    s->be ? s->be->id : "<NOSRV>", srv ? srv->id : "<NOSRV>", tc,
			    asap ? "+" : "", ta, asap ? "+" : "", (unsigned long long)down,
			    asap ? "+" : "", (unsigned long long)up, s->term[0], s->term[1],
			    s->ctx->actconn, s->fe->cur_conns, s->be ? s->be->cur_conns : 0,
			    s->srv ? s->srv->cur_conns : 0, s->redispatched ? "+" : "", s->retries);
		return;
	}
	log_traffic("%s:%d [%s.%03ld] %s %s/%s %ld/%ld/%ld/%ld/%s%ld %d %s%llu %s%llu %c%c-- "
		    "%u/%u/%u/%u/%s%d 0/%u \"%s\"",
		    addr, port, date, (long)s->req_date.tv_usec / 1000, s->fe->id,
		    s->be ? s->be->id : "<NOSRV>", srv ? srv->id : "<NOSRV>", tr, s->tw, tc, tres,
		    asap ? "+" : "", ta, s->status, asap ? "+" : "", (unsigned long long)down,
		    asap ? "+" : "", (unsigned long long)up, s->term[0], s->term[1],
		    s->ctx->actconn, s->fe->cur_conns, s->be ? s->be->cur_conns : 0,
		    s->srv ? s->srv->cur_conns : 0, s->redispatched ? "+" : "", s->retries,
		    s->be ? s->be->nqueued : 0, s->reqline ? s->reqline : "<BADREQ>");
}
