/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_RELOAD_H
#define WSPLICE_RELOAD_H

#include <stdbool.h>
#include <sys/socket.h>

struct buf;
struct ctx;

/*
 * Reloads that keep tunnels. "wsplice -f CFG -x SOCKET -sf PID" connects to the old process's
 * stats socket (which needs "expose-fd listeners" and "level admin", as HAProxy's -x does) and
 * takes, with SCM_RIGHTS:
 *  1. "_getsocks": its listening sockets, as HAProxy does, so that no connection is refused
 *     while the processes change;
 *  2. "_gettunnels" (wsplice's own): every tunnel user space holds nothing of, both sockets and
 *     what the old process knew of it (times, counters, log fields, flow-control state). Spliced
 *     tunnels stay in the same sockhash, whose pins the new process took (splice_adopt()), so the
 *     kernel forwards their bytes throughout. The old process stops accepting, forgets what it
 *     handed over, and finishes the rest; on the same connection, the new process asks again
 *     every 200 ms for those that became movable since (an HTTP request upgraded, a tunnel
 *     that finished leaving the kernel). The old process exits once it has nothing left: it
 *     does not live as long as its WebSockets.
 * docs/management.md ("Reloads") describes the sequence and its limits.
 */

/*
 * New process. reload_get_listeners() fetches the old process's listeners; listener.c then
 * takes those that match a "bind" with reload_take_listener() (an fd, or -1), and
 * reload_listeners_done() closes the rest. reload_old_splice_pid() is the old process's pid
 * when it forwarded tunnels in the kernel (its BPF objects can be adopted), else 0.
 * reload_get_tunnels() adopts its tunnels. Each returns 0 or -errno and says why in the log;
 * on failure the old process keeps what it has.
 */
int reload_get_listeners(struct ctx *ctx, const char *path);
int reload_take_listener(struct ctx *ctx, const struct sockaddr_storage *addr, socklen_t len);
void reload_listeners_done(struct ctx *ctx);
int reload_old_splice_pid(const struct ctx *ctx);
int reload_get_tunnels(struct ctx *ctx, const char *path);
void reload_free(struct ctx *ctx);

/*
 * Old process: runs a "_getsocks" or "_gettunnels" line received on the stats socket fd, at
 * CLI level `level`. Errors (permission, protocol) are written to out as CLI answers. Returns
 * true when the connection must stay open: the new process will ask for more tunnels.
 */
bool reload_cli(struct ctx *ctx, int fd, int level, char *line, struct buf *out);

#endif /* WSPLICE_RELOAD_H */
