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

/* Timeouts in milliseconds; 0 means unset (HAProxy's "infinite" / fallback semantics). */
struct px_timeouts {
	unsigned int connect;
	unsigned int client;
	unsigned int server;
	unsigned int tunnel;
	unsigned int http_request;
	unsigned int client_fin;
	unsigned int server_fin;
};

enum lb_algo {
	LB_ROUNDROBIN,
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
	unsigned long long cum_conns;
	int rr_credit;		/* weighted round robin state */
	bool down;		/* marked DOWN by health checks */
	struct srv_check *chk;	/* health-check state (check.c), NULL without "check" */
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
};

struct global {
	int maxconn;		/* 0: unset, derived from the file limit */
	bool nosplice;
	enum log_target log;	/* "log stdout|stderr ..." */
	char *stats_socket;	/* "stats socket PATH": unix socket for the runtime API */
	unsigned int stats_socket_mode;	/* "mode 600" (octal), default 0600 */
	int stats_socket_level;		/* 0 user, 1 operator, 2 admin (default) */
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
 * Keyword tables, shared by cfg.c (tokenizer, sections, dispatch), cfg_global.c and cfg_proxy.c:
 * HAProxy's cfg_kw_list rows { sections, "keyword", parse_fn }. Not for use outside cfg*.c.
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
extern const struct cfg_kw cfg_proxy_kws[];

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

#endif /* WSPLICE_CFG_H */
