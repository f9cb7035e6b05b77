#!/usr/bin/env python3
"""Connection floods and LINE-like webhooks for the webhook_flood rows (bench.py runs it).

    flood.py slow --port=P --path=PATH --drip=N --silent=M [--interval=1] [--reconnect=2]
        N connections drip one byte of a webhook request's headers every --interval seconds and
        M connections never send anything; each one the server cuts is reopened --reconnect
        seconds later, as issue 16's attacker does. Runs until SIGTERM, then prints
        BENCH_JSON {opened, cut, answered}.
    flood.py idle --port=P --count=N
        N kept-alive connections, each after one GET /healthz: prints "READY <n>" once all are
        idle, then holds them until stdin closes.
    flood.py send --port=P --requests=FILE --rate=R --seconds=S
        Signed webhooks from webhooks.py's FILE (path TAB signature TAB body) at a steady R per
        second, each on a new connection (Connection: close), as LINE sends them. Prints
        BENCH_JSON {sent, statuses, p50_ms, p99_ms, p999_ms}.

Everything talks to 127.0.0.1 only. Separate processes, so that the flood's work does not
delay the measured requests in the same interpreter.
"""

import argparse
import asyncio
import json
import resource
import signal
import socket
import sys
import threading
import time


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# -- slow


async def slow_connection(args, head, stats, stop):
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
        except OSError:
            stats["connect_failures"] += 1
            await asyncio.sleep(args.reconnect)
            continue
        stats["opened"] += 1
        received = b""

        async def drip():
            sent = 0
            while head:
                writer.write(head[sent:sent + 1] if sent < len(head) else b"a")
                sent += 1
                await asyncio.sleep(args.interval)

        dripper = asyncio.ensure_future(drip())
        try:
            while True:
                data = await reader.read(512)
                if not data:
                    break
                received += data
        except OSError:
            pass
        dripper.cancel()
        writer.close()
        if stop.is_set():
            return
        stats["cut"] += 1
        if received:
            stats["answered"] += 1
        await asyncio.sleep(args.reconnect)


async def run_slow(args):
    stats = {"opened": 0, "cut": 0, "answered": 0, "connect_failures": 0}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    drip_head = f"POST {args.path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode()
    tasks = [asyncio.ensure_future(slow_connection(args, drip_head, stats, stop))
             for _ in range(args.drip)]
    tasks += [asyncio.ensure_future(slow_connection(args, b"", stats, stop))
              for _ in range(args.silent)]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print("BENCH_JSON " + json.dumps(stats), flush=True)


# -- idle


def run_idle(args):
    sockets = []
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(args.count):
        s = socket.create_connection(("127.0.0.1", args.port))
        s.sendall(request)
        sockets.append(s)
    for s in sockets:
        s.recv(4096)
    print(f"READY {len(sockets)}", flush=True)
    sys.stdin.read()


# -- send


def run_send(args):
    lines = open(args.requests).read().splitlines()
    total = int(args.rate * args.seconds)
    latencies = []
    statuses = {}
    lock = threading.Lock()
    start = time.monotonic() + 0.2
    next_index = [0]

    def one(line):
        path, signature, body = line.split("\t", 2)
        body = body.encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Content-Type: application/json; charset=utf-8\r\n"
                   f"User-Agent: LineBotWebhook/2.0\r\nx-line-signature: {signature}\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        began = time.monotonic()
        status = "none"
        try:
            with socket.create_connection(("127.0.0.1", args.port), timeout=10) as s:
                s.sendall(request)
                answer = b""
                while True:
                    data = s.recv(4096)
                    if not data:
                        break
                    answer += data
                if answer.startswith(b"HTTP/1.1 "):
                    status = answer[9:12].decode()
        except OSError as error:
            status = type(error).__name__
        took_ms = (time.monotonic() - began) * 1e3
        with lock:
            latencies.append(took_ms)
            statuses[status] = statuses.get(status, 0) + 1

    def worker():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                return
            delay = start + i / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            one(lines[i % len(lines)])

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("BENCH_JSON " + json.dumps({
        "sent": total, "statuses": statuses, "seconds": time.monotonic() - start,
        "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
        "p999_ms": percentile(latencies, 0.999)}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    slow = sub.add_parser("slow")
    slow.add_argument("--port", type=int, required=True)
    slow.add_argument("--path", required=True)
    slow.add_argument("--drip", type=int, default=2500)
    slow.add_argument("--silent", type=int, default=2500)
    slow.add_argument("--interval", type=float, default=1.0)
    slow.add_argument("--reconnect", type=float, default=2.0)
    idle = sub.add_parser("idle")
    idle.add_argument("--port", type=int, required=True)
    idle.add_argument("--count", type=int, default=10000)
    send = sub.add_parser("send")
    send.add_argument("--port", type=int, required=True)
    send.add_argument("--requests", required=True)
    send.add_argument("--rate", type=float, default=100)
    send.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    raise_file_limit()
    if args.command == "slow":
        asyncio.run(run_slow(args))
    elif args.command == "idle":
        run_idle(args)
    else:
        run_send(args)


if __name__ == "__main__":
    main()
