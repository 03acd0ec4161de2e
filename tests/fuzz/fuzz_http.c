// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over the HTTP/1.1 glue (user/http.c, user/http_rules.c): the first input
 * byte picks a request or a response and where the bytes are cut into reads; the rest is the
 * stream. The head is parsed as stream.c does (a growing prefix of one buffer), then checked
 * and sampled as for routing, then the body is fed in pieces until the message ends, with an
 * end of input at the end. Crashes, sanitizer reports and broken span invariants are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_rules.h"

static void check_span(const struct http_span *s, size_t len)
{
	if (s->off > len || s->len > len - s->off)
		abort();
}

static void check_head(const struct http_msg *m)
{
	check_span(&m->method, m->head_len);
	check_span(&m->url, m->head_len);
	check_span(&m->reason, m->head_len);
	if (m->nhdr > HTTP_MAX_HDRS)
		abort();
	for (unsigned int i = 0; i < m->nhdr; i++) {
		check_span(&m->hdr[i].name, m->head_len);
		check_span(&m->hdr[i].value, m->head_len);
	}
}

static void exercise_head(struct http_msg *m, const char *base, bool req)
{
	struct http_hdr hdrs[HTTP_MAX_HDRS];
	struct acl_sample smp = { 0 };
	struct http_fwdfor ff = { .hdr = "X-Forwarded-For", .if_none = true };
	struct http_rule del = { .act = HTTP_ACT_DEL_HDR, .name = "content-length" };
	struct http_rule set = { .next = &del, .act = HTTP_ACT_SET_HDR, .name = "Host",
				 .value = "h" };
	struct http_rw rw;
	char out[4096];

	check_head(m);
	/* the buffer is the harness's own copy: stream.c unfolds in place too */
	http_unfold(m, (char *)base);
	for (unsigned int i = 0; i < m->nhdr; i++)
		if (memchr(base + m->hdr[i].value.off, '\n', m->hdr[i].value.len))
			abort();
	if (req)
		http_check_request(m, base);
	else
		http_check_response(m, base);
	http_acl_sample(m, base, hdrs, &smp);
	if (smp.path_len && (smp.path < base || smp.path + smp.path_len > base + m->head_len))
		abort();
	http_rw_init(&rw, NULL);
	http_rules_request(&set, m, base, &smp, &rw);
	http_fwdfor_apply(&ff, m, base, &smp, &rw);
	http_rw_format(&rw, out, sizeof(out));
	http_hdr_has_token(m, base, "connection", "upgrade");
	http_uri_is(m, base, "/");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_msg m;
	const char *buf;
	size_t len, step, pos, used;
	bool req;
	int r = 0;

	if (size < 1)
		return 0;
	req = !(data[0] & 0x80);
	step = (data[0] & 0x3f) + 1;
	/* a copy of exactly the input, so that ASan sees any read past it */
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy((char *)buf, data + 1, len);
	http_msg_init(&m, req ? HTTP_REQUEST : HTTP_RESPONSE);
	for (pos = step < len ? step : len; r == 0; pos = pos + step < len ? pos + step : len) {
		r = http_parse_head(&m, buf, pos);
		if (pos == len)
			break;
	}
	if (r == 1) {
		if (m.head_len > len)
			abort();
		exercise_head(&m, buf, req);
		if (data[0] & 0x40)
			http_msg_skip_body(&m);
		pos = m.head_len;
		while (pos <= len) {
			size_t n = len - pos < step ? len - pos : step;

			r = http_parse_body(&m, buf + pos, n, &used);
			if (used > n)
				abort();
			pos += used;
			if (r != 0 || (n == 0))
				break;
		}
		if (r == 0)
			http_msg_eof(&m);
		http_msg_keep_alive(&m);
	}
	free((void *)buf);
	return 0;
}
