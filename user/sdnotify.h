/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_SDNOTIFY_H
#define WSPLICE_SDNOTIFY_H

/*
 * systemd's readiness protocol without libsystemd: datagrams of "KEY=VALUE\n" lines to the unix
 * socket named by $NOTIFY_SOCKET (a path, or an abstract name written "@name"). Without that
 * variable every call here does nothing.
 *
 * sdnotify_open() connects once, at start-up: later messages then reach systemd from inside a
 * chroot and after the privilege drop, where the path would no longer resolve. Returns 0 (also
 * when there is nothing to connect to) or a negative errno.
 */
int sdnotify_open(void);

/* "READY=1" with "MAINPID=<pid>", so that a process started by a reload (-sf) or gone daemon
 * (-D) becomes the service's main process (the unit needs NotifyAccess=all). */
void sdnotify_ready(void);
/* "RELOADING=1": a new process replaces an old one (-sf). */
void sdnotify_reloading(void);
/* "STOPPING=1": the process stops (SIGTERM, SIGINT). */
void sdnotify_stopping(void);

/*
 * -D: forks; the parent waits for the child's sdnotify_started() and exits 0, or exits 1 when
 * the child ends before it. So the command's exit status says whether the daemon started, and
 * its pidfile exists when it returns: HAProxy's -D gives the same guarantees by forking once
 * everything is set up, but here the child must load and pin the BPF objects under its own pid,
 * after the fork. Returns 0 in the child (a new session), or a negative errno.
 */
int sdnotify_daemonize(void);
/* The start is complete (listening, pinned, privileges dropped): releases a -D parent. */
void sdnotify_started(void);

/* Sends one message, as is. Returns 0, or a negative errno (-ENOTCONN: no socket). */
int sdnotify_send(const char *msg);

#endif /* WSPLICE_SDNOTIFY_H */
