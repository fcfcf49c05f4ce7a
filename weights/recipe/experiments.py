"""Summarise short recipe experiments: one row per run directory holding a result.json written by
`train.py --ablate`, as the markdown table kept in EXPERIMENTS.md.

  python3 weights/recipe/experiments.py weights/recipe/runs/exp/*

Columns: validation loss with the learned router, and how much worse it gets with no concepts
(`none`), a fixed stride at the learned rate rounded to a whole K and at exactly that rate (a
fractional K), and random boundaries at the learned rate (positive = the learned
boundaries are better); the backbone's output cosine to its mean (near 1 = collapsed); the
backbone's share of inference FLOPs at the realised tokens per concept.
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DLCMConfig, dlcm_flops_per_token  # noqa: E402


def row(path: str) -> str | None:
    f = os.path.join(path, "result.json")
    if not os.path.exists(f):
        return None
    r = json.load(open(f))
    a = r.get("ablations")
    if a is None:
        return None
    args = r["args"]
    learned = a["learned"]["all"]
    tpc = learned["tokens_per_concept"]
    # The stride at the learned rate (ablate.py rounds it); it may also be the stride 2 or 8 column.
    at_rate = f"stride:{max(1, round(tpc))}"
    stride = at_rate if at_rate in a else next((k for k in a if k.startswith("stride:") and k not in ("stride:2", "stride:8")), None)
    # The stride at exactly the learned rate (fractional K), where the run's ablations have it.
    exact = next((k for k in a if k.startswith("stride:") and "." in k), None)
    rand = next(k for k in a if k.startswith("random:"))
    cfg = DLCMConfig.from_json(r["config"])
    fl = dlcm_flops_per_token(cfg, tpc)
    d = lambda k: a[k]["all"]["loss"] - learned["loss"] if k else float("nan")  # noqa: E731
    name = os.path.basename(path.rstrip("/"))
    setting = f"{args['size']}, {args.get('train_boundaries', 'sample')}" + (", router grad" if args.get("router_grad") else "")
    if args.get("collapse_loss"):
        setting += f", collapse loss {args['collapse_loss']:g}"
    enc = args.get("encoder_window") if args.get("encoder_window") is not None else args.get("token_window", 0)
    dec = args.get("decoder_window") if args.get("decoder_window") is not None else args.get("token_window", 0)
    if enc == dec and enc:
        setting += f", token window {enc}"
    elif enc or dec:
        setting += f", windows enc {enc or 'all'} / dec {dec or 'all'}"
    if args.get("target_r"):
        setting += f", R {args['target_r']:g}"
    if args.get("router_target", "none") != "none":
        setting += f", {args['router_target']} target {args.get('router_target_weight', 0.5):g}"
    if args.get("pooling", "mean") != "mean":
        setting += f", pooling {args['pooling']}"
    if os.path.basename(os.path.normpath(args.get("data") or "data")) == "data-bytes":
        setting += ", bytes"
    if args.get("aux", 0.03) != 0.03:
        setting += f", aux {args['aux']:g}"
    return (f"| {name} | {setting} | {r['tokens_seen'] / 1e6:.2f}M | {learned['loss']:.3f} | {tpc:.2f} | "
            f"{d('none'):+.3f} | {d(stride):+.3f} ({stride}) | {(f'{d(exact):+.3f} ({exact})' if exact else 'n/a')} | {d(rand):+.3f} | {d('stride:2'):+.3f} | {d('stride:8'):+.3f} | "
            f"{a['backbone']['output_cosine_to_mean']:.3f} | {fl['backbone'] / fl['total']:.0%} |")


def main():
    print("| run | setting | tokens | loss (learned) | tokens/concept | none | stride | stride, exact rate | random | stride 2 | stride 8 | backbone cos | backbone FLOPs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p in sorted(sys.argv[1:]):
        r = row(p)
        if r:
            print(r)


if __name__ == "__main__":
    main()
