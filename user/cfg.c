// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration files in HAProxy's syntax: line reader, tokenizer, sections and keyword dispatch,
 * the post-parse checks, and the time and address parsers shared by the keyword files.
 * Keywords themselves live in cfg_global.c and cfg_proxy.c.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "lb_hash.h"
#include "syslog.h"

/* HAProxy gives up after this many fatal errors in one file, so do we. */
#define CFG_MAX_FATAL 50

/* What the tokenizer writes (environment expansion can make a line longer). */
#define CFG_OUT_SIZE (2 * CFG_MAX_LINE)

/* State of one cfg_parse_file() call; kw is what the keyword parsers see. */
struct cfg_parser {
	struct cfg_kw_ctx kw;
	int errors; /* alerts so far in this file: the return value */
	bool skip;  /* a broken section header: ignore lines up to the next section */
};

static const char *const sect_names[] = {
    [CFG_SEC_GLOBAL] = "global",   [CFG_SEC_DEFAULTS] = "defaults", [CFG_SEC_FRONTEND] = "frontend",
    [CFG_SEC_BACKEND] = "backend", [CFG_SEC_LISTEN] = "listen",
};

/* ---- tokenizer ---------------------------------------------------------------------------- */

struct tok {
	const char *in;	 /* next input character */
	char *out, *end; /* output cursor and limit */
	const char *errpos;
};

static bool tok_put(struct tok *t, char c)
{
	if (t->out >= t->end)
		return false;
	*t->out++ = c;
	return true;
}

