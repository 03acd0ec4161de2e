// SPDX-License-Identifier: GPL-2.0
/*
 * HAProxy-style ACLs: parsing "acl" lines and "if|unless" conditions, and evaluating them on a
 * request sample. The supported criteria are HAProxy's path, path_beg/end/sub, hdr(), hdr_beg/
 * end/sub(), method and src; their matching rules follow HAProxy's documentation.
 */
#include "acl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum match_kind { MATCH_EXACT, MATCH_BEG, MATCH_END, MATCH_SUB };

static const struct crit_def {
	const char *name;
	enum acl_crit crit;
	enum match_kind kind;
	bool hdr; /* takes "(NAME)" */
} crits[] = {
    {"path", ACL_PATH, MATCH_EXACT, false},	  {"path_beg", ACL_PATH_BEG, MATCH_BEG, false},
    {"path_end", ACL_PATH_END, MATCH_END, false}, {"path_sub", ACL_PATH_SUB, MATCH_SUB, false},
    {"hdr", ACL_HDR, MATCH_EXACT, true},	  {"hdr_beg", ACL_HDR_BEG, MATCH_BEG, true},
    {"hdr_end", ACL_HDR_END, MATCH_END, true},	  {"hdr_sub", ACL_HDR_SUB, MATCH_SUB, true},
    {"method", ACL_METHOD, MATCH_EXACT, false},	  {"src", ACL_SRC, MATCH_EXACT, false},
};

#define NCRITS (sizeof(crits) / sizeof(crits[0]))

/* HAProxy fetches that a config may well use but wsplice does not implement: a clearer error. */
static const char *const unsupported_crits[] = {
    "path_reg",	   "path_dir",	   "path_dom", "path_len",    "path_end_reg", "hdr_reg",
    "hdr_dir",	   "hdr_dom",	   "hdr_len",  "hdr_cnt",     "hdr_ip",	      "hdr_val",
    "fhdr",	   "req.hdr",	   "url",      "url_beg",     "url_end",      "url_sub",
    "url_reg",	   "url_param",	   "base",     "base_beg",    "query",	      "src_port",
    "dst",	   "dst_port",	   "ssl_fc",   "req.ssl_sni", "http_auth",    "nbsrv",
    "always_true", "always_false",
};

/* ---- acl lines ---------------------------------------------------------------------------- */

static const struct crit_def *crit_lookup(const char *word, size_t len)
{
	size_t i;

	for (i = 0; i < NCRITS; i++)
		if (strlen(crits[i].name) == len && !strncmp(crits[i].name, word, len))
			return &crits[i];
	return NULL;
}

static bool crit_known_elsewhere(const char *word, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(unsupported_crits) / sizeof(unsupported_crits[0]); i++)
		if (strlen(unsupported_crits[i]) == len &&
		    !strncmp(unsupported_crits[i], word, len))
			return true;
	return false;
}

/* "CRIT" or "CRIT(ARG)" into e->crit and e->hdr_name. Returns 0 or -1 with err. */
static int crit_parse(struct acl_expr *e, const char *word, char *err, size_t errlen)
{
	const char *paren = strchr(word, '(');
	size_t len = paren ? (size_t)(paren - word) : strlen(word);
	const struct crit_def *c = crit_lookup(word, len);
	size_t alen;

	if (!c) {
		if (crit_known_elsewhere(word, len))
			snprintf(err, errlen, "ACL criterion '%.*s' is not supported yet.",
				 (int)len, word);
		else if (!*word)
			snprintf(err, errlen, "missing fetch method in ACL expression ''.");
		else
			snprintf(err, errlen, "unknown fetch method '%.*s' in ACL expression '%s'.",
				 (int)len, word, word);
		return -1;
	}
	e->crit = c->crit;
	if (!c->hdr && !paren)
		return 0;
	if (!c->hdr) {
		snprintf(err, errlen, "ACL keyword '%s' takes no argument.", c->name);
		return -1;
	}
	alen = paren ? strlen(paren + 1) : 0;
	if (!paren || !alen || paren[alen] != ')' || alen == 1) {
		snprintf(err, errlen, "ACL keyword '%s' : expected a header name as in '%s(name)'.",
			 c->name, c->name);
		return -1;
	}
	if (memchr(paren + 1, ',', alen - 1) || memchr(paren + 1, '(', alen - 1)) {
		snprintf(err, errlen,
			 "ACL keyword '%s' : only a header name is supported as argument "
			 "(no occurrence).",
			 c->name);
		return -1;
	}
	e->hdr_name = strndup(paren + 1, alen - 1);
	return e->hdr_name ? 0 : -1;
}

