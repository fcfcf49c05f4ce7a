"""Random-weight models at the sizes people serve, for bench/large_bench.sh: a DLCM in the checkpoint
format (weights/FORMAT.md) and the dense LLaMA of matched inference FLOPs per token as GGUF files
(bf16, q8_0, q4_0) for llama.cpp. Speed does not depend on what the weights learned, except through
the router: it must close concepts at a realistic rate, or the DLCM runs its backbone more or less
often than a trained one would and the FLOPs comparison means nothing. So the router's wk is drawn
correlated with wq (as tiny.py does), both of low rank: random q and k of full rank are nearly
orthogonal in any d_scan-wide space, p then sits within a few hundredths of 0.5 and every decision
hinges on rounding; through an 8-dimensional subspace p spreads over about 0.5 +- 0.2. Among a few
such draws the one whose rates agree best across texts is kept, and config.json's threshold is
set so that a sample of text (the `dlcm bench` text and the repository's own README, FORMAT.md
and model.py) closes a concept every TARGET_TPC tokens; the realised rate is printed per text.

  python3 weights/recipe/make_bench_models.py --size 160m --out weights/bench-models/160m
  python3 weights/recipe/make_bench_models.py --size 160m --tiny-check --out /tmp/bench-tiny

OUT/dlcm/ (config.json, model.safetensors in bf16, tokenizer.json: the shipped 8192-entry one; the
runtime accepts a tokenizer smaller than the model's vocabulary), OUT/dense-{bf16,q8_0,q4_0}.gguf
(the same tokenizer, padded with unused placeholders to vocab_size), OUT/models.json (shapes,
parameters, FLOPs and weight bytes per token, realised tokens per concept).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
from export import save_dlcm  # noqa: E402
from export_gguf import write_gguf  # noqa: E402
from model import (DLCM, DenseConfig, DenseLM, DLCMConfig, StackConfig, dense_flops_per_token,  # noqa: E402
                   dlcm_flops_per_token)

TOKENIZER = os.path.join(ROOT, "weights", "dlcm-10m-debian", "tokenizer.json")
TARGET_TPC = 5.0          # tokens per concept the router is calibrated to (a trained DLCM: 4-6)
GGUF_TYPES = ["bf16", "q8_0", "q4_0"]
BYTES_PER_WEIGHT = {"bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}   # codes + one f16 scale per 32

# d_token, d_concept, encoder / backbone / decoder (layers, heads, kv heads, ffn), cross heads,
# cross ffn, d_scan. The dense baseline has the token side's width, heads and FFN.
PRESETS = {
    "160m": dict(d_token=512, d_concept=1024, encoder=(4, 8, 4, 1536), backbone=(8, 16, 8, 3072),
                 decoder=(4, 8, 4, 1536), cross_n_heads=8, cross_ffn_dim=1536, d_scan=512),
    "1b": dict(d_token=1024, d_concept=2048, encoder=(6, 16, 8, 3072), backbone=(16, 32, 16, 6144),
               decoder=(6, 16, 8, 3072), cross_n_heads=16, cross_ffn_dim=3072, d_scan=1024),
    # --tiny-check: a few MB of the same kind (same vocabulary, every width a multiple of 32).
    "tiny": dict(d_token=64, d_concept=128, encoder=(1, 2, 1, 192), backbone=(2, 4, 2, 384),
                 decoder=(1, 2, 1, 192), cross_n_heads=2, cross_ffn_dim=192, d_scan=64),
}
VOCAB, MAX_SEQ = 32000, 4096

# The text `dlcm bench` reads (BenchCommand.swift), so the rate calibrated is the rate benchmarked.
BENCH_TEXT = "The quick brown fox jumps over the lazy dog. A dictionary defines words; code defines programs. "


def dlcm_config(p: dict) -> DLCMConfig:
    return DLCMConfig(vocab_size=VOCAB, d_token=p["d_token"], d_concept=p["d_concept"], d_base=128,
                      encoder=StackConfig(*p["encoder"]), backbone=StackConfig(*p["backbone"]),
                      decoder=StackConfig(*p["decoder"]), cross_n_heads=p["cross_n_heads"],
                      cross_ffn_dim=p["cross_ffn_dim"], d_scan=p["d_scan"], threshold=0.5,
                      target_r=TARGET_TPC, max_seq_len=MAX_SEQ)


def dense_config(c: DLCMConfig, layers: int) -> DenseConfig:
    e = c.encoder
    return DenseConfig(vocab_size=c.vocab_size, d_model=c.d_token, d_base=c.d_base,
                       stack=StackConfig(layers, e.n_heads, e.n_kv_heads, e.ffn_dim), max_seq_len=MAX_SEQ)


def matched_dense_layers(c: DLCMConfig, tpc: float) -> int:
    """The layer count whose dense FLOPs per token come closest to the DLCM's at `tpc`."""
    target = dlcm_flops_per_token(c, tpc)["total"]
    return min(range(1, 257), key=lambda n: abs(dense_flops_per_token(dense_config(c, n)) - target))