static bool tok_puts(struct tok *t, const char *s, size_t len)
{
	if ((size_t)(t->end - t->out) < len)
		return false;
	memcpy(t->out, s, len);
	t->out += len;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * One backslash sequence at t->in (which points at the backslash), HAProxy's set: "\ ", "\\",
 * "\#", "\'", "\"", "\$", "\r", "\n", "\t" and "\xHH". Any other backslash is kept as is.
 */
static int tok_escape(struct tok *t)
{
	const char *p = t->in + 1;
	int hi, lo;

	switch (*p) {
	case ' ':
	case '\\':
	case '#':
	case '\'':
	case '"':
	case '$':
		t->in += 2;
		return tok_put(t, *p) ? 0 : CFG_TOK_TOOLARGE;
	case 'r':
	case 'n':
	case 't':
		t->in += 2;
		return tok_put(t, *p == 'r'   ? '\r'
				  : *p == 'n' ? '\n'
					      : '\t')
			   ? 0
			   : CFG_TOK_TOOLARGE;
	case 'x':
		hi = hexval(p[1]);
		lo = hi < 0 ? -1 : hexval(p[2]);
		if (lo < 0) {
			t->errpos = t->in;
			return CFG_TOK_HEX;
		}
		t->in += 4;
		return tok_put(t, (char)(hi << 4 | lo)) ? 0 : CFG_TOK_TOOLARGE;
	default:
		t->in++;
		return tok_put(t, '\\') ? 0 : CFG_TOK_TOOLARGE;
	}
}

static bool is_var_first(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_var_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/*
 * "$NAME", "${NAME}" or "${NAME-default}" inside double quotes, t->in at the '$'. An unset
 * variable expands to nothing (HAProxy does the same); the default ends at the first '}'.
 */
static int tok_env(struct tok *t)
{
	const char *p = t->in + 1, *brace = NULL, *name, *dflt = NULL, *val;
	char buf[256];
	size_t len, dlen = 0;

	if (*p == '{')
		brace = p++;
	if (!is_var_first(*p)) {
		t->errpos = p;
		return CFG_TOK_VARNAME;
	}
	for (name = p; is_var_char(*p); p++)
		;
	len = p - name;
	if (brace && *p == '-') {
		dflt = ++p;
		p = strchr(p, '}');
		if (!p) {
			t->errpos = brace;
			return CFG_TOK_BRACE;
		}
		dlen = p - dflt;
	}
	if (brace && *p++ != '}') {
		t->errpos = brace;
		return CFG_TOK_BRACE;
	}
	if (len >= sizeof(buf)) {
		t->errpos = name;
		return CFG_TOK_VARNAME;
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	t->in = p;
	val = getenv(buf);
	if (val)
		return tok_puts(t, val, strlen(val)) ? 0 : CFG_TOK_TOOLARGE;
	return tok_puts(t, dflt ? dflt : "", dlen) ? 0 : CFG_TOK_TOOLARGE;
}

/* One word from t->in, quotes and escapes resolved. Returns 0 or a CFG_TOK_* error. */
static int tok_word(struct tok *t)
{
	const char *quote = NULL; /* the opening quote when inside one */
	int err = 0;

	while (*t->in && !err) {
		char c = *t->in;

		if (quote && c == *quote) {
			quote = NULL;
			t->in++;
		} else if (quote && *quote == '\'') {
			err = tok_put(t, c) ? 0 : CFG_TOK_TOOLARGE;
			t->in++;
		} else if (c == '\\') {
			err = tok_escape(t);
		} else if (quote && c == '$') {
			err = tok_env(t);
		} else if (quote) {
			err = tok_put(t, c) ? 0 : CFG_TOK_TOOLARGE;
			t->in++;
		} else if (c == '"' || c == '\'') {
			quote = t->in++;
		} else if (isspace((unsigned char)c) || c == '#') {
			break;
		} else {
			err = tok_put(t, c) ? 0 : CFG_TOK_TOOLARGE;
			t->in++;
		}
	}
	if (!err && quote) {
		t->errpos = quote;
		err = CFG_TOK_QUOTE;
	}
	if (!err && !tok_put(t, '\0'))
		err = CFG_TOK_TOOLARGE;
	return err;
}

int cfg_tokenize(const char *line, char *out, size_t outlen, char **args, int maxargs,
		 const char **errpos)
{
	struct tok t = {.in = line, .out = out, .end = out + outlen};
	int n = 0, err;

	*errpos = NULL;
	for (;;) {
		while (isspace((unsigned char)*t.in))
			t.in++;
		if (!*t.in || *t.in == '#')
			return n;
		if (n == maxargs) {
			*errpos = t.in;
			return CFG_TOK_TOOMANY;
		}
		args[n] = t.out;
		err = tok_word(&t);
		if (err) {
			*errpos = t.errpos ? t.errpos : t.in;
			return err;
		}
		n++;
	}
}

/* ---- messages ----------------------------------------------------------------------------- */

static void cfg_alert(struct cfg_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cfg_alert(struct cfg_parser *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_alert("parsing [%s:%d] : %s", p->kw.file, p->kw.line, msg);
	p->errors++;
}

/* HAProxy shows the line (without its indentation) with a caret under the offending character. */
static void cfg_alert_at(struct cfg_parser *p, const char *what, const char *line, const char *pos)
{
	const char *start = line;
	char shown[128];
	size_t i;
	int col;

	while (isspace((unsigned char)*start) && start < pos)
		start++;
	for (i = 0; i < sizeof(shown) - 1 && start[i]; i++)
		shown[i] = isprint((unsigned char)start[i]) ? start[i] : '?';
	shown[i] = '\0';
	col = (int)(pos - start) < (int)i ? (int)(pos - start) : (int)i;
	pr_alert("parsing [%s:%d]: %s at position %d:\n  %s\n  %*s", p->kw.file, p->kw.line, what,
		 (int)(pos - line) + 1, shown, col + 1, "^");
	p->errors++;
}

static const char *tok_strerror(int err)
{
	switch (err) {
	case CFG_TOK_QUOTE:
		return "unmatched quote";
	case CFG_TOK_BRACE:
		return "unmatched brace in environment variable name";
	case CFG_TOK_VARNAME:
		return "forbidden first char in environment variable name";
	case CFG_TOK_HEX:
		return "truncated or invalid hexadecimal sequence";
	default:
		return "line too long after environment variable expansion";
	}
}

/* ---- sections ----------------------------------------------------------------------------- */

static const char *px_type(const struct proxy *px)
{
	if ((px->cap & (PX_CAP_FE | PX_CAP_BE)) == (PX_CAP_FE | PX_CAP_BE))
		return "proxy";
	return px->cap & PX_CAP_FE ? "frontend" : "backend";
}

/* HAProxy's rule for proxy and server names: letters, digits, '-', '_', '.' and ':'. */
int cfg_bad_name_char(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.:", *s))
			return (unsigned char)*s;
	return 0;
}

/*
 * What a backend takes from "defaults" beyond timeouts: the balance arguments, hash-type,
 * "timeout check", the HTTP check and the "default-server" template (HAProxy copies them all).
 */
static int px_inherit_be(struct proxy *px, const struct proxy *def)
{
	px->hash_type = def->hash_type;
	px->hash_fn = def->hash_fn;
	px->hash_avalanche = def->hash_avalanche;
	px->uri_whole = def->uri_whole;
	px->uri_path_only = def->uri_path_only;
	px->uri_len = def->uri_len;
	px->uri_depth = def->uri_depth;
	px->hdr_domain_only = def->hdr_domain_only;
	px->random_draws = def->random_draws;
	px->timeout_check = def->timeout_check;
	px->http_reuse = def->http_reuse;
	px->retries = def->retries;
	px->redispatch_interval = def->redispatch_interval;
	px->ck_mode = def->ck_mode;
	px->ck_indirect = def->ck_indirect;
	px->ck_nocache = def->ck_nocache;
	px->ck_httponly = def->ck_httponly;
	px->ck_secure = def->ck_secure;
	if (def->ck_name && !(px->ck_name = strdup(def->ck_name)))
		return -ENOMEM;
	if (def->hdr_name && !(px->hdr_name = strdup(def->hdr_name)))
		return -ENOMEM;
	if (def->httpchk && !(px->httpchk = cfg_httpchk_dup(def->httpchk)))
		return -ENOMEM;
	if (def->defsrv) {
		px->defsrv = malloc(sizeof(*px->defsrv));
		if (!px->defsrv)
			return -ENOMEM;
		*px->defsrv = *def->defsrv;
		if (def->defsrv->ck_value && !(px->defsrv->ck_value = strdup(def->defsrv->ck_value)))
			return -ENOMEM;
	}
	return 0;
}

/*
 * A new proxy starts from the latest "defaults" section, copying only what its capabilities
 * use, as HAProxy does. Without any "defaults", the mode is http (HAProxy's is tcp: wsplice's
 * differs so that HAProxy's WebSocket examples work verbatim).
 */
static int px_inherit(struct proxy *px, const struct proxy *def)
{
	if (!def) {
		px->mode = PX_MODE_HTTP;
		px->retries = 3;	/* HAProxy's default */
		px->redispatch_interval = -1;
		return 0;
	}
	px->mode = def->mode;
	px->options = def->options;
	if (cfg_http_inherit(px, def) < 0)
		return -ENOMEM;
	px->log_global = def->log_global;
	if (cfg_log_inherit(px, def) < 0)
		return -ENOMEM;
	px->lb = def->lb;
	if (px->cap & PX_CAP_FE) {
		px->maxconn = def->maxconn;
		px->timeout.client = def->timeout.client;
		px->timeout.client_fin = def->timeout.client_fin;
		px->timeout.http_request = def->timeout.http_request;
		px->timeout.http_keep_alive = def->timeout.http_keep_alive;
		if (def->defbe_name && !(px->defbe_name = strdup(def->defbe_name)))
			return -ENOMEM;
	}
	if (px->cap & PX_CAP_BE) {
		px->timeout.connect = def->timeout.connect;
		px->timeout.server = def->timeout.server;
		px->timeout.server_fin = def->timeout.server_fin;
		px->timeout.tunnel = def->timeout.tunnel;
		px->timeout.queue = def->timeout.queue;
		return px_inherit_be(px, def);
	}
	return 0;
}

static void px_free(struct proxy *px);

static struct proxy *px_new(struct cfg_parser *p, const char *name, unsigned int cap)
{
	struct proxy *px = calloc(1, sizeof(*px));

	if (!px)
		return NULL;
	px->cap = cap;
	px->file = p->kw.file;
	px->line = p->kw.line;
	if ((name && !(px->id = strdup(name))) || px_inherit(px, p->kw.cfg->defaults) < 0) {
		px_free(px);
		return NULL;
	}
	return px;
}

static void px_append(struct config *cfg, struct proxy *px)
{
	struct proxy **pp = &cfg->proxies;

	while (*pp)
		pp = &(*pp)->next;
	*pp = px;
}

static void check_dup_proxy(struct cfg_parser *p, const char *name, unsigned int cap)
{
	const struct proxy *old = cfg_find_proxy(p->kw.cfg, name, cap);

	/* A frontend and a backend may share a name (HAProxy allows it); a listen takes both. */
	if (old)
		cfg_alert(p, "%s '%s' has the same name as %s '%s' declared at %s:%d.",
			  sect_names[p->kw.sect], name, px_type(old), old->id, old->file,
			  old->line);
}

static int start_proxy(struct cfg_parser *p, char **args, int n)
{
	unsigned int cap = p->kw.sect == CFG_SEC_FRONTEND  ? PX_CAP_FE
			   : p->kw.sect == CFG_SEC_BACKEND ? PX_CAP_BE
							   : PX_CAP_FE | PX_CAP_BE;
	const char *sect = sect_names[p->kw.sect];
	struct proxy *px;
	int c;

	if (n < 2) {
		cfg_alert(p, "'%s' expects an <id> argument", sect);
		return -1;
	}
	if (n > 2) {
		cfg_alert(p, "'%s %s' : '%s' is not supported yet.", sect, args[1], args[2]);
		return -1;
	}
	c = cfg_bad_name_char(args[1]);
	if (c)
		cfg_alert(p, "character '%c' is not permitted in '%s' name '%s'.", c, sect,
			  args[1]);
	check_dup_proxy(p, args[1], cap);
	px = px_new(p, args[1], cap);
	if (!px)
		return -ENOMEM;
	px_append(p->kw.cfg, px);
	p->kw.px = px;
	return 0;
}

/* "defaults [NAME]": a fresh set of defaults replacing the previous one, as in HAProxy. */
static int start_defaults(struct cfg_parser *p, char **args, int n)
{
	struct config *cfg = p->kw.cfg;
	struct proxy *px;

	if (n > 2) {
		cfg_alert(p, "'defaults %s' : '%s' is not supported yet.", args[1], args[2]);
		return -1;
	}
	px = calloc(1, sizeof(*px));
	if (!px || (n == 2 && !(px->id = strdup(args[1])))) {
		free(px);
		return -ENOMEM;
	}
	px->cap = PX_CAP_FE | PX_CAP_BE;
	px->mode = PX_MODE_HTTP;
	px->retries = 3;	/* HAProxy's default */
	px->redispatch_interval = -1;
	px->file = p->kw.file;
	px->line = p->kw.line;
	if (cfg->defaults)
		px_free(cfg->defaults);
	cfg->defaults = px;
	p->kw.px = px;
	return 0;
}

static unsigned int sect_lookup(const char *word)
{
	unsigned int s;

	for (s = CFG_SEC_GLOBAL; s <= CFG_SEC_LISTEN; s <<= 1)
		if (!strcmp(word, sect_names[s]))
			return s;
	return 0;
}

/* Returns 0, or -ENOMEM; configuration errors are reported and counted in p. */
static int start_section(struct cfg_parser *p, unsigned int sect, char **args, int n)
{
	int err = 0;

	p->kw.sect = sect;
	p->kw.px = NULL;
	p->kw.seen = 0;
	p->skip = false;
	if (sect == CFG_SEC_DEFAULTS)
		err = start_defaults(p, args, n);
	else if (sect != CFG_SEC_GLOBAL)
		err = start_proxy(p, args, n);
	if (err == -1)
		p->skip = true;
	return err == -ENOMEM ? err : 0;
}

/* ---- keyword dispatch --------------------------------------------------------------------- */

static const struct cfg_kw *kw_lookup(const struct cfg_kw *table, const char *kw)
{
	for (; table->kw; table++)
		if (!strcmp(table->kw, kw))
			return table;
	return NULL;
}

static const char *cap_name(unsigned int cap)
{
	return cap & PX_CAP_FE ? "frontend" : "backend";
}

/* A known keyword in a section that does not take it: HAProxy's wording for each case. */
static void kw_misplaced(struct cfg_parser *p, const struct cfg_kw *kw)
{
	const struct proxy *px = p->kw.px;

	if (p->kw.sect == CFG_SEC_DEFAULTS)
		cfg_alert(p, "'%s' not allowed in 'defaults' section.", kw->kw);
	else
		cfg_alert(p, "'%s' not allowed because %s '%s' has no %s capability.", kw->kw,
			  px_type(px), px->id, cap_name((PX_CAP_FE | PX_CAP_BE) & ~px->cap));
}

/*
 * Runs a keyword parser once the table said the section takes it. A keyword that only the other
 * side of a proxy uses is skipped with HAProxy's warning, without parsing its arguments, which
 * is what HAProxy does for most of them.
 */
static void kw_call(struct cfg_parser *p, const struct cfg_kw *kw, char **args, int n)
{
	const struct proxy *px = p->kw.px;
	char err[768] = "";
	int rc;

	if (!(kw->sections & p->kw.sect)) {
		kw_misplaced(p, kw);
		return;
	}
	if (px && (kw->cap & ~px->cap)) {
		pr_warn("parsing [%s:%d] : '%s' ignored because %s '%s' has no %s capability.",
			p->kw.file, p->kw.line, kw->kw, px_type(px), px->id, cap_name(kw->cap));
		return;
	}
	rc = kw->parse(&p->kw, args, n, err, sizeof(err));
	if (rc < 0)
		cfg_alert(p, "%s", err[0] ? err : "out of memory");
	else if (rc > 0)
		pr_warn("parsing [%s:%d] : %s", p->kw.file, p->kw.line, err);
}

/* One tokenized line. Returns 0, or -ENOMEM. */
/*
 * Section keywords are recognised in every section (they end the current one); "no" is a prefix
 * that only the keywords flagged CFG_KW_NO take.
 */
static int dispatch(struct cfg_parser *p, char **args, int n)
{
	const struct cfg_kw *table, *kw;
	unsigned int sect;

	p->kw.no = n > 1 && !strcmp(args[0], "no");
	if (p->kw.no) {
		args++;
		n--;
	}
	sect = sect_lookup(args[0]);
	if (sect && !p->kw.no)
		return start_section(p, sect, args, n);
	if (!p->kw.sect) {
		cfg_alert(p, "unknown keyword '%s' out of section.", args[0]);
		return 0;
	}
	if (p->skip)
		return 0;
	table = p->kw.sect == CFG_SEC_GLOBAL ? cfg_global_kws : cfg_proxy_kws;
	kw = kw_lookup(table, args[0]);
	if (!kw && table == cfg_proxy_kws)
		kw = kw_lookup(cfg_http_kws, args[0]);
	if (!kw)
		cfg_alert(p, "unknown keyword '%s' in '%s' section", args[0],
			  sect_names[p->kw.sect]);
	else if (p->kw.no && !(kw->flags & CFG_KW_NO))
		cfg_alert(p, "negation/default currently supported only for options and log.");
	else
		kw_call(p, kw, args, n);
	return 0;
}

/* An empty word ends HAProxy's argument list: say so when words followed it. */
static int trim_empty_args(struct cfg_parser *p, char **args, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (args[i][0])
			continue;
		if (i + 1 < n)
			pr_warn("parsing [%s:%d] : argument number %d is empty and marks the end "
				"of the "
				"argument list; all subsequent arguments will be ignored.",
				p->kw.file, p->kw.line, i);
		return i;
	}
	return n;
}

static int parse_line(struct cfg_parser *p, const char *line, char *out)
{
	char *args[CFG_MAX_ARGS];
	const char *errpos;
	int n;

	n = cfg_tokenize(line, out, CFG_OUT_SIZE, args, CFG_MAX_ARGS, &errpos);
	if (n == CFG_TOK_TOOMANY) {
		cfg_alert(p, "too many words, truncating after word %d, position %ld: <%s>.",
			  CFG_MAX_ARGS, (long)(errpos - line + 1), args[CFG_MAX_ARGS - 1]);
		return 0;
	}
	if (n < 0) {
		cfg_alert_at(p, tok_strerror(n), line, errpos);
		return 0;
	}
	n = trim_empty_args(p, args, n);
	return n ? dispatch(p, args, n) : 0;
}

/* ---- file reading ------------------------------------------------------------------------- */

/*
 * Reads one line into buf (CFG_MAX_LINE + 1 bytes) without its '\n'. Returns its length, -1 at
 * end of file, -2 when the line was longer than CFG_MAX_LINE (the rest is consumed), -3 for a
 * NUL byte (its position in *nul).
 */
static int read_line(FILE *f, char *buf, int *nul)
{
	int c, len = 0, ret = 0;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0' && !ret) {
			*nul = len + 1;
			ret = -3;
		}
		if (len < CFG_MAX_LINE)
			buf[len] = (char)c;
		else if (!ret)
			ret = -2;
		len++;
	}
	if (c == EOF && len == 0)
		return -1;
	buf[len < CFG_MAX_LINE ? len : CFG_MAX_LINE] = '\0';
	return ret ? ret : len;
}

/* The config owns the file names so that file/line fields stay valid until cfg_free(). */
static const char *cfg_add_file(struct config *cfg, const char *path)
{
	char **files = realloc(cfg->files, (cfg->nfiles + 1) * sizeof(*files));
	char *copy;

	if (!files)
		return NULL;
	cfg->files = files;
	copy = strdup(path);
	if (!copy)
		return NULL;
	files[cfg->nfiles++] = copy;
	return copy;
}

/* Reads the whole file even after errors, so that one run reports them all (HAProxy does). */
static int parse_stream(struct cfg_parser *p, FILE *f, char *line, char *out)
{
	int len, nul = 0, err = 0;

	while (!err && (len = read_line(f, line, &nul)) != -1) {
		p->kw.line++;
		if (p->errors >= CFG_MAX_FATAL) {
			cfg_alert(p, "too many fatal errors (%d), stopping now.", p->errors);
			break;
		}
		if (len == -2)
			cfg_alert(p, "line too long, limit is %d characters.", CFG_MAX_LINE);
		else if (len == -3)
			cfg_alert(p, "Stray NUL character at position %d.", nul);
		else
			err = parse_line(p, line, out);
	}
	if (err)
		cfg_alert(p, "out of memory.");
	return 0;
}

int cfg_parse_file(struct config *cfg, const char *path)
{
	struct cfg_parser p = {.kw.cfg = cfg};
	char *line = NULL, *out = NULL;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		pr_alert("Cannot open configuration file/directory %s : %s", path, strerror(errno));
		return 1;
	}
	p.kw.file = cfg_add_file(cfg, path);
	line = malloc(CFG_MAX_LINE + 1);
	out = malloc(CFG_OUT_SIZE);
	if (!p.kw.file || !line || !out) {
		pr_alert("%s: out of memory", path);
		p.errors++;
		goto cleanup;
	}
	parse_stream(&p, f, line, out);
	if (p.errors)
		pr_alert("Error(s) found in configuration file : %s", path);
cleanup:
	free(line);
	free(out);
	fclose(f);
	return p.errors;
}

