#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Samples memory while a transfer runs, for the flow-control tests.

    memwatch.py PID [--interval SECS]

Every interval (0.1 s) until PID exits or SIGTERM, prints one line:
    "RSS_KIB AVAIL_KIB PROCS_KIB"
RSS_KIB is PID's VmRSS; AVAIL_KIB is MemAvailable; PROCS_KIB is the sum of VmRSS over all
processes. MemAvailable also falls when some unrelated process on the machine allocates (a compiler,
a browser); (AVAIL0 - AVAIL) - max(0, PROCS - PROCS0) leaves what the kernel itself holds more, such
as socket buffers and sockmap queues, which is what a missing flow control would make balloon.
(60 loopback sockets left unread show as about 270 MiB by that measure.)
"""
import os
import signal
import sys
import time


def field(path, name):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def procs_rss():
    total = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            total += field(f"/proc/{pid}/status", "VmRSS:")
    return total


def main():
    pid = int(sys.argv[1])
    interval = float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--interval" else 0.1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while os.path.exists(f"/proc/{pid}"):
        print(field(f"/proc/{pid}/status", "VmRSS:"), field("/proc/meminfo", "MemAvailable:"),
              procs_rss(), flush=True)
        time.sleep(interval)


if __name__ == "__main__":
    main()
