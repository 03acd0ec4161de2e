#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""WebSocket echo server (python3-websockets 10.x) for the wsplice tests.

    ws_echo.py PORT [--hello TEXT] [--name NAME]

Listens on 127.0.0.1:PORT and echoes every message (text as text, binary as binary) on paths under
/ws; any other path gets a plain HTTP 404. With --hello, TEXT is sent right after the handshake,
before anything is read. Prints "listening PORT" once ready and one line "open NAME PATH" per
accepted WebSocket (NAME tells servers apart in routing tests), flushed at once.
"""
import argparse
import asyncio
import http
import resource
import sys

import websockets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--hello")
    ap.add_argument("--name", default="ws")
    ap.add_argument("--quiet", action="store_true", help="no line per connection (load tests)")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def process_request(path, headers):
        if path != "/ws" and not path.startswith("/ws/"):
            return http.HTTPStatus.NOT_FOUND, [("Content-Type", "text/plain")], b"not a ws path\n"
        return None

    async def handler(ws, path):
        if not args.quiet:
            print(f"open {args.name} {path}", flush=True)
        if args.hello is not None:
            await ws.send(args.hello)
        async for msg in ws:
            await ws.send(msg)

    async def run():
        async with websockets.serve(handler, "127.0.0.1", args.port, process_request=process_request,
                                    max_size=None, backlog=4096, ping_interval=None,
                                    compression=None):
            print(f"listening {args.port}", flush=True)
            await asyncio.Future()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
