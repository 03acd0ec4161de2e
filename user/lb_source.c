// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "backend.h"
#include "lb_hash.h"

/*
 * source: the client address hashed, so that a client keeps its server while the set of servers
 * does not change (HAProxy's get_server_sh()): the address's 32-bit words XORed together, mixed
 * with full_hash() for consistent hashing only. A client without an IP address (none here in
 * practice) is balanced round-robin, as HAProxy does.
 */
static struct server *source_pick(struct proxy *be, const struct lb_req *req)
{
	const unsigned char *a;
	uint32_t h = 0, w;
	size_t len, i;

	if (req->src && req->src->sa_family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)req->src)->sin_addr;
		len = 4;
	} else if (req->src && req->src->sa_family == AF_INET6) {
		a = (const unsigned char *)&((const struct sockaddr_in6 *)req->src)->sin6_addr;
		len = 16;
	} else {
		return lb_roundrobin.pick(be, req);
	}
	for (i = 0; i < len; i += 4) {
		memcpy(&w, a + i, 4);
		h ^= ntohl(w);
	}
	if (be->hash_type == LB_HASH_CONSISTENT)
		h = lb_full_hash(h);
	return lb_hash_server(be, h);
}

const struct lb_ops lb_source = {
    .name = "source",
    .pick = source_pick,
};
