// SPDX-License-Identifier: GPL-2.0
/*
 * log-format: HAProxy's parser rules (consecutive spaces are one separator, printed only after
 * something that was not a space; "%%" is a percent sign; "%{+Q}o" sets options for every
 * variable after it) and renderings, checked against HAProxy 2.6 on the same traffic.
 */
#include "logfmt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum lf_var {
	V_CI,
	V_CP,
	V_FI,
	V_FP,
	V_SI,
	V_SP,
	V_T,
	V_TR_DATE,
	V_TRG,
	V_TRL,
	V_TG,
	V_TL,
	V_MS,
	V_TQ,
	V_TH,
	V_TI,
	V_TR,
	V_TW,
	V_TC,
	V_TRES,
	V_TA,
	V_TT,
	V_TD,
	V_ST,
	V_B,
	V_U,
	V_CC,
	V_CS,
	V_TSC,
	V_TS,
	V_AC,
	V_FC,
	V_BC,
	V_SC,
	V_RC,
	V_SQ,
	V_BQ,
	V_HR,
	V_HS,
	V_HRL,
	V_HSL,
	V_R,
	V_HM,
	V_HU,
	V_HP,
	V_HV,
	V_FT,
	V_F,
	V_BE,
	V_S,
	V_ID,
	V_PID,
	V_H,
	V_O,
};

/* HAProxy's names. %T is the GMT accept date; %Tl its local form (configuration.txt 8.2.4). */
static const struct {
	const char *name;
	enum lf_var var;
} vars[] = {
    {"ci", V_CI}, {"cp", V_CP},	     {"fi", V_FI},   {"fp", V_FP},   {"si", V_SI},   {"sp", V_SP},
    {"t", V_T},	  {"tr", V_TR_DATE}, {"trg", V_TRG}, {"trl", V_TRL}, {"T", V_TG},    {"Tl", V_TL},
    {"ms", V_MS}, {"Tq", V_TQ},	     {"Th", V_TH},   {"Ti", V_TI},   {"TR", V_TR},   {"Tw", V_TW},
    {"Tc", V_TC}, {"Tr", V_TRES},    {"Ta", V_TA},   {"Tt", V_TT},   {"Td", V_TD},   {"ST", V_ST},
    {"B", V_B},	  {"U", V_U},	     {"CC", V_CC},   {"CS", V_CS},   {"tsc", V_TSC}, {"ts", V_TS},
    {"ac", V_AC}, {"fc", V_FC},	     {"bc", V_BC},   {"sc", V_SC},   {"rc", V_RC},   {"sq", V_SQ},
    {"bq", V_BQ}, {"hr", V_HR},	     {"hs", V_HS},   {"hrl", V_HRL}, {"hsl", V_HSL}, {"r", V_R},
    {"HM", V_HM}, {"HU", V_HU},	     {"HP", V_HP},   {"HV", V_HV},   {"ft", V_FT},   {"f", V_F},
    {"b", V_BE},  {"s", V_S},	     {"ID", V_ID},   {"pid", V_PID}, {"H", V_H},     {"o", V_O},
};

/* HAProxy variables wsplice has no data for: named in the error, rather than "no such". */
static const char *const unsupported[] = {
    "bi", "bp", "lc", "rt", "sslc", "sslv", "HQ", NULL,
};

enum node_type { N_TEXT, N_SEP, N_VAR };

#define LF_QUOTE 0x1

struct lf_node {
	enum node_type type;
	enum lf_var var;
	unsigned int opts;
	char *text;
};

struct logfmt {
	struct lf_node *nodes;
	size_t n, cap;
	bool uses_front;
};

static int add_node(struct logfmt *lf, enum node_type t, enum lf_var v, unsigned int opts,
		    const char *text, size_t tlen)
{
	struct lf_node *nd;

	if (t == N_SEP && lf->n && lf->nodes[lf->n - 1].type == N_SEP)
		return 0;
	if (lf->n == lf->cap) {
		size_t cap = lf->cap ? lf->cap * 2 : 16;
		struct lf_node *p = realloc(lf->nodes, cap * sizeof(*p));

		if (!p)
			return -1;
		lf->nodes = p;
		lf->cap = cap;
	}
	nd = &lf->nodes[lf->n];
	*nd = (struct lf_node){.type = t, .var = v, .opts = opts};
	if (text && !(nd->text = strndup(text, tlen)))
		return -1;
	lf->n++;
	return 0;
}

