/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_CFG_H
#define WSPLICE_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "acl.h"
#include "log.h"

/*
 * The parsed configuration: HAProxy's section and keyword subset. cfg.c tokenizes and dispatches
 * to the keyword tables; cfg_check() resolves names and applies HAProxy's post-parse checks.
 * Everything here is owned by struct config and freed by cfg_free().
 */

struct http_rule;
struct http_fwdfor;
struct http_errfile;
struct log_tgt;
struct logfmt;

enum px_mode {
	PX_MODE_HTTP,
	PX_MODE_TCP,
};

/* Proxy capabilities: a "listen" section has both. */
#define PX_CAP_FE 0x1
#define PX_CAP_BE 0x2

/* Proxy options (bit flags in struct proxy.options). */
#define PX_O_HTTP_SERVER_CLOSE 0x1
#define PX_O_LOGASAP 0x2
#define PX_O_ALLBACKUPS 0x4	/* "option allbackups" */
#define PX_O_HTTPCHK 0x8	/* "option httpchk": HTTP health checks */
#define PX_O_LOG_HEALTH_CHECKS 0x10 /* "option log-health-checks" */
#define PX_O_HTTPCLOSE 0x20	/* "option httpclose": close both sides after each response */
#define PX_O_HTTP_KEEP_ALIVE 0x40 /* "option http-keep-alive" (the default, said explicitly) */
#define PX_O_REDISPATCH 0x80	/* "option redispatch": retry on another server */
#define PX_O_DONTLOGNULL 0x100	/* "option dontlognull": no line for a connection that sent nothing */
#define PX_O_SPLICE_AUTO 0x200	/* "option splice-auto": tunnels reach the kernel once long-lived */
/* "option tcp-smart-accept" is automatic in mode http, as in HAProxy: these say it was forced
 * on, or off ("no option tcp-smart-accept"); neither means the mode decides */
#define PX_O_TCP_SMARTACC 0x400
#define PX_O_NO_TCP_SMARTACC 0x800
#define PX_O_TCP_SMARTCON 0x1000	/* "option tcp-smart-connect" */
/* The three HTTP connection modes: setting one clears the others in that proxy. */
#define PX_O_HTTP_MODES (PX_O_HTTP_SERVER_CLOSE | PX_O_HTTPCLOSE | PX_O_HTTP_KEEP_ALIVE)

/* Timeouts in milliseconds; 0 means unset (HAProxy's "infinite" / fallback semantics). */
struct px_timeouts {
	unsigned int connect;
	unsigned int client;
	unsigned int server;
	unsigned int tunnel;
	unsigned int http_request;
	unsigned int client_fin;
	unsigned int server_fin;
	unsigned int http_keep_alive;	/* wait for the next request; 0: http-request's */
	unsigned int queue;		/* wait for a server slot; 0: connect's */
};

/* "http-reuse": who may use an idle server connection (HAProxy's modes; safe by default). */
enum http_reuse {
	HTTP_REUSE_SAFE,	/* a client's later requests, not its first */
	HTTP_REUSE_NEVER,	/* only the client that opened it */
	HTTP_REUSE_AGGRESSIVE,	/* also first requests, once the connection was reused */
	HTTP_REUSE_ALWAYS,	/* any request */
};

enum lb_algo {
	LB_ROUNDROBIN,
	LB_STATIC_RR,
	LB_LEASTCONN,
	LB_FIRST,
	LB_SOURCE,
	LB_URI,
	LB_HDR,
	LB_RANDOM,
};

/* "hash-type": how a hash picks a server (lb_hash.c). */
enum lb_hash_type {
	LB_HASH_MAP,		/* map-based (HAProxy's default): hash modulo the total weight */
	LB_HASH_CONSISTENT,	/* a ring of points per server: a departing server moves only its keys */
};

enum lb_hash_fn {
	LB_HASH_SDBM,		/* HAProxy's default */
	LB_HASH_DJB2,
	LB_HASH_WT6,
	LB_HASH_CRC32,
};

