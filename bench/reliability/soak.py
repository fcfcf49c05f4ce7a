#!/usr/bin/env python3
"""Soak: 10,000 mixed requests from concurrent keep-alive clients, every response checked.

  python3 bench/reliability/soak.py [--requests 10000] [--concurrency 16] [--model DIR]

The mix: greedy completions, seeded streamed completions, seeded n=2 completions, tokenize calls
(all with known prompts whose expected output is computed once, solo, before the soak and then
compared exactly), streams the client cancels after the first event, and error requests (bad
JSON, bad parameter, unknown route, wrong method) that must get their status. RSS is sampled
throughout; from 10% of the run to the end it may grow by at most --rss-bound-mib. Any lost,
wrong or mixed-up response fails the run. Default model: the tiny test fixture (the shipped one
is too slow for 10k requests on 2 shared cores). Bounded by --max-seconds.
"""
import argparse
import json
import random
import threading
import time

from common import Reader, Server, add_server_args, connect, finish, metrics, request_bytes, sse_text, verdict, wait_idle

PROMPTS = ["Hello", "The quick brown fox", "Once upon a time", "In the beginning", "import os\n",
           "Dear Sir,", "1, 2, 3,", "She said"]


def known_request(kind, i):
    """(method, path, body) of known request `i` of `kind`."""
    p = PROMPTS[i % len(PROMPTS)]
    if kind == "greedy":
        return "POST", "/v1/completions", {"prompt": p, "max_tokens": 12, "temperature": 0}
    if kind == "seeded-stream":
        return "POST", "/v1/completions", {"prompt": p, "max_tokens": 12, "temperature": 0.9, "seed": 1000 + i, "stream": True}
    if kind == "seeded-n2":
        return "POST", "/v1/completions", {"prompt": p, "max_tokens": 8, "temperature": 1.0, "seed": 77 + i, "n": 2}
    if kind == "tokenize":
        return "POST", "/v1/tokenize", {"text": p * (1 + i % 3)}
    raise ValueError(kind)


def answer(kind, status, body):
    """What a response says, in a form that is compared exactly."""
    if status != 200:
        return ("status", status, body[:200])
    if kind == "seeded-stream":
        text, done = sse_text(body)
        return (text, done)
    j = json.loads(body)
    if kind == "tokenize":
        return tuple(j["tokens"])
    return tuple(c["text"] for c in sorted(j["choices"], key=lambda c: c["index"]))


ERRORS = [  # (method, path, raw body, expected status)
    ("POST", "/v1/completions", b'{"prompt": "x"', 400),
    ("POST", "/v1/completions", b'{"prompt": "x", "temperature": -1}', 400),
    ("POST", "/v1/nothing", b"{}", 404),
    ("DELETE", "/v1/completions", None, 405),
]

KINDS = [("greedy", 35), ("seeded-stream", 25), ("seeded-n2", 10), ("tokenize", 10), ("cancel", 10), ("error", 10)]


