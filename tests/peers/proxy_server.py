#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Records what a connection starts with (a PROXY header, then the request) and answers 200.

usage: proxy_server.py PORT RECORD_DIR
Each connection's first bytes up to the end of the HTTP head go to RECORD_DIR/conn-N (raw).
"""
import os
import socket
import sys
import threading

port, outdir = int(sys.argv[1]), sys.argv[2]
count = 0
lock = threading.Lock()


V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def head_end(data):
    """Where the HTTP head ends, past a PROXY v2 header (whose signature starts with CRLFCRLF
    and whose length is in bytes 14-15); -1 while incomplete."""
    start = 0
    if data.startswith(V2_SIG[:len(data)]):
        if len(data) < 16:
            return -1
        start = 16 + int.from_bytes(data[14:16], "big")
    i = data.find(b"\r\n\r\n", start)
    return i


def serve(c, n):
    data = b""
    c.settimeout(5)
    try:
        while head_end(data) < 0:
            d = c.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    with open(os.path.join(outdir, "conn-%d" % n), "wb") as f:
        f.write(data)
    try:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
    except OSError:
        pass
    c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    with lock:
        count += 1
        n = count
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
