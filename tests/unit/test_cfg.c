// SPDX-License-Identifier: GPL-2.0
/*
 * user/cfg.c, cfg_global.c, cfg_proxy.c: tokenizer, time and address parsers, every keyword,
 * defaults inheritance, every error class with its line number, cfg_check(). Configurations are
 * written to temporary files and stderr is captured to check the messages.
 */
#include "cfg.h"
#include "logfmt.h"
#include "syslog.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static char tmpdir[] = "/tmp/test_cfg.XXXXXX";
static char msgs[65536]; /* what the last parse printed on stderr */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
}

/* Runs fn with fd 2 going to a file, then appends what it printed to msgs. */
static int capture_more(int (*fn)(struct config *, const char *), struct config *cfg,
			const char *arg)
{
	size_t used = strlen(msgs);
	char path[256];
	int saved, fd, rc;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved = dup(2);
	dup2(fd, 2);
	rc = fn(cfg, arg);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, msgs + used, sizeof(msgs) - used - 1, 0);
	msgs[used + (n > 0 ? n : 0)] = '\0';
	close(fd);
	return rc;
}

static int capture(int (*fn)(struct config *, const char *), struct config *cfg, const char *arg)
{
	msgs[0] = '\0';
	return capture_more(fn, cfg, arg);
}

static int check_fn(struct config *cfg, const char *unused)
{
	(void)unused;
	return cfg_check(cfg);
}

/* Parses text as file "NAME.cfg" into a fresh cfg; returns the error count. */
static int parse(struct config *cfg, const char *name, const char *text)
{
	char path[256];

	memset(cfg, 0, sizeof(*cfg));
	snprintf(path, sizeof(path), "%s/%s.cfg", tmpdir, name);
	write_file(path, text);
	return capture(cfg_parse_file, cfg, path);
}

/* Parses then checks, as main.c does; messages of both steps end up in msgs. */
static int parse_check(struct config *cfg, const char *name, const char *text)
{
	int errors = parse(cfg, name, text);

	return errors + capture_more(check_fn, cfg, NULL);
}

/* A config error: the count, "parsing [NAME.cfg:LINE]" and a piece of the message. */
static void expect_error(const char *name, const char *text, int line, const char *what)
{
	struct config cfg;
	char where[128];
	int errors = parse_check(&cfg, name, text);

	snprintf(where, sizeof(where), "parsing [%s/%s.cfg:%d]", tmpdir, name, line);
	ok(errors >= 1, "%s: rejected", name);
	has_str(msgs, where, "%s: names line %d", name, line);
	has_str(msgs, what, "%s: says '%s'", name, what);
	cfg_free(&cfg);
}

static const char *const TMO = "defaults\n timeout client 1s\n timeout server 1s\n"
			       " timeout connect 1s\n";

static char *with_tmo(const char *text)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "%s%s", TMO, text);
	return buf;
}

/* ---- tokenizer ---------------------------------------------------------------------------- */

static int tok(const char *line, char **args, const char **errpos)
{
	static char out[4096];

	return cfg_tokenize(line, out, sizeof(out), args, CFG_MAX_ARGS, errpos);
}

static void test_tokenizer(void)
{
	char *a[CFG_MAX_ARGS];
	const char *e;
	char big[400];
	int n;

	setenv("WS_FOO", "val", 1);
	unsetenv("WS_NOPE");
	is_int(tok("  bind\t:80   ssl ", a, &e), 3, "tok: words split on spaces and tabs");
	is_str(a[1], ":80", "tok: second word");
	is_int(tok("", a, &e), 0, "tok: empty line");
	is_int(tok("   # comment", a, &e), 0, "tok: comment line");
	is_int(tok("a b # c d", a, &e), 2, "tok: trailing comment");
	n = tok("a#b", a, &e);
	ok(n == 1 && !strcmp(a[0], "a"), "tok: '#' inside a word starts a comment");
	n = tok("\"a#b\" a\\#b", a, &e);
	ok(n == 2 && !strcmp(a[0], "a#b") && !strcmp(a[1], "a#b"), "tok: quoted and escaped '#'");
	n = tok("\"a b\" 'c d' e\\ f", a, &e);
	ok(n == 3 && !strcmp(a[0], "a b") && !strcmp(a[1], "c d") && !strcmp(a[2], "e f"),
	   "tok: double quotes, single quotes, escaped space");
	n = tok("a\"b c\"d", a, &e);
	ok(n == 1 && !strcmp(a[0], "ab cd"), "tok: quotes inside a word");
	n = tok("\"a\\\"b\" a\\\\b \\' \\$", a, &e);
	ok(n == 4 && !strcmp(a[0], "a\"b") && !strcmp(a[1], "a\\b") && !strcmp(a[2], "'") &&
	       !strcmp(a[3], "$"),
	   "tok: escapes \\\" \\\\ \\' \\$");
	n = tok("a\\tb \"\\r\\n\" \\x41\\x7a a\\bc", a, &e);
	ok(n == 4 && !strcmp(a[0], "a\tb") && !strcmp(a[1], "\r\n") && !strcmp(a[2], "Az") &&
	       !strcmp(a[3], "a\\bc"),
	   "tok: \\t \\r \\n \\xHH, unknown escape kept");
	n = tok("'a\\'b", a, &e);
	ok(n == 1 && !strcmp(a[0], "a\\b"), "tok: no escapes inside single quotes");
	n = tok("\"${WS_FOO}\" \"x$WS_FOO\" '${WS_FOO}' ${WS_FOO}", a, &e);
	ok(n == 4 && !strcmp(a[0], "val") && !strcmp(a[1], "xval") && !strcmp(a[2], "${WS_FOO}") &&
	       !strcmp(a[3], "${WS_FOO}"),
	   "tok: environment expanded in double quotes only");
	n = tok("\"${WS_NOPE-def ault}\" \"${WS_FOO-def}\" \"a${WS_NOPE}b\" \"${WS_NOPE-}\"z", a,
		&e);
	ok(n == 4 && !strcmp(a[0], "def ault") && !strcmp(a[1], "val") && !strcmp(a[2], "ab") &&
	       !strcmp(a[3], "z"),
	   "tok: ${VAR-default}, unset variable is empty");
	n = tok("\"x", a, &e);
	ok(n == CFG_TOK_QUOTE && e && *e == '"', "tok: unmatched double quote, points at it");
	is_int(tok("'x", a, &e), CFG_TOK_QUOTE, "tok: unmatched single quote");
	n = tok("\"${WS_FOO:-x}\"", a, &e);
	ok(n == CFG_TOK_BRACE && *e == '{', "tok: ${VAR:-x} is an unmatched brace as in HAProxy");
	is_int(tok("\"${WS_FOO\"", a, &e), CFG_TOK_BRACE, "tok: unterminated ${");
	n = tok("\"a$\"", a, &e);
	ok(n == CFG_TOK_VARNAME && *e == '"', "tok: '$' without a name");
	is_int(tok("\"$1\"", a, &e), CFG_TOK_VARNAME, "tok: variable name starting with a digit");
	is_int(tok("\"${}\"", a, &e), CFG_TOK_VARNAME, "tok: empty variable name");
	n = tok("a\\x4", a, &e);
	ok(n == CFG_TOK_HEX && *e == '\\', "tok: truncated \\x");
	memset(big, 0, sizeof(big));
	for (n = 0; n < 65; n++)
		strcat(big, "w ");
	is_int(tok(big, a, &e), CFG_TOK_TOOMANY, "tok: 65 words are too many");
	big[2 * 64] = '\0';
	is_int(tok(big, a, &e), 64, "tok: 64 words are fine");
	is_int(cfg_tokenize("abcdef", big, 4, a, CFG_MAX_ARGS, &e), CFG_TOK_TOOLARGE,
	       "tok: output buffer bound");
	n = tok("a \"\" b", a, &e);
	ok(n == 3 && !a[1][0], "tok: empty quoted word kept");
}

