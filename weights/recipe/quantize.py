"""Quantized checkpoints, q8_0 and q4_0 (weights/FORMAT.md, "Quantized checkpoints").

  python3 weights/recipe/quantize.py IN_DIR OUT_DIR --type q8|q4     # float checkpoint -> quantized
  python3 weights/recipe/quantize.py --dequantize IN_DIR OUT_DIR     # quantized -> f32 checkpoint of
                                                                     # its dequantized weights

Every [out, in] matrix becomes NAME.q (codes) and NAME.scale (one f16 scale per block of 32
inputs of a row); 1-D tensors stay f32. The rules are the Swift side's (`dlcm quantize`,
Sources/Kernels/Quantization.swift) step for step in numpy float32: f32 division, the f16 cast
and np.rint's round-half-even; and the file is written here with the tensor order and header
safetensors' own writer uses, so both sides write the same bytes whatever safetensors version is
installed (the Swift tests compare them on a fixture).

`dequantize(dir)` loads a quantized directory as a float DLCM of the dequantized weights;
`export.load_dlcm` calls it, so evaluation (ablate.py, make_vectors.py) takes quantized
directories as they are.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

QUANT_BLOCK = 32
TYPES = {"q8": "q8_0", "q4": "q4_0"}
QUANTIZED = ("q8_0", "q4_0")
_QRANGE = {"q8_0": (-127, 127), "q4_0": (-8, 7)}
_DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8"}
# safetensors' writer orders tensors by dtype (wider first), then by name.
_ORDER = {"F32": 0, "F16": 1, "I8": 2, "U8": 2}


class QuantizeError(ValueError):
    pass


def quantize_matrix(w: np.ndarray, qtype: str, name: str = "tensor") -> tuple[np.ndarray, np.ndarray]:
    """Codes and scales of an [out, in] matrix: codes int8 [out, in] (q8_0) or uint8 [out, in/2]
    (q4_0, byte j of a block = element j | element j+16 << 4, each as q + 8); scales f16
    [out, in/32]."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    rows, cols = w.shape
    if cols % QUANT_BLOCK:
        raise QuantizeError(f"tensor '{name}' is [{rows}, {cols}]: its width {cols} is not a multiple of "
                            f"{QUANT_BLOCK}, the {qtype} block; cannot quantize")
    qmin, qmax = _QRANGE[qtype]
    blocks = w.reshape(rows, cols // QUANT_BLOCK, QUANT_BLOCK)
    amax = np.abs(blocks).max(axis=-1)                        # f32
    with np.errstate(over="ignore"):
        d16 = (amax / np.float32(qmax)).astype(np.float16)    # f32 division, then f16 (half-even)
    if not (np.isfinite(w).all() and np.isfinite(d16).all()):
        raise QuantizeError(f"tensor '{name}' has a value that is not finite or too large for an f16 block scale")
    s = d16.astype(np.float32)[..., None]
    zero = s == 0                                             # a zero block, or a scale under f16's range
    q = np.rint(blocks / np.where(zero, np.float32(1), s))   # f32 division; ties to even
    q = np.where(zero, np.float32(0), np.clip(q, qmin, qmax))
    if qtype == "q8_0":
        codes = q.astype(np.int8).reshape(rows, cols)
    else:
        nibbles = (q + 8).astype(np.uint8)                    # [rows, blocks, 32]
        half = QUANT_BLOCK // 2
        codes = (nibbles[..., :half] | (nibbles[..., half:] << 4)).reshape(rows, cols // 2)
    return codes, d16


def dequantize_matrix(codes: np.ndarray, scales: np.ndarray, qtype: str) -> np.ndarray:
    """The f32 [out, in] matrix the codes and scales stand for: q * scale, exact in f32."""
    rows = codes.shape[0]
    s = scales.astype(np.float32)[..., None]                  # [rows, blocks, 1]
    if qtype == "q8_0":
        q = codes.astype(np.float32).reshape(rows, -1, QUANT_BLOCK)
    else:
        b = codes.reshape(rows, -1, QUANT_BLOCK // 2)
        q = np.concatenate([b & 0x0F, b >> 4], axis=-1).astype(np.float32) - 8
    return (q * s).reshape(rows, -1)


def write_safetensors(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str]):
    """safetensors as its writer lays it out: F32, F16, then I8/U8 tensors, each group by name;
    compact JSON header, `__metadata__` first, padded with spaces to a multiple of 8 bytes."""
    ordered = sorted(tensors.items(), key=lambda kv: (_ORDER[_DTYPES[kv[1].dtype]], kv[0]))
    header = {"__metadata__": metadata}
    offset = 0
    for name, a in ordered:
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, a in ordered:
            f.write(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes())


def read_float_tensors(path: str) -> dict[str, np.ndarray]:
    """model.safetensors of a float checkpoint (f32, bf16 or f16), every tensor as f32."""
    from safetensors.torch import load_file
    return {k: v.float().numpy() for k, v in load_file(path).items()}


def quantize_dir(src: str, dst: str, qtype: str) -> tuple[int, int]:
    """Writes the qtype copy of the float checkpoint `src` to `dst`; returns the input and output
    model.safetensors sizes."""
    from export import load_dlcm
    assert qtype in QUANTIZED, qtype
    if os.path.abspath(src) == os.path.abspath(dst):
        raise QuantizeError("the output directory must differ from the input")
    cfg = json.load(open(os.path.join(src, "config.json")))
    if cfg.get("dtype") in QUANTIZED:
        raise QuantizeError(f"{src} is already quantized (dtype {cfg['dtype']})")
    load_dlcm(src)   # every tensor present, none other, shapes as the config says
    tensors = read_float_tensors(os.path.join(src, "model.safetensors"))
    bad = sorted(n for n, a in tensors.items() if a.ndim == 2 and a.shape[1] % QUANT_BLOCK)
    if bad:
        rows, cols = tensors[bad[0]].shape
        raise QuantizeError(f"tensor '{bad[0]}' is [{rows}, {cols}]: its width {cols} is not a multiple of "
                            f"{QUANT_BLOCK}, the {qtype} block; cannot quantize"
                            + (f" (nor {len(bad) - 1} more)" if len(bad) > 1 else ""))
    out = {}
    for name in sorted(tensors):
        a = tensors[name]
        if a.ndim == 2:
            out[name + ".q"], out[name + ".scale"] = quantize_matrix(a, qtype, name)
        else:
            out[name] = a.astype(np.float32)
    os.makedirs(dst, exist_ok=True)
    write_safetensors(os.path.join(dst, "model.safetensors"), out, {"format": "dlcm"})
    cfg["dtype"] = qtype
    cfg["quant_block"] = QUANT_BLOCK
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    # The tokenizer and the chat template (CheckpointQuantizer.companionFiles on the Swift side).
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if os.path.exists(os.path.join(src, name)):
            shutil.copy(os.path.join(src, name), os.path.join(dst, name))
    return (os.path.getsize(os.path.join(src, "model.safetensors")),
            os.path.getsize(os.path.join(dst, "model.safetensors")))


def dequantized_tensors(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    """A quantized directory's config (as its float32 original) and its tensors dequantized to f32,
    under the float checkpoint's names."""
    from safetensors.numpy import load_file
    cfg = json.load(open(os.path.join(path, "config.json")))
    qtype = cfg.get("dtype")
    if qtype not in QUANTIZED:
        raise QuantizeError(f"{path} is not quantized (dtype {qtype})")
    if cfg.get("quant_block") != QUANT_BLOCK:
        raise QuantizeError(f"{path}: quant_block must be {QUANT_BLOCK}")
    raw = load_file(os.path.join(path, "model.safetensors"))
    tensors = {}
    for name, a in raw.items():
        if name.endswith(".scale"):
            continue
        if name.endswith(".q"):
            base = name[:-2]
            tensors[base] = dequantize_matrix(a, raw[base + ".scale"], qtype)
        else:
            tensors[name] = a.astype(np.float32)
    cfg = {k: v for k, v in cfg.items() if k != "quant_block"}
    cfg["dtype"] = "float32"
    return cfg, tensors


def dequantize(path: str):
    """A quantized directory as a float DLCM of its dequantized weights (eval mode)."""
    import torch
    from export import module_name
    from model import DLCM, DLCMConfig
    cfg, tensors = dequantized_tensors(path)
    model = DLCM(DLCMConfig.from_json(cfg))
    model.load_state_dict({module_name(k): torch.from_numpy(v) for k, v in tensors.items()})
    model.eval()
    return model


def save_dequantized(src: str, dst: str):
    """The f32 checkpoint of a quantized directory's dequantized weights (tokenizer copied)."""
    import torch
    from export import save_dlcm
    tok = os.path.join(src, "tokenizer.json")
    save_dlcm(dequantize(src), dst, dtype=torch.float32, tokenizer=tok if os.path.exists(tok) else None)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--type", choices=sorted(TYPES), help="q8 (int8 codes) or q4 (4-bit codes)")
    ap.add_argument("--dequantize", action="store_true", help="write the f32 checkpoint of a quantized one")
    args = ap.parse_args()
    try:
        if args.dequantize:
            save_dequantized(args.src, args.dst)
            print("wrote", args.dst, "(f32, dequantized)")
        else:
            if not args.type:
                ap.error("--type q8|q4 is required")
            before, after = quantize_dir(args.src, args.dst, TYPES[args.type])
            print(f"wrote {args.dst} ({TYPES[args.type]}): model.safetensors {before / 2**20:.2f} MiB -> "
                  f"{after / 2**20:.2f} MiB ({before / after:.2f}x smaller)")
    except QuantizeError as e:
        sys.exit(f"quantize.py: error: {e}")
