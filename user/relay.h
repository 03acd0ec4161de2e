/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_RELAY_H
#define WSPLICE_RELAY_H

#include <stdbool.h>
#include <stdint.h>

struct chan;
struct stream;

/*
 * The userspace tunnel path: copies bytes both ways with recv/send, propagates half-closes,
 * enforces the tunnel timeouts. Every tunnel starts here; when splicing is on, it moves to the
 * kernel (splice.c) as soon as no byte is left in user space. With "nosplice" or -dS it stays.
 */

/* The 101 was relayed (or, in mode tcp, the server connected): the stream becomes a tunnel. */
void relay_tunnel_start(struct stream *s);

/* Moves bytes and handles EOF and errors; called from the stream's state machine. */
void relay_process(struct stream *s);

/* True when c's bytes are to go through a splice(2) pipe (it has one, or takes one once its
 * buffers are empty): the relay reads them, not the I/O callbacks. */
bool relay_pipe_wanted(const struct stream *s, const struct chan *c);

/* Closes the splice(2) pipes of a tunnel (stream_kill). */
void relay_release(struct stream *s);

/* Moves what a tunnel's pipes hold into its buffers and closes them, for a reload that hands
 * the tunnel over with its buffers. Returns 0 or -errno. */
int relay_unpipe(struct stream *s);

/* Sets the events and the idle deadline of a userspace tunnel. */
void relay_update(struct stream *s);

/*
 * The idle deadline of a tunnel whose sides last read bytes at cli_ms and srv_ms, as HAProxy
 * applies its timeouts: "timeout tunnel" for both sides when set, else "timeout client" and
 * "timeout server" each for its side; once a direction is shut, "timeout client-fin" and
 * "timeout server-fin" replace them when set. Returns 0 for no deadline; *cause gets 'c' or
 * 's', the side whose timeout applies first.
 */
uint64_t tunnel_deadline(const struct stream *s, uint64_t cli_ms, uint64_t srv_ms, bool half,
			 char *cause);

#endif /* WSPLICE_RELAY_H */
