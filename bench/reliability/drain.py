#!/usr/bin/env python3
"""Graceful drain under load: SIGTERM while streams are in flight.

  python3 bench/reliability/drain.py [--streams 24] [--max-batch 16]

Two rounds on the shipped model, each with `streams` streaming completions running (a full batch)
or queued when SIGTERM arrives:
  1. --drain-timeout 30 and short completions: every stream must finish whole (finish_reason
     "length", then [DONE]), /ready must turn 503 or new connections be refused at once, and the
     process must exit 0 soon after the last stream.
  2. --drain-timeout 1 and completions far too long for it: every stream must still end properly
     (a finish_reason, then [DONE]; "cancelled" for the ones cut), and the process must exit 0
     within the deadline plus a margin.
Bounded: round 1 by the generation time, round 2 by the 1 s deadline; both by a 60 s guard.
"""
import argparse
import json
import re
import signal
import socket
import threading
import time

from common import SHIPPED, Reader, Server, add_server_args, call, connect, finish, ms, request_bytes, verdict

FINISH = re.compile(rb'"finish_reason":"([a-z_]+)"')


def stream(port, max_tokens, seed, out, i):
    try:
        with connect(port, timeout=60) as s:
            s.sendall(request_bytes("POST", "/v1/completions", {
                "prompt": "The word harbour means", "max_tokens": max_tokens, "seed": seed,
                "temperature": 0.8, "ignore_eos": True, "stream": True}))
            status, _, body = Reader(s).response()
            reasons = FINISH.findall(body)
            out[i] = (status, reasons[-1].decode() if reasons else None, body.rstrip().endswith(b"data: [DONE]"),
                      time.perf_counter())
    except Exception as e:  # noqa: BLE001 - any failure is a lost stream, reported below
        out[i] = (None, f"error: {e}", False, time.perf_counter())


def readiness(port):
    """'refused', or the /ready status."""
    try:
        return call(port, "GET", "/ready", timeout=5)[0]
    except (ConnectionRefusedError, ConnectionResetError, socket.timeout, OSError):
        return "refused"


def round_(args, drain_timeout, max_tokens, expect_whole):
    results = []
    with Server(args, "--max-batch", args.max_batch, "--max-queue", args.streams,
                "--drain-timeout", drain_timeout) as server:
        port = server.port
        call(port, "POST", "/v1/completions", {"prompt": "warm", "max_tokens": 2})
        out = [None] * args.streams
        threads = [threading.Thread(target=stream, args=(port, max_tokens, 1000 + i, out, i)) for i in range(args.streams)]
        for t in threads:
            t.start()
        time.sleep(args.after)
        running = sum(1 for o in out if o is None)
        t0 = time.perf_counter()
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        ready = readiness(port)
        try:
            code = server.proc.wait(timeout=60)
        except Exception:  # noqa: BLE001
            code = None
        exit_s = time.perf_counter() - t0
        for t in threads:
            t.join(timeout=60)
        last_stream_s = max((o[3] for o in out if o), default=t0) - t0
        reasons = {}
        for o in out:
            reasons[o[1] if o else "lost"] = reasons.get(o[1] if o else "lost", 0) + 1
        proper = [o for o in out if o and o[0] == 200 and o[1] is not None and o[2]]
        print(f"drain-timeout {drain_timeout} s, {args.streams} streams of {max_tokens} tokens, "
              f"{running} unfinished at SIGTERM: finish reasons {json.dumps(reasons)}; /ready 50 ms after "
              f"SIGTERM: {ready}; exit {code} after {ms(exit_s)} (last stream ended {ms(last_stream_s)} after SIGTERM)",
              flush=True)
        results.append(verdict(running > 0, "streams were in flight when SIGTERM arrived"))
        results.append(verdict(ready in (503, "refused"), "readiness turned false at once (503 or connection refused)"))
        results.append(verdict(len(proper) == args.streams, "every stream ended with a finish_reason and [DONE] (none lost)"))
        if expect_whole:
            results.append(verdict(reasons.get("length", 0) == args.streams, "every stream finished whole (length) within the drain timeout"))
        else:
            results.append(verdict(reasons.get("cancelled", 0) > 0, "streams still running at the deadline ended as cancelled"))
            results.append(verdict(exit_s < drain_timeout + 3, f"exited within the {drain_timeout} s deadline + 3 s"))
        results.append(verdict(code == 0, "the process exited 0"))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap, model=SHIPPED)
    ap.add_argument("--streams", type=int, default=24)
    ap.add_argument("--max-batch", type=int, default=16)
    ap.add_argument("--after", type=float, default=0.5, help="seconds of streaming before SIGTERM")
    args = ap.parse_args()
    results = round_(args, 30, 200, expect_whole=True)
    results += round_(args, 1, 1000, expect_whole=False)
    finish(results)


if __name__ == "__main__":
    main()
