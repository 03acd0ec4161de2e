/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_ERRORS_H
#define WSPLICE_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * HAProxy's default error responses, byte for byte as HAProxy 2.6 sends them: errors found
 * while parsing a request (400, 408) close the connection and use its legacy capitalised
 * headers; errors produced once the request was understood (502, 503, 504) come out of its
 * HTTP/1 multiplexer with lower-case headers and keep the client connection unless told not to.
 * Returns the response for code and its length; close adds "connection: close" to the latter.
 */
const char *http_error(int code, bool close, size_t *len);

/* True when HAProxy 2.6 has a default page for code (what "deny_status" accepts). */
bool http_error_known(int code);

/* The reason phrase HAProxy puts after code ("Other" for codes it does not name). */
const char *http_reason(int code);

#endif /* WSPLICE_ERRORS_H */
