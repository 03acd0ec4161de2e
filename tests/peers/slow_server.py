#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""HTTP server that answers each request after DELAY seconds: "done N" (N counts requests).

usage: slow_server.py PORT DELAY
"""
import http.server
import itertools
import sys
import time

delay = float(sys.argv[2])
counter = itertools.count(1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        n = next(counter)
        time.sleep(delay)
        body = b"done %d\n" % n
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("listening", flush=True)
srv.serve_forever()
