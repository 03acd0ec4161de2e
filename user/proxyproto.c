// SPDX-License-Identifier: GPL-2.0
#include "proxyproto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					  0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static size_t header_v1(const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
			char *out, size_t outlen)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int n;

	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;

		inet_ntop(AF_INET, &a->sin_addr, s, sizeof(s));
		inet_ntop(AF_INET, &b->sin_addr, d, sizeof(d));
		n = snprintf(out, outlen, "PROXY TCP4 %s %s %u %u\r\n", s, d, ntohs(a->sin_port),
			     ntohs(b->sin_port));
	} else {
		const struct sockaddr_in6 *a = (const void *)src, *b = (const void *)dst;

		inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof(s));
		inet_ntop(AF_INET6, &b->sin6_addr, d, sizeof(d));
		n = snprintf(out, outlen, "PROXY TCP6 %s %s %u %u\r\n", s, d, ntohs(a->sin6_port),
			     ntohs(b->sin6_port));
	}
	return n > 0 && (size_t)n < outlen ? (size_t)n : 0;
}

/* Version 2: signature, PROXY command, TCP over the family, length, then addresses and ports
 * in network order. */
static size_t header_v2(const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
			char *out, size_t outlen)
{
	unsigned char *p = (unsigned char *)out;
	size_t alen = src->ss_family == AF_INET ? 12 : 36;

	if (outlen < 16 + alen)
		return 0;
	memcpy(p, v2_sig, sizeof(v2_sig));
	p[12] = 0x21;
	p[13] = src->ss_family == AF_INET ? 0x11 : 0x21;
	p[14] = alen >> 8;
	p[15] = alen & 0xff;
	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;

		memcpy(p + 16, &a->sin_addr, 4);
		memcpy(p + 20, &b->sin_addr, 4);
		memcpy(p + 24, &a->sin_port, 2);
		memcpy(p + 26, &b->sin_port, 2);
	} else {
		const struct sockaddr_in6 *a = (const void *)src, *b = (const void *)dst;

		memcpy(p + 16, &a->sin6_addr, 16);
		memcpy(p + 32, &b->sin6_addr, 16);
		memcpy(p + 48, &a->sin6_port, 2);
		memcpy(p + 50, &b->sin6_port, 2);
	}
	return 16 + alen;
}

size_t proxy_header(int version, const struct sockaddr_storage *src,
		    const struct sockaddr_storage *dst, char *out, size_t outlen)
{
	if ((src->ss_family != AF_INET && src->ss_family != AF_INET6) ||
	    src->ss_family != dst->ss_family)
		return 0;
	return version == 2 ? header_v2(src, dst, out, outlen) : header_v1(src, dst, out, outlen);
}
