"""Reads the raw outputs of bench/large_bench.sh and prints, per thread count and weight format,
llama.cpp (dense LLaMA) against the Swift DLCM: prefill, batch-1 decode at depth, and batched
decode. Each figure is the median over rounds; each ratio is the median of the rounds' own ratios
(both tools ran back to back in a round, so a round's ratio is taken under one machine state),
with its range.

FLOPs count the matmuls (weights/recipe/model.py); the DLCM's at the tokens per concept its run
realised. A prefill computes the LM head for its last token only (both programs), so prefill
GFLOP/s count what is executed. Weight bytes: each matrix weight streamed once per step at the
format's bytes per weight (bf16 2, q8_0 34/32, q4_0 18/32); the DLCM's backbone only on steps where
some sequence closes a concept (with B sequences at t tokens per concept: 1 - (1 - 1/t)^B of them).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import statistics
import sys
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights", "recipe"))
from model import DenseConfig, DLCMConfig, StackConfig, dense_flops_per_token, dlcm_flops_per_token  # noqa: E402

GGUF_TYPE = {"bf16": "bf16", "q8": "q8_0", "q4": "q4_0"}


def dense_config(j: dict) -> DenseConfig:
    j = dict(j)
    for k in ("model_type", "format_version", "logit_scale", "dtype"):
        j.pop(k, None)
    j["stack"] = StackConfig(**j["stack"])
    return DenseConfig(**j)


def llama_runs(raw: str) -> dict:
    """{(fmt, threads, kind): {round: tok/s}}, kind prefill / decode / batched."""
    out = defaultdict(dict)
    for f in glob.glob(os.path.join(raw, "llama-*")):
        m = re.match(r"llama-(\w+)-t(\d+)-r(\d+)-(prefill|decode|batched)\.(json|txt)$", os.path.basename(f))
        if not m:
            continue
        fmt, t, r, kind = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        try:
            if kind == "batched":       # its jsonl line, on stdout or (older builds) stderr
                text = open(f).read() + (open(f + ".err").read() if os.path.exists(f + ".err") else "")
                lines = [json.loads(x) for x in text.splitlines() if x.startswith("{") and "speed_tg" in x]
                rate = lines[-1]["speed_tg"]
            else:
                tests = json.load(open(f))
                rates = tests[0].get("samples_ts") or [tests[0]["avg_ts"]]
                rate = max(rates)          # prefill: best of the round's repetitions, as dlcm bench
        except (ValueError, IndexError, KeyError):
            print(f"note: no result in {f}", file=sys.stderr)
            continue
        out[(fmt, t, kind)][r] = rate
    return out


def dlcm_runs(raw: str, streams: int) -> dict:
    """{(fmt, threads, kind): {round: (tok/s, tokens per concept)}}."""
    out = defaultdict(dict)
    for f in glob.glob(os.path.join(raw, "dlcm-*.txt")):
        m = re.match(r"dlcm-(\w+)-t(\d+)-r(\d+)\.txt$", os.path.basename(f))
        if not m:
            continue
        fmt, t, r = m.group(1), int(m.group(2)), int(m.group(3))
        text = open(f).read()
        p = re.search(r"prefill\s+\d+ tokens:\s+([\d.]+) tok/s.*\[([\d.]+) tokens/concept\]", text)
        if p:
            out[(fmt, t, "prefill")][r] = (float(p.group(1)), float(p.group(2)))
        for kind, b in (("decode", 1), ("batched", streams)):
            d = re.search(rf"decode batch\s+{b}:\s+([\d.]+) tok/s.*\[([\d.]+) tokens/concept\]", text)
            if d:
                out[(fmt, t, kind)][r] = (float(d.group(1)), float(d.group(2)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--models", required=True, help="make_bench_models.py output (models.json)")
    ap.add_argument("--depth", type=int, required=True)
    ap.add_argument("--streams", type=int, default=16)
    a = ap.parse_args()

    info = json.load(open(os.path.join(a.models, "models.json")))
    cfg = DLCMConfig.from_json(info["dlcm"]["config"])
    dcfg = dense_config(info["dense"]["config"])
    dense_f = dense_flops_per_token(dcfg)
    dense_head = 2 * dcfg.d_model * dcfg.vocab_size
    bpw = {"bf16": 2.0, "q8": 34 / 32, "q4": 18 / 32}

    def dlcm_f(tpc: float) -> dict:
        return dlcm_flops_per_token(cfg, tpc)

    def executed(kind: str, total: float, head: float) -> float:
        """FLOPs per token actually computed: prefill's LM head runs once per prompt."""
        return total - head + head / a.depth if kind == "prefill" else total

    def weight_bytes_per_token(kind: str, fmt: str, tool: str, tpc: float | None) -> float:
        b = a.streams if kind == "batched" else 1
        if tool == "llama":
            return dense_f / 2 * bpw[fmt] / b
        f = dlcm_f(tpc)
        read = 1 - (1 - 1 / tpc) ** b                  # steps on which the backbone runs
        return (f["total"] - f["backbone"] + f["backbone"] * tpc * read) / 2 * bpw[fmt] / b

    llama, dlcm = llama_runs(a.raw), dlcm_runs(a.raw, a.streams)
    d = info["dlcm"]
    print(f"DLCM {info['size']}: {d['params'] / 1e6:.1f} M parameters, "
          f"{d['flops_per_token']['total'] / 1e6:.1f} MFLOP/token at {d['tokens_per_concept']['all']:.2f} tokens/concept "
          f"on the calibration text; dense LLaMA: {info['dense']['params'] / 1e6:.1f} M parameters "
          f"({info['dense']['layers']} layers of {dcfg.d_model}), {dense_f / 1e6:.1f} MFLOP/token")
    print("MB of weights per token (batch 1): " + ", ".join(
        f"{fmt} DLCM {d['flops_per_token']['total'] / 2 * v / 1e6:.1f} / dense {dense_f / 2 * v / 1e6:.1f}"
        for fmt, v in bpw.items()))
    rounds = sorted({r for v in list(llama.values()) + list(dlcm.values()) for r in v})
    print(f"{len(rounds)} round(s); figures are medians over rounds, ratios the median of per-round "
          "ratios [min-max]; per FLOP = ratio of GFLOP/s\n")

    keys = sorted({(f, t) for f, t, _ in list(llama) + list(dlcm)}, key=lambda k: (k[1], list(bpw).index(k[0])))
    labels = {"prefill": f"prefill {a.depth}", "decode": f"decode b1 @{a.depth}",
              "batched": f"decode b{a.streams} @{a.depth}"}
    hdr = (f"{'':18}{'llama.cpp':>10}{'DLCM':>9}{'llama.cpp':>11}{'DLCM':>8}{'llama.cpp':>11}{'DLCM':>8}"
           f"{'DLCM':>6}{'DLCM / llama.cpp':>28}")
    sub = (f"{'':18}{'tok/s':>10}{'tok/s':>9}{'GFLOP/s':>11}{'GFLOP/s':>8}{'GB/s':>11}{'GB/s':>8}"
           f"{'t/c':>6}{'tok/s [range]':>20}{'per FLOP':>10}")
    for fmt, t in keys:
        print(f"--- {t} thread(s), {fmt} ({GGUF_TYPE[fmt]} GGUF / DLCM {'bf16' if fmt == 'bf16' else GGUF_TYPE[fmt]}) " + "-" * 40)
        print(hdr)
        print(sub)
        for kind in ("prefill", "decode", "batched"):
            lr, dr = llama.get((fmt, t, kind), {}), dlcm.get((fmt, t, kind), {})
            if not lr and not dr:
                continue
            cells = []
            lmed = statistics.median(lr.values()) if lr else None
            dmed = statistics.median(x for x, _ in dr.values()) if dr else None
            tpc = statistics.median(c for _, c in dr.values()) if dr else None
            lfl = executed(kind, dense_f, dense_head)
            dfl = executed(kind, dlcm_f(tpc)["total"], dlcm_f(tpc)["lm_head"]) if dr else None
            cells.append(f"{lmed:10.1f}" if lr else f"{'-':>10}")
            cells.append(f"{dmed:9.1f}" if dr else f"{'-':>9}")
            cells.append(f"{lmed * lfl / 1e9:11.2f}" if lr else f"{'-':>11}")
            cells.append(f"{dmed * dfl / 1e9:8.2f}" if dr else f"{'-':>8}")
            if kind == "prefill":
                cells += [f"{'':>11}", f"{'':>8}"]
            else:
                cells.append(f"{lmed * weight_bytes_per_token(kind, fmt, 'llama', None) / 1e9:11.2f}" if lr else f"{'-':>11}")
                cells.append(f"{dmed * weight_bytes_per_token(kind, fmt, 'dlcm', tpc) / 1e9:8.2f}" if dr else f"{'-':>8}")
            cells.append(f"{tpc:6.2f}" if dr else f"{'-':>6}")
            both = sorted(set(lr) & set(dr))
            if both:
                ratios = [dr[r][0] / lr[r] for r in both]
                per_flop = [dr[r][0] * executed(kind, dlcm_f(dr[r][1])["total"], dlcm_f(dr[r][1])["lm_head"])
                            / (lr[r] * lfl) for r in both]
                cells.append(f"{statistics.median(ratios):8.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]".rjust(20))
                cells.append(f"{statistics.median(per_flop):9.2f}x")
            print(f"{labels[kind]:18}" + "".join(cells))
        print()


if __name__ == "__main__":
    main()
