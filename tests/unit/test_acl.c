// SPDX-License-Identifier: GPL-2.0
/*
 * user/acl.c: acl lines and conditions parsed as the config parser passes them (words already
 * tokenized), then evaluated on request samples: every criterion, -i, negation, "or",
 * anonymous ACLs, "unless", hdr() comma splitting, src CIDRs in IPv4 and IPv6, and the errors.
 */
#include "acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define MAXW 32

static struct acl *acls;
static char err[512];

/* Splits a line on spaces (the tokenizer is tested in test_cfg.c). */
static int split(char *line, char **w)
{
	int n = 0;

	for (char *t = strtok(line, " "); t && n < MAXW; t = strtok(NULL, " "))
		w[n++] = t;
	return n;
}

static int acl_line(const char *text)
{
	char buf[512], *w[MAXW];
	int n;

	snprintf(buf, sizeof(buf), "%s", text);
	n = split(buf, w);
	err[0] = '\0';
	return acl_parse_line(&acls, w, n, err, sizeof(err));
}

static struct acl_cond *cond(const char *text)
{
	char buf[512], *w[MAXW];
	int n;

	snprintf(buf, sizeof(buf), "%s", text);
	n = split(buf, w);
	err[0] = '\0';
	return acl_cond_parse(acls, w, n, err, sizeof(err));
}

struct req {
	const char *method, *path;
	struct http_hdr hdrs[8];
	size_t nhdrs;
	struct sockaddr_storage src;
	bool has_src;
};

static void req_init(struct req *r, const char *method, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->path = path;
}

static void req_hdr(struct req *r, const char *name, const char *value)
{
	struct http_hdr *h = &r->hdrs[r->nhdrs++];

	h->name = name;
	h->name_len = strlen(name);
	h->value = value;
	h->value_len = strlen(value);
}

static void req_src(struct req *r, const char *ip)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&r->src;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&r->src;

	memset(&r->src, 0, sizeof(r->src));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
	} else {
		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	}
	r->has_src = true;
}

static bool eval(const char *ctext, const struct req *r)
{
	struct acl_sample s = {
	    .method = r->method,
	    .method_len = r->method ? strlen(r->method) : 0,
	    .path = r->path,
	    .path_len = r->path ? strlen(r->path) : 0,
	    .hdrs = r->hdrs,
	    .nhdrs = r->nhdrs,
	    .src = r->has_src ? (const struct sockaddr *)&r->src : NULL,
	};
	struct acl_cond *c = cond(ctext);
	bool res;

	if (!c) {
		printf("# condition '%s' refused: %s\n", ctext, err);
		return false;
	}
	res = acl_cond_eval(c, &s);
	acl_cond_free(c);
	return res;
}

static void reset(void)
{
	acl_list_free(acls);
	acls = NULL;
}

static void test_parse(void)
{
	is_int(acl_line("a path_beg /ws /socket"), 0, "parse: acl NAME CRIT VALUES");
	ok(acls && !strcmp(acls->name, "a") && acls->exprs->crit == ACL_PATH_BEG &&
	       acls->exprs->nvalues == 2 && !strcmp(acls->exprs->values[1], "/socket") &&
	       !acls->exprs->icase,
	   "parse: expression fields");
	is_int(acl_line("a hdr(Upgrade) -i websocket"), 0, "parse: a second line for one name");
	ok(!acls->next && acls->exprs->next && acls->exprs->next->crit == ACL_HDR &&
	       acls->exprs->next->icase && !strcmp(acls->exprs->next->hdr_name, "Upgrade"),
	   "parse: the second line extends the ACL, hdr name and -i kept");
	is_int(acl_line("b src 10.0.0.0/8 192.168.1.1 2001:db8::/32 ::1"), 0, "parse: src");
	ok(acls->next && acls->next->exprs->nnets == 4 && !acls->next->exprs->nvalues,
	   "parse: src patterns are networks");
	ok(acls->next->exprs->nets[0].family == AF_INET && acls->next->exprs->nets[0].prefix == 8 &&
	       acls->next->exprs->nets[1].prefix == 32 &&
	       acls->next->exprs->nets[2].family == AF_INET6 &&
	       acls->next->exprs->nets[3].prefix == 128,
	   "parse: CIDR prefixes, bare addresses are host routes");
	is_int(acl_line("c src 10.1.2.3/255.255.0.0"), 0, "parse: dotted netmask");
	ok(acls->next->next->exprs->nets[0].prefix == 16 &&
	       acls->next->next->exprs->nets[0].addr[2] == 0,
	   "parse: netmask as prefix, host bits cleared");
	is_int(acl_line("d path -- -dash"), 0, "parse: '--' ends the flags");
	is_int(acl_line("e path_end"), 0, "parse: an ACL without pattern (never matches)");
	is_int(acl_line("f.g:h-i_j method GET"), 0, "parse: name characters as HAProxy");

	is_int(acl_line("x pathbeg /"), -1, "error: unknown criterion");
	has_str(err, "unknown fetch method 'pathbeg'", "error: names the criterion");
	is_int(acl_line("x path_reg ^/x"), -1, "error: HAProxy criterion not supported");
	has_str(err, "'path_reg' is not supported yet", "error: says not supported");
	is_int(acl_line("x hdr x"), -1, "error: hdr without a name");
	is_int(acl_line("x hdr() x"), -1, "error: hdr with an empty name");
	is_int(acl_line("x hdr(host x"), -1, "error: hdr without ')'");
	is_int(acl_line("x hdr(host,1) x"), -1, "error: hdr occurrence not supported");
	is_int(acl_line("x path(x) /"), -1, "error: argument to a criterion without one");
	is_int(acl_line("x src 10.0.0.0/33"), -1, "error: bad IPv4 prefix");
	has_str(err, "'10.0.0.0/33' is not a valid IPv4 or IPv6 address", "error: HAProxy's text");
	is_int(acl_line("x src ::1/129"), -1, "error: bad IPv6 prefix");
	is_int(acl_line("x src 10.0.0.0/255.0.255.0"), -1, "error: non-contiguous netmask");
	is_int(acl_line("x src 10.0.0.0/"), -1, "error: empty prefix");
	is_int(acl_line("x src host.example"), -1, "error: host name in src");
	is_int(acl_line("x path -m beg /"), -1, "error: -m not supported");
	is_int(acl_line("x path -z /"), -1, "error: unknown flag");
	has_str(err, "Please use '--' before any pattern beginning with a '-'", "error: flag text");
	is_int(acl_line("x"), -1, "error: no criterion");
	is_int(acl_line("x/y path /"), -1, "error: bad character in name");
	is_int(acl_line("g path /"), 0, "parse: ACL g");
	is_int(acl_line("g path_xx /"), -1, "error: a bad second line for g");
	{
		struct acl *a = acls;

		while (a && strcmp(a->name, "g"))
			a = a->next;
		ok(a && a->exprs && !a->exprs->next,
		   "error: a failed line leaves the ACL as it was");
	}
	reset();
}