/* ---- time and address --------------------------------------------------------------------- */

static void time_ok(const char *text, unsigned int want)
{
	unsigned int ms = 12345;
	const char *res = cfg_parse_time(text, &ms);

	ok(!res && ms == want, "time: '%s' is %u ms (got %u)", text, want, ms);
}

static void time_bad(const char *text, int at)
{
	unsigned int ms = 7;
	const char *res = cfg_parse_time(text, &ms);

	ok(res && res - text == at && ms == 7, "time: '%s' is invalid at %d", text, at);
}

static void test_time(void)
{
	time_ok("0", 0);
	time_ok("10", 10);
	time_ok("10ms", 10);
	time_ok("5s", 5000);
	time_ok("2m", 120000);
	time_ok("1h", 3600000);
	time_ok("1d", 86400000);
	time_ok("1us", 1);
	time_ok("1500us", 2);
	time_ok("2000us", 2);
	time_ok("2147483647", 2147483647u);
	time_ok("24d", 2073600000u);
	time_bad("", 0);
	time_bad("abc", 0);
	time_bad("-1", 0);
	time_bad("10x", 2);
	time_bad("10sx", 3);
	time_bad("10 s", 2);
	time_bad("1.5s", 1);
	/* overflow: the returned pointer is the terminating NUL */
	time_bad("2147483648", 10);
	time_bad("25d", 3);
	time_bad("99999999999999999999", 20);
	time_bad("596524h", 7);
}

static void addr_ok(const char *text, int family, const char *host, int port)
{
	struct sockaddr_storage ss;
	char err[256] = "", buf[64] = "";
	socklen_t len = 0;
	int p = -1;

	if (cfg_parse_addr(text, &ss, &len, err, sizeof(err)) == 0) {
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf,
				  sizeof(buf));
			p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf,
				  sizeof(buf));
			p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
	}
	ok(ss.ss_family == family && !strcmp(buf, host) && p == port && len > 0,
	   "addr: '%s' is %s port %d (got %s %d %s)", text, host, port, buf, p, err);
}

static void addr_bad(const char *text, const char *what)
{
	struct sockaddr_storage ss;
	char err[256] = "";
	socklen_t len;

	ok(cfg_parse_addr(text, &ss, &len, err, sizeof(err)) < 0 && strstr(err, what),
	   "addr: '%s' refused with '%s' (got '%s')", text, what, err);
}

static void test_addr(void)
{
	addr_ok("127.0.0.1:80", AF_INET, "127.0.0.1", 80);
	addr_ok(":8080", AF_INET, "0.0.0.0", 8080);
	addr_ok("*:65535", AF_INET, "0.0.0.0", 65535);
	addr_ok("[::1]:443", AF_INET6, "::1", 443);
	addr_ok(":::81", AF_INET6, "::", 81);
	addr_ok("::1:82", AF_INET6, "::1", 82);
	addr_ok("[2001:db8::5]:1", AF_INET6, "2001:db8::5", 1);
	addr_ok("localhost:80", AF_INET, "127.0.0.1", 80);
	addr_bad("1.2.3.4", "missing port");
	addr_bad("1.2.3.4:0", "invalid port '0'");
	addr_bad("1.2.3.4:65536", "invalid port");
	addr_bad("1.2.3.4:http", "invalid port");
	addr_bad("1.2.3.4:", "invalid port");
	addr_bad("1.2.3.4:80-90", "port ranges");
	addr_bad("[::1]80", "invalid address");
	addr_bad("[::1:80", "invalid address");
	addr_bad("no-such-host.invalid:80", "invalid address");
	addr_bad("1.2.3.400:80", "invalid address");
}

/* ---- keywords ----------------------------------------------------------------------------- */

static void test_global(void)
{
	struct config cfg;
	int errors;

	errors = parse(&cfg, "global",
		       "global\n maxconn 5000\n nosplice\n"
		       " log stdout format raw local0 info notice\n"
		       " stats socket /run/ws.sock mode 660 level operator\n"
		       "global\n");
	is_int(errors, 0, "global: accepted (%s)", msgs);
	is_int(cfg.global.maxconn, 5000, "global: maxconn");
	ok(cfg.global.nosplice, "global: nosplice");
	ok(cfg.global.log && cfg.global.log->type == LOG_TGT_FD && cfg.global.log->fd == 1,
	   "global: log stdout");
	ok(cfg.global.log && cfg.global.log->framing == LOG_FMT_RAW &&
		   cfg.global.log->facility == 16 && cfg.global.log->maxlvl == 6 &&
		   cfg.global.log->minlvl == 5 && cfg.global.log->len == 1024,
	   "global: log format raw local0 info notice, len 1024 by default");
	is_str(cfg.global.stats_socket, "/run/ws.sock", "global: stats socket path");
	is_int(cfg.global.stats_socket_mode, 0660, "global: stats socket mode (octal)");
	is_int(cfg.global.stats_socket_level, 1, "global: stats socket level operator");
	cfg_free(&cfg);

	errors = parse(&cfg, "global2",
		       "global\n log stderr daemon\n log 127.0.0.1 len 100 local1\n"
		       " log /dev/log format short user\n stats socket unix@/tmp/s\n");
	is_int(errors, 0, "global: three log lines, unix@ socket");
	ok(cfg.global.log && cfg.global.log->fd == 2 && cfg.global.log->framing == LOG_FMT_RFC3164,
	   "global: log stderr, rfc3164 by default");
	ok(cfg.global.log && cfg.global.log->next && cfg.global.log->next->type == LOG_TGT_UDP &&
		   cfg.global.log->next->len == 100 &&
		   ((struct sockaddr_in *)&cfg.global.log->next->addr)->sin_port == htons(514),
	   "global: UDP target on port 514 by default, len 100");
	ok(cfg.global.log && cfg.global.log->next && cfg.global.log->next->next &&
		   cfg.global.log->next->next->type == LOG_TGT_UNIX,
	   "global: /dev/log is a unix datagram target");
	is_int(cfg.global.stats_socket_mode, 0600, "global: stats socket mode defaults to 0600");
	is_int(cfg.global.stats_socket_level, 2, "global: stats socket level defaults to admin");
	is_str(cfg.global.stats_socket, "/tmp/s", "global: unix@ prefix stripped");
	cfg_free(&cfg);

	errors = parse(&cfg, "global3", "global\n log stdout format short daemon\n");
	is_int(errors, 0, "global: log format short with a facility");
	cfg_free(&cfg);
	errors = parse(&cfg, "global4", "global\n log stdout format rfc5424 local7 debug\n");
	is_int(errors, 0, "global: log format rfc5424");
	cfg_free(&cfg);
	errors = parse(&cfg, "global5", "global\n log stderr format rfc3164 local0\n");
	is_int(errors, 0, "global: log format rfc3164");
	cfg_free(&cfg);
}

