// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "backend.h"
#include "http.h"
#include "lb_hash.h"

/*
 * hdr(NAME) [use_domain_only]: the first value of header NAME hashed (HAProxy's
 * get_server_hh()): the header's first comma-separated element, spaces trimmed. A request
 * without the header, or with an empty value, is balanced round-robin, as in HAProxy, and so is
 * a connection in mode tcp. "use_domain_only" hashes the label before the last dot of a host
 * name ("haproxy.1wt.eu:80" hashes "1wt"), so every host of one domain goes to one server.
 */
static void trim(const char **v, size_t *len)
{
	const char *comma = memchr(*v, ',', *len);

	if (comma)
		*len = (size_t)(comma - *v);
	while (*len && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*len)--;
	}
	while (*len && ((*v)[*len - 1] == ' ' || (*v)[*len - 1] == '\t'))
		(*len)--;
}

/* The label before the last dot, port removed; the whole name when it has no dot. */
static void domain_only(const char **v, size_t *len)
{
	const char *p = *v, *colon = memchr(p, ':', *len), *last, *prev;
	size_t n = colon ? (size_t)(colon - p) : *len;

	last = memrchr(p, '.', n);
	if (!last) {
		*len = n;
		return;
	}
	prev = memrchr(p, '.', (size_t)(last - p));
	*v = prev ? prev + 1 : p;
	*len = (size_t)(last - *v);
}

static struct server *hdr_pick(struct proxy *be, const struct lb_req *req)
{
	const char *v;
	size_t len;
	int i;

	if (!req->msg || !be->hdr_name)
		return lb_roundrobin.pick(be, req);
	i = http_hdr_find(req->msg, req->base, be->hdr_name, 0);
	if (i < 0)
		return lb_roundrobin.pick(be, req);
	v = http_str(req->msg, req->base, req->msg->hdr[i].value);
	len = req->msg->hdr[i].value.len;
	trim(&v, &len);
	if (be->hdr_domain_only)
		domain_only(&v, &len);
	if (!len)
		return lb_roundrobin.pick(be, req);
	return lb_hash_server(be, lb_hash_key(be, v, len));
}

const struct lb_ops lb_hdr = {
    .name = "hdr",
    .pick = hdr_pick,
};
