#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A server that sends a body where HTTP forbids one: to HEAD, and with 204 and 304.

usage: broken_body_server.py PORT
HEAD /...  -> 200 with Content-Length: 5 and "BROKE" anyway
GET /204   -> 204 with "BROKE" after the head
GET /304   -> 304 with "BROKE" after the head
GET /ok    -> 200 "fine\n"
"""
import socket
import sys
import threading


def serve(c):
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            head, buf = buf.split(b"\r\n\r\n", 1)
            method, path = head.split(b" ")[:2]
            if method == b"HEAD":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nBROKE")
            elif path in (b"/204", b"/304"):
                code = path[1:].decode()
                reason = "No Content" if code == "204" else "Not Modified"
                c.sendall(("HTTP/1.1 %s %s\r\n\r\nBROKE" % (code, reason)).encode())
            else:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfine\n")
    except OSError:
        pass
    finally:
        c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("listening", flush=True)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