static const struct bind_conf *nth_bind(const struct proxy *px, int i)
{
	const struct bind_conf *b = px->binds;

	while (b && i--)
		b = b->next;
	return b;
}

static int bind_port(const struct bind_conf *b)
{
	const struct sockaddr_in *sin = (const void *)&b->addr;

	return b ? ntohs(sin->sin_port) : -1; /* same offset in sockaddr_in6 */
}

static void test_bind(void)
{
	struct config cfg;
	struct proxy *fe;
	int errors;

	setenv("WS_LISTEN_FD", "7", 1);
	errors = parse(&cfg, "bind",
		       "frontend fe\n bind :8001,127.0.0.1:8002,[::1]:8003\n"
		       " bind :::8004\n bind *:8005\n bind fd@3\n"
		       " bind \"fd@${WS_LISTEN_FD}\"\n");
	is_int(errors, 0, "bind: every form accepted (%s)", msgs);
	fe = cfg_find_proxy(&cfg, "fe", PX_CAP_FE);
	is_int(bind_port(nth_bind(fe, 0)), 8001, "bind: first of a comma list");
	is_int(bind_port(nth_bind(fe, 1)), 8002, "bind: second of a comma list");
	is_int(nth_bind(fe, 2)->addr.ss_family, AF_INET6, "bind: [::1] is IPv6");
	is_int(bind_port(nth_bind(fe, 2)), 8003, "bind: [::1] port");
	is_int(nth_bind(fe, 3)->addr.ss_family, AF_INET6, "bind: ::: is IPv6 any");
	is_int(bind_port(nth_bind(fe, 4)), 8005, "bind: *:PORT");
	is_int(nth_bind(fe, 0)->fd, -1, "bind: fd is -1 for an address");
	is_int(nth_bind(fe, 5)->fd, 3, "bind: fd@3");
	is_int(nth_bind(fe, 6)->fd, 7, "bind: \"fd@${NAME}\"");
	is_str(nth_bind(fe, 6)->text, "fd@7", "bind: text kept for messages");
	is_int(nth_bind(fe, 6)->line, 6, "bind: line kept");
	ok(!nth_bind(fe, 7), "bind: seven binds");
	cfg_free(&cfg);
}

static void test_proxy_keywords(void)
{
	struct config cfg;
	struct proxy *fe, *be, *li;
	struct server *s;
	int errors;

	errors = parse(&cfg, "proxy",
		       "frontend fe\n"
		       " mode http\n bind :80\n maxconn 100\n"
		       " acl is_ws path_beg /ws\n acl is_ws hdr(upgrade) -i websocket\n"
		       " use_backend be if is_ws\n use_backend be2 unless { method GET }\n"
		       " default_backend be\n option logasap\n option http-server-close\n"
		       " no option http-server-close\n log global\n"
		       " timeout client 30s\n timeout client-fin 1s\n timeout http-request 5s\n"
		       "backend be\n balance roundrobin\n option http-server-close\n"
		       " timeout connect 5s\n timeout server 30s\n timeout tunnel 1h\n"
		       " timeout server-fin 2s\n"
		       " server s1 127.0.0.1:8080 check weight 10 inter 500 rise 4 fall 5\n"
		       " server s2 127.0.0.1:8081 disabled weight 0\n server s3 [::1]:8082\n"
		       "backend be2\n mode http\n"
		       "listen li\n mode tcp\n bind :81\n server s 127.0.0.1:1\n no log\n");
	is_int(errors, 0, "proxy: every keyword accepted (%s)", msgs);
	fe = cfg_find_proxy(&cfg, "fe", PX_CAP_FE);
	be = cfg_find_proxy(&cfg, "be", PX_CAP_BE);
	li = cfg_find_proxy(&cfg, "li", PX_CAP_FE);
	ok(fe && be && li, "proxy: found by name");
	ok(!cfg_find_proxy(&cfg, "fe", PX_CAP_BE), "proxy: a frontend is no backend");
	ok(cfg_find_proxy(&cfg, "li", PX_CAP_BE) == li, "proxy: a listen is both");
	if (!fe || !be || !li)
		return;
	is_int(fe->cap, PX_CAP_FE, "frontend: capability");
	is_int(li->cap, PX_CAP_FE | PX_CAP_BE, "listen: capabilities");
	is_int(fe->mode, PX_MODE_HTTP, "mode http");
	is_int(li->mode, PX_MODE_TCP, "mode tcp");
	is_int(fe->maxconn, 100, "maxconn");
	ok(fe->acls && !strcmp(fe->acls->name, "is_ws") && fe->acls->exprs &&
	       fe->acls->exprs->next && !fe->acls->next,
	   "acl: two lines with one name make one ACL of two expressions");
	ok(fe->rules && !strcmp(fe->rules->be_name, "be") && fe->rules->cond &&
	       !fe->rules->cond->unless && fe->rules->line == 7,
	   "use_backend NAME if ACL");
	ok(fe->rules && fe->rules->next && fe->rules->next->cond->unless &&
	       fe->rules->next->cond->anon,
	   "use_backend NAME unless { anonymous }");
	is_str(fe->defbe_name, "be", "default_backend");
	is_int(fe->options, PX_O_LOGASAP, "option logasap, no option http-server-close");
	ok(fe->log_global, "log global");
	ok(!li->log_global, "no log");
	is_int(fe->timeout.client, 30000, "timeout client");
	is_int(fe->timeout.client_fin, 1000, "timeout client-fin");
	is_int(fe->timeout.http_request, 5000, "timeout http-request");
	is_int(be->timeout.connect, 5000, "timeout connect");
	is_int(be->timeout.server, 30000, "timeout server");
	is_int(be->timeout.tunnel, 3600000, "timeout tunnel");
	is_int(be->timeout.server_fin, 2000, "timeout server-fin");
	is_int(be->lb, LB_ROUNDROBIN, "balance roundrobin");
	is_int(be->options, PX_O_HTTP_SERVER_CLOSE, "option http-server-close");
	is_int(be->nservers, 3, "three servers");
	s = be->servers;
	ok(s && !strcmp(s->id, "s1") && s->check && s->weight == 10 && s->check_inter == 500 &&
	       s->check_rise == 4 && s->check_fall == 5 && !s->disabled && s->be == be,
	   "server with check weight inter rise fall");
	s = s ? s->next : NULL;
	ok(s && s->disabled && s->weight == 0 && !s->check && s->check_inter == 2000 &&
	       s->check_rise == 2 && s->check_fall == 3,
	   "server disabled weight 0, default inter/rise/fall");
	s = s ? s->next : NULL;
	ok(s && s->weight == 1 && s->addr.ss_family == AF_INET6 && s->line == 26,
	   "server defaults: weight 1; IPv6 address; line");
	is_int(capture(check_fn, &cfg, NULL), 0, "proxy: cfg_check passes");
	ok(fe->defbe == be && fe->rules->be == be && fe->rules->next->be,
	   "cfg_check resolves backends");
	cfg_free(&cfg);
}

