// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "backend.h"
#include "http.h"
#include "lb_hash.h"

/*
 * uri [whole] [len N] [depth N] [path-only]: the request URI hashed (HAProxy's
 * get_server_uh()). By default the hash stops at the '?' ("whole" keeps the query string), after
 * N characters ("len"), or at the slash that starts directory level N+1 ("depth": "/a/b/c" at
 * depth 1 hashes "/a"). "path-only" drops the scheme and authority of an absolute URI. Without
 * an HTTP request (mode tcp) the backend is balanced round-robin, as HAProxy does.
 */
static const char *path_of(const char *uri, size_t *len)
{
	const char *p = memchr(uri, ':', *len), *end = uri + *len;

	if (!p || p + 2 >= end || p[1] != '/' || p[2] != '/' || *uri == '/')
		return uri;
	for (p += 3; p < end && *p != '/' && *p != '?'; p++)
		;
	*len = (size_t)(end - p);
	return p;
}

static size_t uri_key_len(const struct proxy *be, const char *uri, size_t len)
{
	unsigned int slashes = 0;
	size_t i;

	if (be->uri_len && len > be->uri_len)
		len = be->uri_len;
	for (i = 0; i < len; i++) {
		if (uri[i] == '/' && be->uri_depth && ++slashes == be->uri_depth + 1)
			break;
		if (uri[i] == '?' && !be->uri_whole)
			break;
	}
	return i;
}

static struct server *uri_pick(struct proxy *be, const struct lb_req *req)
{
	const char *uri;
	size_t len;

	if (!req->msg)
		return lb_roundrobin.pick(be, req);
	uri = http_str(req->msg, req->base, req->msg->url);
	len = req->msg->url.len;
	if (be->uri_path_only)
		uri = path_of(uri, &len);
	return lb_hash_server(be, lb_hash_key(be, uri, uri_key_len(be, uri, len)));
}

const struct lb_ops lb_uri = {
    .name = "uri",
    .pick = uri_pick,
};