/* ---- post-parse checks -------------------------------------------------------------------- */

struct proxy *cfg_find_proxy(const struct config *cfg, const char *id, unsigned int cap)
{
	struct proxy *px;

	for (px = cfg->proxies; px; px = px->next)
		if ((px->cap & cap) && px->id && !strcmp(px->id, id))
			return px;
	return NULL;
}

/*
 * HAProxy 2.6 refuses an http frontend on a tcp backend. It accepts the reverse (it upgrades
 * the connection to HTTP in place), which wsplice does not do, so that is an error here too.
 */
static int check_modes(const struct proxy *fe, const struct proxy *be, const char *how)
{
	if (fe->mode == be->mode)
		return 0;
	if (fe->mode == PX_MODE_HTTP)
		pr_alert("http frontend '%s' (%s:%d) tries to use incompatible tcp backend '%s' "
			 "(%s:%d) %s (see 'mode').",
			 fe->id, fe->file, fe->line, be->id, be->file, be->line, how);
	else
		pr_alert(
		    "tcp frontend '%s' (%s:%d) tries to use http backend '%s' (%s:%d) %s: wsplice "
		    "does not upgrade TCP connections to HTTP (see 'mode').",
		    fe->id, fe->file, fe->line, be->id, be->file, be->line, how);
	return 1;
}

