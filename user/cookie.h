/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_COOKIE_H
#define WSPLICE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"
#include "http.h"

/*
 * Sticky sessions with a cookie, as HAProxy's "cookie NAME insert|rewrite|prefix [indirect]
 * [nocache] [httponly] [secure]" and per-server "cookie VALUE". The request side finds the
 * server a client's cookie names (an upgrade request too, so a WebSocket lands where its page
 * was served); the response side inserts, rewrites or prefixes the server's Set-Cookie.
 */

enum ck_mode {
	CK_NONE,
	CK_INSERT,	/* wsplice adds Set-Cookie: NAME=VALUE */
	CK_REWRITE,	/* the server sets NAME; its value is replaced by the server's */
	CK_PREFIX,	/* the server sets NAME=v; it becomes NAME=VALUE~v, and back on requests */
};

/* The server of be the request's cookie names, or NULL. */
struct server *cookie_server(struct proxy *be, const struct http_msg *m, const char *base);

/*
 * What the request's cookie was, as HAProxy logs it (the third character of %tsc): 'N' none,
 * 'V' it names a usable server, 'D' it names a server that cannot take the request (down,
 * disabled or full: the request is balanced instead), 'I' it names no server of be.
 */
char cookie_request_flag(const struct proxy *be, const struct http_msg *m, const char *base);

/*
 * The request's Cookie headers as the server must see them: without NAME in insert mode with
 * indirect, with "VALUE~" removed in prefix mode. Marks the Cookie headers dropped and writes
 * one replacement "Cookie: ..." value to out (NUL-terminated); returns false when nothing
 * changes (the headers go as they came).
 */
bool cookie_request_rewrite(struct proxy *be, struct http_msg *m, const char *base, char *out,
			    size_t outlen);

/*
 * Response side: appends "set-cookie: ..." lines (insert) or rewritten Set-Cookie headers
 * (rewrite, prefix; the originals are marked dropped) to extra. matched: the client already
 * sent a valid cookie for srv. Returns the bytes appended, or -1 when extra is too small.
 */
int cookie_response(struct proxy *be, const struct server *srv, bool matched, struct http_msg *m,
		    const char *base, char *extra, size_t len);

#endif /* WSPLICE_COOKIE_H */
