#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Raw WebSocket tunnel ends with exact byte counts, for the log tests (57-logs.bats).

    tunnel_peer.py server PORT [--end echo|fin|rst] [--after N] [--delay S]
    tunnel_peer.py client PORT [--send N] [--end fin|rst|idle|wait] [--path P]

server: answers each upgrade with a fixed 101 head (HEAD101 below, accept computed) and echoes
tunnel bytes. --end fin/rst: once it has echoed --after bytes and waited --delay seconds (0.2 by
default), it closes (FIN) or resets (RST);
echo: it closes when the client does. Prints "listening PORT".

client: sends the upgrade request (REQ below), reads the 101, sends --send bytes in one write and
reads their echo, then: fin closes normally, rst resets, idle waits (up to 30 s) for the proxy to
close, wait waits for the server to close. Prints "connected LOCALPORT" first, then "ok req=R resp=H sent=N recv=M" (R and H: the
request and 101 head sizes; M: tunnel bytes received) and exits 0, or 1 with a reason.
"""
import argparse
import base64
import hashlib
import socket
import struct
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def request(path):
    return (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY +
            b"\r\nSec-WebSocket-Version: 13\r\n\r\n")


def head101(key):
    acc = base64.b64encode(hashlib.sha1(key + GUID).digest())
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n")


def read_head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise EOFError("closed before the end of the head")
        buf += d
    i = buf.index(b"\r\n\r\n") + 4
    return buf[:i], buf[i:]


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def serve_one(c, args):
    try:
        head, rest = read_head(c)
        key = b""
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"sec-websocket-key:"):
                key = line.split(b":", 1)[1].strip()
        c.sendall(head101(key))
        echoed = 0
        if rest:
            c.sendall(rest)
            echoed += len(rest)
        while True:
            if args.end != "echo" and echoed >= args.after:
                # (a moment first: what was echoed reaches the client before the end)
                time.sleep(args.delay)
                return reset(c) if args.end == "rst" else c.close()
            d = c.recv(65536)
            if not d:
                return c.close()
            c.sendall(d)
            echoed += len(d)
    except OSError:
        c.close()


def server(args):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(64)
    print(f"listening {args.port}", flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve_one, args=(c, args), daemon=True).start()


def client(args):
    s = socket.create_connection(("127.0.0.1", args.port), timeout=30)
    print(f"connected {s.getsockname()[1]}", flush=True)
    req = request(args.path)
    s.sendall(req)
    head, rest = read_head(s)
    if not head.startswith(b"HTTP/1.1 101 "):
        print(f"no 101: {head!r}", file=sys.stderr)
        return 1
    got = len(rest)
    data = bytes((i * 7) & 0xFF for i in range(args.send))
    if data:
        s.sendall(data)
    while got < args.send:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
    if got != args.send:
        print(f"echo: {got} of {args.send} bytes", file=sys.stderr)
        return 1
    if args.end == "rst":
        reset(s)
    elif args.end == "fin":
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        s.close()
    else:
        # idle or wait: until the other end closes (a reset counts as closed)
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                got += len(d)
        except (ConnectionResetError, socket.timeout) as e:
            if isinstance(e, socket.timeout):
                print("nobody closed the tunnel in 30 s", file=sys.stderr)
                return 1
        s.close()
    print(f"ok req={len(req)} resp={len(head)} sent={args.send} recv={got}", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("port", type=int)
    ap.add_argument("--end", default=None)
    ap.add_argument("--after", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--send", type=int, default=0)
    ap.add_argument("--path", default="/ws")
    args = ap.parse_args()
    if args.role == "server":
        args.end = args.end or "echo"
        return server(args)
    args.end = args.end or "fin"
    return client(args)


if __name__ == "__main__":
    sys.exit(main())
