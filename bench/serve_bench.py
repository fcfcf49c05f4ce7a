#!/usr/bin/env python3
"""Streamed completion throughput over HTTP at several concurrency levels.

  python3 bench/serve_bench.py --url http://127.0.0.1:8080 [--concurrency 1 4 16] [--max-tokens 128]

Each stream asks for max_tokens with ignore_eos, so every stream generates the same number of
tokens; aggregate tokens/s = all completion tokens / wall time of the level. Also reports the
median time to first token and per-stream tokens/s. Standard library only.
"""
import argparse
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlparse


def stream_once(host, port, prompt, max_tokens, seed):
    conn = http.client.HTTPConnection(host, port, timeout=600)
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "seed": seed, "temperature": 0.8,
                       "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}})
    t0 = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"status {resp.status}: {resp.read()[:200]!r}")
    first = None
    tokens = 0
    for raw in resp:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            break
        event = json.loads(data)
        if event.get("choices") and first is None:
            first = time.perf_counter() - t0
        if event.get("usage"):
            tokens = event["usage"]["completion_tokens"]
    conn.close()
    return tokens, first or 0.0, time.perf_counter() - t0


def level(url, n, prompt, max_tokens):
    u = urlparse(url)
    results = [None] * n
    def work(i):
        results[i] = stream_once(u.hostname, u.port or 80, prompt, max_tokens, 1000 + i)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    wall = time.perf_counter() - t0
    total = sum(r[0] for r in results)
    ttft = statistics.median(r[1] for r in results)
    per_stream = statistics.median(r[0] / r[2] for r in results)
    print(f"concurrency {n:3d}: {total / wall:8.1f} tok/s aggregate, {per_stream:7.1f} tok/s per stream, "
          f"median TTFT {ttft * 1000:7.1f} ms  ({total} tokens in {wall:.2f} s)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--prompt", default="The quick brown fox jumps over the lazy dog. ")
    args = ap.parse_args()
    stream_once(urlparse(args.url).hostname, urlparse(args.url).port or 80, args.prompt, 4, 0)   # warm-up
    for n in args.concurrency:
        level(args.url, n, args.prompt, args.max_tokens)


if __name__ == "__main__":
    main()
