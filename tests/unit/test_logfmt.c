// SPDX-License-Identifier: GPL-2.0
/*
 * user/logfmt.c: HAProxy's default formats rendered from one record, compared with the lines
 * HAProxy 2.6 wrote for the same values (TZ=UTC), and the parser's errors.
 */
#include "logfmt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static void set_in(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->sin_addr);
}

/* The values of HAProxy's line
 * 127.0.0.1:45418 [27/Nov/2026:09:52:26.999] fe_ws bews/s1 0/0/2/0/2 404 159 - - ---- ... */
static void base(struct log_rec *r)
{
	memset(r, 0, sizeof(*r));
	set_in(&r->cli, "127.0.0.1", 45418);
	set_in(&r->front, "127.0.0.1", 22001);
	set_in(&r->srv_addr, "127.0.0.1", 22900);
	r->accept_date.tv_sec = 1795773146; /* 27/Nov/2026:09:52:26 UTC */
	r->accept_date.tv_usec = 999000;
	r->ti = 0;
	r->tr_ = 0;
	r->tc = 2;
	r->tres = 0;
	r->tt = 2;
	r->status = 404;
	r->bytes_out = 159;
	r->bytes_in = 77;
	memcpy(r->term, "----", 4);
	r->ac = r->fc = 1;
	r->reqline = "GET /x HTTP/1.1";
	r->fe = "fe_ws";
	r->be = "bews";
	r->srv = "s1";
}

static void render(const char *fmt, const struct log_rec *r, char *out, size_t len)
{
	struct logfmt *lf;
	char err[256] = "";

	out[0] = 0;
	if (logfmt_parse(fmt, &lf, err, sizeof(err)) < 0) {
		snprintf(out, len, "parse error: %s", err);
		return;
	}
	logfmt_build(lf, r, out, len);
	logfmt_free(lf);
}

static void test_defaults(void)
{
	struct log_rec r;
	char line[1024];

	base(&r);
	render(LOGFMT_HTTPLOG, &r, line, sizeof(line));
	is_str(line,
	       "127.0.0.1:45418 [27/Nov/2026:09:52:26.999] fe_ws bews/s1 0/0/2/0/2 404 159 - - ---- "
	       "1/1/0/0/0 0/0 \"GET /x HTTP/1.1\"",
	       "httplog: HAProxy 2.6's line");
	render(LOGFMT_HTTPLOG_CLF, &r, line, sizeof(line));
	is_str(line,
	       "127.0.0.1 - - [27/Nov/2026:09:52:26 +0000] \"GET /x HTTP/1.1\" 404 159 \"\" \"\" 45418 "
	       "999 \"fe_ws\" \"bews\" \"s1\" 0 0 2 0 2 ---- 1 1 0 0 0 0 0 \"\" \"\" ",
	       "httplog clf: HAProxy 2.6's line, its trailing space included");
	r.tt = 300;
	r.tw = 1;
	r.tc = 0;
	r.bytes_out = 244;
	memcpy(r.term, "--", 2);
	render(LOGFMT_TCPLOG, &r, line, sizeof(line));
	is_str(line,
	       "127.0.0.1:45418 [27/Nov/2026:09:52:26.999] fe_ws bews/s1 1/0/300 244 -- 1/1/0/0/0 0/0",
	       "tcplog: HAProxy 2.6's line");
}

