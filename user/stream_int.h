/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_STREAM_INT_H
#define WSPLICE_STREAM_INT_H

#include <stdbool.h>

#include "stream.h"

/*
 * Internal to the stream code: stream.c (the state machine, HTTP), stream_local.c (the answers
 * the proxy gives itself) and srvconn.c (servers, the backend queue, connecting). Not for other
 * modules.
 */

struct http_rule;

/* stream.c */
void side_close(struct stream *s, struct side *sd);
/* Runs the parser over the unparsed bytes of c->in and makes them forwardable. Returns -1 on
 * a framing error, else 0. */
int chan_parse_body(struct chan *c);
void stream_update(struct stream *s);
void srv_io(struct loop *loop, struct fd_handler *h, uint32_t events);

/* stream_local.c. stream_error() queues an error page and ends the stream once it is sent, or
 * after a 502/503/504, where HAProxy keeps the client connection, only the transaction;
 * reply_page() answers with a page (deny: a denied request's, else monitor-uri's), reply_rule()
 * runs a deny, return or use-service rule. */
void stream_error(struct stream *s, int code, char cause, char state);
void reply_page(struct stream *s, int status, bool deny);
void reply_rule(struct stream *s, const struct http_rule *r);

/* srvconn.c */
void release_server(struct stream *s);
void queue_remove(struct stream *s);
void enqueue(struct stream *s);
bool take_server(struct stream *s, struct server *srv);
bool pick_server(struct stream *s, const char *base);
bool reuse_pooled(struct stream *s);
void connect_server(struct stream *s);
void connect_failed(struct stream *s, int err, bool timeout);
/* The connect's outcome, from the events epoll reported on the server socket. */
void check_connect(struct stream *s, uint32_t events);

#endif /* WSPLICE_STREAM_INT_H */