/* Balancing and check keywords, default-server and their inheritance from defaults. */
static void test_balance_keywords(void)
{
	struct proxy *a, *b, *c, *d;
	struct http_check *hc;
	struct config cfg;
	struct server *s;
	int errors;

	errors = parse(&cfg, "balance",
		       "global\n spread-checks 5\n"
		       "defaults\n timeout check 2s\n default-server inter 1s fall 5\n"
		       " option httpchk GET /health\n balance source\n hash-type consistent\n"
		       "backend a\n"
		       " http-check send meth HEAD ver HTTP/1.1 hdr Host x hdr Upgrade websocket\n"
		       " http-check expect ! rstatus ^5\n option allbackups\n"
		       " option log-health-checks\n default-server maxconn 10\n"
		       " server s1 127.0.0.1:1 check on-marked-down shutdown-sessions port 2 "
		       "addr 127.0.0.2\n"
		       " server s2 127.0.0.1:2 check backup fastinter 100 downinter 5s maxconn 0\n"
		       " server s3 127.0.0.1:3 no-check enabled\n"
		       "backend b\n balance uri whole len 10 depth 2 path-only\n"
		       " hash-type map-based crc32 avalanche\n no option httpchk\n"
		       "backend c\n balance hdr(Host) use_domain_only\n"
		       " http-check expect string ok\n"
		       "defaults\n"
		       "backend d\n balance random(3)\n option httpchk /x\n"
		       " server s 127.0.0.1:4\n");
	is_int(errors, 0, "balance: every keyword accepted (%s)", msgs);
	is_int(cfg.global.spread_checks, 5, "spread-checks");
	a = cfg_find_proxy(&cfg, "a", PX_CAP_BE);
	b = cfg_find_proxy(&cfg, "b", PX_CAP_BE);
	c = cfg_find_proxy(&cfg, "c", PX_CAP_BE);
	d = cfg_find_proxy(&cfg, "d", PX_CAP_BE);
	if (!ok(a && b && c && d, "balance: the backends exist"))
		return;
	is_int(a->lb, LB_SOURCE, "balance source from defaults");
	is_int(a->hash_type, LB_HASH_CONSISTENT, "hash-type consistent from defaults");
	is_int(a->timeout_check, 2000, "timeout check from defaults");
	ok(a->options & PX_O_ALLBACKUPS, "option allbackups");
	ok(a->options & PX_O_LOG_HEALTH_CHECKS, "option log-health-checks");
	ok(a->options & PX_O_HTTPCHK, "option httpchk from defaults");
	hc = a->httpchk;
	ok(hc && !strcmp(hc->method, "HEAD") && !strcmp(hc->uri, "/health") &&
	       !strcmp(hc->version, "HTTP/1.1"),
	   "http-check send overrides the method and version of option httpchk");
	is_str(hc ? hc->hdrs : NULL, "Host: x\r\nUpgrade: websocket\r\n", "http-check send hdr");
	ok(hc && hc->expect == CHK_EXPECT_RSTATUS && hc->expect_neg && hc->expect_re,
	   "http-check expect ! rstatus");
	s = a->servers;
	ok(s && s->check && s->shutdown_sessions && s->check_port == 2 && s->check_addrlen &&
	       s->maxconn == 10 && s->check_inter == 1000 && s->check_fall == 5 && s->puid == 1,
	   "server: check options, default-server of defaults and of the backend");
	s = s ? s->next : NULL;
	ok(s && s->backup && s->check_fastinter == 100 && s->check_downinter == 5000 &&
	       s->maxconn == 0 && s->puid == 2,
	   "server: backup fastinter downinter, maxconn 0 overrides default-server");
	s = s ? s->next : NULL;
	ok(s && !s->check && !s->disabled, "server: no-check, enabled");
	is_int(b->lb, LB_URI, "balance uri");
	ok(b->uri_whole && b->uri_len == 10 && b->uri_depth == 2 && b->uri_path_only,
	   "balance uri whole len depth path-only");
	ok(b->hash_type == LB_HASH_MAP && b->hash_fn == LB_HASH_CRC32 && b->hash_avalanche,
	   "hash-type map-based crc32 avalanche");
	ok(!(b->options & PX_O_HTTPCHK), "no option httpchk");
	ok(c->lb == LB_HDR && c->hdr_name && !strcmp(c->hdr_name, "Host") && c->hdr_domain_only,
	   "balance hdr(Host) use_domain_only");
	ok(c->httpchk && c->httpchk->expect == CHK_EXPECT_STRING &&
	       !strcmp(c->httpchk->expect_text, "ok") && !strcmp(c->httpchk->uri, "/health"),
	   "http-check expect string; the defaults' httpchk is kept");
	ok(d->lb == LB_RANDOM && d->random_draws == 3, "balance random(3)");
	ok(d->httpchk && !strcmp(d->httpchk->uri, "/x") && !d->httpchk->method && !d->timeout_check,
	   "a new defaults section starts afresh; option httpchk URI");
	ok(d->servers && d->servers->check_inter == 2000 && !d->servers->maxconn,
	   "no default-server after a new defaults");
	cfg_free(&cfg);
}

/* Logging from defaults: targets copied, formats compiled again, dontlognull; overridden. */
static void test_log_defaults(void)
{
	struct proxy *fe, *fe2, *fe3;
	struct config cfg;
	int errors;

	errors = parse(&cfg, "log_defaults",
		       "global\n log stdout format raw local0\n"
		       "defaults\n log global\n log 127.0.0.1:5140 local1\n option httplog clf\n"
		       " option dontlognull\n"
		       "frontend fe\n bind :1\n"
		       "frontend fe2\n bind :2\n no log\n option tcplog\n"
		       "frontend fe3\n bind :3\n log-format \"%ci %{+Q}r\"\n option httplog\n");
	is_int(errors, 0, "log defaults: accepted (%s)", msgs);
	fe = cfg_find_proxy(&cfg, "fe", PX_CAP_FE);
	fe2 = cfg_find_proxy(&cfg, "fe2", PX_CAP_FE);
	fe3 = cfg_find_proxy(&cfg, "fe3", PX_CAP_FE);
	if (!fe || !fe2 || !fe3)
		return;
	ok(fe->log_global && fe->logs && fe->logs->type == LOG_TGT_UDP && fe->logs->facility == 17 &&
		   !fe->logs->next,
	   "log global and the defaults' own target are inherited");
	is_str(fe->log_format, LOGFMT_HTTPLOG_CLF, "option httplog clf inherited");
	ok(fe->logfmt != NULL, "the inherited format is compiled");
	ok(fe->options & PX_O_DONTLOGNULL, "option dontlognull inherited");
	ok(!fe2->log_global && !fe2->logs, "no log: neither global nor own targets");
	is_str(fe2->log_format, LOGFMT_TCPLOG, "option tcplog replaces the inherited format");
	ok(fe3->log_httplog, "the last of log-format and option httplog wins");
	is_str(fe3->log_format, LOGFMT_HTTPLOG, "option httplog after log-format");
	cfg_free(&cfg);
}