static void test_conditions_parse(void)
{
	struct acl_cond *c;

	acl_line("a path /a");
	acl_line("b path /b");
	c = cond("if a b or !a || { path /c } !{ method GET }");
	ok(c && c->ngroups == 3 && c->groups[0].nterms == 2 && c->groups[1].nterms == 1 &&
	       c->groups[1].terms[0].neg && c->groups[2].nterms == 2 &&
	       !c->groups[2].terms[0].neg && c->groups[2].terms[1].neg && c->anon &&
	       c->anon->next && !c->unless,
	   "cond: groups, negation, anonymous ACLs");
	acl_cond_free(c);
	c = cond("unless ! a");
	ok(c && c->unless && c->groups[0].terms[0].neg, "cond: unless, '!' as its own word");
	acl_cond_free(c);
	c = cond("if !!a");
	ok(c && !c->groups[0].terms[0].neg, "cond: double negation");
	acl_cond_free(c);

	ok(!cond("if nope") && strstr(err, "no such ACL : 'nope'"), "cond: unknown ACL named");
	ok(!cond("if a { path /x"), "cond: missing '}'");
	has_str(err, "missing closing '}'", "cond: HAProxy's text for a missing '}'");
	ok(!cond("if { }") && strstr(err, "missing fetch method"), "cond: empty anonymous ACL");
	ok(!cond("if { foo x }") && strstr(err, "unknown fetch method 'foo'"),
	   "cond: unknown criterion in an anonymous ACL");
	ok(!cond("if"), "cond: empty condition");
	ok(!cond("if a or"), "cond: dangling or");
	ok(!cond("if or a"), "cond: leading or");
	ok(!cond("if a !"), "cond: dangling !");
	ok(!cond("when a"), "cond: neither if nor unless");
	reset();
}

static void test_match(void)
{
	struct req r;

	acl_line("p path /ws");
	acl_line("pb path_beg /ws/ /api");
	acl_line("pe path_end .js");
	acl_line("ps path_sub chat");
	acl_line("pi path -i /WS");
	acl_line("m method GET");
	acl_line("mi method -i post");

	req_init(&r, "GET", "/ws");
	ok(eval("if p", &r), "path: exact");
	ok(!eval("if pb", &r), "path_beg: '/ws' does not begin with '/ws/'");
	ok(eval("if pi", &r), "path -i: /ws matches /WS");
	ok(eval("if m", &r), "method GET");
	ok(!eval("if mi", &r), "method -i post: GET does not match");
	req_init(&r, "Post", "/ws/chat/app.js");
	ok(!eval("if p", &r), "path: exact does not match a longer path");
	ok(eval("if pb", &r), "path_beg");
	ok(eval("if pe", &r), "path_end");
	ok(eval("if ps", &r), "path_sub");
	ok(!eval("if m", &r), "method: other method");
	ok(eval("if mi", &r), "method -i");
	req_init(&r, "GET", "/WS");
	ok(!eval("if p", &r), "path: case-sensitive without -i");
	ok(eval("if { path_beg -i /w } { path_end S }", &r), "anonymous: -i and implicit AND");
	ok(!eval("if { path_beg -i /w } { path_end s }", &r), "anonymous: AND needs both");
	ok(eval("if { path_end s } or { path_end S }", &r), "or: either");
	ok(eval("if { path_end s } || { path_end S }", &r), "||: either");
	ok(eval("if !p", &r), "!: negation");
	ok(!eval("unless !p", &r), "unless inverts");
	ok(eval("unless p", &r), "unless: no match applies the rule");
	ok(eval("if p or m !p", &r), "a AND group after or");
	req_init(&r, "GET", "/x");
	r.path = NULL;
	ok(!eval("if { path /x }", &r) && eval("if !{ path /x }", &r), "no path: no match");
	ok(!eval("if { path_sub a }", &r), "no path: path_sub does not match");
	reset();
}

