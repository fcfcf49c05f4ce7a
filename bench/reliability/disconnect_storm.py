#!/usr/bin/env python3
"""Disconnect storm: many clients hang up mid-stream, mid-prefill and mid-body, in rounds.

  python3 bench/reliability/disconnect_storm.py [--rounds 3] [--clients 200] [--model DIR]

After each round the engine's running and waiting gauges (/metrics) must return to 0, and the
server's RSS (/proc/PID/status VmRSS) must return to the baseline taken after a warm-up round of
the same requests completed normally (bound: baseline + max(10%, 8 MiB), plus what the prefix
cache grew by, which it keeps on purpose). The cancel counter must
grow. Bounded: a few seconds per round plus the settle waits (30 s at most each).
"""
import argparse
import random
import socket
import struct
import threading
import time

from common import SHIPPED, Reader, Server, add_server_args, connect, finish, metrics, request_bytes, verdict, wait_idle


def long_prompt(rng, words):
    vocab = "the of and to in is that for it as with was on be by this are from at or an have not which".split()
    return " ".join(rng.choice(vocab) for _ in range(words))


def one_client(port, kind, rng, prompt_words, complete):
    """One client that hangs up at a point chosen by `kind` (or completes, for the warm-up)."""
    stream = kind in ("mid-stream", "mid-stream-rst", "n4-mid-stream")
    body = {"prompt": long_prompt(rng, prompt_words if kind == "mid-prefill" else 8),
            "max_tokens": 4 if complete else 64, "ignore_eos": True, "temperature": 0.7, "seed": rng.randrange(1 << 30),
            "stream": stream, "n": 4 if kind == "n4-mid-stream" else 1}
    raw = request_bytes("POST", "/v1/completions", body)
    s = connect(port, timeout=30)
    try:
        if kind == "mid-body" and not complete:
            s.sendall(raw[: len(raw) - 10])
            time.sleep(rng.random() * 0.01)
            return
        s.sendall(raw)
        if complete:
            status, _, _ = Reader(s).response()
            assert status == 200, status
            return
        if stream:
            reader = Reader(s)
            status, _ = reader.head()
            assert status == 200, status
            next(reader.chunks())  # the first event: generation is under way
            for _ in range(rng.randrange(3)):
                next(reader.chunks())
        else:
            time.sleep(rng.random() * 0.02)  # mid-prefill: the prompt is being read
        if kind == "mid-stream-rst":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


KINDS = ["mid-stream", "mid-stream-rst", "n4-mid-stream", "mid-prefill", "mid-body"]


def round_of(port, clients, concurrency, seed, prompt_words, complete=False):
    rng = random.Random(seed)
    jobs = [(KINDS[i % len(KINDS)], random.Random(rng.random())) for i in range(clients)]
    errors = []
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not jobs:
                    return
                kind, r = jobs.pop()
            try:
                one_client(port, kind, r, prompt_words, complete)
            except Exception as e:  # noqa: BLE001 — report, do not stop the storm
                errors.append(f"{kind}: {e!r}")

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap, model=SHIPPED)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--prompt-words", type=int, default=300, help="words in the mid-prefill prompts")
    args = ap.parse_args()
    results = []
    with Server(args, "--max-batch", 16, "--max-queue", 256) as server:
        port = server.port
        # Warm-up: the same requests, completed, twice, so allocator pools and caches are at size.
        for i in range(2):
            wall, errors = round_of(port, args.clients, args.concurrency, 100 + i, args.prompt_words, complete=True)
            assert not errors, errors[:3]
        wait_idle(port)
        time.sleep(0.5)
        baseline = server.rss_kib()
        cancelled0 = metrics(port).get("dlcm_cancelled_requests_total", 0)
        cache0 = metrics(port).get("dlcm_prefix_cache_bytes", 0)
        print(f"baseline RSS after 2 completed warm-up rounds of {args.clients}: {baseline / 1024:.1f} MiB")
        peak = baseline
        for r in range(args.rounds):
            sampler_stop = threading.Event()
            peaks = [baseline]

            def sample():
                while not sampler_stop.is_set():
                    peaks.append(server.rss_kib())
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample)
            sampler.start()
            wall, errors = round_of(port, args.clients, args.concurrency, r, args.prompt_words)
            settle = wait_idle(port, timeout=30)
            sampler_stop.set()
            sampler.join()
            time.sleep(0.5)
            rss = server.rss_kib()
            peak = max(peak, max(peaks))
            m = metrics(port)
            print(f"round {r + 1}: {args.clients} clients hung up ({', '.join(KINDS)}) in {wall:.2f} s; "
                  f"{len(errors)} client-side errors; gauges at 0 after {settle if settle is None else f'{settle:.2f} s'}; "
                  f"running {m['dlcm_running_sequences']:.0f} waiting {m['dlcm_queue_length']:.0f} kv {m['dlcm_kv_cache_bytes']:.0f} B; "
                  f"RSS peak {max(peaks) / 1024:.1f} MiB, after {rss / 1024:.1f} MiB", flush=True)
            for e in errors[:3]:
                print(f"  client error: {e}")
            results.append(verdict(settle is not None and m["dlcm_kv_cache_bytes"] == 0,
                                   f"round {r + 1}: running/waiting gauges and KV bytes back to 0"))
        final = server.rss_kib()
        cancelled = metrics(port).get("dlcm_cancelled_requests_total", 0) - cancelled0
        # The prefix cache keeps the cells of the prompts read meanwhile (up to its budget): what
        # it grew by is held on purpose, not leaked.
        cache_growth = int(metrics(port).get("dlcm_prefix_cache_bytes", 0) - cache0) // 1024
        bound = baseline + max(baseline // 10, 8 * 1024) + cache_growth
        print(f"RSS: baseline {baseline / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, final {final / 1024:.1f} MiB "
              f"(bound {bound / 1024:.1f} MiB, the prefix cache's growth of {cache_growth / 1024:.1f} MiB included); "
              f"sequences cancelled: {cancelled:.0f}")
        results.append(verdict(final <= bound, "RSS back within the bound of the baseline"))
        results.append(verdict(cancelled > 0, "the engine cancelled the abandoned sequences"))
        results.append(verdict(server.alive(), "server still running"))
        status_ok = wait_idle(port) is not None
        results.append(verdict(status_ok, "server still answers /metrics"))
    finish(results)


if __name__ == "__main__":
    main()