static void test_defaults(void)
{
	struct config cfg;
	struct proxy *fe0, *fe, *be, *fe2;
	int errors;

	errors = parse(&cfg, "defaults",
		       "frontend fe0\n bind :1\n"
		       "defaults\n mode tcp\n maxconn 10\n option logasap\n log global\n"
		       " timeout client 1s\n timeout server 2s\n timeout connect 3s\n"
		       " timeout tunnel 4s\n default_backend be\n"
		       "frontend fe\n bind :2\n timeout client 9s\n"
		       "backend be\n server s 127.0.0.1:1\n"
		       "defaults named\n timeout client 5s\n"
		       "frontend fe2\n bind :3\n");
	is_int(errors, 0, "defaults: accepted (%s)", msgs);
	fe0 = cfg_find_proxy(&cfg, "fe0", PX_CAP_FE);
	fe = cfg_find_proxy(&cfg, "fe", PX_CAP_FE);
	be = cfg_find_proxy(&cfg, "be", PX_CAP_BE);
	fe2 = cfg_find_proxy(&cfg, "fe2", PX_CAP_FE);
	if (!fe0 || !fe || !be || !fe2)
		return;
	ok(fe0->mode == PX_MODE_HTTP && !fe0->timeout.client,
	   "defaults: mode is http before any defaults (HAProxy: tcp)");
	ok(fe->mode == PX_MODE_TCP && be->mode == PX_MODE_TCP, "defaults: mode inherited");
	is_int(fe->maxconn, 10, "defaults: maxconn inherited by a frontend");
	is_int(fe->options, PX_O_LOGASAP, "defaults: options inherited");
	ok(fe->log_global && be->log_global, "defaults: log global inherited");
	is_int(fe->timeout.client, 9000, "defaults: a proxy overrides a timeout");
	is_str(fe->defbe_name, "be", "defaults: default_backend inherited");
	ok(be->timeout.server == 2000 && be->timeout.connect == 3000 && be->timeout.tunnel == 4000,
	   "defaults: backend timeouts inherited");
	ok(!be->timeout.client && !fe->timeout.server,
	   "defaults: each side inherits only its own timeouts");
	ok(!be->defbe_name && !be->maxconn, "defaults: frontend settings not given to a backend");
	ok(fe2->mode == PX_MODE_HTTP && fe2->timeout.client == 5000 && !fe2->defbe_name &&
	       !fe2->options,
	   "defaults: a new defaults section starts afresh");
	cfg_free(&cfg);

	/* "defaults" carries over to the next file, as HAProxy's several -f do */
	errors = parse(&cfg, "multi1", "defaults\n mode tcp\n");
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/multi2.cfg", tmpdir);
		write_file(path, "backend b2\n");
		errors += capture(cfg_parse_file, &cfg, path);
	}
	be = cfg_find_proxy(&cfg, "b2", PX_CAP_BE);
	ok(!errors && be && be->mode == PX_MODE_TCP && cfg.nfiles == 2,
	   "defaults: apply across files");
	ok(be && strstr(be->file, "multi2.cfg") && be->line == 1, "proxy: file and line recorded");
	cfg_free(&cfg);
}

/* ---- errors and warnings ------------------------------------------------------------------ */

