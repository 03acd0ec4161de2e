// SPDX-License-Identifier: GPL-2.0
#include "errors.h"

#include <stdio.h>
#include <string.h>

#define BODY(code, title, text) "<html><body><h1>" #code " " title "</h1>\n" text "\n</body></html>\n"

struct err_page {
	int code;
	const char *title;
	const char *body;
	bool early;
	bool no_conn;	/* early, yet without "Connection: close" (HAProxy's 422 has none) */
};

static const struct err_page pages[] = {
	/* monitor-uri's answer */
	{ 200, "OK", BODY(200, "OK", "Service ready."), false },
	{ 400, "Bad request", BODY(400, "Bad request", "Your browser sent an invalid request."), true },
	{ 401, "Unauthorized",
	  BODY(401, "Unauthorized", "You need a valid user and password to access this content."),
	  false },
	{ 403, "Forbidden", BODY(403, "Forbidden", "Request forbidden by administrative rules."), false },
	{ 404, "Not Found", BODY(404, "Not Found", "The resource could not be found."), false },
	{ 405, "Method Not Allowed",
	  BODY(405, "Method Not Allowed",
	       "A request was made of a resource using a request method not supported by that "
	       "resource"),
	  false },
	/* sic: HAProxy 2.6 titles its 407 page "Unauthorized" */
	{ 407, "Unauthorized",
	  BODY(407, "Unauthorized", "You need a valid user and password to access this content."),
	  false },
	{ 408, "Request Time-out",
	  BODY(408, "Request Time-out", "Your browser didn't send a complete request in time."), true },
	{ 410, "Gone",
	  BODY(410, "Gone", "The resource is no longer available and will not be available again."),
	  false },
	{ 413, "Payload Too Large",
	  BODY(413, "Payload Too Large", "The request entity exceeds the maximum allowed."), false },
	{ 421, "Misdirected Request",
	  BODY(421, "Misdirected Request", "Request sent to a non-authoritative server."), false },
	{ 422, "Unprocessable Content",
	  BODY(422, "Unprocessable Content", "The server cannot process the contained instructions."),
	  true, true },
	{ 425, "Too Early", BODY(425, "Too Early", "Your browser sent early data."), false },
	{ 429, "Too Many Requests",
	  BODY(429, "Too Many Requests", "You have sent too many requests in a given amount of time."),
	  false },
	{ 500, "Internal Server Error",
	  BODY(500, "Internal Server Error", "An internal server error occurred."), false },
	/* sic: the leading dot is in HAProxy 2.6's page */
	{ 501, "Not Implemented",
	  BODY(501, "Not Implemented",
	       ".The server does not support the functionality required to fulfill the request."),
	  false },
	{ 502, "Bad Gateway",
	  BODY(502, "Bad Gateway", "The server returned an invalid or incomplete response."), false },
	{ 503, "Service Unavailable",
	  BODY(503, "Service Unavailable", "No server is available to handle this request."), false },
	{ 504, "Gateway Time-out", BODY(504, "Gateway Time-out", "The server didn't respond in time."),
	  false },
};

#define NPAGES (sizeof(pages) / sizeof(pages[0]))

/* Built once per code and closing flavour, then served from here. */
static char cache[NPAGES][2][512];
static size_t cache_len[NPAGES][2];

static size_t build(const struct err_page *p, bool close, char *out, size_t size)
{
	size_t blen = strlen(p->body);
	int n;

	if (p->early)
		n = snprintf(out, size,
			     "HTTP/1.1 %d %s\r\nContent-length: %zu\r\nCache-Control: no-cache\r\n"
			     "%sContent-Type: text/html\r\n\r\n%s",
			     p->code, p->title, blen, p->no_conn ? "" : "Connection: close\r\n",
			     p->body);
	else
		n = snprintf(out, size,
			     "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\ncache-control: no-cache\r\n"
			     "content-type: text/html\r\n%s\r\n%s",
			     p->code, p->title, blen, close ? "connection: close\r\n" : "", p->body);
	return n < 0 ? 0 : (size_t)n;
}

const char *http_error(int code, bool close, size_t *len)
{
	size_t i, i500 = 0;

	for (i = 0; i < NPAGES && pages[i].code != code; i++)
		if (pages[i].code == 500)
			i500 = i;
	if (i == NPAGES)
		i = i500; /* 500 for a code without a page of its own */
	if (!cache_len[i][close])
		cache_len[i][close] = build(&pages[i], close, cache[i][close], sizeof(cache[i][close]));
	*len = cache_len[i][close];
	return cache[i][close];
}

bool http_error_known(int code)
{
	for (size_t i = 0; i < NPAGES; i++)
		if (pages[i].code == code)
			return true;
	return false;
}

const char *http_reason(int code)
{
	static const struct {
		int code;
		const char *reason;
	} extra[] = {
		{ 100, "Continue" },	{ 101, "Switching Protocols" }, { 201, "Created" },
		{ 202, "Accepted" },	{ 204, "No Content" },		{ 301, "Moved Permanently" },
		{ 302, "Found" },	{ 303, "See Other" },		{ 304, "Not Modified" },
		{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
	};

	for (size_t i = 0; i < NPAGES; i++)
		if (pages[i].code == code)
			return pages[i].title;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (extra[i].code == code)
			return extra[i].reason;
	return "Other";
}