static void test_hdr(void)
{
	struct req r;

	req_init(&r, "GET", "/");
	req_hdr(&r, "Connection", "keep-alive, Upgrade");
	req_hdr(&r, "upgrade", "WebSocket");
	req_hdr(&r, "X-List", " a ,\t\"b,c\" , ");
	req_hdr(&r, "X-List", "last");
	req_hdr(&r, "Host", "chat.example.com:8080");
	ok(eval("if { hdr(connection) -i upgrade }", &r),
	   "hdr: comma-separated values, names case-insensitive, -i");
	ok(!eval("if { hdr(connection) upgrade }", &r), "hdr: values case-sensitive without -i");
	ok(!eval("if { hdr(connection) keep-alive,Upgrade }", &r),
	   "hdr: the whole line is not one value");
	ok(eval("if { hdr(Upgrade) WebSocket }", &r), "hdr: exact value");
	ok(!eval("if { hdr(Upgrade) Web }", &r), "hdr: exact, not prefix");
	ok(eval("if { hdr(x-list) a }", &r), "hdr: spaces around values trimmed");
	ok(eval("if { hdr(x-list) \"b,c\" }", &r), "hdr: comma inside quotes does not split");
	ok(eval("if { hdr(x-list) last }", &r), "hdr: every header line of that name");
	ok(!eval("if { hdr(x-list) c\" }", &r), "hdr: no split inside quotes");
	ok(eval("if { hdr_beg(host) chat. }", &r), "hdr_beg");
	ok(eval("if { hdr_end(host) :8080 }", &r), "hdr_end");
	ok(eval("if { hdr_sub(host) example }", &r), "hdr_sub");
	ok(eval("if { hdr_sub(connection) -i GRA }", &r), "hdr_sub -i in the second value");
	ok(!eval("if { hdr_beg(connection) alive }", &r), "hdr_beg: per value");
	ok(eval("if { hdr_beg(connection) Upg }", &r), "hdr_beg: second value");
	ok(eval("if { hdr_end(connection) -i ALIVE }", &r), "hdr_end -i: first value");
	ok(!eval("if { hdr(missing) x }", &r), "hdr: absent header");
	ok(eval("if !{ hdr(missing) x }", &r), "hdr: absent header negated");
	ok(!eval("if { hdr(Hos) chat.example.com:8080 }", &r), "hdr: name must match whole");
	reset();
}

static void test_src(void)
{
	struct req r;

	acl_line("lan src 10.0.0.0/8 192.168.1.0/24");
	acl_line("one src 203.0.113.7");
	acl_line("v6 src 2001:db8::/32");
	acl_line("lo6 src ::1");
	req_init(&r, "GET", "/");
	ok(!eval("if lan", &r), "src: no address, no match");
	req_src(&r, "10.20.30.40");
	ok(eval("if lan", &r), "src: in a /8");
	ok(!eval("if one", &r), "src: not the host");
	req_src(&r, "192.168.2.1");
	ok(!eval("if lan", &r), "src: outside the /24");
	req_src(&r, "203.0.113.7");
	ok(eval("if one", &r), "src: bare address");
	req_src(&r, "203.0.113.8");
	ok(!eval("if one", &r), "src: bare address is a /32");
	req_src(&r, "2001:db8:1::5");
	ok(eval("if v6", &r), "src: IPv6 /32");
	ok(!eval("if lan", &r), "src: IPv6 client, IPv4 pattern");
	req_src(&r, "2001:db9::1");
	ok(!eval("if v6", &r), "src: outside the IPv6 /32");
	req_src(&r, "::1");
	ok(eval("if lo6", &r), "src: IPv6 host");
	req_src(&r, "::ffff:10.1.1.1");
	ok(eval("if lan", &r), "src: IPv4-mapped IPv6 client matches an IPv4 network");
	acl_line("mapped src ::ffff:192.168.1.0/120");
	req_src(&r, "192.168.1.9");
	ok(eval("if mapped", &r), "src: IPv4 client matches an IPv4-mapped IPv6 network");
	ok(eval("if { src 0.0.0.0/0 }", &r), "src: /0 matches everything");
	ok(eval("if { src 192.168.1.8/29 }", &r), "src: prefix not on a byte boundary");
	ok(!eval("if { src 192.168.1.0/29 }", &r), "src: outside a /29");
	reset();
}

int main(void)
{
	test_parse();
	test_conditions_parse();
	test_match();
	test_hdr();
	test_src();
	return done();
}
