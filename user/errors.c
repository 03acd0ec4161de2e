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
	{ 403, "Forbidden", BODY(403, "Forbidden", "Request forbidden by administrative rules."), false },
	{ 408, "Request Time-out",
	  BODY(408, "Request Time-out", "Your browser didn't send a complete request in time."), true },
	{ 422, "Unprocessable Content",
	  BODY(422, "Unprocessable Content", "The server cannot process the contained instructions."),
	  true, true },
	{ 500, "Internal Server Error",
	  BODY(500, "Internal Server Error", "An internal server error occurred."), false },
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
