#!/usr/bin/env python3
"""Megabyte request bodies of many small JSON values: how long each holds the event loop.

  python3 bench/reliability/big_bodies.py [--model DIR]

Requests are parsed and checked on the event loop thread, so a body that is slow to read stalls
every connection. Each body below is about 1 MB (the default --max-body-bytes); the time is from
send to the complete answer, one request at a time, and a /health probe sent right behind each
one measures the stall seen by another client. Bounded: a few seconds.
"""
import argparse
import json
import threading
import time

from common import SHIPPED, Server, add_server_args, call, finish, ms, verdict

BODIES = [
    ("/v1/tokenize", "200k integers in an ignored field", {"text": "x", "junk": [5] * 200_000}, 200),
    ("/v1/tokenize", "200k strings in an ignored field", {"text": "x", "junk": ["a"] * 200_000}, 200),
    ("/v1/tokenize", "20k small objects in an ignored field", {"text": "x", "junk": [{"a": 1}] * 20_000}, 200),
    ("/v1/completions", "one 1 MB prompt string", {"prompt": "word " * 200_000}, 400),
    ("/v1/completions", "200k one-letter prompts", {"prompt": ["a"] * 200_000}, 400),
    ("/v1/completions", "one prompt of 200k token ids", {"prompt": [[5] * 200_000]}, 400),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap, model=SHIPPED)
    ap.add_argument("--bound-ms", type=float, default=1000, help="largest acceptable time per body")
    args = ap.parse_args()
    results = []
    with Server(args) as server:
        call(server.port, "GET", "/health")
        for path, label, body, want in BODIES:
            raw = json.dumps(body)
            probe = {}

            def health():
                time.sleep(0.005)  # right behind the big request
                t = time.perf_counter()
                call(server.port, "GET", "/health")
                probe["t"] = time.perf_counter() - t

            t0 = time.perf_counter()
            prober = threading.Thread(target=health)
            prober.start()
            status, _, _ = call(server.port, "POST", path, raw)
            elapsed = time.perf_counter() - t0
            prober.join()
            print(f"{label}: {len(raw) / 1e6:.2f} MB, {status} in {ms(elapsed)}; /health sent behind it answered in {ms(probe['t'])}")
            results.append(verdict(status == want and elapsed * 1000 < args.bound_ms, f"{label}: {want} within {args.bound_ms:.0f} ms"))
    finish(results)


if __name__ == "__main__":
    main()
