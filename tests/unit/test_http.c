// SPDX-License-Identifier: GPL-2.0
/*
 * user/http.c and user/http_rules.c: heads parsed whole and in pieces, token lists, the request
 * checks HAProxy 2.6 makes (Transfer-Encoding against Content-Length, duplicates, Host), and
 * header rules applied to a sample head.
 */
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "http_rules.h"
#include "tap.h"

static struct http_msg m;

/* Parses a whole request head; returns http_parse_head()'s result. */
static int parse_req(const char *head)
{
	http_msg_init(&m, HTTP_REQUEST);
	return http_parse_head(&m, head, strlen(head));
}

/* Parses then checks: the status http_check_request() answers, or -1 when llhttp refused. */
static int check(const char *head)
{
	if (parse_req(head) != 1)
		return -1;
	return http_check_request(&m, head);
}

static void test_parse(void)
{
	const char *h = "GET /a?b HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\nrest";
	size_t i;
	int r = 0;

	is_int(parse_req(h), 1, "a whole head parses");
	is_int(m.head_len, strlen(h) - 4, "head_len stops before the body");
	is_int(m.nhdr, 2, "two headers");
	ok(!strncmp(h + m.url.off, "/a?b", m.url.len), "the URL span");
	is_int(http_hdr_find(&m, h, "x-a", 0), 1, "names match case-insensitively");
	/* byte by byte: the spans must come out the same */
	http_msg_init(&m, HTTP_REQUEST);
	for (i = 1; i <= strlen(h) && r == 0; i++)
		r = http_parse_head(&m, h, i);
	is_int(r, 1, "a head given one byte at a time parses");
	is_int(m.nhdr, 2, "with its two headers");
	ok(m.hdr[1].value.len == 1 && h[m.hdr[1].value.off] == '1', "and the last value");
	is_int(parse_req("GET / HTTP/1.1\r\nHost: x\r\n"), 0, "an unfinished head wants more");
	is_int(parse_req("G(T / HTTP/1.1\r\n\r\n"), -1, "a bad method is refused");
}

static void test_lists(void)
{
	const char *v = " gzip ,chunked,, x ", *tok;
	const char *want[] = { "gzip", "chunked", "", "x" };
	size_t pos = 0, len, n = 0;
	bool good = true;

	while (http_list_next(v, strlen(v), &pos, &tok, &len)) {
		good &= n < 4 && len == strlen(want[n]) && !memcmp(tok, want[n], len);
		n++;
	}
	ok(good && n == 4, "list elements trimmed, empty ones kept");
	pos = 0;
	n = 0;
	while (http_list_next("0,", 2, &pos, &tok, &len))
		n++;
	is_int(n, 2, "\"0,\" has an empty second element");
	parse_req("GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n");
	ok(http_hdr_has_token(&m, "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n",
			      "connection", "upgrade"),
	   "token found in a list");
}

