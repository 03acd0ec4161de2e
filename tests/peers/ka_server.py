#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""An HTTP/1.1 keep-alive server for the connection-mode tests.

usage: ka_server.py PORT [NAME]
GET /id         -> "conn=N" where N numbers the TCP connection the request came on
                   ("NAME conn=N" when a NAME is given)
GET /hdr        -> the request's Cookie header ("-" when none)
GET /setcookie  -> sets "SRV=orig; path=/" itself
GET /big?n=B    -> B bytes (Content-Length), streamed
POST /count     -> reads the body (Content-Length or chunked) and answers its size
"""
import http.server
import itertools
import sys
import urllib.parse

counter = itertools.count(1)
NAME = (sys.argv[2] + " ").encode() if len(sys.argv) > 2 else b""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.conn_no = next(counter)

    def reply(self, body, code=200, extra=()):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/big":
            n = int(urllib.parse.parse_qs(url.query)["n"][0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * 65536
            while n > 0:
                part = chunk[: min(n, len(chunk))]
                self.wfile.write(part)
                n -= len(part)
            return
        if url.path == "/hdr":
            self.reply((self.headers.get("Cookie", "-") + "\n").encode())
            return
        if url.path == "/setcookie":
            self.reply(NAME + b"set\n", extra=[("Set-Cookie", "SRV=orig; path=/")])
            return
        self.reply(NAME + b"conn=%d\n" % self.conn_no)

    def do_POST(self):
        total = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                left = size
                while left:
                    got = len(self.rfile.read(min(left, 1 << 20)))
                    left -= got
                total += size
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                got = len(self.rfile.read(min(left, 1 << 20)))
                if not got:
                    break
                left -= got
                total += got
        self.reply(b"%d\n" % total)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("listening", flush=True)
    srv.serve_forever()