def params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@torch.no_grad()
def init_random(model: torch.nn.Module, g: torch.Generator):
    """Scaled so activations stay O(1) through any depth: matrices N(0, 1/fan_in), the projections
    back into the residual stream (wo, w2) further / sqrt(2 * layers), embeddings N(0, 1), norms 1.
    Rounded to bf16, so the checks here see the weights the files hold. The model comes from the
    meta device (no default initialisation to pay for at 1B parameters): it must hold no buffers."""
    assert not list(model.buffers()), "the model has buffers, which to_empty() leaves uninitialised"
    layers = {k: v.n_layers for k, v in vars(model.cfg).items() if isinstance(v, StackConfig)}
    for name, p in model.named_parameters():
        if p.dim() == 2 and not name.startswith("embed."):
            std = p.shape[1] ** -0.5
            if name.endswith(("wo.weight", "w2.weight")):
                std /= math.sqrt(2 * layers.get(name.split(".")[0], 1))
            p.normal_(0, std, generator=g)
        elif "norm" in name:
            p.fill_(1.0)
        else:
            p.normal_(0, 1.0, generator=g)
        p.copy_(p.bfloat16().float())


def text_samples(tok, eot: int, n: int) -> dict[str, list[int]]:
    """Token ids of the texts the router is calibrated on: the bench text, and ordinary prose and
    code from this repository (each starts with <|endoftext|>, as a prompt does)."""
    def ids(text: str) -> list[int]:
        return [eot] + tok.encode(text).ids[: n - 1]
    def read(*parts: str) -> str:
        return open(os.path.join(ROOT, *parts), encoding="utf-8").read()
    return {"bench text": ids(BENCH_TEXT * 64),
            "README.md": ids(read("README.md")),
            "FORMAT.md": ids(read("weights", "FORMAT.md")),
            "model.py": ids(read("weights", "recipe", "model.py"))}


