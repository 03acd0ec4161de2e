#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Opens N concurrent WebSocket tunnels (python3-websockets 10.x) and verifies every echo.

    load_client.py URL [--conns N] [--msgs M] [--size BYTES] [--go FILE]

Phase 1 opens all N connections and keeps them open, then prints "open N". With --go the client
then waits until FILE exists (the test inspects the daemon meanwhile). Phase 2 sends M messages on
every connection at once, each unique to (connection, index), and checks each echo byte for byte.
Phase 3 closes every connection cleanly. Exit 0 and "ok N tunnels, T messages" when everything
matched; 1 with the first failures on stderr otherwise.
"""
import argparse
import asyncio
import os
import resource
import sys
import time

import websockets


def message(c, i, size):
    n = 1 + (c * 31 + i * 17) % size
    head = f"{c}:{i}:".encode()
    return (head + bytes((c + i * 7 + j) & 0xFF for j in range(n)))[:max(n, len(head))]


async def main(args):
    sem = asyncio.Semaphore(args.parallel)

    async def open_one(c):
        async with sem:
            return await websockets.connect(f"{args.url}/{c}", max_size=None, ping_interval=None,
                                            compression=None, open_timeout=30, close_timeout=10)

    t0 = time.monotonic()
    results = await asyncio.gather(*(open_one(c) for c in range(args.conns)),
                                   return_exceptions=True)
    conns = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"{len(errors)} of {args.conns} connections failed to open, first: "
              f"{type(errors[0]).__name__}: {errors[0]}", file=sys.stderr)
        for ws in conns:
            await ws.close()
        return 1
    print(f"open {len(conns)} in {time.monotonic() - t0:.1f}s", flush=True)

    if args.go:
        while not os.path.exists(args.go):
            await asyncio.sleep(0.05)

    async def exchange(c, ws):
        for i in range(args.msgs):
            msg = message(c, i, args.size)
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 30)
            if got != msg:
                raise AssertionError(f"tunnel {c} message {i}: echo differs "
                                     f"({len(got)} bytes, want {len(msg)})")
        return args.msgs

    t1 = time.monotonic()
    results = await asyncio.gather(*(exchange(c, ws) for c, ws in enumerate(conns)),
                                   return_exceptions=True)
    bad = [(c, r) for c, r in enumerate(results) if isinstance(r, BaseException)]
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    if bad:
        for c, e in bad[:5]:
            print(f"tunnel {c}: {type(e).__name__}: {e}", file=sys.stderr)
        print(f"{len(bad)} of {len(conns)} tunnels failed", file=sys.stderr)
        return 1
    print(f"ok {len(conns)} tunnels, {sum(results)} messages in {time.monotonic() - t1:.1f}s",
          flush=True)
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("url", help="ws://HOST:PORT/PATH; /<connection index> is appended")
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--msgs", type=int, default=5)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--parallel", type=int, default=100, help="handshakes in flight at once")
    ap.add_argument("--go")
    a = ap.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sys.exit(asyncio.run(main(a)))
