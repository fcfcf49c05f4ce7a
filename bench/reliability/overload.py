#!/usr/bin/env python3
"""Overload: more concurrent requests than --max-batch + --max-queue, and more connections than
--max-connections.

  python3 bench/reliability/overload.py [--max-batch 4] [--max-queue 8] [--requests 64]

Phase 1 sends `requests` completions at once (each holds a slot for max_tokens steps). The excess
over max-batch + max-queue must get 429 (OpenAI error, Retry-After) quickly; every admitted one
must complete with all its tokens. Phase 2 opens twice --max-connections idle connections: the
excess gets 503 at accept. Prints the time to reject against the time to complete. Bounded: the
admitted requests' generation time plus a few seconds.
"""
import argparse
import json
import statistics
import threading
import time

from common import SHIPPED, Reader, Server, add_server_args, call, connect, finish, ms, pct, request_bytes, verdict, wait_idle


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(ap, model=SHIPPED)
    ap.add_argument("--max-batch", type=int, default=4)
    ap.add_argument("--max-queue", type=int, default=8)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--max-connections", type=int, default=64)
    args = ap.parse_args()
    capacity = args.max_batch + args.max_queue
    results = []
    with Server(args, "--max-batch", args.max_batch, "--max-queue", args.max_queue,
                "--max-connections", args.max_connections) as server:
        port = server.port
        call(port, "POST", "/v1/completions", {"prompt": "warm", "max_tokens": 2})
        outcomes = [None] * args.requests
        # Connect everyone first, then release the sends together.
        socks = [connect(port, timeout=120) for _ in range(args.requests)]
        go = threading.Barrier(args.requests + 1)

        def client(i):
            body = {"prompt": f"Request {i} says", "max_tokens": args.max_tokens, "ignore_eos": True,
                    "temperature": 0, "stream": i % 2 == 0}
            if body["stream"]:
                body["stream_options"] = {"include_usage": True}
            go.wait()
            t0 = time.perf_counter()
            socks[i].sendall(request_bytes("POST", "/v1/completions", body))
            status, headers, raw = Reader(socks[i]).response()
            outcomes[i] = (status, time.perf_counter() - t0, headers, raw, body["stream"])
            socks[i].close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.requests)]
        for t in threads:
            t.start()
        go.wait()
        t0 = time.perf_counter()
        # While the admitted ones run, probes one at a time: the time to reject without 64 client
        # threads competing for the CPU (the burst figures include that contention).
        time.sleep(0.3)
        probes = []
        for _ in range(20):
            t1 = time.perf_counter()
            status = call(port, "POST", "/v1/completions", {"prompt": "probe", "max_tokens": 4})[0]
            probes.append((status, time.perf_counter() - t1))
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0

        admitted = [o for o in outcomes if o[0] == 200]
        refused = [o for o in outcomes if o[0] in (429, 503)]
        other = [o for o in outcomes if o[0] not in (200, 429, 503)]
        complete = 0
        for status, _, headers, raw, stream in admitted:
            if stream:
                events = [json.loads(b[6:]) for b in raw.decode().split("\n\n") if b.startswith("data: {")]
                tokens = [e["usage"]["completion_tokens"] for e in events if e.get("usage")]
                finish_reasons = [c.get("finish_reason") for e in events for c in e.get("choices", []) if c.get("finish_reason")]
                complete += (finish_reasons == ["length"] and tokens == [args.max_tokens]
                             and raw.rstrip().endswith(b"data: [DONE]"))
            else:
                body = json.loads(raw)
                complete += body["usage"]["completion_tokens"] == args.max_tokens and body["choices"][0]["finish_reason"] == "length"
        shaped = all(json.loads(o[3])["error"]["code"] and o[2].get("retry-after") for o in refused)
        reject_t = [o[1] for o in refused]
        done_t = [o[1] for o in admitted]
        print(f"{args.requests} concurrent completions (max_tokens {args.max_tokens}, half streamed) against "
              f"max-batch {args.max_batch} + max-queue {args.max_queue} = {capacity}: {len(admitted)} admitted, "
              f"{len(refused)} refused ({', '.join(sorted({str(o[0]) for o in refused}))}), {len(other)} other, in {wall:.2f} s")
        if reject_t:
            print(f"time to reject: median {ms(statistics.median(reject_t))}, p99 {ms(pct(reject_t, 99))}, max {ms(max(reject_t))}")
        probe_t = [t for st, t in probes if st == 429]
        print(f"single probes while full: {len(probe_t)}/20 refused 429, median {ms(statistics.median(probe_t)) if probe_t else '-'}, "
              f"max {ms(max(probe_t)) if probe_t else '-'}")
        if done_t:
            print(f"time to complete (admitted): median {ms(statistics.median(done_t))}, max {ms(max(done_t))}")
        results.append(verdict(len(admitted) == capacity, f"exactly max-batch + max-queue ({capacity}) admitted"))
        results.append(verdict(not other and len(refused) == args.requests - capacity, "every other request refused with 429/503"))
        results.append(verdict(complete == len(admitted), f"every admitted request completed with all its tokens ({complete}/{len(admitted)})"))
        results.append(verdict(shaped, "refusals are OpenAI errors with Retry-After"))
        results.append(verdict(bool(reject_t) and max(reject_t) < min(done_t) / 4 and pct(reject_t, 99) < 0.25,
                               "refusals are quick: p99 under 250 ms and max under a quarter of the fastest completion"))
        results.append(verdict(len(probe_t) == 20 and max(probe_t) < 0.05, "single probes while full refused in under 50 ms"))
        results.append(verdict(wait_idle(port) is not None, "engine idle afterwards"))

        # Phase 2: connections beyond --max-connections get 503 at accept.
        held = [connect(port) for _ in range(args.max_connections)]
        time.sleep(0.05)
        extra_status, extra_t = [], []
        for _ in range(args.max_connections):
            t1 = time.perf_counter()
            s = connect(port)
            try:
                extra_status.append(Reader(s).response()[0])
            except (ConnectionError, OSError):
                extra_status.append(None)
            extra_t.append(time.perf_counter() - t1)
            s.close()
        for s in held:
            s.close()
        time.sleep(0.3)
        after = call(port, "GET", "/health")[0]
        print(f"{2 * args.max_connections} connections against --max-connections {args.max_connections}: the extra "
              f"{args.max_connections} got {', '.join(f'{k} x{list(map(str, extra_status)).count(k)}' for k in sorted(set(map(str, extra_status))))} "
              f"in median {ms(statistics.median(extra_t))}; /health afterwards: {after}")
        results.append(verdict(all(s == 503 for s in extra_status), "connections over the limit get 503 at accept"))
        results.append(verdict(after == 200, "server answers once they are gone"))
    finish(results)


if __name__ == "__main__":
    main()
