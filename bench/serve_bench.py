#!/usr/bin/env python3
"""Streamed completion throughput over HTTP at several concurrency levels.

  python3 bench/serve_bench.py --url http://127.0.0.1:8080 [--concurrency 1 4 16] [--max-tokens 128]

Each stream asks for max_tokens with ignore_eos, so every stream generates the same number of
tokens; aggregate tokens/s = all completion tokens / wall time of the level. Also reports the
median time to first token.

The client must cost the server's 2 cores as little as possible (it shares them): one thread
multiplexes every stream over raw sockets with selectors and does not parse events; it only
looks for the end marker, then reads completion_tokens from the usage chunk. Standard library only.
"""
import argparse
import json
import re
import resource
import selectors
import socket
import statistics
import time
from urllib.parse import urlparse

USAGE = re.compile(rb'"completion_tokens":\s*(\d+)')


def request_bytes(host, port, prompt, max_tokens, seed):
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "seed": seed, "temperature": 0.8,
                       "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}}).encode()
    head = (f"POST /v1/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return head + body


def level(host, port, n, prompt, max_tokens):
    """n concurrent streams; returns (aggregate tok/s, median TTFT s, tokens, wall s)."""
    sel = selectors.DefaultSelector()
    state = {}
    t0 = time.perf_counter()
    for i in range(n):
        s = socket.create_connection((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(request_bytes(host, port, prompt, max_tokens, 1000 + i))
        s.setblocking(False)
        state[s] = dict(buf=bytearray(), first=None)
        sel.register(s, selectors.EVENT_READ)
    open_ = n
    while open_:
        for key, _ in sel.select():
            s = key.fileobj
            st = state[s]
            data = s.recv(1 << 16)
            if st["first"] is None and b'"text"' in data:
                st["first"] = time.perf_counter() - t0
            if data:
                st["buf"] += data
            if not data or b"data: [DONE]" in st["buf"][-64:]:
                sel.unregister(s)
                s.close()
                open_ -= 1
    wall = time.perf_counter() - t0
    total = 0
    for st in state.values():
        if not st["buf"].startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"bad response: {bytes(st['buf'][:200])!r}")
        m = USAGE.findall(st["buf"])
        total += int(m[-1]) if m else 0
    return total / wall, statistics.median(st["first"] or wall for st in state.values()), total, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--prompt", default="The quick brown fox jumps over the lazy dog. ")
    args = ap.parse_args()
    u = urlparse(args.url)
    level(u.hostname, u.port or 80, 1, args.prompt, 4)   # warm-up
    for n in args.concurrency:
        before = resource.getrusage(resource.RUSAGE_SELF)
        rate, ttft, total, wall = level(u.hostname, u.port or 80, n, args.prompt, args.max_tokens)
        after = resource.getrusage(resource.RUSAGE_SELF)
        # The client shares the server's cores: say how much of one it took.
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"http streams {n:3d}: {rate:8.1f} tok/s aggregate, median TTFT {ttft * 1000:7.1f} ms  "
              f"({total} tokens in {wall:.2f} s; client CPU {100 * cpu / wall:.0f}% of a core)", flush=True)


if __name__ == "__main__":
    main()