static void test_errors(void)
{
	expect_error("e_unknown", "global\n\n foo bar\n", 3,
		     "unknown keyword 'foo' in 'global' section");
	expect_error("e_unknown_fe", "frontend fe\n bind :1\n option httplog\n stick-table x\n", 4,
		     "unknown keyword 'stick-table' in 'frontend' section");
	expect_error("e_unknown_opt", "frontend fe\n bind :1\n option http-use-proxy-header\n", 3,
		     "unknown option 'http-use-proxy-header'");
	expect_error("e_nosection", "# x\nmaxconn 1\n", 2,
		     "unknown keyword 'maxconn' out of section");
	expect_error("e_srv_fe", "frontend fe\n bind :1\n server s 1.2.3.4:5\n", 3,
		     "'server' not allowed because frontend 'fe' has no backend capability");
	expect_error("e_def_bind", "defaults\n bind :80\n", 2,
		     "'bind' not allowed in 'defaults' section");
	expect_error("e_def_ub", "defaults\n use_backend x\n", 2,
		     "'use_backend' not allowed in 'defaults' section");
	expect_error("e_def_acl", "defaults\n acl a path /\n", 2,
		     "'acl' not allowed in 'defaults' section");
	expect_error("e_def_srv", "defaults\n\n server s 1.1.1.1:1\n", 3,
		     "'server' not allowed in 'defaults' section");
	expect_error("e_glob_fe_kw", "global\n mode http\n", 2,
		     "unknown keyword 'mode' in 'global' section");
	expect_error("e_noid", "frontend\n", 1, "'frontend' expects an <id> argument");
	expect_error("e_from", "frontend fe from d\n", 1, "'from' is not supported yet");
	expect_error("e_badname", "backend a/b\n", 1, "character '/' is not permitted");
	expect_error("e_dup", "backend b\nfrontend b\n bind :1\nlisten b\n", 4,
		     "listen 'b' has the same name as backend 'b' declared at");
	expect_error("e_quote", "global\n maxconn \"5\n", 2, "unmatched quote at position 10");
	expect_error("e_brace", "global\n stats socket \"${X\"\n", 2, "unmatched brace");
	expect_error("e_var", "global\n stats socket \"$\"\n", 2,
		     "forbidden first char in environment variable name");
	expect_error("e_hex", "global\n \\xZZ\n", 2, "truncated or invalid hexadecimal");
	expect_error("e_words",
		     "global\n a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 "
		     "3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 "
		     "29 30 31 32 33 34 35 36 37 38 39\n",
		     2, "too many words, truncating after word 64");
	expect_error("e_no", "frontend fe\n no bind :1\n", 2, "negation/default");
	expect_error("e_maxconn", "global\n maxconn lots\n", 2, "'maxconn' expects an integer");
	expect_error("e_maxconn2", "global\n maxconn 1 2\n", 2,
		     "'maxconn' cannot handle unexpected argument '2'");
	expect_error("e_nosplice", "global\n nosplice yes\n", 2, "cannot handle unexpected");
	expect_error("e_log_target", "global\n log ring@x local0\n", 2, "is not supported");
	expect_error("e_log_len", "global\n log stdout len 10 local0\n", 2,
		     "invalid log length '10', must be between 80 and 65535");
	expect_error("e_lf_var", "frontend fe\n bind :1\n log-format \"%ci %zz\"\n", 3,
		     "failed to parse log-format : no such format variable 'zz'");
	expect_error("e_lf_args", "frontend fe\n bind :1\n log-format %ci %b\n", 3,
		     "log-format expects only one argument, don't forget to escape spaces!");
	expect_error("e_lf_sample", "frontend fe\n bind :1\n log-format \"%[src]\"\n", 3,
		     "sample expressions (%[...]) are not supported");
	expect_error("e_httplog_arg", "frontend fe\n bind :1\n option httplog foo\n", 3,
		     "keyword 'httplog' only supports option 'clf'.");
	expect_error("e_httplog_no", "frontend fe\n bind :1\n no option httplog\n", 3,
		     "negation/default is not supported for option 'httplog'.");
	expect_error("e_log_fmt", "global\n log stdout format bogus\n", 2,
		     "unknown log format 'bogus'");
	expect_error("e_log_fmt2", "global\n log stdout format iso local0\n", 2,
		     "unknown log format 'iso'");
	expect_error("e_log_fac", "global\n log stdout locl0\n", 2, "unknown log facility 'locl0'");
	expect_error("e_log_lvl", "global\n log stdout local0 infx\n", 2,
		     "unknown optional log level 'infx'");
	expect_error("e_log_none", "global\n log\n", 2, "expects <address>");
	expect_error("e_log_glob", "global\n log global\n", 2, "'global' is not supported");
	expect_error("e_log_nofac", "global\n log stdout format raw\n", 2,
		     "unknown log facility ''");
	expect_error("e_px_log", "frontend fe\n bind :1\n log stdout local0 bogus\n", 3,
		     "unknown optional log level 'bogus'");
	expect_error("e_stats", "global\n stats timeout 5s\n", 2,
		     "'stats timeout' is not supported");
	expect_error("e_stats_lvl", "global\n stats socket /tmp/x level root\n", 2,
		     "'level' only supports 'user', 'operator', and 'admin' (got 'root')");
	expect_error("e_stats_mode", "global\n stats socket /tmp/x mode 9\n", 2,
		     "missing or invalid mode '9'");
	expect_error("e_stats_opt", "global\n stats socket /tmp/x accept-proxy\n", 2,
		     "unknown keyword 'accept-proxy'");
	expect_error("e_stats_expose", "global\n stats socket /tmp/x expose-fd all\n", 2,
		     "'expose-fd' only supports 'listeners' (got 'all')");
	expect_error("e_stats_tcp", "global\n stats socket ipv4@127.0.0.1:9999\n", 2,
		     "only UNIX socket paths");
	expect_error("e_mode", "backend b\n mode health\n", 2, "unknown proxy mode 'health'");
	expect_error("e_bind_none", "frontend fe\n bind\n", 2, "'bind' expects");
	expect_error("e_bind_opt", "frontend fe\n bind :443 ssl crt x.pem\n", 2,
		     "unknown keyword 'ssl'");
	expect_error("e_bind_port", "frontend fe\n bind 1.2.3.4\n", 2,
		     "missing port specification");
	expect_error("e_bind_comma", "frontend fe\n bind :1,\n", 2, "empty address");
	expect_error("e_bind_fd", "frontend fe\n bind fd@abc\n", 2, "'fd@abc'");
	expect_error("e_bind_unix", "frontend fe\n bind unix@/tmp/x\n", 2, "not supported yet");
	expect_error("e_bind_range", "frontend fe\n bind :80-81\n", 2, "port ranges");
	expect_error("e_fe_maxconn", "frontend fe\n maxconn -1\n", 2, "expects an integer");
	expect_error("e_ub", "frontend fe\n use_backend\n", 2, "'use_backend' expects a backend");
	expect_error("e_ub_kw", "frontend fe\n use_backend b when x\n", 2,
		     "unexpected keyword 'when' after switching rule");
	expect_error("e_ub_acl", "frontend fe\n acl a path /\n use_backend b if a nope\n", 3,
		     "no such ACL : 'nope'");
	expect_error("e_acl_crit", "frontend fe\n acl a pathbeg /\n", 2,
		     "unknown fetch method 'pathbeg'");
	expect_error("e_acl_src", "frontend fe\n acl a src 10.0.0.0/33\n", 2,
		     "'10.0.0.0/33' is not a valid IPv4 or IPv6 address");
	expect_error("e_acl_anon", "frontend fe\n use_backend b if { path_beg /x\n", 2,
		     "missing closing '}'");
	expect_error("e_defbe", "frontend fe\n default_backend\n", 2, "expects a backend name");
	expect_error("e_defbe2", "frontend fe\n default_backend a b\n", 2,
		     "unexpected argument 'b'");
	expect_error("e_srv_args", "backend b\n server s\n", 2,
		     "'server' expects <name> and <addr>");
	expect_error("e_srv_port", "backend b\n server s 127.0.0.1\n", 2, "missing port");
	expect_error("e_srv_any", "backend b\n server s :80\n", 2, "has no host");
	expect_error("e_srv_opt", "backend b\n server s 1.1.1.1:1 check foo\n", 2,
		     "'server b/s' : unknown keyword 'foo'");
	expect_error("e_srv_slowstart", "backend b\n server s 1.1.1.1:1 slowstart 10s\n", 2,
		     "'server b/s' : 'slowstart' is not supported yet");
	expect_error("e_opt_redispatch_arg", "backend b\n option redispatch 0\n", 2,
		     "'option redispatch' expects a non-zero integer");
	expect_error("e_retries", "backend b\n retries many\n", 2,
		     "'retries' expects an integer argument");
	expect_error("e_srv_cookie", "backend b\n server s 1.1.1.1:1 cookie\n", 2,
		     "'server b/s' : 'cookie' expects");
	expect_error("e_cookie_opt", "backend b\n cookie SRV insert maxidle 1h\n", 2,
		     "'cookie maxidle' is not supported yet");
	expect_error("e_srv_maxconn", "backend b\n server s 1.1.1.1:1 maxconn x\n", 2,
		     "'maxconn' expects an integer argument");
	expect_error("e_srv_port", "backend b\n server s 1.1.1.1:1 port 70000\n", 2,
		     "'port' expects a valid TCP port");
	expect_error("e_srv_addr", "backend b\n server s 1.1.1.1:1 addr\n", 2,
		     "'addr' expects <ipv4|ipv6> as argument");
	expect_error("e_srv_omd", "backend b\n server s 1.1.1.1:1 on-marked-down foo\n", 2,
		     "'on-marked-down' expects 'shutdown-sessions' but got 'foo'");
	expect_error("e_srv_fastinter", "backend b\n server s 1.1.1.1:1 fastinter 0\n", 2,
		     "invalid value 0 for argument 'fastinter' of server s");
	expect_error("e_defsrv", "backend b\n default-server foo\n", 2, "unknown keyword 'foo'");
	expect_error("e_defsrv_fe", "frontend f\n default-server check\n", 2,
		     "'default-server' not allowed because frontend 'f' has no backend capability");
	expect_error("e_srv_weight", "backend b\n server s 1.1.1.1:1 weight 257\n", 2,
		     "weight of server s is not within 0 and 256 (257)");
	expect_error("e_srv_weight2", "backend b\n server s 1.1.1.1:1 weight\n", 2,
		     "'weight' expects an integer argument");
	expect_error("e_srv_rise", "backend b\n server s 1.1.1.1:1 rise 0\n", 2,
		     "'rise' has to be > 0");
	expect_error("e_srv_fall", "backend b\n server s 1.1.1.1:1 fall x\n", 2,
		     "'fall' expects an integer argument");
	expect_error("e_srv_inter", "backend b\n server s 1.1.1.1:1 inter 0\n", 2,
		     "invalid value 0 for argument 'inter'");
	expect_error("e_srv_inter2", "backend b\n server s 1.1.1.1:1 inter 2x\n", 2,
		     "unexpected character 'x' in 'inter' argument of server s");
	expect_error("e_srv_inter3", "backend b\n server s 1.1.1.1:1 inter\n", 2,
		     "'inter' expects a delay");
	expect_error("e_balance", "backend b\n balance url_param x\n", 2,
		     "balance 'url_param' is not supported yet");
	expect_error("e_balance_uri", "backend b\n balance uri len x\n", 2,
		     "balance uri : 'len' expects a positive integer (got 'x')");
	expect_error("e_balance_uri2", "backend b\n balance uri foo\n", 2,
		     "balance uri only accepts parameters");
	expect_error("e_balance_hdr", "backend b\n balance hdr()\n", 2,
		     "balance hdr requires an http header field name");
	expect_error("e_balance_hdr2", "backend b\n balance hdr(host) foo\n", 2,
		     "only accepts 'use_domain_only' modifier (got 'foo')");
	expect_error("e_balance_rnd", "backend b\n balance random(0)\n", 2,
		     "number of draws must be at least 1");
	expect_error("e_balance_first", "backend b\n balance first x\n", 2,
		     "'balance' cannot handle unexpected argument 'x'");
	expect_error("e_hash_type", "backend b\n hash-type foo\n", 2,
		     "'hash-type' only supports 'consistent' and 'map-based'");
	expect_error("e_hash_fn", "backend b\n hash-type consistent md5\n", 2,
		     "only supports 'sdbm', 'djb2', 'crc32', or 'wt6'");
	expect_error("e_hash_mod", "backend b\n hash-type consistent sdbm x\n", 2,
		     "only supports 'avalanche' as a modifier");
	expect_error("e_opt_tcpcheck", "backend b\n option tcp-check\n", 2,
		     "'option tcp-check' is not supported yet");
	expect_error("e_httpchk_args", "backend b\n option httpchk a b c d\n", 2,
		     "'option httpchk' cannot handle unexpected argument 'd'");
	expect_error("e_hc_send", "backend b\n http-check send foo\n", 2,
		     "'http-check send' : expects 'meth'");
	expect_error("e_hc_hdr", "backend b\n http-check send hdr Host\n", 2,
		     "'hdr' expects <name> and <value> as arguments");
	expect_error("e_hc_expect", "backend b\n http-check expect foo x\n", 2,
		     "'http-check expect' : only supports");
	expect_error("e_hc_expect2", "backend b\n http-check expect status\n", 2,
		     "'status' expects a <pattern> as argument");
	expect_error("e_hc_status", "backend b\n http-check expect status 2xx\n", 2,
		     "invalid status list '2xx'");
	expect_error("e_hc_regex", "backend b\n http-check expect rstatus (\n", 2,
		     "regex '(' is invalid");
	expect_error("e_hc_twice",
		     "backend b\n http-check expect status 200\n http-check expect string x\n", 3,
		     "a second rule is not supported yet");
	expect_error("e_hc_404", "backend b\n http-check disable-on-404\n", 2,
		     "'http-check disable-on-404' is not supported yet");
	expect_error("e_hc_foo", "backend b\n http-check foo\n", 2, "'http-check' only supports");
	expect_error("e_spread", "global\n spread-checks 60\n", 2,
		     "'spread-checks' needs a positive value in range 0..50");
	expect_error("e_spread2", "global\n spread-checks\n", 2,
		     "'spread-checks' expects an integer argument");
	expect_error("e_balance2", "backend b\n balance fastest\n", 2, "balance only supports");
	expect_error("e_tmo_kw", "backend b\n timeout foo 1s\n", 2, "'timeout' supports");
	expect_error("e_tmo_unsup", "backend b\n timeout tarpit 1s\n", 2,
		     "'timeout tarpit' is not supported yet");
	expect_error("e_tmo_check", "backend b\n timeout check x\n", 2,
		     "unexpected character 'x' in 'timeout check'");
	expect_error("e_tmo_val", "backend b\n timeout server\n", 2,
		     "'timeout server' expects an integer value");
	expect_error("e_tmo_extra", "backend b\n timeout server 1 2\n", 2,
		     "unexpected extra argument '2' after value '1'");
	expect_error("e_tmo_char", "backend b\n timeout connect 10x\n", 2,
		     "unexpected character 'x' in 'timeout connect'");
	expect_error("e_tmo_over", "backend b\n timeout tunnel 25d\n", 2,
		     "timer overflow in argument '25d' to 'timeout tunnel'");
	expect_error("e_opt_extra", "backend b\n option http-server-close now\n", 2,
		     "'option http-server-close' cannot handle unexpected argument 'now'");
}