/* "{+Q,-Q}" after a '%': returns the options, or -1 with HAProxy's message. *p moves past '}'. */
static int parse_opts(const char **p, unsigned int *opts, char *err, size_t errlen)
{
	const char *s = *p + 1, *end = strchr(s, '}');

	if (!end) {
		snprintf(err, errlen, "truncated line after '%s'.", s);
		return -1;
	}
	while (s < end) {
		size_t len = strcspn(s, ",}");

		if (len == 2 && (s[0] == '+' || s[0] == '-') && s[1] == 'Q') {
			*opts = s[0] == '+' ? (*opts | LF_QUOTE) : (*opts & ~LF_QUOTE);
		} else {
			snprintf(err, errlen, "option '%.*s' is not supported (only +Q and -Q).",
				 (int)len, s);
			return -1;
		}
		s += len + (s[len] == ',');
	}
	*p = end + 1;
	return 0;
}

static int parse_var(struct logfmt *lf, const char **pp, unsigned int *gopts, char *err,
		     size_t errlen)
{
	const char *p = *pp + 1, *name;
	unsigned int opts = *gopts;
	size_t len, i;

	if (*p == '{' && parse_opts(&p, &opts, err, errlen) < 0)
		return -1;
	if (*p == '[') {
		snprintf(err, errlen, "sample expressions (%%[...]) are not supported.");
		return -1;
	}
	name = p;
	while (isalpha((unsigned char)*p))
		p++;
	len = p - name;
	if (!len && !*p) {
		snprintf(err, errlen, "truncated line after '%%'.");
		return -1;
	}
	*pp = p;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if (strlen(vars[i].name) != len || strncmp(vars[i].name, name, len))
			continue;
		if (vars[i].var == V_O) {
			*gopts = opts;
			return 0;
		}
		if (vars[i].var == V_FI || vars[i].var == V_FP)
			lf->uses_front = true;
		return add_node(lf, N_VAR, vars[i].var, opts, NULL, 0);
	}
	for (i = 0; unsupported[i]; i++) {
		if (strlen(unsupported[i]) == len && !strncmp(unsupported[i], name, len)) {
			snprintf(err, errlen, "format variable '%.*s' is not supported.", (int)len,
				 name);
			return -1;
		}
	}
	snprintf(err, errlen,
		 "no such format variable '%.*s'. If you wanted to emit the '%%' character "
		 "verbatim, you need to use '%%%%'.",
		 (int)len, name);
	return -1;
}

int logfmt_parse(const char *fmt, struct logfmt **out, char *err, size_t errlen)
{
	struct logfmt *lf = calloc(1, sizeof(*lf));
	unsigned int gopts = 0;
	const char *p = fmt;
	int rc = 0;

	if (!lf)
		return -1;
	while (*p && !rc) {
		if (*p == '%' && p[1] == '%') {
			rc = add_node(lf, N_TEXT, 0, 0, "%", 1);
			p += 2;
		} else if (*p == '%') {
			rc = parse_var(lf, &p, &gopts, err, errlen);
		} else if (*p == ' ') {
			rc = add_node(lf, N_SEP, 0, 0, NULL, 0);
			p += strspn(p, " ");
		} else {
			size_t len = strcspn(p, "% ");

			rc = add_node(lf, N_TEXT, 0, 0, p, len);
			p += len;
		}
	}
	if (rc < 0) {
		if (!err[0])
			snprintf(err, errlen, "out of memory.");
		logfmt_free(lf);
		return -1;
	}
	*out = lf;
	return 0;
}

bool logfmt_uses_front(const struct logfmt *lf)
{
	return lf->uses_front;
}

void logfmt_free(struct logfmt *lf)
{
	if (!lf)
		return;
	for (size_t i = 0; i < lf->n; i++)
		free(lf->nodes[i].text);
	free(lf->nodes);
	free(lf);
}

/* ---- rendering ---------------------------------------------------------------------------- */

/* The output being written: never past end - 1, always NUL-terminated by logfmt_build(). */
struct out {
	char *p, *end;
};

