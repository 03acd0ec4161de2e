// SPDX-License-Identifier: GPL-2.0
/*
 * The logging keywords: "log" (global and proxies), "option httplog [clf]", "option tcplog",
 * "log-format". Messages are HAProxy 2.6's where it has one for the same mistake.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "logfmt.h"
#include "syslog.h"

/* "log TARGET [len N] [format F] FACILITY [MAX [MIN]]" in global; as many lines as wanted. */
int cfg_log_global(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (n > 1 && !strcmp(args[1], "global")) {
		snprintf(err, errlen, "log : 'global' is not supported for a global syslog server");
		return -1;
	}
	return log_tgt_parse(args, n, &ctx->cfg->global.log, err, errlen) < 0 ? -1 : 0;
}

/* In a proxy: "log global" (the global targets), a target of its own, or "no log" (neither). */
int cfg_log_proxy(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	struct proxy *px = ctx->px;

	if (ctx->no) {
		if (n > 1) {
			snprintf(err, errlen, "log : unexpected argument '%s' after 'no log'.",
				 args[1]);
			return -1;
		}
		px->log_global = false;
		log_tgt_free(px->logs);
		px->logs = NULL;
		return 0;
	}
	if (n > 1 && !strcmp(args[1], "global")) {
		if (n > 2) {
			snprintf(err, errlen, "log : unexpected argument '%s' after 'global'.",
				 args[2]);
			return -1;
		}
		px->log_global = true;
		return 0;
	}
	return log_tgt_parse(args, n, &px->logs, err, errlen) < 0 ? -1 : 0;
}

/* Replaces the proxy's format with fmt, compiled. 0, or -1 with the reason in err. */
static int set_format(struct proxy *px, const char *fmt, bool httplog, char *err, size_t errlen)
{
	struct logfmt *lf;
	char why[256] = "";
	char *copy;

	if (logfmt_parse(fmt, &lf, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "failed to parse log-format : %s", why);
		return -1;
	}
	copy = strdup(fmt);
	if (!copy) {
		logfmt_free(lf);
		return -1;
	}
	free(px->log_format);
	logfmt_free(px->logfmt);
	px->log_format = copy;
	px->logfmt = lf;
	px->log_httplog = httplog;
	return 0;
}

static const char *px_kind(const struct proxy *px)
{
	if (px->cap == (PX_CAP_FE | PX_CAP_BE))
		return px->id ? "listen" : "defaults";
	return px->cap & PX_CAP_FE ? "frontend" : "backend";
}

/* "option httplog [clf]" and "option tcplog". */
int cfg_log_option(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	struct proxy *px = ctx->px;
	bool http = !strcmp(args[1], "httplog");
	const char *fmt = http ? LOGFMT_HTTPLOG : LOGFMT_TCPLOG;

	if (ctx->no) {
		/* HAProxy has no "no option httplog" either */
		snprintf(err, errlen, "negation/default is not supported for option '%s'.",
			 args[1]);
		return -1;
	}
	if (http && n > 2) {
		if (strcmp(args[2], "clf") || n > 3) {
			snprintf(err, errlen, "keyword '%s' only supports option 'clf'.", args[1]);
			return -1;
		}
		fmt = LOGFMT_HTTPLOG_CLF;
	} else if (n > 2) {
		snprintf(err, errlen, "'option %s' cannot handle unexpected argument '%s'.",
			 args[1], args[2]);
		return -1;
	}
	if (!(px->cap & PX_CAP_FE)) {
		snprintf(err, errlen, "%s '%s' : 'option %s' directive is ignored in backends.",
			 px_kind(px), px->id, args[1]);
		return 1;
	}
	if (set_format(px, fmt, http, err, errlen) < 0)
		return -1;
	if (http && px->mode == PX_MODE_TCP && px->id && px->cap != (PX_CAP_FE | PX_CAP_BE)) {
		snprintf(
		    err, errlen,
		    "'option httplog' not usable with %s '%s' (needs 'mode http'). Falling back "
		    "to 'option tcplog'.",
		    px_kind(px), px->id);
		return 1;
	}
	return 0;
}

/* "log-format STRING": one argument, quoted when it has spaces. */
int cfg_log_format(struct cfg_kw_ctx *ctx, char **args, int n, char *err, size_t errlen)
{
	if (n < 2) {
		snprintf(err, errlen, "log-format expects an argument.");
		return -1;
	}
	if (n > 2) {
		snprintf(err, errlen,
			 "log-format expects only one argument, don't forget to escape spaces!");
		return -1;
	}
	return set_format(ctx->px, args[1], false, err, errlen);
}

int cfg_log_inherit(struct proxy *px, const struct proxy *def)
{
	char err[256];

	if (log_tgt_dup(&px->logs, def->logs) < 0)
		return -ENOMEM;
	if (def->log_format && set_format(px, def->log_format, def->log_httplog, err, sizeof(err)))
		return -ENOMEM;
	return 0;
}

void cfg_log_free(struct proxy *px)
{
	log_tgt_free(px->logs);
	free(px->log_format);
	logfmt_free(px->logfmt);
}
