"""The dense LLaMA baseline (DenseLM, model.py) as a GGUF file llama.cpp runs (architecture "llama"),
so the Swift DLCM runtime can be compared with llama.cpp on a model of the same inference FLOPs
per token (bench/llamacpp_bench.sh).

  python3 weights/recipe/export_gguf.py weights/recipe/runs/dense/checkpoint.pt \
      weights/dlcm-10m-debian/tokenizer.json dense-f32.gguf [--dtype f32|f16|bf16|q8_0|q4_0]

What has to be translated, not just renamed:
- RoPE. DenseLM rotates the pair (i, i + hd/2) of each head (rotate-half, "NeoX"); llama.cpp's
  llama architecture rotates adjacent pairs (2i, 2i + 1). As the Hugging Face converters do, the
  rows of wq and wk are permuted within each head so that row 2i holds the old row i and row 2i+1
  the old row i + hd/2. q and k are permuted alike, so q.k, the attention and its output are
  unchanged; only the rotation pairs move to where llama.cpp expects them.
- logit_scale (d_base / d_model). DenseLM multiplies its logits by it; llama.cpp has no such
  factor, so it is folded into output.weight (logits are linear in that matrix).
- The tokenizer: a Hugging Face byte-level BPE, written as a GGUF "gpt2" vocabulary with its
  merges and the GPT-2 pre-tokenizer regex (the tokenizer.json pre-tokenizer is ByteLevel with
  use_regex, i.e. exactly that regex). <|endoftext|> (id 0) is BOS, EOS and the only control token.
  No BOS is added to prompts: the model was trained on documents joined by <|endoftext|>, and
  the Swift runtime does not add one either, so both see the same token ids. A model with a larger
  vocab_size than the tokenizer (make_bench_models.py) gets unused placeholder tokens up to it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_dense import load_dense  # noqa: E402
from model import DenseLM  # noqa: E402


def rotate_half_to_interleaved(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Rows of a q or k projection [n_heads * hd, d]: within each head, row i -> 2i and
    row i + hd/2 -> 2i + 1 (the permutation of convert_hf_to_gguf.py's LlamaModel.permute)."""
    out, d = w.shape
    hd = out // n_heads
    return w.reshape(n_heads, 2, hd // 2, d).swapaxes(1, 2).reshape(out, d)


def gguf_tensors(model: DenseLM) -> list[tuple[str, torch.Tensor]]:
    cfg, sd = model.cfg, model.state_dict()
    s = cfg.stack
    out = [("token_embd.weight", sd["embed.weight"])]
    for i in range(s.n_layers):
        p = f"stack.layers.{i}."
        b = f"blk.{i}."
        out += [
            (b + "attn_norm.weight", sd[p + "attn_norm.weight"]),
            (b + "attn_q.weight", rotate_half_to_interleaved(sd[p + "attn.wq.weight"], s.n_heads)),
            (b + "attn_k.weight", rotate_half_to_interleaved(sd[p + "attn.wk.weight"], s.n_kv_heads)),
            (b + "attn_v.weight", sd[p + "attn.wv.weight"]),
            (b + "attn_output.weight", sd[p + "attn.wo.weight"]),
            (b + "ffn_norm.weight", sd[p + "ffn_norm.weight"]),
            (b + "ffn_gate.weight", sd[p + "ffn.w1.weight"]),
            (b + "ffn_up.weight", sd[p + "ffn.w3.weight"]),
            (b + "ffn_down.weight", sd[p + "ffn.w2.weight"]),
        ]
    out.append(("output_norm.weight", sd["stack.norm.weight"]))
    # Scaled in float64, rounded once.
    out.append(("output.weight", (sd["lm_head.weight"].double() * cfg.logit_scale).float()))
    return out


def add_tokenizer(w: gguf.GGUFWriter, tokenizer_json: str, vocab_size: int, eot: int):
    t = json.load(open(tokenizer_json))
    m = t["model"]
    assert m["type"] == "BPE" and t["pre_tokenizer"]["type"] == "ByteLevel" and t["pre_tokenizer"]["use_regex"]
    added = t.get("added_tokens", [])
    n = max(list(m["vocab"].values()) + [a["id"] for a in added]) + 1
    assert n <= vocab_size, f"the tokenizer has {n} ids, the model {vocab_size}"
    tokens = [None] * n
    for piece, i in m["vocab"].items():
        tokens[i] = piece
    for a in added:
        tokens[a["id"]] = a["content"]
    assert all(x is not None for x in tokens), "vocabulary ids are not dense"
    special = {a["id"] for a in added if a.get("special")}
    types = [gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for i in range(n)]
    # A model with more rows than the tokenizer has ids (bench models of a served vocabulary size):
    # the ids past the tokenizer are placeholders BPE never produces.
    tokens += [f"<|unused_{i}|>" for i in range(n, vocab_size)]
    types += [gguf.TokenType.UNUSED] * (vocab_size - n)
    merges = [" ".join(x) if isinstance(x, list) else x for x in m["merges"]]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(eot)
    w.add_eos_token_id(eot)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)


FILE_TYPES = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
              "bf16": gguf.LlamaFileType.MOSTLY_BF16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
              "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}
# bf16 and the block quantizations, by gguf-py's quantizer. q8_0 / q4_0 quantize every matrix,
# token_embd and output included (as `llama-quantize --pure` does, and as `dlcm quantize` does).
QUANT_TYPES = {"bf16": gguf.GGMLQuantizationType.BF16, "q8_0": gguf.GGMLQuantizationType.Q8_0,
               "q4_0": gguf.GGMLQuantizationType.Q4_0}


def write_gguf(model: DenseLM, tokenizer_json: str, path: str, dtype: str = "f32"):
    cfg, s = model.cfg, model.cfg.stack
    hd = cfg.d_model // s.n_heads
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("dense-llama-baseline")
    w.add_context_length(cfg.max_seq_len)
    w.add_embedding_length(cfg.d_model)
    w.add_block_count(s.n_layers)
    w.add_feed_forward_length(s.ffn_dim)
    w.add_head_count(s.n_heads)
    w.add_head_count_kv(s.n_kv_heads)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(cfg.rope_theta)
    w.add_layer_norm_rms_eps(cfg.norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    w.add_file_type(FILE_TYPES[dtype])
    add_tokenizer(w, tokenizer_json, cfg.vocab_size, cfg.eot_token_id)
    for name, t in gguf_tensors(model):
        a = t.detach().float().contiguous().numpy()
        if a.ndim == 1 or dtype == "f32":           # norms stay f32, as llama.cpp's converters do
            w.add_tensor(name, a)
        elif dtype == "f16":
            w.add_tensor(name, a.astype(np.float16))
        else:
            q = gguf.quants.quantize(a, QUANT_TYPES[dtype])
            w.add_tensor(name, q, raw_dtype=QUANT_TYPES[dtype])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="a dense training checkpoint.pt (train.py save()) or a directory from export_dense.py")
    ap.add_argument("tokenizer", help="tokenizer.json (Hugging Face byte-level BPE)")
    ap.add_argument("out", help="the .gguf file to write")
    ap.add_argument("--dtype", choices=sorted(FILE_TYPES), default="f32")
    a = ap.parse_args()
    write_gguf(load_dense(a.checkpoint), a.tokenizer, a.out, a.dtype)
    print("wrote", a.out, os.path.getsize(a.out), "bytes")


if __name__ == "__main__":
    main()
