#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Many tunnels streaming patterned bytes, for the reload tests.

  pattern_peer.py server PORT
      Accepts connections, answers a WebSocket upgrade with a correct 101, then echoes every
      byte back raw (the proxy forwards bytes, not frames), and closes its side on EOF.

  pattern_peer.py client HOST:PORT --conns N --chunk BYTES --interval MS --until FILE
      Opens N tunnels through the proxy (GET /ws upgrade), then on each sends CHUNK bytes of a
      per-connection pattern every INTERVAL ms and checks that the echo is exactly what was
      sent, in order. Once FILE exists, each tunnel stops sending, shuts its write side and
      waits for the rest of the echo and the EOF. Prints one line
      "ok conns=N sent=B echoed=B" (with --report FILE, one line per tunnel) and exits 0 when every byte came back once, in order, on
      every tunnel; else prints what differs (tunnel, offset) and exits 1.
"""
import argparse
import asyncio
import base64
import hashlib
import os
import random
import sys

OPEN = [0]  # tunnels that got their 101
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PERIOD = 65521  # prime: a lost, repeated or reordered chunk never realigns by chance
TABLE = random.Random(1).randbytes(PERIOD) * 2


def pattern(conn, offset, n):
    """n bytes of connection conn's stream, starting at offset."""
    out = bytearray()
    pos = (offset + conn * 977) % PERIOD
    while n:
        take = min(n, PERIOD)
        out += TABLE[pos:pos + take]
        n -= take
        pos = (pos + take) % PERIOD
    return bytes(out)


async def serve_one(reader, writer):
    head = await reader.readuntil(b"\r\n\r\n")
    key = b""
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"sec-websocket-key:"):
            key = line.split(b":", 1)[1].strip()
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.write_eof()
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


async def server(port):
    srv = await asyncio.start_server(serve_one, "127.0.0.1", port, backlog=4096)
    async with srv:
        await srv.serve_forever()


class Tunnel:
    def __init__(self, conn):
        self.conn = conn
        self.sent = 0
        self.echoed = 0
        self.error = None
        self.port = 0
        self.head_up = 0     # bytes of the upgrade request
        self.head_down = 0   # bytes of the 101 head received


async def run_tunnel(t, host, port, args):
    reader, writer = await asyncio.open_connection(host, port)
    t.port = writer.get_extra_info("sockname")[1]
    key = base64.b64encode(os.urandom(16))
    req = (b"GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Key: " + key + b"\r\n\r\n")
    writer.write(req)
    t.head_up = len(req)
    head = await reader.readuntil(b"\r\n\r\n")
    t.head_down = len(head)
    if not head.startswith(b"HTTP/1.1 101"):
        t.error = "no 101: %r" % head[:40]
        writer.close()
        return
    OPEN[0] += 1

    async def check_echo():
        while True:
            data = await reader.read(65536)
            if not data:
                return
            want = pattern(t.conn, t.echoed, len(data))
            if data != want:
                bad = next(i for i in range(len(data)) if data[i] != want[i])
                t.error = "echo differs at offset %d" % (t.echoed + bad)
                return
            t.echoed += len(data)
            if t.echoed > t.sent:
                t.error = "echo longer than what was sent (%d > %d)" % (t.echoed, t.sent)
                return

    echo = asyncio.ensure_future(check_echo())
    # spread the tunnels over the interval, so that sends do not come in bursts
    await asyncio.sleep(random.random() * args.interval / 1000)
    while not os.path.exists(args.until) and t.error is None and not echo.done():
        writer.write(pattern(t.conn, t.sent, args.chunk))
        t.sent += args.chunk
        await writer.drain()
        await asyncio.sleep(args.interval / 1000)
    writer.write_eof()
    try:
        await asyncio.wait_for(echo, args.drain_timeout)
    except asyncio.TimeoutError:
        t.error = t.error or "no EOF %ds after the end (echoed %d of %d)" % (
            args.drain_timeout, t.echoed, t.sent)
    if t.error is None and t.echoed != t.sent:
        t.error = "echo short: %d of %d" % (t.echoed, t.sent)
    writer.close()


async def client(target, args):
    host, port = target.rsplit(":", 1)
    tunnels = [Tunnel(i) for i in range(args.conns)]
    # open them a batch at a time: the accept backlog is finite
    tasks = []
    for i in range(0, args.conns, 100):
        batch = [asyncio.ensure_future(run_tunnel(t, host, int(port), args))
                 for t in tunnels[i:i + 100]]
        tasks += batch
        await asyncio.sleep(0.05)
    if args.ready:
        while OPEN[0] < args.conns and not all(t.done() for t in tasks):
            await asyncio.sleep(0.05)
        open(args.ready, "w").close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = 0
    for t, r in zip(tunnels, results):
        if isinstance(r, BaseException):
            t.error = t.error or repr(r)
        if t.error:
            errors += 1
            if errors <= 10:
                print("tunnel %d: %s" % (t.conn, t.error))
    if args.report:
        with open(args.report, "w") as f:
            for t in tunnels:
                f.write("%d %d %d\n" % (t.port, t.head_up + t.sent, t.head_down + t.echoed))
    sent = sum(t.sent for t in tunnels)
    echoed = sum(t.echoed for t in tunnels)
    if errors:
        print("FAIL %d of %d tunnels; sent=%d echoed=%d" % (errors, args.conns, sent, echoed))
        return 1
    print("ok conns=%d sent=%d echoed=%d" % (args.conns, sent, echoed))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("target")
    ap.add_argument("--conns", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--interval", type=int, default=50)
    ap.add_argument("--until", default="/nonexistent")
    ap.add_argument("--ready", help="file created once every tunnel is open")
    ap.add_argument("--report", help="file: one line per tunnel, 'PORT UP DOWN', the bytes "
                    "it sent and received, heads included (what a log line must say)")
    ap.add_argument("--drain-timeout", type=int, default=20)
    args = ap.parse_args()
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.mode == "server":
        asyncio.run(server(int(args.target)))
        return 0
    return asyncio.run(client(args.target, args))


if __name__ == "__main__":
    sys.exit(main())
