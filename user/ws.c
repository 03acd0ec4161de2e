// SPDX-License-Identifier: GPL-2.0
#include "ws.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* SHA-1 (FIPS 180-4), only for the handshake's accept value: short inputs, no secrecy. */
struct sha1 {
	uint32_t h[5];
	uint8_t block[64];
	uint64_t len;
};

static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(struct sha1 *c)
{
	uint32_t w[80], a, b, d, e, f, k, t, cc;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)c->block[4 * i] << 24 | c->block[4 * i + 1] << 16 |
		       c->block[4 * i + 2] << 8 | c->block[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & cc) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ cc ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & cc) | (b & d) | (cc & d), k = 0x8f1bbcdc;
		else
			f = b ^ cc ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d, d = cc, cc = rol(b, 30), b = a, a = t;
	}
	c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d, c->h[4] += e;
}

static void sha1_update(struct sha1 *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len--) {
		c->block[c->len++ % 64] = *p++;
		if (c->len % 64 == 0)
			sha1_block(c);
	}
}

static void sha1_final(struct sha1 *c, uint8_t out[20])
{
	uint64_t bits = c->len * 8;
	uint8_t pad = 0x80, zero = 0, be[8];
	int i;

	sha1_update(c, &pad, 1);
	while (c->len % 64 != 56)
		sha1_update(c, &zero, 1);
	for (i = 0; i < 8; i++)
		be[i] = bits >> (56 - 8 * i);
	sha1_update(c, be, 8);
	for (i = 0; i < 20; i++)
		out[i] = c->h[i / 4] >> (24 - 8 * (i % 4));
}

static void base64(const uint8_t *in, size_t len, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*out++ = tbl[in[i] >> 2];
		*out++ = tbl[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*out++ = tbl[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		*out++ = tbl[in[i + 2] & 63];
	}
	if (len - i == 1) {
		*out++ = tbl[in[i] >> 2];
		*out++ = tbl[(in[i] & 3) << 4];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		*out++ = tbl[in[i] >> 2];
		*out++ = tbl[(in[i] & 3) << 4 | in[i + 1] >> 4];
		*out++ = tbl[(in[i + 1] & 15) << 2];
		*out++ = '=';
	}
	*out = 0;
}

void ws_accept_for_key(const char *key, char out[29])
{
	struct sha1 c = { .h = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 } };
	uint8_t digest[20];

	sha1_update(&c, key, strlen(key));
	sha1_update(&c, WS_GUID, sizeof(WS_GUID) - 1);
	sha1_final(&c, digest);
	base64(digest, sizeof(digest), out);
}

/* Value of the only header named name, trimmed; NULL if absent or repeated. */
static const char *single_value(const struct http_msg *m, const char *base, const char *name,
				size_t *len)
{
	int i = http_hdr_find(m, base, name, 0);
	const char *v;
	size_t n;

	if (i < 0 || http_hdr_find(m, base, name, i + 1) >= 0)
		return NULL;
	v = base + m->hdr[i].value.off;
	n = m->hdr[i].value.len;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	*len = n;
	return v;
}

/*
 * Sec-WebSocket-Version is not looked at, as in HAProxy 2.6: whatever it says (missing, 8,
 * garbage, repeated) the request goes to the server as written. RFC 6455 4.2.2 leaves the
 * version to the server, which answers 426 with the versions it speaks; a proxy that refused
 * would refuse what the server might take (tests/20-handshake.bats runs every such case).
 */
enum ws_req ws_check_request(const struct http_msg *m, const char *base, char key[25])
{
	const char *v;
	size_t len;

	if (!http_hdr_has_token(m, base, "Upgrade", "websocket"))
		return WS_REQ_NONE;
	if (!http_hdr_has_token(m, base, "Connection", "upgrade"))
		return WS_REQ_BAD;
	v = single_value(m, base, "Sec-WebSocket-Key", &len);
	/* base64 of a 16-byte nonce is always 24 characters */
	if (!v || len != 24)
		return WS_REQ_BAD;
	memcpy(key, v, 24);
	key[24] = 0;
	return WS_REQ_OK;
}

bool ws_check_response(const struct http_msg *m, const char *base, const char *key)
{
	char want[29];
	const char *v;
	size_t len;

	if (m->status != 101 || !http_hdr_has_token(m, base, "Connection", "upgrade") ||
	    !http_hdr_has_token(m, base, "Upgrade", "websocket"))
		return false;
	v = single_value(m, base, "Sec-WebSocket-Accept", &len);
	if (!v || len != 28)
		return false;
	ws_accept_for_key(key, want);
	return !memcmp(v, want, 28);
}