static void test_error_lines(void)
{
	struct config cfg;
	char path[256], line[CFG_MAX_LINE + 100];
	int errors;

	/* several errors reported in one pass, as HAProxy */
	errors = parse(&cfg, "several", "global\n foo\n bar\nbackend b\n baz\n");
	is_int(errors, 3, "every error of a file is reported");
	ok(strstr(msgs, "several.cfg:2]") && strstr(msgs, "several.cfg:3]") &&
	       strstr(msgs, "several.cfg:5]"),
	   "each with its own line");
	has_str(msgs, "Error(s) found in configuration file", "file summary as HAProxy");
	cfg_free(&cfg);

	memset(line, 'a', sizeof(line) - 1);
	memcpy(line, "global\n", 7);
	strcpy(line + CFG_MAX_LINE + 20, "\n foo\n");
	errors = parse(&cfg, "long", line);
	ok(errors == 2 && strstr(msgs, "long.cfg:2] : line too long") &&
	       strstr(msgs, "long.cfg:3] : unknown keyword 'foo'"),
	   "a too long line is an error and the next line is read");
	cfg_free(&cfg);

	memset(&cfg, 0, sizeof(cfg));
	snprintf(path, sizeof(path), "%s/nul.cfg", tmpdir);
	{
		FILE *f = fopen(path, "w");

		fwrite("global\n maxconn 5\0x\n", 1, 20, f);
		fclose(f);
	}
	errors = capture(cfg_parse_file, &cfg, path);
	ok(errors == 1 && strstr(msgs, "nul.cfg:2] : Stray NUL character at position 11"),
	   "a NUL byte is an error");
	cfg_free(&cfg);

	memset(&cfg, 0, sizeof(cfg));
	snprintf(path, sizeof(path), "%s/none.cfg", tmpdir);
	errors = capture(cfg_parse_file, &cfg, path);
	ok(errors == 1, "missing file is an error");
	has_str(msgs, "Cannot open configuration file/directory", "missing file: HAProxy's text");
	has_str(msgs, "none.cfg : No such file or directory", "missing file: names it and why");
	cfg_free(&cfg);

	{
		char many[4096] = "global\n";
		int i;

		for (i = 0; i < 60; i++)
			strcat(many, " x\n");
		errors = parse(&cfg, "many", many);
		ok(errors == 51 && strstr(msgs, "too many fatal errors (50), stopping now"),
		   "stops after 50 errors as HAProxy");
		cfg_free(&cfg);
	}
}

static void expect_check_error(const char *name, const char *text, const char *what)
{
	struct config cfg;
	int errors = parse_check(&cfg, name, text);

	ok(errors >= 1, "%s: refused by cfg_check", name);
	has_str(msgs, what, "%s: says '%s'", name, what);
	cfg_free(&cfg);
}