def tokens_per_concept(p: torch.Tensor, threshold: float) -> float:
    return (len(p) + 1) / (1 + int((p >= threshold).sum()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=["160m", "1b"], required=True)
    ap.add_argument("--tiny-check", action="store_true", help="a few-MB model of the same kind, to check the pipeline")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--router-noise", type=float, default=0.35,
                    help="router wk = wq + this x an independent draw, in the low-rank factor")
    ap.add_argument("--router-rank", type=int, default=8, help="rank of the router's wq and wk")
    ap.add_argument("--router-draws", type=int, default=16, help="router draws to choose from")
    ap.add_argument("--calibration-tokens", type=int, default=768, help="tokens per calibration text")
    a = ap.parse_args()
    from tokenizers import Tokenizer

    t0 = time.time()
    name = "tiny" if a.tiny_check else a.size
    cfg = dlcm_config(PRESETS[name])
    g = torch.Generator().manual_seed(a.seed)
    with torch.device("meta"):
        model = DLCM(cfg)
    model = model.to_empty(device="cpu").eval()
    init_random(model, g)

    # Router: wq = A B, wk = A (B + noise), rank r. Per draw, the threshold is the quantile of p
    # that closes a concept every TARGET_TPC tokens over all samples; the draw kept is the one
    # whose worst text is closest to the target.
    samples = text_samples(Tokenizer.from_file(TOKENIZER), cfg.eot_token_id, a.calibration_tokens)
    with torch.no_grad():
        states = {k: model.encoder(model.embed(torch.tensor([v]))) for k, v in samples.items()}
    r, d = a.router_rank, cfg.d_token

    def draw():
        A = torch.randn(cfg.d_scan, r, generator=g) / r ** 0.5
        B = torch.randn(r, d, generator=g) / d ** 0.5
        Bk = B + a.router_noise * torch.randn(r, d, generator=g) / d ** 0.5
        return (A @ B).bfloat16().float(), (A @ Bk).bfloat16().float()

    def calibrate(wq, wk):
        with torch.no_grad():
            model.router_wq.weight.copy_(wq)
            model.router_wk.weight.copy_(wk)
            probs = {k: model.boundary_probs(h)[0, 1:] for k, h in states.items()}
        allp = torch.cat(list(probs.values()))
        # Each sample opens with a boundary at its first token; p decides the rest.
        wanted = (len(allp) + len(probs)) / TARGET_TPC - len(probs)
        thr = round(float(torch.quantile(allp.double(), 1 - wanted / len(allp))), 4)
        worst = max(abs(math.log(tokens_per_concept(p, thr) / TARGET_TPC)) for p in probs.values())
        return worst, thr, probs

    best = min((calibrate(*w) + (w,) for w in (draw() for _ in range(a.router_draws))), key=lambda x: x[0])
    _, thr, probs, (wq, wk) = best
    with torch.no_grad():
        model.router_wq.weight.copy_(wq)
        model.router_wk.weight.copy_(wk)
    allp = torch.cat(list(probs.values()))
    cfg.threshold = thr
    near = float(((allp - thr).abs() < 0.005).float().mean())
    tpc = {k: tokens_per_concept(p, thr) for k, p in probs.items()}
    realised = sum(len(p) + 1 for p in probs.values()) / sum(1 + int((p >= thr).sum()) for p in probs.values())

    # A full forward must stay finite (bf16-rounded weights, computed in f32 as the runtime does).
    with torch.no_grad():
        out = model(torch.tensor([samples["README.md"][:64]]))
    logits = out["logits"]
    assert torch.isfinite(logits).all() and torch.isfinite(out["p"]).all(), "non-finite activations"

    layers = matched_dense_layers(cfg, realised)
    dcfg = dense_config(cfg, layers)
    with torch.device("meta"):
        dense = DenseLM(dcfg)
    dense = dense.to_empty(device="cpu").eval()
    init_random(dense, g)
    with torch.no_grad():
        dl = dense(torch.tensor([samples["README.md"][:64]]))["logits"]
    assert torch.isfinite(dl).all(), "non-finite activations in the dense model"

    os.makedirs(a.out, exist_ok=True)
    save_dlcm(model, os.path.join(a.out, "dlcm"), dtype=torch.bfloat16, tokenizer=TOKENIZER)
    for t in GGUF_TYPES:
        write_gguf(dense, TOKENIZER, os.path.join(a.out, f"dense-{t}.gguf"), t)

    fd = dlcm_flops_per_token(cfg, realised)
    fdense = dense_flops_per_token(dcfg)
    info = {
        "size": name, "seed": a.seed,
        "dlcm": {"config": cfg.to_json("bfloat16"), "params": params(model),
                 "non_embedding_params": params(model) - model.embed.weight.numel(),
                 "tokens_per_concept": {"all": realised, **tpc}, "threshold": thr,
                 "p_within_0.005_of_threshold": near,
                 "flops_per_token": fd, "flops_per_concept_step": fd["backbone"] * realised},
        "dense": {"config": dcfg.to_json("bfloat16"), "layers": layers, "params": params(dense),
                  "non_embedding_params": params(dense) - dense.embed.weight.numel(),
                  "flops_per_token": fdense},
        "bytes_per_weight": BYTES_PER_WEIGHT,
    }
    with open(os.path.join(a.out, "models.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")

    print(f"router: threshold {thr} (rank {r}, wk = wq + {a.router_noise} noise, best of {a.router_draws} draws), tokens per concept "
          + ", ".join(f"{k} {v:.2f}" for k, v in tpc.items()) + f"; all {realised:.2f} (target {TARGET_TPC});"
          f" {100 * near:.1f}% of p within 0.005 of the threshold")
    print(f"finite forward: DLCM logits std {logits.std():.3f}, dense {dl.std():.3f}")
    print(f"DLCM  {name}: d_token {cfg.d_token}, d_concept {cfg.d_concept}, layers "
          f"{cfg.encoder.n_layers}+{cfg.backbone.n_layers}+{cfg.decoder.n_layers}, vocab {cfg.vocab_size}: "
          f"{params(model) / 1e6:.1f} M parameters ({info['dlcm']['non_embedding_params'] / 1e6:.1f} M without the embedding)")
    print(f"dense {name}: d {dcfg.d_model}, {layers} layers, FFN {dcfg.stack.ffn_dim}: {params(dense) / 1e6:.1f} M parameters "
          f"({info['dense']['non_embedding_params'] / 1e6:.1f} M without the embedding)")
    print(f"MFLOP/token: DLCM {fd['total'] / 1e6:.1f} at {realised:.2f} tokens/concept (backbone "
          f"{fd['backbone'] / 1e6:.1f}, lm_head {fd['lm_head'] / 1e6:.1f}), dense {fdense / 1e6:.1f} "
          f"({fdense / fd['total']:.3f}x)")
    # Batch-1 decode streams each matrix weight once per token (the embedding row aside); the
    # backbone's share once per concept.
    print("weight MB/token (decode, batch 1): " + ", ".join(
        f"{t} DLCM {fd['total'] / 2 * b / 1e6:.1f} / dense {fdense / 2 * b / 1e6:.1f}" for t, b in BYTES_PER_WEIGHT.items()))
    print(f"wrote {a.out}: dlcm/ ({os.path.getsize(os.path.join(a.out, 'dlcm', 'model.safetensors')) / 1e6:.1f} MB), "
          + ", ".join(f"dense-{t}.gguf ({os.path.getsize(os.path.join(a.out, f'dense-{t}.gguf')) / 1e6:.1f} MB)" for t in GGUF_TYPES)
          + f", models.json in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