/* "http-check expect": what a response must show for an HTTP check to pass. */
enum chk_expect {
	CHK_EXPECT_NONE,	/* HAProxy's default: status 2xx or 3xx */
	CHK_EXPECT_STATUS,	/* "status 200[,300-399...]" */
	CHK_EXPECT_RSTATUS,	/* "rstatus REGEX" on the status code */
	CHK_EXPECT_STRING,	/* "string TEXT" in the body */
	CHK_EXPECT_RSTRING,	/* "rstring REGEX" on the body */
};

/* The HTTP request and expectation of a backend's checks ("option httpchk", "http-check"). */
struct http_check {
	char *method;		/* default OPTIONS */
	char *uri;		/* default / */
	char *version;		/* default HTTP/1.0 */
	char *hdrs;		/* "Name: value\r\n"... from "http-check send hdr", or NULL */
	char *body;		/* "http-check send body", or NULL */
	enum chk_expect expect;
	bool expect_neg;	/* "http-check expect ! ..." */
	char *expect_text;	/* the pattern as written */
	void *expect_re;	/* compiled regex_t for rstatus/rstring, NULL otherwise */
};

struct bind_conf {
	struct bind_conf *next;
	struct sockaddr_storage addr;	/* when fd < 0 */
	socklen_t addrlen;
	int fd;				/* "fd@N": inherited listening socket, else -1 */
	char *text;			/* the bind argument as written, for messages */
	const char *file;
	int line;
};

struct proxy;
struct stream;

/* HTTP responses per status class, HAProxy's hrsp_1xx .. hrsp_5xx and hrsp_other. */
#define HRSP_NR 6
static inline unsigned int hrsp_class(int status)
{
	return status >= 100 && status < 600 ? status / 100 - 1 : HRSP_NR - 1;
}

struct server {
	struct server *next;
	struct proxy *be;
	char *id;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int weight;		/* 1..256, default 1 */
	bool check;
	bool disabled;
	unsigned int check_inter;	/* ms, "inter", default 2000 */
	unsigned int check_rise;	/* "rise", default 2 */
	unsigned int check_fall;	/* "fall", default 3 */
	const char *file;
	int line;

	/* runtime, not config */
	unsigned int cur_conns;
	unsigned int max_conns;	/* highest cur_conns seen ("smax") */
	unsigned long long cum_conns;
	int rr_credit;		/* weighted round robin state */
	bool down;		/* marked DOWN by health checks */
	struct srv_check *chk;	/* health-check state (check.c), NULL without "check" */
	bool drain;		/* "set server ... state drain": no new connections */
	unsigned char send_proxy; /* "send-proxy": 1, "send-proxy-v2": 2 */
	char *ck_value;		/* "cookie VALUE": what the sticky cookie names it */
	struct idle_conn *idle;	/* idle connections shared by clients (srvpool.c) */
	unsigned int nidle;
	unsigned long long bytes_in, bytes_out; /* ended transactions' bytes (stats.c) */
	unsigned long long last_change_ms;	/* loop time of the last state change */

	/* config, appended */
	bool backup;		/* "backup": used only when no active server is usable */
	bool shutdown_sessions;	/* "on-marked-down shutdown-sessions" */
	unsigned int maxconn;	/* "maxconn": 0 is no limit */
	unsigned int check_fastinter;	/* ms, "fastinter"; 0: inter */
	unsigned int check_downinter;	/* ms, "downinter"; 0: inter */
	unsigned int check_port;	/* "port"; 0: the server's port */
	struct sockaddr_storage check_addr; /* "addr"; check_addrlen 0: the server's address */
	socklen_t check_addrlen;
	unsigned int puid;	/* 1-based position in its backend (HAProxy's id), set on append */

	/* runtime, appended (counted in httplog.c, shown by cli.c and prom.c) */
	unsigned long long hrsp[HRSP_NR];	/* responses per status class */
};

