#!/usr/bin/env python3
"""Slowloris: hundreds of connections each sending a request head one byte at a time.

  python3 bench/reliability/slowloris.py [--connections 300] [--header-timeout 2]

Measures a normal completion's latency before and during the attack (the median during must stay
within 2x of before), and checks that every dripping connection is closed by the header timeout
(total time for the head, not per read), answered 408 where the socket still takes it. Bounded:
about 3 x header-timeout + 15 s.
"""
import argparse
import select
import socket
import statistics
import threading
import time

from common import SHIPPED, Server, add_server_args, call, finish, ms, pct, verdict

HEAD = b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Padding: " + b"p" * 4000


def latencies(port, n, min_seconds=0.0):
    """Latencies of normal completions: at least n, and for at least min_seconds."""
    out = []
    start = time.perf_counter()
    while len(out) < n or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        status, _, _ = call(port, "POST", "/v1/completions",
                            {"prompt": "Hello", "max_tokens": 16, "ignore_eos": True, "temperature": 0})
        out.append(time.perf_counter() - t0)
        assert status == 200, status
    return out


class Dripper(threading.Thread):
    """Opens the connections and sends each one byte per interval; records when each is closed."""

    def __init__(self, port, count, interval):
        super().__init__(daemon=True)
        self.port, self.count, self.interval = port, count, interval
        self.opened = {}       # fd -> (socket, start time, bytes sent)
        self.closed = []       # (seconds open, got a 408?)
        self.refused = 0
        self.stop = False
        self.stop_reconnecting = False
        self.ready = threading.Event()

    def open_one(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            self.refused += 1
            return
        s.setblocking(False)
        self.opened[s.fileno()] = [s, time.perf_counter(), 0, b""]

    def run(self):
        # Like a real slowloris it reconnects when dropped, keeping `count` open until told to stop.
        for _ in range(self.count):
            self.open_one()
        self.ready.set()
        while (self.opened or not self.stop_reconnecting) and not self.stop:
            for fd, entry in list(self.opened.items()):
                s, start, sent, got = entry
                try:
                    entry[2] += s.send(HEAD[sent:sent + 1])
                except OSError:
                    pass  # would block, or closed by the server: the read below sees a close
            readable, _, _ = select.select(list(self.opened), [], [], self.interval)
            for fd in readable:
                s, start, sent, got = self.opened[fd]
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if data:
                    self.opened[fd][3] += data
                    continue
                self.closed.append((time.perf_counter() - start, got.startswith(b"HTTP/1.1 408")))
                s.close()
                del self.opened[fd]
                if not self.stop_reconnecting:
                    self.open_one()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap, model=SHIPPED)
    ap.add_argument("--connections", type=int, default=300)
    ap.add_argument("--header-timeout", type=float, default=2.0)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between bytes on each connection")
    ap.add_argument("--samples", type=int, default=30, help="normal requests measured before and during")
    args = ap.parse_args()

    with Server(args, "--header-timeout", args.header_timeout, "--max-connections", args.connections + 64) as server:
        latencies(server.port, 5)  # warm-up
        before = latencies(server.port, args.samples)
        drip = Dripper(server.port, args.connections, args.interval)
        drip.start()
        drip.ready.wait()
        time.sleep(0.5)
        t_attack = time.perf_counter()
        # Across at least two header timeouts, so that reconnecting attackers are included.
        during = latencies(server.port, args.samples, min_seconds=2 * args.header_timeout + 1)
        during_span = time.perf_counter() - t_attack
        held = len(drip.opened)
        drip.stop_reconnecting = True
        drip.join(timeout=args.header_timeout + 15)
        drip.stop = True
        after = latencies(server.port, args.samples)

        closes = [c[0] for c in drip.closed]
        print(f"attack: {args.connections} connections, 1 byte each per {args.interval} s; {drip.refused} refused at connect")
        print(f"normal completion latency (16 tokens), {len(before)} / {len(during)} / {len(after)} requests: "
              f"before median {ms(statistics.median(before))} p90 {ms(pct(before, 90))}; "
              f"during median {ms(statistics.median(during))} p90 {ms(pct(during, 90))} "
              f"(measured over {during_span:.2f} s, {held} attack connections open at the end); "
              f"after median {ms(statistics.median(after))}")
        if closes:
            print(f"attack connections closed by the server: {len(closes)}, "
                  f"after {min(closes):.2f} / {statistics.median(closes):.2f} / {max(closes):.2f} s (min / median / max), "
                  f"{sum(1 for c in drip.closed if c[1])} with a 408 response; still open: {len(drip.opened)}")
        ratio = statistics.median(during) / statistics.median(before)
        results = [
            verdict(ratio <= 2, f"median latency during the attack is {ratio:.2f}x before (bound 2x)"),
            verdict(not drip.opened, f"every attack connection was closed by the server ({len(closes)} in all, with reconnects)"),
            verdict(bool(closes) and min(closes) >= args.header_timeout * 0.9 and max(closes) <= args.header_timeout + 2,
                    f"closed at the header timeout ({args.header_timeout} s), not before and not much after"),
            verdict(drip.refused == 0, "no attack connection was refused (all were held until the timeout)"),
        ]
    finish(results)


if __name__ == "__main__":
    main()