/* The prefix length of a dotted netmask, or -1 when its ones are not contiguous. */
static int v4_mask_len(struct in_addr mask)
{
	unsigned int m = ntohl(mask.s_addr);
	int len = __builtin_popcount(m);

	/* A dotted netmask must be contiguous ones. */
	return m == (len ? ~0u << (32 - len) : 0) ? len : -1;
}

/*
 * "ADDR", "ADDR/LEN" or, for IPv4, "ADDR/DOTTED.MASK" as HAProxy accepts for src. Host bits are
 * cleared so that matching compares prefixes only. Returns 0, or -1 for anything else (host
 * names included: HAProxy resolves them, wsplice refuses them rather than resolve at parse time).
 */
static int net_parse(struct acl_net *net, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 16];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned int max, i;
	struct in_addr mask;
	char *end;
	long len;

	if (alen >= sizeof(buf))
		return -1;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1)
		net->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, net->addr) == 1)
		net->family = AF_INET6;
	else
		return -1;
	max = net->family == AF_INET ? 32 : 128;
	len = max;
	if (slash && net->family == AF_INET && inet_pton(AF_INET, slash + 1, &mask) == 1) {
		len = v4_mask_len(mask);
	} else if (slash) {
		len = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || !isdigit((unsigned char)slash[1]))
			return -1;
	}
	if (len < 0 || len > (long)max)
		return -1;
	net->prefix = (unsigned int)len;
	for (i = net->prefix; i < max; i++)
		net->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	return 0;
}

static int values_add_net(struct acl_expr *e, const char *text, char *err, size_t errlen)
{
	struct acl_net *nets = realloc(e->nets, (e->nnets + 1) * sizeof(*nets));

	if (!nets)
		return -1;
	e->nets = nets;
	if (net_parse(&nets[e->nnets], text) < 0) {
		snprintf(err, errlen, "'%s' is not a valid IPv4 or IPv6 address.", text);
		return -1;
	}
	e->nnets++;
	return 0;
}

static int values_add_str(struct acl_expr *e, const char *text)
{
	char **values = realloc(e->values, (e->nvalues + 1) * sizeof(*values));

	if (!values)
		return -1;
	e->values = values;
	values[e->nvalues] = strdup(text);
	if (!values[e->nvalues])
		return -1;
	e->nvalues++;
	return 0;
}

/* Flags before the patterns: "-i" and "--" are supported, HAProxy's others are not. */
static int flags_parse(struct acl_expr *e, char **args, int n, int *i, char *err, size_t errlen)
{
	for (; *i < n && args[*i][0] == '-'; (*i)++) {
		if (!strcmp(args[*i], "-i")) {
			e->icase = true;
		} else if (!strcmp(args[*i], "--")) {
			(*i)++;
			return 0;
		} else if (strchr("mfMnu", args[*i][1]) && args[*i][1] && !args[*i][2]) {
			snprintf(err, errlen, "ACL flag '%s' is not supported yet.", args[*i]);
			return -1;
		} else {
			snprintf(err, errlen,
				 "'%s' is not a valid ACL option. Please use '--' before any "
				 "pattern beginning with a '-'.",
				 args[*i]);
			return -1;
		}
	}
	return 0;
}

static void expr_free(struct acl_expr *e)
{
	size_t i;

	for (i = 0; i < e->nvalues; i++)
		free(e->values[i]);
	free(e->values);
	free(e->nets);
	free(e->hdr_name);
	free(e);
}