/*
 * Resolves a frontend's backend names. Names are looked up once every file is read, so a rule
 * may name a backend declared further down or in a later file, as in HAProxy.
 */
static int check_switching(struct config *cfg, struct proxy *fe)
{
	struct switching_rule *r;
	int errors = 0;

	for (r = fe->rules; r; r = r->next) {
		r->be = cfg_find_proxy(cfg, r->be_name, PX_CAP_BE);
		if (!r->be) {
			pr_alert("Proxy '%s': unable to find required use_backend: '%s'.", fe->id,
				 r->be_name);
			errors++;
		} else {
			errors += check_modes(fe, r->be, "in a 'use_backend' rule");
		}
	}
	if (!fe->defbe_name)
		return errors;
	fe->defbe = cfg_find_proxy(cfg, fe->defbe_name, PX_CAP_BE);
	if (!fe->defbe) {
		pr_alert("Proxy '%s': unable to find required default_backend: '%s'.", fe->id,
			 fe->defbe_name);
		errors++;
	} else {
		errors += check_modes(fe, fe->defbe, "as its default backend");
	}
	return errors;
}

static int check_servers(const struct proxy *be)
{
	const struct server *s, *t;
	int errors = 0;

	for (s = be->servers; s; s = s->next) {
		for (t = be->servers; t != s; t = t->next) {
			if (strcmp(t->id, s->id))
				continue;
			pr_alert("parsing [%s:%d] : %s '%s', another server named '%s' was already "
				 "defined at line %d, please use distinct names.",
				 s->file, s->line, px_type(be), be->id, s->id, t->line);
			errors++;
			break;
		}
	}
	return errors;
}

