/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_TEST_LB_H
#define WSPLICE_TEST_LB_H

/*
 * A backend of up to FX_MAX servers named s1, s2, ... for the balancing unit tests
 * (tests/unit/test_lb_*.c), built in memory as cfg_proxy.c would: puid in declaration order,
 * weight 1 unless given. Header-only, included once per test binary.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "http.h"
#include "lb_hash.h"
#include "tap.h"

#define FX_MAX 8

struct fx {
	struct proxy be;
	struct server srv[FX_MAX];
	char names[FX_MAX][8];
	char seq[1024];
};

/* n servers with the given weights (NULL: all 1), algorithm algo. */
static inline void fx_init(struct fx *f, int n, const int *weights, enum lb_algo algo)
{
	memset(f, 0, sizeof(*f));
	f->be.id = "be";
	f->be.cap = PX_CAP_BE;
	f->be.lb = algo;
	for (int i = 0; i < n; i++) {
		struct server *s = &f->srv[i];

		snprintf(f->names[i], sizeof(f->names[i]), "s%d", i + 1);
		s->id = f->names[i];
		s->be = &f->be;
		s->weight = weights ? weights[i] : 1;
		s->puid = (unsigned int)i + 1;
		s->next = i + 1 < n ? &f->srv[i + 1] : NULL;
	}
	f->be.servers = &f->srv[0];
	f->be.nservers = (unsigned int)n;
}

static inline void fx_free(struct fx *f)
{
	lb_tbl_free(f->be.lb_tbl);
	f->be.lb_tbl = NULL;
}

/* Picks once; with take, the connection is counted as stream.c does. */
static inline struct server *fx_pick(struct fx *f, const struct lb_req *req, bool take)
{
	static const struct lb_req none;
	struct server *s = lb_pick(&f->be, req ? req : &none);

	if (s && take)
		s->cur_conns++;
	return s;
}

/* n picks as "s1 s2 -": names separated by spaces, "-" for NULL. */
static inline const char *fx_seq(struct fx *f, int n, const struct lb_req *req, bool take)
{
	size_t len = 0;

	f->seq[0] = '\0';
	for (int i = 0; i < n; i++) {
		struct server *s = fx_pick(f, req, take);

		len += (size_t)snprintf(f->seq + len, sizeof(f->seq) - len, "%s%s", i ? " " : "",
					s ? s->id : "-");
	}
	return f->seq;
}

/* An IPv4 client address "10.x.y.z" from a number, for hashing tests. */
static inline struct sockaddr_in fx_addr(unsigned int n)
{
	struct sockaddr_in a = {.sin_family = AF_INET};

	a.sin_addr.s_addr = htonl(0x0a000000u | (n & 0xffffff));
	return a;
}

/* A parsed request head in m (base must outlive it); 0 on success. */
static inline int fx_request(struct http_msg *m, const char *head)
{
	http_msg_init(m, HTTP_REQUEST);
	return http_parse_head(m, head, strlen(head)) == 1 ? 0 : -1;
}

#endif /* WSPLICE_TEST_LB_H */
