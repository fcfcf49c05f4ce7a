#!/usr/bin/env python3
"""Prefix cache, side by side on one server: requests with cache_prompt true against the same
requests with cache_prompt false, in alternating rounds, medians of the ratios.

1. Time to first token of a 900-token shared prefix plus a 20-token question (a new question
   each round): cold (cache_prompt false) against warm (the prefix cached by earlier rounds).
2. 16 streams at once, each a 512-token system prompt they all share plus its own question,
   64 tokens each: aggregate tokens/s and median time to first token, cache on against off.
3. A conversation of 6 chat turns (a 300-token system prompt, short user turns, 48-token
   answers sent back as the assistant's messages): each turn's cached_tokens against its
   prompt_tokens, so the share of a growing conversation that is resumed, answers included.
4. Memory: distinct 900-token prompts until the cache has evicted (it is full), then the
   server's resident memory against what it was before, the prefix-cache gauge and the budget.

Usage: bench/prefix_cache_bench.py [--model DIR] [--threads N] [--rounds R] [--prefix-cache-mb M]
Standard library only. Builds and starts `dlcm serve` (release) itself.
"""
import argparse, http.client, json, os, re, statistics, subprocess, sys, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="weights/dlcm-10m-debian")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=9)
ap.add_argument("--prefix-cache-mb", type=int, default=64)
ap.add_argument("--bin", default=".build/release/dlcm")
args = ap.parse_args()

if args.bin == ".build/release/dlcm":
    subprocess.run(["swift", "build", "-c", "release", "--product", "dlcm"], check=True, stdout=subprocess.DEVNULL)