static void test_checks(void)
{
	const char *tecl = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
			   "Content-Length: 5\r\n\r\n";
	const char *cl2 = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n";

	is_int(check(tecl), 0, "TE chunked + CL accepted");
	ok(m.te_cl && m.hdr_drop[2] && !m.hdr_drop[1], "CL dropped, te_cl set");
	is_int(check("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 422,
	       "gzip, chunked: 422");
	ok(check("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") != 0, "gzip alone refused");
	/* llhttp refuses these already; http_check_request would too */
	ok(check("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n") != 0,
	   "chunked twice refused");
	ok(check("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") != 0,
	   "chunked in two headers refused");
	is_int(check(cl2), 0, "identical Content-Length twice accepted");
	ok(!m.hdr_drop[1] && m.hdr_drop[2], "the second one dropped");
	is_int(m.p.content_length, 2, "the length llhttp frames with");
	ok(check("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400,
	   "different Content-Length: 400");
	ok(check("POST / HTTP/1.1\r\nContent-Length: 0,\r\n\r\n") != 0, "\"0,\" refused");
	ok(check("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n") != 0, "empty CL refused");
	is_int(check("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400, "two hosts: 400");
	is_int(check("GET / HTTP/1.1\r\nHost: a\r\nHost: A\r\n\r\n"), 0, "same host twice: ok");
	ok(m.hdr_drop[1], "and forwarded once");
	is_int(check("GET http://foo/bar HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	       "absolute URI against Host: 400");
	is_int(check("GET http://foo:80/bar HTTP/1.1\r\nHost: foo:80\r\n\r\n"), 0,
	       "absolute URI matching Host");
	is_int(check("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n"), 400, "space in a name: 400");
}

/* Parses a response head and checks it; -1 when llhttp refused it. */
static int check_res(const char *head)
{
	http_msg_init(&m, HTTP_RESPONSE);
	if (http_parse_head(&m, head, strlen(head)) != 1)
		return -1;
	return http_check_response(&m, head);
}

static void test_response_checks(void)
{
	is_int(check_res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n"),
	       0, "response TE + CL accepted");
	ok(m.te_cl && m.hdr_drop[1], "its CL dropped, te_cl set");
	is_int(check_res("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"), 0,
	       "response identical CL twice accepted");
	is_int(check_res("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), 502,
	       "response different CL: 502");
}

static void test_rules(void)
{
	const char *h = "GET /p HTTP/1.1\r\nHost: a\r\nX-Set: old\r\nX-Del: 1\r\n\r\n";
	struct http_rule del = { .act = HTTP_ACT_DEL_HDR, .name = "x-del" };
	struct http_rule deny = { .act = HTTP_ACT_DENY, .status = 403 };
	struct http_rule add = { .next = &del, .act = HTTP_ACT_ADD_HDR, .name = "X-Src",
				 .value_src = true };
	struct http_rule set = { .next = &add, .act = HTTP_ACT_SET_HDR, .name = "X-Set",
				 .value = "new" };
	struct http_fwdfor ff = { .hdr = "X-Forwarded-For" };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct acl_sample smp = { .src = (struct sockaddr *)&sin };
	struct http_rw rw;
	char out[256];

	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	parse_req(h);
	http_rw_init(&rw, smp.src);
	ok(!http_rules_request(&set, &m, h, &smp, &rw), "header rules do not stop the request");
	http_fwdfor_apply(&ff, &m, h, &smp, &rw);
	ok(m.hdr_drop[1] && m.hdr_drop[2] && !m.hdr_drop[0], "X-Set and X-Del marked dropped");
	is_int(http_rw_format(&rw, out, sizeof(out)), 58, "three headers appended");
	is_str(out, "X-Set: new\r\nX-Src: 192.0.2.7\r\nX-Forwarded-For: 192.0.2.7\r\n",
	       "set-header, %%[src], forwardfor in order");
	del.next = &deny;
	http_rw_init(&rw, smp.src);
	ok(http_rules_request(&set, &m, h, &smp, &rw) == &deny, "deny stops the rules");
	http_fwdfor_apply(&ff, &m, h, &smp, &rw);
	ff.if_none = true;
	http_fwdfor_apply(&ff, &m, h, &smp, &rw);
	is_int(rw.n, 3, "if-none: no second X-Forwarded-For");
	ok(http_uri_is(&m, h, "/p") && !http_uri_is(&m, h, "/"), "monitor-uri comparison");
	is_int(http_rw_format(&rw, out, 10), -1, "format refuses a short buffer");
}

/* What tests/27-malformed.bats found: HAProxy 2.6 refuses these and llhttp took them. */
static void test_hostile(void)
{
	char fold[] = "GET / HTTP/1.1\r\nHost: a\r\nX-F: a\r\n b\r\n\r\n";
	const char *chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
	size_t used;

	is_int(check("GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "8-bit URI: 400");
	is_int(check("GET /ws#x HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "fragment in the URI: 400");
	is_int(check("GET /id\r\nHost: a\r\n\r\n"), 400, "no version: 400");
	is_int(check("CONNECT a:80 HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	       "CONNECT authority against Host: 400");
	is_int(check("CONNECT a:80 HTTP/1.1\r\nHost: a:80\r\n\r\n"), 0, "CONNECT matching Host");
	is_int(check("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 0, "HTTP/2.0 request line accepted");
	ok(m.p.http_major == 1 && m.p.http_minor == 1, "as HTTP/1.1");
	/* chunk sizes: 2^52 - 1 is a chunk to wait for, 2^52 an error */
	is_int(parse_req(chunked), 1, "chunked head");
	is_int(http_parse_body(&m, "fffffffffffff\r\n", 15, &used), 0, "2^52 - 1: more wanted");
	is_int(parse_req(chunked), 1, "chunked head again");
	is_int(http_parse_body(&m, "10000000000000\r\n", 16, &used), -1, "2^52: refused");
	is_int(parse_req(fold), 1, "a folded header parses");
	http_unfold(&m, fold);
	ok(m.hdr[1].value.len == 5 && !memcmp(fold + m.hdr[1].value.off, "a   b", 5),
	   "and is unfolded in place to 'a   b'");
}

int main(void)
{
	test_parse();
	test_lists();
	test_checks();
	test_response_checks();
	test_rules();
	test_hostile();
	return done();
}