/*
 * HAProxy's warnings about balancing and checks that cannot work as written: a layer 7 hash in
 * mode tcp falls back to round robin; "http-check" rules without "option httpchk" do nothing.
 */
static void check_balance(const struct proxy *px)
{
	if (!(px->cap & PX_CAP_BE))
		return;
	if (px->mode == PX_MODE_TCP && (px->lb == LB_URI || px->lb == LB_HDR))
		pr_warn("Layer 7 hash not possible for %s '%s' (needs 'mode http'). Falling back "
			"to round robin.",
			px_type(px), px->id);
	if (px->httpchk && !(px->options & PX_O_HTTPCHK) &&
	    (px->httpchk->expect || px->httpchk->hdrs || px->httpchk->method))
		pr_warn("%s '%s': 'http-check' rules are ignored without 'option httpchk'.",
			px_type(px), px->id);
}

/* HAProxy 2.6's condition and text for its "missing timeouts" warning. */
static void check_timeouts(const struct proxy *px)
{
	bool fe = px->cap & PX_CAP_FE, be = (px->cap & PX_CAP_BE) && px->servers;
	const struct px_timeouts *t = &px->timeout;

	if ((fe && !t->client) ||
	    (be && (!t->connect || (!t->server && (px->mode == PX_MODE_HTTP || !t->tunnel)))))
		pr_warn("missing timeouts for %s '%s'.\n"
			"   | While not properly invalid, you will certainly encounter various "
			"problems\n"
			"   | with such a configuration. To fix this, please ensure that all "
			"following\n"
			"   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
			px_type(px), px->id);
}