/* args[0..n) = CRIT [FLAGS] PATTERNS. Returns the expression, or NULL with err. */
static struct acl_expr *expr_parse(char **args, int n, char *err, size_t errlen)
{
	struct acl_expr *e = calloc(1, sizeof(*e));
	int i = 1, rc;

	snprintf(err, errlen, "out of memory");
	if (!e)
		return NULL;
	if (crit_parse(e, n ? args[0] : "", err, errlen) < 0 ||
	    flags_parse(e, args, n, &i, err, errlen) < 0)
		goto fail;
	for (; i < n; i++) {
		if (e->crit == ACL_SRC)
			rc = values_add_net(e, args[i], err, errlen);
		else
			rc = values_add_str(e, args[i]);
		if (rc < 0)
			goto fail;
	}
	return e;
fail:
	expr_free(e);
	return NULL;
}

static bool acl_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("-_.:", *name))
			return false;
	return true;
}

/* The named ACL, created at the end of the list on first use. NULL when out of memory. */
static struct acl *acl_get(struct acl **acls, const char *name)
{
	struct acl **pa;

	for (pa = acls; *pa; pa = &(*pa)->next)
		if ((*pa)->name && !strcmp((*pa)->name, name))
			return *pa;
	*pa = calloc(1, sizeof(**pa));
	if (*pa && !((*pa)->name = strdup(name))) {
		free(*pa);
		*pa = NULL;
	}
	return *pa;
}

static void expr_append(struct acl *a, struct acl_expr *e)
{
	struct acl_expr **pe;

	for (pe = &a->exprs; *pe; pe = &(*pe)->next)
		;
	*pe = e;
}

