#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""WebSocket client (python3-websockets 10.x): sends messages, checks each echo byte for byte.

    ws_client.py URL [--count N] [--size BYTES] [--expect-hello TEXT]

Messages alternate text and binary; their content depends on the index and the size grows up to
--size, so a truncated, reordered or foreign message fails. Exit status 0 when every echo matched,
1 otherwise (reason on stderr). On success prints "ok N messages B bytes" (B: payload one way).
"""
import argparse
import asyncio
import sys

import websockets


def message(i, size):
    n = max(1, size * (i + 1) // 8) if i < 8 else size
    if i % 2 == 0:
        return (f"msg {i} " + "abcdefghijklmnopqrstuvwxyz0123456789" * (n // 36 + 1))[:n]
    return bytes((i * 131 + j * 7 + (j >> 8)) & 0xFF for j in range(n))


async def run(args):
    total = 0
    async with websockets.connect(args.url, max_size=None, ping_interval=None, compression=None,
                                  open_timeout=10, close_timeout=5) as ws:
        if args.expect_hello is not None:
            got = await asyncio.wait_for(ws.recv(), 10)
            if got != args.expect_hello:
                print(f"hello: got {got!r}, want {args.expect_hello!r}", file=sys.stderr)
                return 1
        for i in range(args.count):
            msg = message(i, args.size)
            total += len(msg) if isinstance(msg, bytes) else len(msg.encode())
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 10)
            if got != msg:
                print(f"message {i}: echo differs ({len(got)} bytes, want {len(msg)})",
                      file=sys.stderr)
                return 1
    print(f"ok {args.count} messages {total} bytes")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--expect-hello")
    args = ap.parse_args()
    try:
        return asyncio.run(run(args))
    except Exception as e:  # any handshake or protocol failure is a test failure, said plainly
        print(f"ws_client: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