int cfg_check(struct config *cfg)
{
	struct proxy *px;
	int errors = 0;

	for (px = cfg->proxies; px; px = px->next) {
		if ((px->cap & PX_CAP_FE) && !px->binds)
			pr_warn("%s '%s' has no 'bind' directive. Please declare it as a backend "
				"if this "
				"was intended.",
				px_type(px), px->id);
		if (px->cap & PX_CAP_FE)
			errors += check_switching(cfg, px);
		errors += check_servers(px);
		check_balance(px);
		check_timeouts(px);
	}
	return errors;
}

/* ---- freeing ------------------------------------------------------------------------------ */

/* A proxy owns everything it points to except the files, which the config owns. */
static void px_free(struct proxy *px)
{
	struct switching_rule *r, *rn;
	struct bind_conf *b, *bn;
	struct server *s, *sn;

	for (b = px->binds; b; b = bn) {
		bn = b->next;
		free(b->text);
		free(b);
	}
	for (r = px->rules; r; r = rn) {
		rn = r->next;
		acl_cond_free(r->cond);
		free(r->be_name);
		free(r);
	}
	for (s = px->servers; s; s = sn) {
		sn = s->next;
		free(s->id);
		free(s->ck_value);
		free(s);
	}
	cfg_http_free(px);
	cfg_log_free(px);
	acl_list_free(px->acls);
	cfg_httpchk_free(px->httpchk);
	lb_tbl_free(px->lb_tbl);
	if (px->defsrv)
		free(px->defsrv->ck_value);
	free(px->defsrv);
	free(px->ck_name);
	free(px->hdr_name);
	free(px->defbe_name);
	free(px->id);
	free(px);
}