int acl_parse_line(struct acl **acls, char **args, int n, char *err, size_t errlen)
{
	struct acl_expr *e;
	struct acl *a;

	if (n < 1 || !acl_name_ok(args[0])) {
		snprintf(err, errlen,
			 "invalid ACL name '%s' (letters, digits, '-', '_', '.' and ':' "
			 "only).",
			 n < 1 ? "" : args[0]);
		return -1;
	}
	if (n < 2) {
		snprintf(err, errlen, "missing fetch method in ACL expression ''.");
		return -1;
	}
	e = expr_parse(args + 1, n - 1, err, errlen);
	if (!e)
		return -1;
	a = acl_get(acls, args[0]);
	if (!a) {
		expr_free(e);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	expr_append(a, e);
	return 0;
}

/* ---- conditions --------------------------------------------------------------------------- */

/* The condition is an OR of AND groups; parsing always appends to the last group. */
static int group_add(struct acl_cond *c)
{
	struct acl_group *g = realloc(c->groups, (c->ngroups + 1) * sizeof(*g));

	if (!g)
		return -1;
	c->groups = g;
	memset(&g[c->ngroups++], 0, sizeof(*g));
	return 0;
}

static int term_add(struct acl_cond *c, struct acl *a, bool neg)
{
	struct acl_group *g = &c->groups[c->ngroups - 1];
	struct acl_term *t = realloc(g->terms, (g->nterms + 1) * sizeof(*t));

	if (!t)
		return -1;
	g->terms = t;
	t[g->nterms].acl = a;
	t[g->nterms].neg = neg;
	g->nterms++;
	return 0;
}

/* "{ CRIT [FLAGS] VALUES }" starting at args[*i] == "{": an ACL owned by the condition. */
static struct acl *anon_parse(struct acl_cond *c, char **args, int n, int *i, char *err,
			      size_t errlen)
{
	int beg = *i + 1, end;
	struct acl *a;

	for (end = beg; end < n && strcmp(args[end], "}"); end++)
		;
	if (end == n) {
		snprintf(err, errlen, "missing closing '}' in condition.");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->next = c->anon;
	c->anon = a;
	a->exprs = expr_parse(args + beg, end - beg, err, errlen);
	*i = end;
	return a->exprs ? a : NULL;
}

static struct acl *acl_find(struct acl *acls, const char *name)
{
	for (; acls; acls = acls->next)
		if (acls->name && !strcmp(acls->name, name))
			return acls;
	return NULL;
}

/*
 * One word of a condition at args[*i]: an operator or a term. HAProxy silently accepts a
 * dangling "!" or "or" and an empty condition; here they are errors, since a condition that
 * does not say what it means is more likely a typo than an intent.
 */
static int cond_word(struct acl_cond *c, struct acl *acls, char **args, int n, int *i, bool *neg,
		     char *err, size_t errlen)
{
	const char *w = args[*i];
	struct acl *a;

	if (!strcmp(w, "or") || !strcmp(w, "||")) {
		if (*neg || !c->groups[c->ngroups - 1].nterms) {
			snprintf(err, errlen, "missing ACL before '%s'.", w);
			return -1;
		}
		return group_add(c);
	}
	for (; *w == '!'; w++)
		*neg = !*neg;
	if (!*w)
		return 0;
	if (!strcmp(w, "{"))
		a = anon_parse(c, args, n, i, err, errlen);
	else if (!(a = acl_find(acls, w)))
		snprintf(err, errlen, "no such ACL : '%s'.", w);
	if (!a)
		return -1;
	if (term_add(c, a, *neg) < 0)
		return -1;
	*neg = false;
	return 0;
}

struct acl_cond *acl_cond_parse(struct acl *acls, char **args, int n, char *err, size_t errlen)
{
	struct acl_cond *c;
	bool neg = false;
	int i;

	if (n < 1 || (strcmp(args[0], "if") && strcmp(args[0], "unless"))) {
		snprintf(err, errlen, "conditions start with 'if' or 'unless'.");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	snprintf(err, errlen, "out of memory");
	if (!c || group_add(c) < 0)
		goto fail;
	c->unless = args[0][0] == 'u';
	for (i = 1; i < n; i++)
		if (cond_word(c, acls, args, n, &i, &neg, err, errlen) < 0)
			goto fail;
	if (neg || !c->groups[c->ngroups - 1].nterms) {
		snprintf(err, errlen, "missing ACL after '%s'.", neg ? "!" : args[n - 1]);
		goto fail;
	}
	return c;
fail:
	acl_cond_free(c);
	return NULL;
}

/* ---- evaluation --------------------------------------------------------------------------- */

static bool mem_eq(const char *a, const char *b, size_t len, bool icase)
{
	return icase ? !strncasecmp(a, b, len) : !memcmp(a, b, len);
}

static bool mem_sub(const char *hay, size_t hlen, const char *needle, size_t nlen, bool icase)
{
	size_t i;

	for (i = 0; i + nlen <= hlen; i++)
		if (mem_eq(hay + i, needle, nlen, icase))
			return true;
	return false;
}

/* Whether any pattern of e matches v[0..len) the way e's criterion compares (exact, beg...). */
static bool str_match(const struct acl_expr *e, const char *v, size_t len)
{
	enum match_kind kind = MATCH_EXACT;
	size_t i, plen;

	for (i = 0; i < NCRITS; i++)
		if (crits[i].crit == e->crit)
			kind = crits[i].kind;
	for (i = 0; v && i < e->nvalues; i++) {
		const char *p = e->values[i];

		plen = strlen(p);
		if (kind == MATCH_SUB	  ? mem_sub(v, len, p, plen, e->icase)
		    : plen > len	  ? false
		    : kind == MATCH_EXACT ? plen == len && mem_eq(v, p, len, e->icase)
		    : kind == MATCH_BEG	  ? mem_eq(v, p, plen, e->icase)
					  : mem_eq(v + len - plen, p, plen, e->icase))
			return true;
	}
	return false;
}

/* End of one comma-separated value, skipping commas inside double-quoted strings as HAProxy. */
static const char *value_end(const char *p, const char *end)
{
	bool quoted = false;

	for (; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == ',' && !quoted)
			break;
	}
	return p;
}

/* hdr*(): every comma-separated value of every header of that name, spaces trimmed. */
static bool hdr_match(const struct acl_expr *e, const struct acl_sample *s)
{
	size_t nlen = strlen(e->hdr_name), i;

	for (i = 0; i < s->nhdrs; i++) {
		const struct http_hdr *h = &s->hdrs[i];
		const char *p = h->value, *end = h->value + h->value_len, *q, *b, *t;

		if (h->name_len != nlen || strncasecmp(h->name, e->hdr_name, nlen))
			continue;
		for (;; p = q + 1) {
			q = value_end(p, end);
			for (b = p; b < q && (*b == ' ' || *b == '\t'); b++)
				;
			for (t = q; t > b && (t[-1] == ' ' || t[-1] == '\t'); t--)
				;
			if (str_match(e, b, t - b))
				return true;
			if (q >= end)
				break;
		}
	}
	return false;
}

static bool prefix_eq(const unsigned char *a, const unsigned char *b, unsigned int bits)
{
	unsigned int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	return !rest || !((a[bytes] ^ b[bytes]) & (0xff00 >> rest));
}

/* IPv4 patterns match IPv4-mapped IPv6 clients and the reverse, as in HAProxy. */
static bool net_match(const struct acl_net *net, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
	unsigned char a[16];
	int fam = sa->sa_family;

	if (fam == AF_INET) {
		memcpy(a, mapped, 12);
		memcpy(a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (fam == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return false;
	}
	if (net->family == AF_INET6)
		return prefix_eq(a, net->addr, net->prefix);
	return !memcmp(a, mapped, 12) && prefix_eq(a + 12, net->addr, net->prefix);
}

static bool expr_match(const struct acl_expr *e, const struct acl_sample *s)
{
	size_t i;

	switch (e->crit) {
	case ACL_PATH:
	case ACL_PATH_BEG:
	case ACL_PATH_END:
	case ACL_PATH_SUB:
		return str_match(e, s->path, s->path_len);
	case ACL_METHOD:
		return str_match(e, s->method, s->method_len);
	case ACL_HDR:
	case ACL_HDR_BEG:
	case ACL_HDR_END:
	case ACL_HDR_SUB:
		return hdr_match(e, s);
	case ACL_SRC:
		for (i = 0; s->src && i < e->nnets; i++)
			if (net_match(&e->nets[i], s->src))
				return true;
		return false;
	}
	return false;
}

/* A named ACL is the OR of its lines. */
static bool acl_match(const struct acl *a, const struct acl_sample *s)
{
	const struct acl_expr *e;

	for (e = a->exprs; e; e = e->next)
		if (expr_match(e, s))
			return true;
	return false;
}

static bool group_match(const struct acl_group *g, const struct acl_sample *s)
{
	size_t i;

	for (i = 0; i < g->nterms; i++)
		if (acl_match(g->terms[i].acl, s) == g->terms[i].neg)
			return false;
	return true;
}

/* Groups are ORed and stop at the first true one, as HAProxy evaluates lazily. */
bool acl_cond_eval(const struct acl_cond *cond, const struct acl_sample *s)
{
	bool res = false;
	size_t i;

	for (i = 0; i < cond->ngroups && !res; i++)
		res = group_match(&cond->groups[i], s);
	return res != cond->unless;
}

/* ---- freeing ------------------------------------------------------------------------------ */

void acl_list_free(struct acl *acls)
{
	struct acl_expr *e, *en;
	struct acl *next;

	for (; acls; acls = next) {
		next = acls->next;
		for (e = acls->exprs; e; e = en) {
			en = e->next;
			expr_free(e);
		}
		free(acls->name);
		free(acls);
	}
}

void acl_cond_free(struct acl_cond *cond)
{
	size_t i;

	if (!cond)
		return;
	for (i = 0; i < cond->ngroups; i++)
		free(cond->groups[i].terms);
	free(cond->groups);
	acl_list_free(cond->anon);
	free(cond);
}
