#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Peers that misbehave on purpose, for tests/47-faults.bats.

    faulty.py mute PORT                 server: accepts, reads, never answers
    faulty.py sink PORT                 server: answers an upgrade with a 101, then reads and
                                        never writes; prints "eof after N bytes" at the EOF
    faulty.py slowloris PORT N SECS     N clients, each sending a request head one byte every
                                        0.2 s, never finishing it; prints "answer STATUS" for each
                                        reply (or "closed"/"open") once SECS passed
    faulty.py noread PORT PATH SECS     client: sends one GET (an upgrade when PATH starts with
                                        /ws), then reads nothing for SECS seconds; prints
                                        "upgraded" after the 101, then the state of the socket
    faulty.py vanish PORT PATH N        client: upgrades on PATH, sends N bytes, then disappears:
                                        the socket is closed in TCP repair mode, so that neither
                                        a FIN nor a reset leaves (a client whose machine died)

Every mode prints "listening" or its first progress line once ready, exits 0 when it did what it
was asked to, 1 otherwise (reason on stderr).
"""
import socket
import sys
import time

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
TCP_REPAIR = 19


def mute(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    print("listening", flush=True)
    held = []
    while True:
        c, _ = ls.accept()
        c.recv(65536)
        held.append(c)


def sink(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    print("listening", flush=True)
    c, _ = ls.accept()
    head = b""
    while b"\r\n\r\n" not in head:
        b = c.recv(1)
        if not b:
            sys.exit("closed before the end of the request head")
        head += b
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    print(f"eof after {n} bytes", flush=True)


def request(path):
    if path.startswith("/ws"):
        return (f"GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    return f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode()


def upgrade(port, path):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(request(path))
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            sys.exit(f"closed during the upgrade: {head!r}")
        head += b
    if not head.startswith(b"HTTP/1.1 101 "):
        sys.exit(f"no 101: {head.splitlines()[0]!r}")
    return s


def slowloris(port, n, secs):
    head = b"GET /slow HTTP/1.1\r\nHost: t\r\nX-Padding: " + b"a" * 10000
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    for s in socks:
        s.setblocking(False)
    print(f"connected {n}", flush=True)
    got = [b""] * n
    closed = [False] * n
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < secs:
        for k, s in enumerate(socks):
            if closed[k]:
                continue
            try:
                s.send(head[i:i + 1])
            except OSError:
                pass
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        closed[k] = True
                        break
                    got[k] += b
            except BlockingIOError:
                pass
            except OSError:
                closed[k] = True
        i += 1
        time.sleep(0.2)
    for k in range(n):
        status = got[k].split(b" ", 2)[1].decode() if got[k].startswith(b"HTTP/1.") else "-"
        print(f"answer {status} {'closed' if closed[k] else 'open'}")


def noread(port, path, secs):
    if path.startswith("/ws"):
        s = upgrade(port, path)
        print("upgraded", flush=True)
    else:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(request(path))
        print("sent", flush=True)
    time.sleep(secs)
    s.setblocking(False)
    n = 0
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                print(f"closed after {n} bytes")
                return
            n += len(b)
    except BlockingIOError:
        print(f"open, {n} bytes queued")
    except OSError as e:
        print(f"error {e.strerror} after {n} bytes")


def vanish(port, path, n):
    s = upgrade(port, path)
    s.sendall(b"v" * n)
    time.sleep(0.5)
    # In repair mode close() frees the socket without telling the peer anything.
    s.setsockopt(socket.SOL_TCP, TCP_REPAIR, 1)
    s.close()
    print("vanished", flush=True)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "mute":
        mute(port)
    elif mode == "sink":
        sink(port)
    elif mode == "slowloris":
        slowloris(port, int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "noread":
        noread(port, sys.argv[3], float(sys.argv[4]))
    elif mode == "vanish":
        vanish(port, sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
