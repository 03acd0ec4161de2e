/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_WS_H
#define WSPLICE_WS_H

#include <stdbool.h>

#include "http.h"

/*
 * WebSocket handshake checks (RFC 6455 section 4), as HAProxy 2.4+ applies them to HTTP/1.1.
 */

enum ws_req {
	WS_REQ_NONE,	/* not a WebSocket upgrade: plain HTTP */
	WS_REQ_OK,	/* valid upgrade request */
	WS_REQ_BAD,	/* "Upgrade: websocket" with a missing piece: 400 */
};

/* Classifies a request head; on WS_REQ_OK copies the 24-character key into key (25 bytes). */
enum ws_req ws_check_request(const struct http_msg *m, const char *base, char key[25]);

/*
 * True when a response head completes the handshake for key: 101, "Connection: upgrade",
 * "Upgrade: websocket" and the Sec-WebSocket-Accept that the key implies.
 */
bool ws_check_response(const struct http_msg *m, const char *base, const char *key);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key GUID)), 28 characters plus NUL. */
void ws_accept_for_key(const char *key, char out[29]);

#endif /* WSPLICE_WS_H */
