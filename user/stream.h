/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_STREAM_H
#define WSPLICE_STREAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "buf.h"
#include "cfg.h"
#include "ctx.h"
#include "http.h"
#include "loop.h"
#include "splice.h"

/*
 * A stream is one client connection and, when there is one, its server connection: HAProxy's
 * stream, with both halves inline. Its life is an explicit state machine:
 *
 *   REQ_HEAD -> CONNECT -> HTTP -> REQ_HEAD (keep-alive) ... -> CLOSING -> freed
 *                                \-> TUNNEL_USER (101 or mode tcp) <-> TUNNEL_KERNEL
 *
 * TUNNEL_USER copies bytes in user space; TUNNEL_KERNEL has handed both sockets to the BPF
 * program (splice.c). A tunnel always enters TUNNEL_USER first, and moves to the kernel only
 * once user space holds no unsent byte in either direction.
 */
enum stream_state {
	ST_REQ_HEAD,	/* reading a request head */
	ST_CONNECT,	/* connecting to the server, or waiting to retry */
	ST_HTTP,	/* request sent or being sent; response expected or flowing */
	ST_TUNNEL_USER,	/* tunnel forwarded by user space */
	ST_TUNNEL_KERNEL, /* tunnel forwarded by the kernel */
	ST_CLOSING,	/* sending a last response, then closing */
};

/* Request and response sizes of HAProxy's tune.bufsize. */
#define STREAM_BUFSIZE 16384
/* The userspace tunnel relay uses larger buffers: fewer syscalls per byte. */
#define TUNNEL_BUFSIZE 65536

/* One TCP connection of the stream. */
struct side {
	struct fd_handler fh;
	int fd;			/* -1 when closed */
	uint64_t rx, tx;	/* bytes read from and written to this socket by user space */
	uint64_t last_ms;	/* last byte read (loop time) */
	bool eof;		/* read returned 0 */
	bool rx_empty;		/* the last read found the receive queue empty (EAGAIN) */
	bool shut_wr;		/* shutdown(SHUT_WR) done */
	int err;		/* errno of a failed read/write, 0 if none */
};

/* A splice(2) pipe of a relayed tunnel direction (relay.c): bytes move source -> pipe -> dest
 * as page references, never copied to user space. */
struct chan_pipe {
	int rd, wr;		/* the pipe's ends; meaningful only when on */
	size_t len;		/* bytes in the pipe */
	bool on;
};

/* One direction: bytes read from a source side, sent to the other side. */
struct chan {
	struct buf in;		/* bytes read from the source */
	size_t fwd;		/* leading bytes of in that may be sent as they are */
	struct buf out;		/* bytes written by the proxy (heads, errors), sent first */
	struct http_msg *msg;	/* the HTTP message; NULL once the stream is a tunnel */
	struct chan_pipe pipe;	/* relayed bulk goes through it once taken; in and out empty */
	bool bulk;		/* a relayed read filled the buffer: take a pipe when free */
};

struct stream {
	struct stream *next, *prev;
	struct ctx *ctx;
	uint64_t id;
	enum stream_state st;
	struct proxy *fe, *be;
	struct server *srv;	/* the server this stream occupies */
	struct server *log_srv;	/* the last one it used, for the log */
	struct server *idle_srv; /* where the kept-alive server connection (ss) goes */
	struct side cs, ss;	/* client side, server side */
	struct chan req, res;	/* client to server, server to client */
	struct timer timer;	/* the nearest deadline of the current state */
	struct splice_pair pair; /* kernel tunnel state (TUNNEL_KERNEL) */