void cfg_free(struct config *cfg)
{
	struct proxy *px, *next;
	size_t i;

	for (px = cfg->proxies; px; px = next) {
		next = px->next;
		px_free(px);
	}
	if (cfg->defaults)
		px_free(cfg->defaults);
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->global.stats_socket);
	free(cfg->global.pidfile);
	free(cfg->global.chroot);
	log_tgt_free(cfg->global.log);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- time and address parsers ------------------------------------------------------------- */

/*
 * HAProxy's parse_time_err() rules in milliseconds: digits then an optional unit among us, ms,
 * s, m, h, d; fractions of a millisecond round up; 2^31 ms or more is an overflow. An overflow
 * returns a pointer to the terminating NUL of text (never a valid "first invalid character"),
 * which is how callers tell it from a syntax error.
 */
const char *cfg_parse_time(const char *text, unsigned int *ms)
{
	static const struct {
		const char *name;
		unsigned int mult, div;
	} units[] = {
	    {"us", 1, 1000}, {"ms", 1, 1},	{"s", 1000, 1},
	    {"m", 60000, 1}, {"h", 3600000, 1}, {"d", 86400000, 1},
	};
	unsigned long long v = 0;
	const char *p = text;
	size_t i, len;

	if (!isdigit((unsigned char)*p))
		return p;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > INT_MAX)
			return p + strlen(p);
	}
	for (i = 0; *p && i < sizeof(units) / sizeof(units[0]); i++) {
		len = strlen(units[i].name);
		if (strncmp(p, units[i].name, len))
			continue;
		p += len;
		v = (v * units[i].mult + units[i].div - 1) / units[i].div;
		break;
	}
	if (*p)
		return p;
	if (v > INT_MAX)
		return p;
	*ms = (unsigned int)v;
	return NULL;
}

