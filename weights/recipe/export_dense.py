"""Write the dense baseline (DenseLM, a plain LLaMA decoder) as a directory: config.json
(model_type "dense") + model.safetensors (the PyTorch parameter names) + tokenizer.json, so the
quality comparison and the llama.cpp comparison (export_gguf.py) can be re-run without training.

  python3 weights/recipe/export_dense.py weights/recipe/runs/dense/checkpoint.pt weights/dense-5m-debian \
      --tokenizer weights/recipe/data/tokenizer.json [--dtype bfloat16]

The Swift runtime serves DLCMs only; this directory is for the recipe's tools.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DenseConfig, DenseLM, StackConfig  # noqa: E402

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def config_from_json(c: dict) -> DenseConfig:
    assert c.get("model_type") == "dense", f"not a dense model: model_type {c.get('model_type')!r}"
    return DenseConfig(vocab_size=c["vocab_size"], d_model=c["d_model"], d_base=c["d_base"],
                       stack=StackConfig(**c["stack"]), rope_theta=c["rope_theta"],
                       norm_eps=c["norm_eps"], max_seq_len=c["max_seq_len"],
                       eot_token_id=c["eot_token_id"])


def load_dense(path: str) -> DenseLM:
    """A training checkpoint.pt or a directory written by save_dense()."""
    if path.endswith(".pt"):
        ck = torch.load(path, map_location="cpu")
        model = DenseLM(config_from_json(dict(ck["config"])))
        model.load_state_dict(ck["state_dict"])
    else:
        model = DenseLM(config_from_json(json.load(open(os.path.join(path, "config.json")))))
        sd = {k: v.float() for k, v in load_file(os.path.join(path, "model.safetensors")).items()}
        model.load_state_dict(sd)
    model.eval()
    return model


def save_dense(model: DenseLM, out_dir: str, dtype: str = "bfloat16", tokenizer: str | None = None):
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: v.detach().to(DTYPES[dtype]).contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "dense"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(model.cfg.to_json(dtype), f, indent=2)
        f.write("\n")
    if tokenizer:
        shutil.copy(tokenizer, os.path.join(out_dir, "tokenizer.json"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="dense checkpoint.pt")
    ap.add_argument("dst", help="output directory")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="bfloat16")
    ap.add_argument("--tokenizer", help="tokenizer.json to copy alongside")
    args = ap.parse_args()
    save_dense(load_dense(args.src), args.dst, args.dtype, args.tokenizer)
    print(f"wrote {args.dst}")
