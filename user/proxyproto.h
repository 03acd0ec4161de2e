/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_PROXYPROTO_H
#define WSPLICE_PROXYPROTO_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * The PROXY protocol header (haproxy's doc/proxy-protocol.txt) that "send-proxy" (version 1,
 * text) and "send-proxy-v2" (binary) servers get first on each connection: the client's
 * address and the address it connected to. Writes it to out (at least 108 bytes) and returns
 * its length, or 0 for an address family it cannot describe.
 */
size_t proxy_header(int version, const struct sockaddr_storage *src,
		    const struct sockaddr_storage *dst, char *out, size_t outlen);

#define PROXY_HEADER_MAX 108

#endif /* WSPLICE_PROXYPROTO_H */
