/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_ACL_H
#define WSPLICE_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*
 * HAProxy-style ACLs: "acl NAME CRITERION [-i] VALUE..." declares (or extends: several lines
 * with one name are ORed) a named ACL; conditions "if|unless TERM..." combine named or anonymous
 * ("{ CRITERION VALUE... }") ACLs with implicit AND, "or"/"||" and "!".
 */

enum acl_crit {
	ACL_PATH,	/* exact path (without query string) */
	ACL_PATH_BEG,
	ACL_PATH_END,
	ACL_PATH_SUB,
	ACL_HDR,	/* hdr(NAME): exact match of any comma-separated value */
	ACL_HDR_BEG,
	ACL_HDR_END,
	ACL_HDR_SUB,
	ACL_METHOD,
	ACL_SRC,	/* client address in one of the CIDR networks */
};

struct acl_net {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];	/* network address, host bits cleared */
	unsigned int prefix;	/* prefix length */
};

/* One line "acl NAME CRIT [-i] VALUES" or one anonymous "{ CRIT VALUES }". */
struct acl_expr {
	struct acl_expr *next;
	enum acl_crit crit;
	char *hdr_name;		/* for the hdr* criteria */
	bool icase;		/* -i */
	char **values;		/* string patterns (not for ACL_SRC) */
	size_t nvalues;
	struct acl_net *nets;	/* ACL_SRC patterns */
	size_t nnets;
};

/* A named ACL: the OR of its expressions. Anonymous ACLs have name NULL. */
struct acl {
	struct acl *next;
	char *name;
	struct acl_expr *exprs;
};

struct acl_term {
	struct acl *acl;
	bool neg;
};

/* Terms of one AND group; the condition is the OR of its groups. */
struct acl_group {
	struct acl_term *terms;
	size_t nterms;
};

struct acl_cond {
	bool unless;		/* "unless" inverts the result */
	struct acl_group *groups;
	size_t ngroups;
	struct acl *anon;	/* anonymous ACLs owned by this condition */
};

/* What ACLs look at in a request. Header names are matched case-insensitively. */
struct http_hdr {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct acl_sample {
	const char *method;
	size_t method_len;
	const char *path;	/* path only: no query string, no scheme/authority */
	size_t path_len;
	const struct http_hdr *hdrs;
	size_t nhdrs;
	const struct sockaddr *src;	/* client address, may be NULL */
};

/*
 * Parses "acl" arguments args[0..n) = NAME CRIT [-i] VALUE... into the proxy's list *acls
 * (creating or extending the named ACL). Returns 0, or -1 with a message in err (errlen bytes).
 */
int acl_parse_line(struct acl **acls, char **args, int n, char *err, size_t errlen);

/*
 * Parses a condition args[0..n) starting with "if" or "unless", resolving names against acls.
 * Returns the condition, or NULL with a message in err.
 */
struct acl_cond *acl_cond_parse(struct acl *acls, char **args, int n, char *err, size_t errlen);

/* Evaluates the condition on a sample: true when the rule applies. */
bool acl_cond_eval(const struct acl_cond *cond, const struct acl_sample *s);

void acl_cond_free(struct acl_cond *cond);
void acl_list_free(struct acl *acls);

#endif /* WSPLICE_ACL_H */