static void put(struct out *o, const char *s, size_t len)
{
	size_t room = (size_t)(o->end - o->p);

	if (len > room)
		len = room;
	memcpy(o->p, s, len);
	o->p += len;
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* HAProxy's lf_text: the string, quoted with +Q; none is "-", or "" with +Q. */
static void text(struct out *o, const char *s, size_t len, unsigned int opts)
{
	if (opts & LF_QUOTE)
		put(o, "\"", 1);
	if (s && len)
		put(o, s, len);
	else if (!(opts & LF_QUOTE))
		put(o, "-", 1);
	if (opts & LF_QUOTE)
		put(o, "\"", 1);
}

size_t logfmt_escape(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *in && n + 4 <= len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 32 || c >= 127 || c == '"' || c == '#') {
			out[n++] = '#';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = 0;
	return n;
}

static void escaped(struct out *o, const char *s, size_t len, unsigned int opts)
{
	char raw[4096], enc[3 * sizeof(raw)];

	if (!s)
		return text(o, NULL, 0, opts);
	if (len >= sizeof(raw))
		len = sizeof(raw) - 1;
	memcpy(raw, s, len);
	raw[len] = 0;
	text(o, enc, logfmt_escape(raw, enc, sizeof(enc)), opts);
}

static void addr(struct out *o, const struct sockaddr_storage *ss, bool port, unsigned int opts)
{
	char buf[INET6_ADDRSTRLEN];
	const void *a = NULL;
	int p = 0;

	if (ss->ss_family == AF_INET) {
		a = &((const struct sockaddr_in *)ss)->sin_addr;
		p = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		p = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else if (ss->ss_family == AF_UNIX) {
		/* HAProxy prints "unix" for the address and "-" for the port */
		return port ? text(o, NULL, 0, 0) : text(o, "unix", 4, opts);
	}
	if (!a)
		return text(o, NULL, 0, port ? 0 : opts);
	if (port)
		return putf(o, "%d", p);
	inet_ntop(ss->ss_family, a, buf, sizeof(buf));
	text(o, buf, strlen(buf), opts);
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* "27/Nov/2026:09:52:26" + ".961" (ms) or " +0000" (zone), local or GMT. */
static void date(struct out *o, const struct timeval *tv, bool gmt, bool ms)
{
	struct tm tm;
	long off;

	if (gmt)
		gmtime_r(&tv->tv_sec, &tm);
	else
		localtime_r(&tv->tv_sec, &tm);
	putf(o, "%02d/%s/%04d:%02d:%02d:%02d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	     tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (ms)
		return putf(o, ".%03d", (int)(tv->tv_usec / 1000));
	off = gmt ? 0 : tm.tm_gmtoff / 60;
	putf(o, " %c%02ld%02ld", off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

static struct timeval req_date(const struct log_rec *r)
{
	struct timeval tv = r->accept_date;
	long ms = r->ti >= 0 ? r->ti + r->th : 0;

	tv.tv_sec += ms / 1000;
	tv.tv_usec += (ms % 1000) * 1000;
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	return tv;
}

static long tq(const struct log_rec *r)
{
	return r->tr_ < 0 ? -1 : r->th + (r->ti > 0 ? r->ti : 0) + r->tr_;
}

/* The request line's parts for %HM %HU %HP %HV: [start, start+len) of r->reqline. */
static void reqline_part(const struct log_rec *r, int which, const char **s, size_t *len)
{
	const char *p = r->reqline, *sp1, *sp2;

	*s = NULL;
	*len = 0;
	if (!p || !(sp1 = strchr(p, ' ')) || !(sp2 = strrchr(p, ' ')) || sp2 == sp1)
		return;
	if (which == 0) {
		*s = p;
		*len = sp1 - p;
	} else if (which == 1 || which == 2) {
		*s = sp1 + 1;
		*len = sp2 - *s;
		if (which == 2)
			*len = strcspn(*s, "? ") < *len ? strcspn(*s, "? ") : *len;
	} else {
		*s = sp2 + 1;
		*len = strlen(*s);
	}
}

static void plus(struct out *o, const struct log_rec *r)
{
	if (r->asap)
		put(o, "+", 1);
}

static const char *hostname(void)
{
	static char host[256];

	if (!host[0] && gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "localhost");
	return host;
}

static void var_time(struct out *o, const struct log_rec *r, enum lf_var v)
{
	struct timeval tv = v == V_T || v == V_TG || v == V_TL ? r->accept_date : req_date(r);
	long ta = r->tt - r->th - (r->ti > 0 ? r->ti : 0);

	switch (v) {
	case V_T:
	case V_TR_DATE:
		return date(o, &tv, false, true);
	case V_TG:
	case V_TRG:
		return date(o, &tv, true, false);
	case V_TL:
	case V_TRL:
		return date(o, &tv, false, false);
	case V_MS:
		return putf(o, "%03d", (int)(r->accept_date.tv_usec / 1000));
	case V_TQ:
		return putf(o, "%ld", tq(r));
	case V_TH:
		return putf(o, "%ld", r->th);
	case V_TI:
		return putf(o, "%ld", r->ti);
	case V_TR:
		return putf(o, "%ld", r->tr_);
	case V_TW:
		return putf(o, "%ld", r->tw);
	case V_TC:
		return putf(o, "%ld", r->tc);
	case V_TRES:
		return putf(o, "%ld", r->tres);
	case V_TA:
		plus(o, r);
		return putf(o, "%ld", ta);
	case V_TT:
		plus(o, r);
		return putf(o, "%ld", r->tt);
	case V_TD:
		if (tq(r) < 0 || r->tw < 0 || r->tc < 0 || r->tres < 0)
			return putf(o, "-1");
		return putf(o, "%ld", r->tt - (tq(r) + r->tw + r->tc + r->tres));
	default:
		return;
	}
}

static void var(struct out *o, const struct log_rec *r, const struct lf_node *nd)
{
	unsigned int q = nd->opts;
	const char *s;
	size_t len;

	switch (nd->var) {
	case V_CI:
		return addr(o, &r->cli, false, q);
	case V_CP:
		return addr(o, &r->cli, true, q);
	case V_FI:
		return addr(o, &r->front, false, q);
	case V_FP:
		return addr(o, &r->front, true, q);
	case V_SI:
		return addr(o, &r->srv_addr, false, q);
	case V_SP:
		return addr(o, &r->srv_addr, true, q);
	case V_ST:
		return putf(o, "%d", r->status);
	case V_B:
		plus(o, r);
		return putf(o, "%llu", (unsigned long long)r->bytes_out);
	case V_U:
		return putf(o, "%llu", (unsigned long long)r->bytes_in);
	case V_CC:
	case V_CS:
	case V_ID:
		return text(o, NULL, 0, q);
	case V_HR:
	case V_HS:
	case V_HRL:
	case V_HSL:
		return; /* no "capture": nothing */
	case V_TSC:
		return put(o, r->term, 4);
	case V_TS:
		return put(o, r->term, 2);
	case V_AC:
		return putf(o, "%u", r->ac);
	case V_FC:
		return putf(o, "%u", r->fc);
	case V_BC:
		return putf(o, "%u", r->bc);
	case V_SC:
		return putf(o, "%u", r->sc);
	case V_RC:
		return putf(o, "%s%d", r->redispatched ? "+" : "", r->retries);
	case V_SQ:
		return putf(o, "%u", r->sq);
	case V_BQ:
		return putf(o, "%u", r->bq);
	case V_R:
		if (!r->reqline)
			return text(o, "<BADREQ>", 8, q);
		return escaped(o, r->reqline, strlen(r->reqline), q);
	case V_HM:
	case V_HU:
	case V_HP:
	case V_HV:
		reqline_part(r, nd->var - V_HM, &s, &len);
		return escaped(o, s, len, q);
	case V_FT:
	case V_F:
		return text(o, r->fe, strlen(r->fe), q);
	case V_BE:
		return text(o, r->be, strlen(r->be), q);
	case V_S:
		s = r->srv ? r->srv : "<NOSRV>";
		return text(o, s, strlen(s), q);
	case V_PID:
		return putf(o, "%d", (int)getpid());
	case V_H:
		s = hostname();
		return text(o, s, strlen(s), q);
	default:
		return var_time(o, r, nd->var);
	}
}

void logfmt_addr_port(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	struct out o = {buf, buf + len - 1};

	addr(&o, ss, false, 0);
	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6) {
		put(&o, ":", 1);
		addr(&o, ss, true, 0);
	}
	*o.p = 0;
}

size_t logfmt_build(const struct logfmt *lf, const struct log_rec *r, char *buf, size_t len)
{
	struct out o = {buf, buf + len - 1};
	bool lastsp = true; /* a separator after nothing, or after a space, is not printed */

	for (size_t i = 0; i < lf->n; i++) {
		const struct lf_node *nd = &lf->nodes[i];
		char *before = o.p;

		if (nd->type == N_SEP) {
			if (!lastsp)
				put(&o, " ", 1);
			lastsp = true;
			continue;
		}
		if (nd->type == N_TEXT)
			put(&o, nd->text, strlen(nd->text));
		else
			var(&o, r, nd);
		if (o.p != before)
			lastsp = false;
	}
	*o.p = 0;
	return (size_t)(o.p - buf);
}
