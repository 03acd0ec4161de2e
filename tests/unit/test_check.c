// SPDX-License-Identifier: GPL-2.0
/*
 * user/check.c, the judging of HTTP check responses: HAProxy's default (2xx or 3xx), status
 * lists and ranges, rstatus, string and rstring on the body, negation, partial responses that
 * need more bytes, and what is not HTTP.
 */
#include "check.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "tap.h"

static struct chk_result r;

static int eval(const struct http_check *hc, const char *resp, bool eof)
{
	memset(&r, 0, sizeof(r));
	return check_http_eval(hc, resp, strlen(resp), eof, &r);
}

static void set_re(struct http_check *hc, enum chk_expect e, const char *re)
{
	hc->expect = e;
	hc->expect_text = (char *)re;
	hc->expect_re = calloc(1, sizeof(regex_t));
	regcomp(hc->expect_re, re, REG_EXTENDED | REG_NOSUB);
}

static void test_status(void)
{
	struct http_check hc = {0};

	is_int(eval(NULL, "HTTP/1.1 200 OK\r\n", false), 1, "default: decided on the status line");
	ok(r.ok && r.code == 200 && !strcmp(r.reason, "Layer7 check passed"), "200 passes");
	eval(NULL, "HTTP/1.0 302 Found\r\n\r\n", false);
	ok(r.ok, "3xx passes by default");
	eval(NULL, "HTTP/1.1 503 Service Unavailable\r\n\r\n", false);
	ok(!r.ok && !strcmp(r.reason, "Layer7 wrong status") && r.code == 503 &&
	       !strcmp(r.info, "Service Unavailable"),
	   "503: Layer7 wrong status, code, reason as info");
	is_int(eval(NULL, "HTTP/1.1 200", false), 0, "no full status line yet: needs more");
	eval(NULL, "SSH-2.0-OpenSSH\r\n", false);
	ok(!r.ok && !strcmp(r.reason, "Layer7 invalid response"), "not HTTP: invalid response");
	eval(NULL, "", true);
	ok(!r.ok && !strcmp(r.reason, "Layer7 invalid response"), "closed without answer");
	hc.expect = CHK_EXPECT_STATUS;
	hc.expect_text = "101";
	eval(&hc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", false);
	ok(r.ok && r.code == 101, "status 101: a WebSocket upgrade passes");
	eval(&hc, "HTTP/1.1 200 OK\r\n", false);
	ok(!r.ok && r.code == 200 && !strcmp(r.info, "OK"), "status 101: 200 fails");
	ok(check_status_match("200,300-399", 302) && !check_status_match("200,300-399", 404),
	   "status lists with ranges");
	hc.expect_neg = true;
	eval(&hc, "HTTP/1.1 200 OK\r\n", false);
	ok(r.ok, "! status 101: 200 passes");
}

static void test_rstatus_strings(void)
{
	struct http_check hc = {0};

	set_re(&hc, CHK_EXPECT_RSTATUS, "^2");
	eval(&hc, "HTTP/1.1 204 No Content\r\n", false);
	ok(r.ok, "rstatus ^2: 204 passes");
	eval(&hc, "HTTP/1.1 301 Moved\r\n", false);
	ok(!r.ok && !strcmp(r.reason, "Layer7 wrong status"), "rstatus ^2: 301 fails");
	regfree(hc.expect_re);
	free(hc.expect_re);
	hc.expect_re = NULL;

	hc.expect = CHK_EXPECT_STRING;
	hc.expect_text = "ready";
	is_int(eval(&hc, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nnot yet", false), 0,
	       "string: body incomplete, no match yet: needs more");
	is_int(eval(&hc, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nstatus: ready", false), 1,
	       "string: a match decides at once");
	ok(r.ok, "string found passes");
	eval(&hc, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad", false);
	ok(!r.ok && !strcmp(r.reason, "Layer7 invalid response") &&
	       !strcmp(r.info, "HTTP content check did not match") && !r.code,
	   "string absent from the whole body: HAProxy's content check failure");
	eval(&hc, "HTTP/1.1 200 OK\r\n\r\nbad", true);
	ok(!r.ok, "string absent when the server closes");
	set_re(&hc, CHK_EXPECT_RSTRING, "\"status\": *\"ok\"");
	eval(&hc, "HTTP/1.1 200 OK\r\n\r\n{\"status\": \"ok\"}", true);
	ok(r.ok, "rstring matches the body");
	hc.expect_neg = true;
	eval(&hc, "HTTP/1.1 200 OK\r\n\r\n{\"status\": \"ok\"}", true);
	ok(!r.ok, "! rstring: a match fails");
	regfree(hc.expect_re);
	free(hc.expect_re);
}

int main(void)
{
	test_status();
	test_rstatus_strings();
	return done();
}