static void expect_warning(const char *name, const char *text, const char *what)
{
	struct config cfg;
	int errors = parse_check(&cfg, name, text);

	is_int(errors, 0, "%s: accepted", name);
	ok(strstr(msgs, "[WARNING]") && strstr(msgs, what), "%s: warns '%.*s'", name,
	   (int)strcspn(what, "\n"), what);
	cfg_free(&cfg);
}

static void test_check(void)
{
	struct config cfg;

	expect_check_error("c_ub", with_tmo("frontend fe\n bind :1\n use_backend nope\n"),
			   "Proxy 'fe': unable to find required use_backend: 'nope'.");
	expect_check_error("c_defbe", with_tmo("frontend fe\n bind :1\n default_backend nope\n"),
			   "Proxy 'fe': unable to find required default_backend: 'nope'.");
	expect_check_error("c_fe_as_be",
			   with_tmo("frontend fe\n bind :1\n default_backend fe2\n"
				    "frontend fe2\n bind :2\n"),
			   "unable to find required default_backend: 'fe2'");
	expect_check_error("c_dupsrv",
			   with_tmo("backend be\n server s1 1.1.1.1:1\n server s1 1.1.1.1:2\n"),
			   "c_dupsrv.cfg:7] : backend 'be', another server named 's1' was already "
			   "defined at line 6, please use distinct names.");
	expect_check_error(
	    "c_http_tcp",
	    with_tmo("frontend fe\n bind :1\n use_backend be\nbackend be\n mode tcp\n"),
	    "http frontend 'fe' (");
	expect_check_error("c_http_tcp2",
			   with_tmo("frontend fe\n bind :1\n default_backend be\nbackend be\n"
				    " mode tcp\n"),
			   "tries to use incompatible tcp backend 'be'");
	expect_check_error("c_tcp_http",
			   with_tmo("frontend fe\n mode tcp\n bind :1\n default_backend be\n"
				    "backend be\n"),
			   "tcp frontend 'fe'");
	expect_warning(
	    "w_tmo", "frontend fe\n bind :1\n",
	    "missing timeouts for frontend 'fe'.\n   | While not properly invalid, you will "
	    "certainly encounter various problems\n   | with such a configuration. To fix "
	    "this, please ensure that all following\n   | timeouts are set to a non-zero "
	    "value: 'client', 'connect', 'server'.");
	expect_warning("w_tmo_be", "backend be\n timeout connect 1s\n server s 1.1.1.1:1\n",
		       "missing timeouts for backend 'be'");
	expect_warning("w_tmo_li", "listen li\n bind :1\n timeout client 1s\n server s 1.1.1.1:1\n",
		       "missing timeouts for proxy 'li'");
	expect_warning("w_nobind", with_tmo("frontend fe\n"),
		       "frontend 'fe' has no 'bind' directive. Please declare it as a backend if "
		       "this was intended.");
	expect_warning("w_tmo_client_be", with_tmo("backend be\n timeout client 5s\n"),
		       "'timeout client' will be ignored because backend 'be' has no frontend "
		       "capability");
	expect_warning("w_tmo_connect_fe", with_tmo("frontend fe\n bind :1\n timeout connect 5s\n"),
		       "'timeout connect' will be ignored because frontend 'fe' has no backend");
	expect_warning("w_logasap_be", with_tmo("backend be\n option logasap\n"),
		       "'logasap' ignored because backend 'be' has no frontend capability.");
	expect_warning("w_bind_be", with_tmo("backend be\n bind :80\n"),
		       "'bind' ignored because backend 'be' has no frontend capability.");
	expect_warning("w_maxconn_be", with_tmo("backend be\n maxconn 5\n"),
		       "'maxconn' ignored because backend 'be' has no frontend capability.");
	expect_warning("w_balance_fe", with_tmo("frontend fe\n bind :1\n balance roundrobin\n"),
		       "'balance' ignored because frontend 'fe' has no backend capability.");
	expect_warning("w_l7_tcp", with_tmo("backend be\n mode tcp\n balance uri\n"),
		       "Layer 7 hash not possible for backend 'be' (needs 'mode http'). Falling "
		       "back to round robin.");
	expect_warning("w_hc_nohttpchk", with_tmo("backend be\n http-check expect status 200\n"),
		       "backend 'be': 'http-check' rules are ignored without 'option httpchk'.");
	expect_warning("w_httpchk_fe", with_tmo("frontend fe\n bind :1\n option httpchk\n"),
		       "'httpchk' ignored because frontend 'fe' has no backend capability.");
	expect_warning("w_overwrite",
		       with_tmo("frontend fe\n bind :1\n timeout client 2s\n"
				" timeout client 3s\n"),
		       "w_overwrite.cfg:8] : overwriting 'timeout client' which was already "
		       "specified");
	expect_warning("w_acl_empty", with_tmo("frontend fe\n bind :1\n acl a path_beg\n"),
		       "no pattern to match against were provided");
	expect_warning("w_empty_arg", "global\n maxconn 5 \"\" x\n", "argument number 2 is empty");

	/* no warning when the timeouts are there, and tcp backends may use "tunnel" */
	parse_check(&cfg, "quiet",
		    with_tmo("frontend fe\n bind :1\n default_backend be\nbackend be\n"
			     " server s 1.1.1.1:1\nbackend tb\n mode tcp\n timeout server 0\n"
			     " timeout tunnel 1h\n server s 1.1.1.1:1\nbackend nosrv\n"
			     " timeout connect 0\nfrontend fe_be\n bind :2\nbackend fe_be\n"));
	ok(!strstr(msgs, "WARNING") && !strstr(msgs, "ALERT"),
	   "a complete config is quiet, frontend and backend may share a name (%s)", msgs);
	cfg_free(&cfg);
}

/* What fuzz_cfg found, and what its fix must keep (HAProxy's documented /dev/null trick). */
static void test_fuzz_regressions(void)
{
	struct config cfg;

	expect_error("f_errdir", "defaults\n errorfile 403 /tmp\n", 2,
		     "errorfile : error opening file '/tmp'.");
	is_int(parse(&cfg, "f_devnull", "defaults\n errorfile 408 /dev/null\n"), 0,
	       "errorfile 408 /dev/null: an empty page");
	cfg_free(&cfg);
	/* the cookie value of a server refused for a later option must not leak (ASan builds) */
	expect_error("f_srvck", "backend be\n server s 1.2.3.4:5 cookie a bogus\n", 2,
		     "unknown keyword 'bogus'");
	/* a second "header" that is refused freed the first one twice */
	expect_error("f_ffhdr", "defaults\n option forwardfor header X-A header Bad:Name\n", 2,
		     "invalid character ':' in header name");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	log_set_level(LOG_LVL_DEBUG);
	test_tokenizer();
	test_time();
	test_addr();
	test_global();
	test_bind();
	test_proxy_keywords();
	test_balance_keywords();
	test_defaults();
	test_log_defaults();
	test_errors();
	test_error_lines();
	test_check();
	test_fuzz_regressions();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd)) {
			/* leftovers in /tmp are harmless */
		}
	}
	return done();
}
