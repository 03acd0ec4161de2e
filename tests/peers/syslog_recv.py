#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A syslog receiver for the log tests: UDP or a unix datagram socket.

    syslog_recv.py udp PORT
    syslog_recv.py unix PATH [--no-read]

Prints "listening" once bound, then one line per datagram received: its length in bytes, a
space, and the datagram without its final newline (a datagram without one is printed with
" NO-NEWLINE" after it). --no-read binds and never reads, so that the socket's queue fills up and
a sender must either block or drop.
"""
import argparse
import os
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["udp", "unix"])
    ap.add_argument("where")
    ap.add_argument("--no-read", action="store_true")
    args = ap.parse_args()
    if args.kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", int(args.where)))
    else:
        if os.path.exists(args.where):
            os.unlink(args.where)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(args.where)
    print("listening", flush=True)
    if args.no_read:
        while True:
            time.sleep(3600)
    out = sys.stdout.buffer
    while True:
        d = s.recv(70000)
        if d.endswith(b"\n"):
            out.write(b"%d %s\n" % (len(d), d[:-1]))
        else:
            out.write(b"%d %s NO-NEWLINE\n" % (len(d), d))
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
