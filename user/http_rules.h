/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_HTTP_RULES_H
#define WSPLICE_HTTP_RULES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "http.h"

/*
 * "http-request" and "http-response" rules, "option forwardfor", "monitor-uri" and "errorfile"
 * at run time. Parsing is in cfg_http.c; stream.c calls these while it rewrites a head. A rule
 * never edits the input buffer: it marks original headers dropped (m->hdr_drop) and lists the
 * headers to append in a struct http_rw, which stream.c writes out after the kept ones.
 */

enum http_act {
	HTTP_ACT_SET_HDR,
	HTTP_ACT_ADD_HDR,
	HTTP_ACT_DEL_HDR,
	HTTP_ACT_DENY,
	HTTP_ACT_RETURN,
	/* "use-service prometheus-exporter", the one service HAProxy 2.6 has built in: the
	 * proxy answers with its metrics (prom.h) */
	HTTP_ACT_SERVICE,
};

struct http_rule {
	struct http_rule *next;
	enum http_act act;
	char *name;		/* header actions */
	char *value;		/* set/add-header; NULL when value_src */
	bool value_src;		/* the value is "%[src]": the client address */
	int status;		/* deny (default 403), return (default 200) */
	char *ctype, *body;	/* return: content-type and string, NULL when absent */
	struct acl_cond *cond;	/* NULL: always */
};

/* "errorfile CODE FILE": the file's bytes are the whole response. */
struct http_errfile {
	struct http_errfile *next;
	int code;
	char *data;
	size_t len;
};

/* "option forwardfor [except NET] [header NAME] [if-none]". */
struct http_fwdfor {
	char *hdr;		/* default "X-Forwarded-For" */
	struct acl_cond *except; /* "if { src NET }": no header for these clients */
	char *except_net;	/* NET as written, for copies from "defaults" */
	bool if_none;
};

/* Response rule conditions are kept as one bit each per transaction: at most 64 per proxy. */
#define HTTP_RES_RULES_MAX 64
#define HTTP_RW_MAX 32
/* An errorfile or a "return" string must fit in one buffer (tune.bufsize), as in HAProxy. */
#define HTTP_REPLY_MAX 16000

/* Headers appended to one head, in order. Names and values point into rules or into src. */
struct http_rw {
	unsigned int n;
	struct {
		const char *name, *value;
	} add[HTTP_RW_MAX];
	char src[INET6_ADDRSTRLEN]; /* the client address as text */
	bool overflow;		/* more than HTTP_RW_MAX: the head is refused */
};

/* Starts an empty rewrite for a client at src (may be NULL). */
void http_rw_init(struct http_rw *rw, const struct sockaddr *src);

/*
 * Applies request rules in order to the head m (bytes at base), conditions evaluated on smp.
 * Header actions mark m->hdr_drop and append to rw. Returns the first deny, return or
 * use-service rule whose condition holds (the rules after it do not run), or NULL when the
 * request goes on.
 */
const struct http_rule *http_rules_request(const struct http_rule *rules, struct http_msg *m,
					   const char *base, const struct acl_sample *smp,
					   struct http_rw *rw);

/*
 * The conditions of response rules, evaluated on the request sample (its head is gone by the
 * time the response comes): bit i is set when rule i applies. Only the first
 * HTTP_RES_RULES_MAX rules exist (cfg_http.c refuses more).
 */
uint64_t http_rules_response_mask(const struct http_rule *rules, const struct acl_sample *smp);

/* Applies the response rules whose bit is set in mask to the response head m. */
void http_rules_response(const struct http_rule *rules, uint64_t mask, struct http_msg *m,
			 const char *base, struct http_rw *rw);

/* Appends the forwardfor header of f (NULL: none) for the request m unless excluded. */
void http_fwdfor_apply(const struct http_fwdfor *f, const struct http_msg *m, const char *base,
		       const struct acl_sample *smp, struct http_rw *rw);

/*
 * Writes rw's headers as "name: value\r\n" into out (size bytes). Returns the length written,
 * or -1 when they do not fit.
 */
int http_rw_format(const struct http_rw *rw, char *out, size_t size);

/* The errorfile for code in list, or NULL. */
const struct http_errfile *http_errfile_find(const struct http_errfile *list, int code);

/* True when the URI of m is exactly uri, its scheme and authority aside (monitor-uri). */
bool http_uri_is(const struct http_msg *m, const char *base, const char *uri);

void http_rules_free(struct http_rule *rules);
void http_errfiles_free(struct http_errfile *list);
void http_fwdfor_free(struct http_fwdfor *f);

#endif /* WSPLICE_HTTP_RULES_H */
