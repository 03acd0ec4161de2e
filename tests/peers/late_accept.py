#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A server whose TCP handshake does not complete for HOLD seconds, then an HTTP one.

usage: late_accept.py PORT HOLD

It listens with a backlog of 0 and fills that accept queue with a connection of its own, so the
kernel drops every other SYN (the client's connect() stays in progress and retransmits its SYN
after 1 s, 3 s, ...). After HOLD seconds (never with HOLD < 0) it accepts: its own connection
first, which it closes, then it answers every request with 200 "late" and closes. Prints
"listening" once the queue is full.
"""
import socket
import sys
import time

port, hold = int(sys.argv[1]), float(sys.argv[2])
lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", port))
lsock.listen(0)
filler = socket.create_connection(("127.0.0.1", port))
print("listening", flush=True)
if hold < 0:
    while True:
        time.sleep(3600)
time.sleep(hold)
first, _ = lsock.accept()
first.close()
filler.close()
while True:
    conn, _ = lsock.accept()
    conn.settimeout(5)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if data:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nlate\n")
    except OSError:
        pass
    conn.close()
