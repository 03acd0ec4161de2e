#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A fake systemd notify socket, for the sd_notify tests.

    notify_recv.py SOCKET PORT

SOCKET is a path, or @NAME for the abstract namespace (as in $NOTIFY_SOCKET). Each datagram is
printed one line per KEY=VALUE, prefixed with the sender's pid (from SCM_CREDENTIALS, as systemd
reads it): "pid=N READY=1". On READY=1 it also tries to connect to 127.0.0.1:PORT and prints
"pid=N port=open" or "pid=N port=closed": readiness must mean the listeners accept.
Prints "listening" once bound. Runs until killed.
"""
import socket
import struct
import sys

path, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + path[1:] if path.startswith("@") else path)
print("listening", flush=True)
while True:
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, val in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iii", val[:12])[0]
    for line in data.decode().splitlines():
        if line:
            print(f"pid={pid} {line}", flush=True)
        if line == "READY=1":
            c = socket.socket()
            c.settimeout(2)
            state = "open" if c.connect_ex(("127.0.0.1", port)) == 0 else "closed"
            c.close()
            print(f"pid={pid} port={state}", flush=True)