struct switching_rule {
	struct switching_rule *next;
	struct acl_cond *cond;	/* NULL: unconditional */
	char *be_name;
	struct proxy *be;	/* resolved by cfg_check() */
	const char *file;
	int line;
};

struct proxy {
	struct proxy *next;
	char *id;
	unsigned int cap;	/* PX_CAP_FE | PX_CAP_BE */
	enum px_mode mode;
	unsigned int options;	/* PX_O_* */
	bool log_global;
	int maxconn;		/* 0: unset (frontends then get the global value) */
	struct px_timeouts timeout;
	enum lb_algo lb;

	struct bind_conf *binds;
	struct acl *acls;
	struct switching_rule *rules;
	char *defbe_name;
	struct proxy *defbe;	/* resolved by cfg_check() */
	struct server *servers;
	unsigned int nservers;

	const char *file;	/* where the section starts */
	int line;

	/* runtime, not config */
	unsigned int cur_conns;
	unsigned long long cum_conns;
	struct server *rr_next;
	unsigned long long bytes_in, bytes_out; /* ended transactions' bytes (stats.c) */
	unsigned long long max_conns;		 /* highest cur_conns seen */
	struct stream *queue_head, *queue_tail;	 /* requests waiting for a server slot */
	unsigned int nqueued;

	/* config, appended */
	enum lb_hash_type hash_type;	/* "hash-type" */
	enum lb_hash_fn hash_fn;
	bool hash_avalanche;		/* "hash-type ... avalanche" */
	bool uri_whole;			/* "balance uri whole": the query string too */
	bool uri_path_only;		/* "balance uri path-only" */
	enum http_reuse http_reuse;	/* "http-reuse", default safe */
	int retries;			/* "retries", default 3 (set by cfg.c) */
	int redispatch_interval;	/* "option redispatch N"; -1: on the last retry */
	char *ck_name;			/* "cookie NAME ...": sticky sessions (cookie.h) */
	unsigned char ck_mode;		/* enum ck_mode */
	bool ck_indirect, ck_nocache, ck_httponly, ck_secure;
	unsigned int uri_len;		/* "balance uri len N"; 0: all */
	unsigned int uri_depth;		/* "balance uri depth N"; 0: all */
	char *hdr_name;			/* "balance hdr(NAME)" */
	bool hdr_domain_only;		/* "balance hdr(NAME) use_domain_only" */
	unsigned int random_draws;	/* "balance random(N)", default 2 */
	unsigned int timeout_check;	/* ms, "timeout check"; 0 unset */
	struct http_check *httpchk;	/* "option httpchk", "http-check"; NULL: TCP checks */
	struct server *defsrv;		/* "default-server" settings, a template for "server" */

	/* runtime, appended (backend.c, lb_*.c) */
	bool lb_backup;			/* the backup servers are the ones in use */
	struct server *lb_only;		/* the one backup in use, without "option allbackups" */
	unsigned int lb_neligible;	/* servers in use, whatever their load */
	unsigned int lb_tot_weight;	/* their total weight */
	unsigned long long lb_sig;	/* identifies the set in use: tables rebuild on change */
	struct server *lb_last;		/* last server picked, for round-robin tie breaks */
	unsigned int lb_pos;		/* static-rr position */
	struct lb_tbl *lb_tbl;		/* static-rr map and hashing tables (lb_hash.c) */

	/* config, appended (cfg_http.c; run time in http_rules.c) */
	struct http_rule *http_req_rules;	/* "http-request", in order */
	struct http_rule *http_res_rules;	/* "http-response", in order */
	unsigned int n_res_rules;
	struct http_fwdfor *fwdfor;		/* "option forwardfor"; NULL: off */
	char *monitor_uri;			/* "monitor-uri" */
	struct http_errfile *errfiles;		/* "errorfile" */

	/* runtime, appended (counted in httplog.c and stream.c, shown by cli.c and prom.c) */
	unsigned long long hrsp[HRSP_NR];	/* responses per status class */
	unsigned long long denied_req;		/* requests refused by "http-request deny" */

