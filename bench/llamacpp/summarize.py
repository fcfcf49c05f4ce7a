"""Reads the raw outputs of bench/llamacpp_bench.sh (llama-bench JSON, `dlcm bench` text) and prints
the side-by-side table: best of all rounds for each tool, FLOPs per token of each model, GFLOP/s
and fraction of peak, ratios DLCM / llama.cpp.

FLOPs count the matmuls (multiply-adds x 2; attention over the context excluded, as in
weights/recipe/model.py). Decode computes the whole model per token. Prefill computes the
vocabulary projection (lm_head) only for the last prompt token, in both programs, so prefill
GFLOP/s count what is executed: the per-token FLOPs less lm_head, plus lm_head once per prompt.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import statistics
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights", "recipe"))
from model import DenseConfig, DLCMConfig, StackConfig, dense_flops_per_token, dlcm_flops_per_token  # noqa: E402

PROMPT = 256
BYTES = {"f32": 4, "f16": 2, "bf16": 2}


def dense_config(checkpoint: str) -> DenseConfig:
    c = dict(torch.load(checkpoint, map_location="cpu")["config"])
    return DenseConfig(vocab_size=c["vocab_size"], d_model=c["d_model"], d_base=c["d_base"],
                       stack=StackConfig(**c["stack"]), rope_theta=c["rope_theta"], norm_eps=c["norm_eps"],
                       max_seq_len=c["max_seq_len"], eot_token_id=c["eot_token_id"])


def llama_results(raw: str):
    """{(dtype, threads): {"prefill": best tok/s, "decode": best tok/s, "all_prefill": [...],
    "all_decode": [...]}}: one figure per round and kind."""
    out = {}
    for f in glob.glob(os.path.join(raw, "llama-*.json")):
        m = re.match(r"llama-(\w+)-t(\d+)-r\d+-\w+\.json", os.path.basename(f))
        key = (m.group(1), int(m.group(2)))
        best = out.setdefault(key, {"prefill": 0.0, "decode": 0.0, "all_prefill": [], "all_decode": []})
        for test in json.load(open(f)):
            rates = test.get("samples_ts") or [test["avg_ts"]]
            kind = "prefill" if test["n_prompt"] > 0 and test["n_gen"] == 0 else "decode"
            # Prefill: the best of the round's repetitions, as dlcm bench reports its prefill.
            best[kind] = max([best[kind]] + rates)
            best["all_" + kind] += [max(rates)] if kind == "prefill" else rates
    return out


def dlcm_results(raw: str):
    """{threads: {"prefill", "prefill_tpc", "decode", "decode_tpc"}} best rates, with the
    tokens per concept measured in the best run."""
    out = {}
    for f in glob.glob(os.path.join(raw, "dlcm-t*-r*.txt")):
        t = int(re.match(r"dlcm-t(\d+)-", os.path.basename(f)).group(1))
        text = open(f).read()
        p = re.search(r"prefill\s+(\d+) tokens:\s+([\d.]+) tok/s.*\[([\d.]+) tokens/concept\]", text)
        d = re.search(r"decode batch\s+1:\s+([\d.]+) tok/s.*\[([\d.]+) tokens/concept\]", text)
        best = out.setdefault(t, {"prefill": 0.0, "decode": 0.0, "all_prefill": [], "all_decode": []})
        if p:
            best["all_prefill"].append(float(p.group(2)))
        if d:
            best["all_decode"].append(float(d.group(1)))
        if p and float(p.group(2)) > best["prefill"]:
            best.update(prefill=float(p.group(2)), prefill_tpc=float(p.group(3)), prompt=int(p.group(1)))
        if d and float(d.group(1)) > best["decode"]:
            best.update(decode=float(d.group(1)), decode_tpc=float(d.group(2)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--model", default="weights/dlcm-10m-debian")
    ap.add_argument("--dense-checkpoint", required=True)
    ap.add_argument("--peak-gflops", type=float, default=118, help="per thread")
    ap.add_argument("--peak-gbs", type=float, default=40)
    a = ap.parse_args()

    dcfg = dense_config(a.dense_checkpoint)
    dense_f = dense_flops_per_token(dcfg)
    dense_head = 2 * dcfg.d_model * dcfg.vocab_size
    cj = json.load(open(os.path.join(a.model, "config.json")))
    cfg = DLCMConfig.from_json(cj)
    dlcm_dtype = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}[cj.get("dtype", "float32")]
    dlcm_bytes = BYTES[dlcm_dtype]
    llama, dlcm = llama_results(a.raw), dlcm_results(a.raw)
    threads = sorted({t for _, t in llama} | set(dlcm))
    dtypes = [d for d in ("f32", "f16", "bf16") if any(k[0] == d for k in llama)]

    def prefill_flops(per_token: float, head: float, n: int) -> float:
        return per_token - head + head / n

    print("FLOPs per token (matmuls; decode = whole model per token):")
    print(f"  dense LLaMA (llama.cpp): {dense_f / 1e6:.2f} M   "
          f"[d {dcfg.d_model}, {dcfg.stack.n_layers} layers, vocab {dcfg.vocab_size}]")
    for t in threads:
        if t in dlcm:
            r = dlcm[t]
            f = dlcm_flops_per_token(cfg, r["decode_tpc"])
            print(f"  DLCM (Swift), {t} thread(s): {f['total'] / 1e6:.2f} M at the decode's "
                  f"{r['decode_tpc']:.2f} tokens/concept (backbone {f['backbone'] / 1e6:.2f} M of it); "
                  f"prefill {r['prefill_tpc']:.2f} tokens/concept")
            break
    print(f"peak: {a.peak_gflops:.0f} GFLOP/s per thread (f32), {a.peak_gbs:.0f} GB/s DRAM; "
          "decode weight traffic = matmul weights x bytes per weight per token")
    print("tok/s: best of all runs (median in brackets); GFLOP/s, GB/s and ratios from the best\n")

    hdr = f"{'':26}" + "".join(f"{'llama.cpp dense ' + d:>24}" for d in dtypes) + f"{'DLCM Swift ' + dlcm_dtype:>24}"
    for t in threads:
        peak = a.peak_gflops * t
        print(f"--- {t} thread(s), prompt {PROMPT}, 128 generated, batch 1 " + "-" * 20)
        print(hdr)
        cells = {"pre": [], "pre_g": [], "dec": [], "dec_g": [], "dec_b": []}
        cols = [(("llama", d), dense_f, dense_head, BYTES[d]) for d in dtypes]
        if t in dlcm:
            r = dlcm[t]
            fp = dlcm_flops_per_token(cfg, r["prefill_tpc"])
            fd = dlcm_flops_per_token(cfg, r["decode_tpc"])
            cols.append((("dlcm", None), (fp["total"], fd["total"]), fp["lm_head"], dlcm_bytes))
        for (tool, d), f, head, nbytes in cols:
            if tool == "llama":
                res = llama.get((d, t))
                fpre = fdec = f
            else:
                res = dlcm[t]
                fpre, fdec = f
            if not res:
                for k in cells:
                    cells[k].append("-")
                continue
            pg = res["prefill"] * prefill_flops(fpre, head, PROMPT) / 1e9
            dg = res["decode"] * fdec / 1e9
            db = res["decode"] * fdec / 2 * nbytes / 1e9
            cells["pre"].append(f"{res['prefill']:.0f} ({statistics.median(res['all_prefill']):.0f})")
            cells["pre_g"].append(f"{pg:.1f} ({100 * pg / peak:.0f}%)")
            cells["dec"].append(f"{res['decode']:.0f} ({statistics.median(res['all_decode']):.0f})")
            cells["dec_g"].append(f"{dg:.1f} ({100 * dg / peak:.0f}%)")
            cells["dec_b"].append(f"{db:.1f} ({100 * db / a.peak_gbs:.0f}%)")
        for label, k in [("prefill tok/s (median)", "pre"), ("prefill GFLOP/s (% peak)", "pre_g"),
                         ("decode tok/s (median)", "dec"), ("decode GFLOP/s (% peak)", "dec_g"),
                         ("decode weights GB/s (%)", "dec_b")]:
            print(f"{label:26}" + "".join(f"{c:>24}" for c in cells[k]))
        if t in dlcm:
            for d in dtypes:
                res = llama.get((d, t))
                if res and res["prefill"] and res["decode"]:
                    print(f"DLCM / llama.cpp {d}: prefill {dlcm[t]['prefill'] / res['prefill']:.2f}x, "
                          f"decode {dlcm[t]['decode'] / res['decode']:.2f}x")
        print()


if __name__ == "__main__":
    main()