	struct sockaddr_storage cli_addr;
	struct timeval req_date; /* wall clock at the start of the request, for the log */
	uint64_t t_start;	/* loop time at the start of the request */
	uint64_t t_head;	/* request head complete */
	uint64_t t_first;	/* first byte of the request (0: none yet), for %Ti and %TR */
	uint64_t t_conn_start, t_connected, t_resp;
	uint64_t t_closing;	/* write side shut, lingering */
	uint64_t rx_start, tx_start; /* client byte counts when this request began */
	int retries;
	bool redispatched;	/* a retry went to another server (logged "+N") */
	bool queued;		/* waiting in its backend's queue for a server slot */
	bool ck_matched;	/* the request's sticky cookie named its server */
	char ck_log[2];		/* the cookie flags of %tsc (request, response); 0: not seen */
	struct stream *qnext, *qprev;
	uint64_t t_queued;	/* when it entered the queue */
	long tw;		/* ms spent in the queue, for the log */
	unsigned int nreq;	/* requests completed on this client connection */
	int status;		/* response status sent to the client, -1 if none */
	char term[3];		/* HAProxy's termination state: cause, stream state */
	char *reqline;		/* "METHOD URI VERSION" for the log */
	char ws_key[25];	/* Sec-WebSocket-Key of an upgrade request */
	bool upgrade_req;	/* the request asks for an upgrade */
	bool cli_close;		/* close the client connection after this response */
	bool srv_close;		/* close the server connection after this response */
	bool head_req;		/* the request method is HEAD */
	bool local;		/* answered by the proxy itself; the request body is dropped */
	bool logged_asap;	/* the logasap line was written */
	bool logged;		/* the transaction's line was written */
	bool nolog;		/* no line for this transaction (a monitor-uri request) */
	bool killed;		/* closed, waiting to be freed */
	bool splice_failed;	/* the kernel refused this tunnel: it stays in user space */
	bool splice_wait;	/* "option splice-auto": relayed until splice_at (relay.c) */
	uint64_t splice_at;
	bool handed_over;	/* given to a new process (reload.c): no log, maps untouched */
	bool reload_refused;	/* the new process had no place for it: it ends here */
	bool fds_shared;	/* its sockets went to or came from another process (reload.c) */
	uint64_t res_rules_fe, res_rules_be; /* http-response rules that apply (http_rules.h) */
};

/* Accepts ownership of a connected client socket for frontend fe. */
void stream_new(struct ctx *ctx, struct proxy *fe, int fd, const struct sockaddr_storage *addr);

/* Ends a stream now: closes both sockets, logs, and frees it before the next epoll_wait. */
void stream_kill(struct stream *s);

/* A tunnel has no more HTTP to parse: frees the messages (3.7 KiB, four fifths of an idle
 * tunnel's memory in the daemon). */
void stream_drop_http(struct stream *s);

/* Called by splice_flow.c when a spliced tunnel leaves the kernel: the userspace relay takes
 * over. */
void stream_tunnel_to_user(struct stream *s);

/* Called by the tunnel paths when a tunnel ends; term is the termination state. */
void stream_tunnel_end(struct stream *s, const char *term);

/*
 * Reload (reload.c). New process: stream_adopt() links a stream for a tunnel received from the
 * old process (sockets cfd and sfd, owned from now on; NULL when out of memory, fds closed); the
 * caller fills in what the old process knew, then calls stream_adopt_user() or
 * splice_tunnel_adopt(). Old process: stream_forget() drops a stream handed over, without a
 * log line and without touching the BPF maps.
 */
struct stream *stream_adopt(struct ctx *ctx, struct proxy *fe, int cfd, int sfd);
void stream_adopt_user(struct stream *s);
void stream_forget(struct stream *s);

/* Soft stop: closes client connections idle between two requests, as HAProxy does. */
void stream_close_idle(struct ctx *ctx);

/* Frees streams killed since the last call (the loop's before-sleep hook). */
void stream_reap(struct ctx *ctx);

/* The current transaction's bytes from and to the client, kernel-forwarded ones included. */
void stream_bytes(struct stream *s, uint64_t *up, uint64_t *down);

/* Logs a stream's transaction line (or its logasap line when asap). */
void stream_log(struct stream *s, bool asap);
/* With "option logasap", the line now, and none at the end (HAProxy: at the response head, the
 * 101, or in mode tcp once the server accepted). */
void stream_log_asap(struct stream *s);
/* The "Connect from" line of a frontend that has no log format, at accept. */
void stream_log_accept(struct stream *s);

/* For the tunnel paths (relay.c, splice.c). stream_flush() sends what c holds to sd and returns
 * -1 on a write error, else 0; stream_recv() reads once into c: >0 bytes, 0 nothing, -1 EOF or
 * error. */
int stream_flush(struct stream *s, struct chan *c, struct side *sd);
ssize_t stream_recv(struct stream *s, struct side *sd, struct chan *c, size_t cap);

/* The events the server side of an HTTP stream waits for in its state (srvconn.c registers a
 * new connection with them). */
uint32_t stream_srv_events(const struct stream *s);
void stream_set_term(struct stream *s, char cause, char state);
/* Accounts the result n of a read from sd (recv or splice): counts and dates the bytes, or
 * takes the EOF (-1), the EAGAIN (0, rx_empty set) or the error (-1, err set). Returns n when
 * bytes came. */
ssize_t stream_read_done(struct stream *s, struct side *sd, ssize_t n);
/* The same for a write to sd (send, sendmsg or splice): counts and dates the bytes, returns 0
 * for EAGAIN or EINTR, -1 with err set on an error. */
ssize_t stream_write_done(struct stream *s, struct side *sd, ssize_t n);

#endif /* WSPLICE_STREAM_H */