	/* config, appended (cfg_log.c; run time in httplog.c) */
	struct log_tgt *logs;			/* the proxy's own "log" lines */
	char *log_format;			/* option httplog/tcplog, log-format; NULL: none */
	struct logfmt *logfmt;			/* log_format compiled */
	bool log_httplog;			/* it came from "option httplog" (tcp falls back) */
};

struct global {
	int maxconn;		/* 0: unset, derived from the file limit */
	int maxpipes;		/* "maxpipes": splice(2) pipes at once; 0: maxconn / 4 */
	bool nosplice;
	bool busy_polling;	/* "busy-polling": epoll_wait never sleeps (loop.c) */
	struct log_tgt *log;	/* "log" lines (syslog.h) */
	char *stats_socket;	/* "stats socket PATH": unix socket for the runtime API */
	unsigned int stats_socket_mode;	/* "mode 600" (octal), default 0600 */
	int stats_socket_level;		/* 0 user, 1 operator, 2 admin (default) */
	bool stats_expose_fd;		/* "expose-fd listeners": -x may take fds (reload.h) */
	unsigned int spread_checks;	/* "spread-checks N": percent of jitter on check intervals */

	/* process management, appended (cfg_global.c; run time in privs.c and main.c) */
	bool daemon;		/* "daemon": as -D */
	char *pidfile;		/* "pidfile PATH": as -p (the command line wins) */
	unsigned int hard_stop_after;	/* ms, "hard-stop-after"; 0: a soft stop waits forever */
	unsigned int uid, gid;	/* "user"/"uid", "group"/"gid"; 0: unchanged (HAProxy's rule) */
	char *chroot;		/* "chroot DIR" */
};

struct config {
	struct global global;
	struct proxy *proxies;	/* frontends, backends and listens, in file order */
	char **files;		/* file names, owned, referenced by file/line fields */
	size_t nfiles;
	struct proxy *defaults;	/* latest "defaults" section, parse time only (not in proxies) */
};

/*
 * Parses one file and appends to cfg. Every problem is reported on stderr as
 * "parsing [file:line] : ..." (HAProxy's shape). Returns the number of errors (0 on success).
 */
int cfg_parse_file(struct config *cfg, const char *path);

/*
 * Post-parse checks once every file is read: resolves backend names, fills inherited values,
 * warns about missing timeouts as HAProxy does. Returns the number of errors.
 */
int cfg_check(struct config *cfg);

struct proxy *cfg_find_proxy(const struct config *cfg, const char *id, unsigned int cap);
void cfg_free(struct config *cfg);

/*
 * Parses a time "10", "10ms", "5s", "1m", "1h", "1d" (default unit ms) into *ms.
 * Returns NULL on success or a pointer to the first invalid character; overflow is an error.
 */
const char *cfg_parse_time(const char *text, unsigned int *ms);

/*
 * Parses "ADDR:PORT", ":PORT", "*:PORT", "[v6]:PORT", "v6:PORT" (last colon) and host names
 * resolved once at startup. Returns 0 or -1 with a message in err.
 */
int cfg_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err,
		   size_t errlen);

/*
 * Keyword tables, shared by cfg.c (tokenizer, sections, dispatch), cfg_global.c, cfg_proxy.c,
 * cfg_server.c and cfg_http.c: HAProxy's cfg_kw_list rows { sections, "keyword", parse_fn }.
 * Not for use outside cfg*.c.
 */
#define CFG_SEC_GLOBAL 0x01
#define CFG_SEC_DEFAULTS 0x02
#define CFG_SEC_FRONTEND 0x04
#define CFG_SEC_BACKEND 0x08
#define CFG_SEC_LISTEN 0x10
#define CFG_SEC_PROXIES (CFG_SEC_DEFAULTS | CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN)