static int parse_port(const char *s, in_port_t *port, char *err, size_t errlen, const char *text)
{
	char *end;
	long v;

	if (strchr(s, '-') && isdigit((unsigned char)*s)) {
		snprintf(err, errlen, "port ranges are not supported yet in '%s'", text);
		return -1;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 1 || v > 65535) {
		snprintf(err, errlen, "invalid port '%s'", s);
		return -1;
	}
	*port = htons((in_port_t)v);
	return 0;
}

/*
 * First result of getaddrinfo(), with AI_NUMERICHOST first so that an address never waits on
 * DNS; names are resolved once here, at startup, as HAProxy's default init-addr does.
 */
static int resolve_host(const char *host, struct sockaddr_storage *ss, socklen_t *len, int flags)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
	struct addrinfo *res;

	if (getaddrinfo(host, NULL, &hints, &res))
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Wildcard (":80", "*:80") is IPv4 0.0.0.0, as HAProxy's ":80"; "::" is the IPv6 one. */
static int parse_host(const char *host, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!*host || !strcmp(host, "*")) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		*len = sizeof(*sin);
		return 0;
	}
	if (!resolve_host(host, ss, len, AI_NUMERICHOST))
		return 0;
	return resolve_host(host, ss, len, 0);
}

int cfg_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err,
		   size_t errlen)
{
	char host[256];
	const char *colon, *hbeg = text, *hend;
	in_port_t port;

	if (*text == '[') {
		hbeg = text + 1;
		hend = strchr(hbeg, ']');
		colon = hend && hend[1] == ':' ? hend + 1 : NULL;
		if (!hend || (hend[1] && !colon)) {
			snprintf(err, errlen, "invalid address: '%s'", text);
			return -1;
		}
	} else {
		colon = strrchr(text, ':');
		hend = colon;
	}
	if (!colon) {
		snprintf(err, errlen, "missing port specification in '%s'", text);
		return -1;
	}
	if ((size_t)(hend - hbeg) >= sizeof(host)) {
		snprintf(err, errlen, "invalid address: '%s'", text);
		return -1;
	}
	memcpy(host, hbeg, hend - hbeg);
	host[hend - hbeg] = '\0';
	if (parse_port(colon + 1, &port, err, errlen, text) < 0)
		return -1;
	if (parse_host(host, ss, len) < 0) {
		snprintf(err, errlen, "invalid address: '%s' in '%s'", host, text);
		return -1;
	}
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = port;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = port;
	return 0;
}
