#!/usr/bin/env python3
"""Holds N idle HTTP/1.1 keep-alive connections open against one proxy.

Each connection sends one GET and reads the whole response (so the proxy has served a
request on it and it is a real keep-alive connection, not a half-open one), then stays
open and silent. Connects and first requests run at most CONCURRENCY at a time, so the
proxy's upstream pool stays small and the memory measured is the client connections'.

Prints "ready OPEN FAILED" on stdout once every connection is idle, then holds them
until stdin closes (or --hold seconds pass), closes them all and exits. With --halfway
it first opens N/2, prints "half OPEN FAILED" and waits for a line on stdin, so the
caller can measure at N/2 as well.

Usage: idle_clients.py HOST PORT N [--hold SECONDS] [--concurrency C] [--halfway] [--no-request]
"""

import argparse
import asyncio
import os
import sys

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: portcullis-idle-clients\r\n\r\n"


async def open_one(host, port, gate, timeout, request=True):
    """One connection that has had one request answered (or, with `request` false, one
    that is merely connected), or None."""
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), timeout
            )
            if not request:
                return writer
            writer.write(REQUEST)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length:
                await asyncio.wait_for(reader.readexactly(length), timeout)
            if not head.startswith(b"HTTP/1.1 200"):
                writer.close()
                return None
            return writer
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            return None


async def wait_for_stdin_line(hold):
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), hold)
    except asyncio.TimeoutError:
        pass


async def wait_for_stdin_close(hold):
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.read), hold)
    except asyncio.TimeoutError:
        pass


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("n", type=int)
    parser.add_argument("--hold", type=float, default=120.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--halfway", action="store_true",
                        help='stop after N/2, print "half OPEN FAILED", go on after a stdin line')
    parser.add_argument("--no-request", action="store_true",
                        help="only connect: measures a connection that never sent a request")
    args = parser.parse_args()

    gate = asyncio.Semaphore(args.concurrency)
    sizes = [args.n // 2, args.n - args.n // 2] if args.halfway else [args.n]
    opened, asked = [], 0
    for step, size in enumerate(sizes):
        if step > 0:
            await wait_for_stdin_line(args.hold)
        tasks = [
            open_one(args.host, args.port, gate, args.timeout, not args.no_request)
            for _ in range(size)
        ]
        opened += [w for w in await asyncio.gather(*tasks) if w is not None]
        asked += size
        word = "ready" if step == len(sizes) - 1 else "half"
        print(f"{word} {len(opened)} {asked - len(opened)}", flush=True)
    await wait_for_stdin_close(args.hold)
    for writer in opened:
        writer.close()
    await asyncio.sleep(0.2)
    sys.stdout.flush()
    os._exit(0)  # do not wait for the executor thread that may still block on stdin


if __name__ == "__main__":
    asyncio.run(main())