/* Where the line being parsed lives. */
struct cfg_kw_ctx {
	struct config *cfg;
	struct proxy *px;	/* the current section's proxy, NULL in "global" */
	unsigned int sect;	/* one CFG_SEC_* */
	const char *file;
	int line;
	bool no;		/* the line started with "no" */
	unsigned int seen;	/* timeouts already set in this section, for HAProxy's warning */
};

/*
 * A keyword parser gets args[0..n) with args[0] the keyword. Returns 0 when accepted, 1 when
 * accepted with a warning in err, -1 on error with the message in err (without the
 * "parsing [file:line] : " prefix, which the caller adds).
 */
typedef int (*cfg_kw_fn)(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen);

#define CFG_KW_NO 0x1	/* accepts the "no" prefix */

struct cfg_kw {
	const char *kw;
	unsigned int sections;	/* CFG_SEC_* where it is allowed; elsewhere an error */
	unsigned int cap;	/* PX_CAP_* it needs: without it, ignored with a warning */
	unsigned int flags;	/* CFG_KW_* */
	cfg_kw_fn parse;
};

extern const struct cfg_kw cfg_global_kws[];	/* terminated by a NULL kw */

/* Shared by the keyword files: an integer in [min, max] (0 or -1), and a delay with HAProxy's
 * messages (what names the argument, e.g. "'timeout client'"). */
int cfg_parse_int(const char *s, long min, long max, long *v);
/* The first character HAProxy does not permit in a proxy or server name, or 0. */
int cfg_bad_name_char(const char *s);
int cfg_time_arg(const char *what, const char *val, unsigned int *ms, char *err, size_t errlen);
int kw_server(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen);
int kw_default_server(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen);
extern const struct cfg_kw cfg_proxy_kws[];
extern const struct cfg_kw cfg_http_kws[];	/* proxy keywords of cfg_http.c */

/* Log keywords (cfg_log.c), same contract as cfg_kw_fn: "log" in global and in proxies,
 * "option httplog [clf]" / "option tcplog" (from the "option" parser), "log-format". */
int cfg_log_global(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen);
int cfg_log_proxy(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen);
int cfg_log_option(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen);
int cfg_log_format(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen);
/* What a proxy takes from "defaults" (0 or -ENOMEM), and freeing it. */
int cfg_log_inherit(struct proxy *px, const struct proxy *def);
void cfg_log_free(struct proxy *px);

/* "[no] option forwardfor ...", called by the "option" parser (same contract as cfg_kw_fn). */
int cfg_http_forwardfor(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen);
/* What a proxy takes from "defaults": option forwardfor and errorfile. 0 or -ENOMEM. */
int cfg_http_inherit(struct proxy *px, const struct proxy *def);
/* Frees what cfg_http.c allocated in px. */
void cfg_http_free(struct proxy *px);

/*
 * The tokenizer, HAProxy's rules: words split on spaces, '#' starts a comment, double quotes
 * expand "$VAR", "${VAR}" and "${VAR-default}", single quotes keep everything, backslash
 * escapes. Writes the words into out (outlen bytes) and points args[] at them. Returns the number
 * of words or a CFG_TOK_* error with *errpos at the offending character in line.
 */
#define CFG_MAX_ARGS 64		/* HAProxy's MAX_LINE_ARGS */
#define CFG_MAX_LINE 65536	/* longer lines are an error */
#define CFG_TOK_QUOTE (-1)
#define CFG_TOK_BRACE (-2)
#define CFG_TOK_VARNAME (-3)
#define CFG_TOK_HEX (-4)
#define CFG_TOK_TOOMANY (-5)
#define CFG_TOK_TOOLARGE (-6)
int cfg_tokenize(const char *line, char *out, size_t outlen, char **args, int maxargs,
		 const char **errpos);

/* A backend's HTTP check settings: deep copy (NULL on ENOMEM) and free (NULL is fine). */
struct http_check *cfg_httpchk_dup(const struct http_check *src);
void cfg_httpchk_free(struct http_check *hc);

#endif /* WSPLICE_CFG_H */
