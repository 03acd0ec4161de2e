#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Sends hand-written HTTP/1.1 requests on one connection and prints the raw responses.

    http_raw.py PORT REQFILE [REQFILE...] [--linger SECS]

For each REQFILE in order: sends its bytes, reads one whole response (head, then a body by
Content-Length, chunked, or until close; none for 1xx/204/304) and writes it to stdout unchanged.
A 101 ends the exchange. Then waits up to --linger seconds and prints a last line
"## closed" when the peer closed the connection, "## open" when it is still open.
Exit 0 when every response arrived whole, 1 otherwise (reason on stderr).
"""
import argparse
import socket
import sys
import time


class Reader:
    def __init__(self, sock):
        self.s, self.buf, self.eof = sock, b"", False

    def fill(self):
        d = self.s.recv(65536)
        if not d:
            self.eof = True
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

    def rest(self):
        try:
            while True:
                self.fill()
        except EOFError:
            pass
        out, self.buf = self.buf, b""
        return out


def read_response(r, method):
    head = r.until(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    h = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            h[k.strip().lower()] = v.strip()
    if status < 200 or status in (204, 304) or method == "HEAD":
        return head, status
    if "chunked" in h.get("transfer-encoding", "").lower():
        body = b""
        while True:
            line = r.until(b"\r\n")
            body += line
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while True:
                    t = r.until(b"\r\n")
                    body += t
                    if t == b"\r\n":
                        return head + body, status
            body += r.exactly(size + 2)
    if "content-length" in h:
        return head + r.exactly(int(h["content-length"])), status
    return head + r.rest(), status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("reqs", nargs="+")
    ap.add_argument("--linger", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()
    s = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    r = Reader(s)
    out = sys.stdout.buffer
    for path in args.reqs:
        with open(path, "rb") as f:
            req = f.read()
        s.sendall(req)
        try:
            resp, status = read_response(r, req.split(b" ", 1)[0].decode())
        except (EOFError, socket.timeout, ConnectionError) as e:
            out.write(r.buf)
            out.flush()
            print(f"http_raw: no whole response to {path}: {type(e).__name__}", file=sys.stderr)
            return 1
        out.write(resp)
        if status == 101:
            break
    out.flush()
    s.settimeout(args.linger)
    state = "open"
    try:
        d = s.recv(65536) if not r.buf else r.buf
        if not d:
            state = "closed"
        else:
            out.write(b"\n## unexpected bytes: " + d + b"\n")
    except socket.timeout:
        pass
    except ConnectionError:
        state = "closed"
    out.write(f"\n## {state}\n".encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