static void test_nosrv_asap(void)
{
	struct log_rec r;
	char line[1024];

	/* 127.0.0.1:45422 [...] fe_ws fe_ws/<NOSRV> -1/-1/-1/-1/200 400 0 - - CR-- ... "<BADREQ>" */
	base(&r);
	r.ti = r.tr_ = r.tw = r.tc = r.tres = -1;
	r.tt = 200;
	r.status = 400;
	r.bytes_out = 0;
	memcpy(r.term, "CR--", 4);
	r.reqline = NULL;
	r.be = "fe_ws";
	r.srv = NULL;
	memset(&r.srv_addr, 0, sizeof(r.srv_addr));
	render(LOGFMT_HTTPLOG, &r, line, sizeof(line));
	is_str(line,
	       "127.0.0.1:45418 [27/Nov/2026:09:52:26.999] fe_ws fe_ws/<NOSRV> -1/-1/-1/-1/200 400 0 - "
	       "- CR-- 1/1/0/0/0 0/0 \"<BADREQ>\"",
	       "httplog: no request, no server");
	render("%si:%sp %{+Q}si %HM %{+Q}HU", &r, line, sizeof(line));
	is_str(line, "-:- \"\" - \"\"", "no server address, no request line: '-' or \"\"");

	base(&r);
	r.asap = true;
	r.redispatched = true;
	r.retries = 2;
	r.status = 101;
	r.bytes_out = 198;
	render(LOGFMT_HTTPLOG, &r, line, sizeof(line));
	is_str(line,
	       "127.0.0.1:45418 [27/Nov/2026:09:52:26.999] fe_ws bews/s1 0/0/2/0/+2 101 +198 - - ---- "
	       "1/1/0/0/+2 0/0 \"GET /x HTTP/1.1\"",
	       "logasap: + before %%Ta and %%B; redispatch: + before %%rc");
	render("%Tt %U", &r, line, sizeof(line));
	is_str(line, "+2 77", "logasap: + before %%Tt, never before %%U");
}

static void test_vars(void)
{
	struct log_rec r;
	char line[1024];

	base(&r);
	r.reqline = "GET /ws?a=%22b\"#\x01 HTTP/1.1";
	r.ti = 300;
	r.tr_ = 5;
	r.tw = 0;
	render("%ci %cp %fi %fp %si %sp %Tq %Th %Ti %TR %Tw %Tc %Tr %Ta %Tt %Td", &r, line,
	       sizeof(line));
	is_str(line, "127.0.0.1 45418 127.0.0.1 22001 127.0.0.1 22900 305 0 300 5 0 2 0 -298 2 -305",
	       "addresses and timers (Ta = Tt - Th - Ti, Tq = Th + Ti + TR)");
	render("%r|%{+Q}r|%HM|%HU|%HP|%HV", &r, line, sizeof(line));
	is_str(line,
	       "GET /ws?a=%22b#22#23#01 HTTP/1.1|\"GET /ws?a=%22b#22#23#01 HTTP/1.1\"|GET|"
	       "/ws?a=%22b#22#23#01|/ws|HTTP/1.1",
	       "request line and its parts, '\"', '#' and controls as #XX");
	render("%t|%tr|%T|%trg|%ms", &r, line, sizeof(line));
	is_str(line,
	       "27/Nov/2026:09:52:26.999|27/Nov/2026:09:52:27.299|27/Nov/2026:09:52:26 +0000|"
	       "27/Nov/2026:09:52:27 +0000|999",
	       "dates: accept, request (accept + Ti), GMT forms, milliseconds");
	render("%{+Q}o %ft %b %s %ST %{-Q}f %CC %ID %tsc %ts 100%% x  %hr  %hs y", &r, line,
	       sizeof(line));
	is_str(line, "\"fe_ws\" \"bews\" \"s1\" 404 fe_ws \"\" \"\" ---- -- 100% x y",
	       "%%{+Q}o quotes text, not numbers; empty captures collapse their separators");
}

static void test_errors(void)
{
	static const struct {
		const char *fmt, *err;
	} bad[] = {
	    {"%ci %zz", "no such format variable 'zz'. If you wanted to emit the '%' character "
			"verbatim, you need to use '%%'."},
	    {"%ci %", "truncated line after '%'."},
	    {"%{+Q", "truncated line after '+Q'."},
	    {"%{+E}r", "option '+E' is not supported (only +Q and -Q)."},
	    {"%[src]", "sample expressions (%[...]) are not supported."},
	    {"%bi", "format variable 'bi' is not supported."},
	};
	struct logfmt *lf;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		is_int(logfmt_parse(bad[i].fmt, &lf, err, sizeof(err)), -1, "'%s' is refused",
		       bad[i].fmt);
		is_str(err, bad[i].err, "'%s': the reason", bad[i].fmt);
	}
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	test_defaults();
	test_nosrv_asap();
	test_vars();
	test_errors();
	return done();
}
