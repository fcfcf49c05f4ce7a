"""Side-by-side speed of the recipe's PyTorch model and the Swift runtime on the same checkpoint,
same prompt, same thread count, in one run; prints the ratios.

  python3 bench/torch_vs_swift.py --model weights/dlcm-10m-debian --threads 1

PyTorch runs eager in fp32 (the reference `step()` with its caches for decode, one parallel
forward for prefill); Swift runs `dlcm bench` (release build, -Ounchecked, -target-cpu native).
"""
import argparse
import os
import re
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "weights", "recipe"))
from export import load_dlcm  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "weights", "dlcm-10m-debian"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--steps", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    model = load_dlcm(args.model)
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    # The same prompt text `dlcm bench` uses.
    text = "The quick brown fox jumps over the lazy dog. A dictionary defines words; code defines programs. " * 64
    ids = ([model.cfg.eot_token_id] + tok.encode(text).ids)[:min(args.prompt_tokens, model.cfg.max_seq_len // 2)]

    with torch.no_grad():
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            model(torch.tensor([ids]))
            best = min(best, time.perf_counter() - t0)
        torch_prefill = len(ids) / best

        st = model.new_state()
        for t in ids[:32]:
            logits = st.step(t)
        n = args.steps
        t0 = time.perf_counter()
        for _ in range(n):
            logits = st.step(int(logits.argmax()))
        torch_decode = n / (time.perf_counter() - t0)

    build = subprocess.run(["swift", "build", "-c", "release", "--product", "dlcm"], cwd=ROOT, capture_output=True, text=True)
    if build.returncode != 0:
        sys.exit(build.stderr)
    out = subprocess.run([os.path.join(ROOT, ".build", "release", "dlcm"), "bench", "--model", args.model,
                          "--threads", str(args.threads), "--prompt-tokens", str(args.prompt_tokens),
                          "--steps", str(args.steps), "--batch", "1"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    print(out)
    swift_prefill = float(re.search(r"prefill\s+\d+ tokens:\s+([\d.]+) tok/s", out).group(1))
    swift_decode = float(re.search(r"decode batch\s+1:\s+([\d.]+) tok/s", out).group(1))
    print(f"threads {args.threads}, prompt {len(ids)} tokens, {n} decode steps")
    print(f"prefill  PyTorch {torch_prefill:9.0f} tok/s   Swift {swift_prefill:9.0f} tok/s   ratio {swift_prefill / torch_prefill:6.1f}x")
    print(f"decode   PyTorch {torch_decode:9.1f} tok/s   Swift {swift_decode:9.1f} tok/s   ratio {swift_decode / torch_decode:6.1f}x")


if __name__ == "__main__":
    main()
