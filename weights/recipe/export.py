"""Write and read the checkpoint format the Swift runtime serves (weights/FORMAT.md):
config.json + model.safetensors (+ tokenizer.json), tensor names as in docs/model.md §10.

  python3 weights/recipe/export.py weights/recipe/runs/dlcm/checkpoint.pt weights/dlcm-10m-debian [--dtype bfloat16]

The shipped model is bfloat16: training already ran its matrix products in bf16 autocast, and
decode at batch 1 streams every weight once per token, so half the bytes is about twice the
speed (dlcm bench, 1 thread: 1.8k -> 3.6-3.9k tok/s). The runtime computes in f32 either way.
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DLCM, DLCMConfig

HERE = os.path.dirname(os.path.abspath(__file__))

# PyTorch module attribute -> tensor name prefix in the file.
_RENAMES = [("router_wq.", "router.wq."), ("router_wk.", "router.wk."), ("pool_up.", "pool.up."), ("pool_first.", "pool.first."),
            ("concept_null", "concept.null")]


def file_name(name: str) -> str:
    for a, b in _RENAMES:
        if name.startswith(a):
            return b + name[len(a):]
    return name


def module_name(name: str) -> str:
    for a, b in _RENAMES:
        if name.startswith(b):
            return a + name[len(b):]
    return name


def save_dlcm(model: DLCM, out_dir: str, dtype: torch.dtype = torch.float32, tokenizer: str | None = None):
    if model.cfg.backbone.window:
        raise SystemExit("export: the backbone cannot be windowed (weights/FORMAT.md); only the encoder and decoder")
    os.makedirs(out_dir, exist_ok=True)
    dtype_name = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}[dtype]
    tensors = {file_name(k): v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "dlcm"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(model.cfg.to_json(dtype_name), f, indent=2)
        f.write("\n")
    if tokenizer:
        shutil.copy(tokenizer, os.path.join(out_dir, "tokenizer.json"))


def load_dlcm(path: str) -> DLCM:
    """A directory in the exported format, or a training checkpoint.pt. A quantized directory
    (dtype q8_0 / q4_0) loads as the float DLCM of its dequantized weights (quantize.py)."""
    if path.endswith(".pt"):
        ck = torch.load(path, map_location="cpu")
        model = DLCM(DLCMConfig.from_json(ck["config"]))
        model.load_state_dict(ck["state_dict"])
    else:
        cfg_json = json.load(open(os.path.join(path, "config.json")))
        if cfg_json.get("dtype") in ("q8_0", "q4_0"):
            from quantize import dequantize
            return dequantize(path)
        cfg = DLCMConfig.from_json(cfg_json)
        model = DLCM(cfg)
        sd = {module_name(k): v.float() for k, v in load_file(os.path.join(path, "model.safetensors")).items()}
        model.load_state_dict(sd)
    model.eval()
    return model


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("src", help="checkpoint.pt or an exported directory")
    ap.add_argument("dst")
    ap.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="bfloat16")
    args = ap.parse_args()
    src, dst = args.src, args.dst
    m = load_dlcm(src)
    save_dlcm(m, dst, dtype=getattr(torch, args.dtype), tokenizer=os.path.join(HERE, "data", "tokenizer.json"))
    print("wrote", dst, sorted(os.listdir(dst)))
