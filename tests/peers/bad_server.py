#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A raw TCP HTTP/1.1 server that answers in one chosen, sometimes broken, way.

    bad_server.py PORT MODE [--record DIR] [--size N] [--after TEXT]

MODE, for every request:
  noaccept    101 Switching Protocols without Sec-WebSocket-Accept (a proxy must answer 502)
  wrongaccept 101 with a Sec-WebSocket-Accept that does not match the key
  forbidden   403 with a body and Content-Length, then closes its side
  raw101      a correct 101 and, in the same send(), the bytes of --after; then echoes raw bytes
  ws13        as raw101 when the request's only Sec-WebSocket-Version is 13, else what RFC 6455
              4.2.2 asks of a server: 426 with "Sec-WebSocket-Version: 13", kept alive
  cl          200 with Content-Length
  chunked     200 with Transfer-Encoding: chunked, in uneven chunks
  close       200 with neither: the body ends when the server closes
  garbage     an invalid status line (a proxy must answer 502)
  halfhead    the start of a response head, then closes (502 too)
  tecl        200 chunked with a Content-Length too (kept alive)
  cl2         200 with two different Content-Length (502)
The 200 body is the request body when there is one, else --size bytes of a fixed binary pattern
(see body_pattern). With --record DIR, request number N (from 1, over all connections) is saved as
DIR/N.head (the raw head) and DIR/N.body (the decoded body). Prints "listening PORT" when ready.
"""
import argparse
import base64
import hashlib
import os
import socket
import socketserver
import sys
import threading

FORBIDDEN_BODY = b"<html><body><h1>403 Forbidden</h1>\nnot for you: \x00\x01 binary tail\n</body></html>\n"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def body_pattern(n):
    return bytes((i * 7 + (i >> 8) * 13) & 0xFF for i in range(n))


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


class Conn:
    """Buffered reader over a socket, enough to parse HTTP/1.1 heads and bodies."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def until(self, sep):
        while sep not in self.buf:
            self.fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_body(self, headers):
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self.until(b"\r\n").split(b";")[0].strip(), 16)
                if size == 0:
                    while self.until(b"\r\n") != b"\r\n":  # trailers
                        pass
                    return body
                body += self.exactly(size)
                if self.exactly(2) != b"\r\n":
                    raise ValueError("bad chunk end")
        return self.exactly(int(headers.get("content-length", "0")))


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return lines[0], headers


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        conn = Conn(self.request)
        try:
            while self.one(conn):
                pass
        except (EOFError, ConnectionError):
            pass

    def record(self, head, body):
        if not ARGS.record:
            return
        with LOCK:
            Handler.count += 1
            n = Handler.count
        with open(os.path.join(ARGS.record, f"{n}.head"), "wb") as f:
            f.write(head)
        with open(os.path.join(ARGS.record, f"{n}.body"), "wb") as f:
            f.write(body)

    def one(self, conn):
        """Serves one request; returns whether the connection stays open for another."""
        head = conn.until(b"\r\n\r\n")
        _, headers = parse_head(head)
        body = conn.read_body(headers)
        self.record(head, body)
        s, mode = self.request, ARGS.mode
        key = headers.get("sec-websocket-key", "").encode()
        if mode == "ws13":
            versions = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
                        if l.lower().startswith(b"sec-websocket-version:")]
            if versions != [b"13"]:
                s.sendall(b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
                          b"Content-Length: 0\r\n\r\n")
                return True
            mode = "raw101"
        if mode in ("noaccept", "wrongaccept", "raw101"):
            resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            if mode == "raw101":
                resp += b"Sec-WebSocket-Accept: " + ws_accept(key) + b"\r\n"
            elif mode == "wrongaccept":
                resp += b"Sec-WebSocket-Accept: " + ws_accept(key + b"x") + b"\r\n"
            resp += b"\r\n"
            if mode == "raw101":
                resp += ARGS.after.encode()
            s.sendall(resp)
            # Whatever follows is tunnel data: echo it until the peer closes.
            if conn.buf:
                s.sendall(conn.buf)
            while True:
                d = s.recv(65536)
                if not d:
                    return False
                s.sendall(d)
        if mode == "garbage":
            s.sendall(b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n")
            return False
        if mode == "tecl":
            s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n"
                      b"3\r\nabc\r\n0\r\n\r\n")
            return True
        if mode == "cl2":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
            return False
        if mode == "halfhead":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-")
            s.shutdown(socket.SHUT_WR)
            return False
        if mode == "forbidden":
            s.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(FORBIDDEN_BODY) + FORBIDDEN_BODY)
            s.shutdown(socket.SHUT_WR)
            return False
        out = body if body else body_pattern(ARGS.size)
        if mode == "cl":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(out) + out)
            return headers.get("connection", "").lower() != "close"
        if mode == "chunked":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            i, sizes = 0, [1, 100, 4096, 3, 65536]
            while i < len(out):
                n = sizes[(i // 7) % len(sizes)] if i else 1
                part = out[i:i + n]
                s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
                i += len(part)
            s.sendall(b"0\r\n\r\n")
            return headers.get("connection", "").lower() != "close"
        if mode == "close":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + out)
            s.shutdown(socket.SHUT_WR)
            return False
        raise SystemExit(f"unknown mode {mode}")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


Handler.count = 0
LOCK = threading.Lock()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("mode", choices=["noaccept", "wrongaccept", "forbidden", "raw101", "ws13", "cl",
                                     "chunked", "close", "garbage", "halfhead", "tecl", "cl2"])
    ap.add_argument("--record")
    ap.add_argument("--size", type=int, default=100000)
    ap.add_argument("--after", default="raw bytes after the 101\n")
    ARGS = ap.parse_args()
    if ARGS.record:
        os.makedirs(ARGS.record, exist_ok=True)
    with Server(("127.0.0.1", ARGS.port), Handler) as srv:
        print(f"listening {ARGS.port}", flush=True)
        try:
            srv.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.exit(main())