class Client:
    """One keep-alive connection, reopened when the server closes it."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.retries = 0
        self.got_bytes = False

    def exchange(self, raw, cancel=False):
        reused = self.sock is not None
        try:
            return self._exchange(raw, cancel)
        except (ConnectionError, OSError):
            # A keep-alive connection the server closed just as it was reused (idle timeout):
            # like any HTTP client, retry once on a new one, and count it. Anything else is lost.
            if not reused or self.got_bytes:
                raise
            self.sock = None
            self.retries += 1
            return self._exchange(raw, cancel)

    def _exchange(self, raw, cancel):
        if self.sock is None:
            self.sock = connect(self.port, timeout=60)
            self.reader = Reader(self.sock)
        self.got_bytes = False
        self.sock.sendall(raw)
        if cancel:
            status, _ = self.reader.head()
            self.got_bytes = True
            next(self.reader.chunks())
            self.sock.close()
            self.sock = None
            return status, b""
        status, headers = self.reader.head()
        self.got_bytes = True
        if headers.get("transfer-encoding") == "chunked":
            body = b"".join(self.reader.chunks())
        else:
            body = self.reader.exactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, body


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap)
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--variants", type=int, default=24, help="distinct known requests per kind")
    ap.add_argument("--rss-bound-mib", type=float, default=8.0)
    ap.add_argument("--max-seconds", type=float, default=900)
    args = ap.parse_args()
    results = []
    with Server(args, "--max-batch", 16, "--max-queue", 256) as server:
        port = server.port
        # Expected answers, each computed alone on an otherwise idle server.
        expected = {}
        solo = Client(port)
        for kind, _ in KINDS[:4]:
            for i in range(args.variants):
                method, path, body = known_request(kind, i)
                status, raw = solo.exchange(request_bytes(method, path, body))
                assert status == 200, (kind, i, status, raw[:200])
                expected[(kind, i)] = answer(kind, status, raw)
        print(f"expected answers computed solo for {len(expected)} known requests")

        rng = random.Random(12345)
        plan = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS], k=args.requests)
        plan = [(kind, rng.randrange(args.variants)) for kind in plan]
        lock = threading.Lock()
        next_index = [0]
        failures, lost, counts = [], [], {k: 0 for k, _ in KINDS}
        samples = []  # (requests done, RSS KiB)
        deadline = time.perf_counter() + args.max_seconds

        clients = []

        def worker():
            client = Client(port)
            clients.append(client)
            while time.perf_counter() < deadline:
                with lock:
                    if next_index[0] >= len(plan):
                        return
                    kind, i = plan[next_index[0]]
                    next_index[0] += 1
                try:
                    if kind == "cancel":
                        body = {"prompt": PROMPTS[i % len(PROMPTS)], "max_tokens": 64, "ignore_eos": True, "stream": True}
                        status, _ = client.exchange(request_bytes("POST", "/v1/completions", body), cancel=True)
                        ok = status == 200
                        got = status
                    elif kind == "error":
                        method, path, raw, want = ERRORS[i % len(ERRORS)]
                        status, body = client.exchange(request_bytes(method, path, raw))
                        ok = status == want and json.loads(body)["error"]["message"]
                        got = (status, body[:100])
                    else:
                        method, path, body = known_request(kind, i)
                        status, raw = client.exchange(request_bytes(method, path, body))
                        got = answer(kind, status, raw)
                        ok = got == expected[(kind, i)]
                    with lock:
                        counts[kind] += 1
                        if not ok:
                            failures.append((kind, i, got, expected.get((kind, i))))
                except Exception as e:  # noqa: BLE001 — a lost response: count it and go on
                    client.sock = None
                    with lock:
                        lost.append((kind, i, repr(e)))

        stop = threading.Event()

        def sampler():
            while not stop.is_set():
                samples.append((next_index[0], server.rss_kib()))
                time.sleep(0.5)

        rss0 = server.rss_kib()
        sampling = threading.Thread(target=sampler)
        sampling.start()
        threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        idle = wait_idle(port)
        stop.set()
        sampling.join()
        rss_end = server.rss_kib()
        done = sum(counts.values())
        m = metrics(port)

        print(f"{done + len(lost)} requests in {wall:.1f} s ({(done + len(lost)) / wall:.0f} req/s), concurrency {args.concurrency}: "
              + ", ".join(f"{k} {counts[k]}" for k, _ in KINDS))
        print(f"wrong or mixed-up responses: {len(failures)}; lost (exception/timeout): {len(lost)}; "
              f"keep-alive retries {sum(c.retries for c in clients)}; engine idle after {idle if idle is None else f'{idle:.2f} s'}; cancelled sequences {m.get('dlcm_cancelled_requests_total', 0):.0f}")
        for f in failures[:5]:
            print(f"  wrong: {f}")
        for l in lost[:5]:
            print(f"  lost: {l}")
        at10 = next((rss for n, rss in samples if n >= args.requests // 10), rss0)
        marks = [next((rss for n, rss in samples if n >= args.requests * q // 10), rss_end) for q in range(0, 11)]
        print("RSS (MiB) at 0%, 10%, ..., 100% of the requests: " + " ".join(f"{r / 1024:.1f}" for r in marks)
              + f"; before {rss0 / 1024:.1f}, max {max(r for _, r in samples) / 1024:.1f}, end {rss_end / 1024:.1f}")
        growth = (rss_end - at10) / 1024
        results.append(verdict(done + len(lost) == args.requests, f"all {args.requests} requests ran within {args.max_seconds:.0f} s"))
        results.append(verdict(not failures and not lost, "zero lost, wrong or mixed-up responses"))
        results.append(verdict(growth <= args.rss_bound_mib, f"RSS growth from 10% to the end {growth:+.1f} MiB (bound {args.rss_bound_mib} MiB)"))
        results.append(verdict(idle is not None, "engine gauges back to 0"))
    finish(results)


if __name__ == "__main__":
    main()
