// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over the WebSocket handshake checks (user/ws.c). The first input byte picks
 * the side: a request head goes through ws_check_request() (Upgrade, Connection and
 * Sec-WebSocket-Key), a response head through ws_check_response() (101, Connection, Upgrade and
 * Sec-WebSocket-Accept) for the RFC 6455 sample key. Both are parsed by http_parse_head() and
 * unfolded by http_unfold() as stream.c does. Besides crashes and sanitizer reports, a finding is:
 *  - a key accepted that is not 24 bytes without NUL, CR or LF (it is copied into the request
 *    the server sees and hashed into the accept value);
 *  - an accepted request whose own accept value, put in a well-formed 101, is then refused;
 *  - a response accepted whose Sec-WebSocket-Accept is not the one the key implies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "ws.h"

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* Parses a whole head as stream.c does; 1 when complete. */
static int parse(struct http_msg *m, llhttp_type_t type, const char *buf, size_t len)
{
	http_msg_init(m, type);
	return http_parse_head(m, buf, len);
}

static void check_key(const char key[25])
{
	if (strlen(key) != 24 || strpbrk(key, "\r\n"))
		abort();
}

/* The 101 a server would answer to key must pass ws_check_response(). */
static void round_trip(const char *key)
{
	static struct http_msg res;
	char accept[29], head[256];
	int n;

	ws_accept_for_key(key, accept);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	if (parse(&res, HTTP_RESPONSE, head, n) != 1 || !ws_check_response(&res, head, key))
		abort();
}

static void check_accept(const struct http_msg *m, const char *base)
{
	int i = http_hdr_find(m, base, "sec-websocket-accept", 0);

	if (i < 0 || m->status != 101 || m->hdr[i].value.len < 28 ||
	    memcmp(base + m->hdr[i].value.off, RFC_ACCEPT, 28))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_msg m;
	bool req;
	char key[25];
	char *buf;
	size_t len;

	if (size < 1)
		return 0;
	req = !(data[0] & 1);
	len = size - 1;
	/* a copy of exactly the input, so that ASan sees any read past it */
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if (parse(&m, req ? HTTP_REQUEST : HTTP_RESPONSE, buf, len) == 1) {
		/* stream.c unfolds a head before any check: a folded key ("abc\r\n def") is
		 * then 24 bytes with spaces, as HAProxy sees it, never a key with CR LF */
		http_unfold(&m, buf);
		if (req && ws_check_request(&m, buf, key) == WS_REQ_OK) {
			check_key(key);
			round_trip(key);
		} else if (!req && ws_check_response(&m, buf, RFC_KEY)) {
			check_accept(&m, buf);
		}
	}
	free(buf);
	return 0;
}
