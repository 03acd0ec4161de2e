/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_PRIVS_H
#define WSPLICE_PRIVS_H

struct ctx;

/*
 * Gives up root once everything that needs it is done: BPF objects loaded and pinned,
 * listeners bound, stats socket created, pidfile written. Applies the global "chroot",
 * "group"/"gid" and "user"/"uid" in HAProxy's order (chroot, then groups, gid, uid), and keeps
 * no capability unless the kernel refuses bpf() on the map fds already held without CAP_BPF:
 * then CAP_BPF alone stays (docs/management.md, "Privileges", has the measurements).
 * A no-op when none of those keywords is set. Returns 0, or a negative errno after an alert
 * naming what failed (the caller exits: half-dropped privileges are not a state to run in).
 */
int privs_drop(struct ctx *ctx);

#endif /* WSPLICE_PRIVS_H */