server = subprocess.Popen([args.bin, "serve", "--model", args.model, "--threads", str(args.threads), "--port", "0",
                           "--log-level", "warning", "--prefix-cache-mb", str(args.prefix_cache_mb)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
port = None
for line in server.stdout:
    m = re.search(r"on http://[0-9.]+:(\d+)", line)
    if m:
        port = int(m.group(1))
        break
if port is None:
    sys.exit("the server did not start")
threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()


def call(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return json.loads(data) if r.getheader("Content-Type", "").startswith("application/json") else data.decode()


def stream(body):
    """Streams one completion; returns (seconds to the first token, tokens, cached prompt tokens)."""
    body = dict(body, stream=True, stream_options={"include_usage": True})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    c.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    first, tokens, cached = None, 0, 0
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        if event.get("choices") and first is None:
            first = time.perf_counter() - t0
        if event.get("usage"):
            tokens = event["usage"]["completion_tokens"]
            cached = event["usage"]["prompt_tokens_details"]["cached_tokens"]
    c.close()
    return first, tokens, cached


def text_of(tokens):
    return call("POST", "/v1/detokenize", {"tokens": tokens})["text"]


# Text to cut prompts from: the repository's docs, tokenized by the model.
corpus = " ".join(open(os.path.join("docs", f)).read() for f in sorted(os.listdir("docs")) if f.endswith(".md"))
ids = call("POST", "/v1/tokenize", {"text": corpus[:200000]})["tokens"]
def piece(start, n):
    return text_of(ids[start:start + n])

# 1. TTFT of a 900-token prefix + a 20-token question.
prefix = piece(0, 900)
question = lambda i: piece(5000 + 40 * i, 20)
base = {"max_tokens": 1, "temperature": 0}
stream(dict(base, prompt=prefix + question(999)))   # the prefix in the cache; scratch warm
cold_t, warm_t, ratios, hits = [], [], [], []
for i in range(args.rounds):
    # Alternate which goes first, so drift in the machine's speed favours neither.
    pair = [("cold", False), ("warm", True)] if i % 2 == 0 else [("warm", True), ("cold", False)]
    got = {}
    for name, on in pair:
        got[name] = stream(dict(base, prompt=prefix + question(i), cache_prompt=on))
    cold_t.append(got["cold"][0]); warm_t.append(got["warm"][0]); hits.append(got["warm"][2])
    ratios.append(got["cold"][0] / got["warm"][0])
print(f"TTFT, 900-token shared prefix + 20-token question ({args.rounds} rounds, alternating):")
print(f"  cold (cache_prompt false) median {1000 * statistics.median(cold_t):7.2f} ms")
print(f"  warm (prefix cached)      median {1000 * statistics.median(warm_t):7.2f} ms   cached_tokens {statistics.median(hits):.0f}")
print(f"  cold / warm: median of ratios {statistics.median(ratios):.1f}x (min {min(ratios):.1f}x, max {max(ratios):.1f}x)")

# 2. 16 streams sharing a 512-token system prompt.
system = piece(20000, 512)
def burst(on, round_index):
    results = [None] * 16
    def one(k):
        results[k] = stream({"prompt": system + piece(30000 + 50 * (16 * round_index + k), 20), "max_tokens": 64,
                             "temperature": 0.8, "seed": k, "ignore_eos": True, "cache_prompt": on})
    threads = [threading.Thread(target=one, args=(k,)) for k in range(16)]
    t0 = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    seconds = time.perf_counter() - t0
    tokens = sum(r[1] for r in results)
    return tokens / seconds, statistics.median(r[0] for r in results), sum(r[2] for r in results)

burst(True, 99)   # warm-up: scratch for 16 streams; the system prompt cached
rows = {True: [], False: []}
tps_ratio, ttft_ratio = [], []
for i in range(args.rounds):
    order = [True, False] if i % 2 == 0 else [False, True]
    got = {on: burst(on, i) for on in order}
    for on in (True, False): rows[on].append(got[on])
    tps_ratio.append(got[True][0] / got[False][0])
    ttft_ratio.append(got[False][1] / got[True][1])
print(f"16 streams, 512-token shared system prompt + 20-token question, 64 tokens each ({args.rounds} rounds, alternating):")
for on in (True, False):
    r = rows[on]
    print(f"  cache {'on ' if on else 'off'}: {statistics.median(x[0] for x in r):7.1f} tok/s aggregate, median TTFT "
          f"{1000 * statistics.median(x[1] for x in r):7.1f} ms, cached prompt tokens per burst {statistics.median(x[2] for x in r):.0f}")
print(f"  on / off tokens/s: median of ratios {statistics.median(tps_ratio):.2f}x; off / on TTFT: {statistics.median(ttft_ratio):.1f}x")

# 3. A conversation: each turn repeats the previous ones and their answers.
messages = [{"role": "system", "content": piece(40000, 300)}]
print("conversation, 6 chat turns (48-token answers sent back): prompt_tokens / cached_tokens per turn")
line = []
for turn in range(6):
    messages.append({"role": "user", "content": piece(41000 + 30 * turn, 12)})
    r = call("POST", "/v1/chat/completions", {"messages": messages, "max_tokens": 48, "temperature": 0.8, "seed": turn})
    usage = r["usage"]
    line.append(f"{usage['prompt_tokens']}/{usage['prompt_tokens_details']['cached_tokens']}")
    messages.append({"role": "assistant", "content": r["choices"][0]["message"]["content"]})
print("  " + "  ".join(line))

# 4. Memory: fill the cache with distinct prompts until it evicts.
def status(field):
    return int(re.search(rf"{field}:\s+(\d+) kB", open(f"/proc/{server.pid}/status").read()).group(1)) * 1024
def gauge(name):
    m = re.search(rf"^{name} ([0-9.e+]+)$", call("GET", "/metrics"), re.M)
    return float(m.group(1)) if m else float("nan")
mib = lambda b: b / 2**20
rss_before, cache_before = status("VmRSS"), gauge("dlcm_prefix_cache_bytes")
filled, after_eviction = 0, 0
while filled < 400 and after_eviction < 5:
    stream({"prompt": f"Document {filled}. " + piece(1000 + 37 * filled, 900), "max_tokens": 1, "temperature": 0})
    filled += 1
    if gauge("dlcm_prefix_cache_evictions_total") > 0:
        after_eviction += 1
rss_after, hwm = status("VmRSS"), status("VmHWM")
cache_after = gauge("dlcm_prefix_cache_bytes")
model_bytes = sum(os.path.getsize(os.path.join(args.model, f)) for f in os.listdir(args.model) if f.endswith(".safetensors"))
print(f"memory after {filled} distinct 900-token prompts ({gauge('dlcm_prefix_cache_evictions_total'):.0f} blocks evicted): "
      f"prefix cache {mib(cache_before):.1f} -> {mib(cache_after):.1f} MiB in {gauge('dlcm_prefix_cache_entries'):.0f} blocks "
      f"(budget {args.prefix_cache_mb} MiB); RSS {mib(rss_before):.1f} -> {mib(rss_after):.1f} MiB "
      f"(+{mib(rss_after - rss_before):.1f}), peak {mib(hwm):.1f} MiB; model file {mib(model_bytes):.1f} MiB; "
      f"hit tokens {gauge('dlcm_prefix_cache_hit_tokens_total'):.0f} of {gauge('dlcm_prefix_cache_queried_tokens_total'):.0f} queried")
server.terminate()
server.wait()
