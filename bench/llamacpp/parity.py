"""Checks that a GGUF written by weights/recipe/export_gguf.py computes what PyTorch's DenseLM
computes: for each prompt, (1) llama.cpp's tokenization (llama-tokenize --ids) equals the Hugging
Face tokenizer's, and (2) llama.cpp's greedy continuation (llama-simple) equals DenseLM's greedy
continuation, byte for byte. Exit status 1 on any mismatch.

  python3 bench/llamacpp/parity.py CHECKPOINT TOKENIZER_JSON MODEL.gguf LLAMA_BIN_DIR [--tokens 64]

The PyTorch side recomputes the whole sequence each step (no KV cache), in float32, and also
reports the smallest top-1 / top-2 logit margin it met: a mismatch at a step whose margin is
below float rounding would be a tie, not a conversion error.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import torch
from tokenizers import Tokenizer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights", "recipe"))
from export_gguf import load_dense  # noqa: E402

PROMPTS = [
    "The quick brown fox",
    "Debian is a free operating system",
    "def main():\n    ",
    "To install the package, run",
    "In 1998, the project",
    "#include <stdio.h>\n\nint main(void) {",
]


def byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, inverted: the character a vocabulary piece uses -> the byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def piece_bytes(tok: Tokenizer, ids: list[int]) -> bytes:
    dec = byte_decoder()
    out = bytearray()
    for i in ids:
        p = tok.id_to_token(i)
        out += p.encode() if i == 0 else bytes(dec[c] for c in p)
    return bytes(out)


@torch.no_grad()
def greedy(model, ids: list[int], n: int, eot: int) -> tuple[list[int], float]:
    seq, out, margin = list(ids), [], float("inf")
    for _ in range(n):
        logits = model(torch.tensor([seq]))["logits"][0, -1]
        top = torch.topk(logits, 2)
        margin = min(margin, float(top.values[0] - top.values[1]))
        nxt = int(top.indices[0])
        if nxt == eot:
            break
        out.append(nxt)
        seq.append(nxt)
    return out, margin


def llama_tokenize(bin_dir: str, gguf: str, text: str) -> list[int]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run([os.path.join(bin_dir, "llama-tokenize"), "-m", gguf, "-f", f.name, "--ids",
                            "--log-disable"], capture_output=True, check=True)
    finally:
        os.unlink(f.name)
    line = r.stdout.decode().strip().splitlines()[-1]
    return [int(x) for x in line.strip("[]").split(",") if x.strip()]


def llama_simple(bin_dir: str, gguf: str, text: str, n: int) -> bytes:
    r = subprocess.run([os.path.join(bin_dir, "llama-simple"), "-m", gguf, "-n", str(n), text],
                       capture_output=True, check=True)
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("tokenizer")
    ap.add_argument("gguf")
    ap.add_argument("bin_dir")
    ap.add_argument("--tokens", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(1)
    model = load_dense(a.checkpoint)
    tok = Tokenizer.from_file(a.tokenizer)
    eot = model.cfg.eot_token_id
    failures = 0
    for p in PROMPTS:
        ids = tok.encode(p).ids
        lids = llama_tokenize(a.bin_dir, a.gguf, p)
        cont, margin = greedy(model, ids, a.tokens, eot)
        want = piece_bytes(tok, ids + cont) + b"\n"
        got = llama_simple(a.bin_dir, a.gguf, p, a.tokens)
        ok_tok, ok_gen = lids == ids, got == want
        failures += (not ok_tok) + (not ok_gen)
        print(f"{'OK ' if ok_tok and ok_gen else 'BAD'} prompt {p!r}: {len(ids)} prompt tokens "
              f"(tokenizer {'same' if ok_tok else f'DIFFERS: llama.cpp {lids} vs {ids}'}), "
              f"{len(cont)} greedy tokens {'same' if ok_gen else 'DIFFER'}, min top-2 margin {margin:.3g}")
        if not ok_gen:
            print("   torch:    ", want)
            print("   llama.cpp:", got)
    print("parity:", "all prompts match" if failures == 0 else f"{failures} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
