"""Tiny randomly initialised DLCMs for tests and reference vectors.

A freshly initialised router gives p close to 0.5 everywhere (random q and k are nearly
orthogonal), which would make boundary decisions hinge on rounding. The tiny model therefore draws
its router so that q_{t-1} and k_t are correlated through a shared random direction per token id:
p spreads over [0, 1] and decisions keep a margin."""
from __future__ import annotations

import torch

from model import DLCM, DLCMConfig, StackConfig


def tiny_config(mode: str = "replicated") -> DLCMConfig:
    return DLCMConfig(
        vocab_size=96, d_token=32, d_concept=48, d_base=16,
        encoder=StackConfig(2, 4, 2, 64),
        backbone=StackConfig(2, 4, 1, 96),
        decoder=StackConfig(2, 4, 4, 64),
        cross_n_heads=4, cross_ffn_dim=64, d_scan=24,
        rope_theta=10000.0, norm_eps=1e-5, threshold=0.5, target_r=4.0,
        concept_attention=mode, max_seq_len=256, eot_token_id=0)


def tiny_quant_config() -> DLCMConfig:
    """A tiny DLCM that can be quantized (weights/FORMAT.md, "Quantized checkpoints"): every
    matrix's input width (d_token, d_concept, the FFN widths) a multiple of 32. Output widths stay
    odd where they may (vocab 97, d_scan 24) so the kernels' edges are exercised."""
    return DLCMConfig(
        vocab_size=97, d_token=32, d_concept=64, d_base=16,
        encoder=StackConfig(1, 4, 2, 64),
        backbone=StackConfig(2, 4, 1, 96),
        decoder=StackConfig(1, 4, 4, 64),
        cross_n_heads=4, cross_ffn_dim=64, d_scan=24,
        rope_theta=10000.0, norm_eps=1e-5, threshold=0.5, target_r=4.0,
        concept_attention="replicated", max_seq_len=256, eot_token_id=0)


def tiny_model(mode: str = "replicated", seed: int = 0, config: DLCMConfig | None = None) -> DLCM:
    """`config` (default `tiny_config(mode)`) initialised as below."""
    torch.manual_seed(seed)
    model = DLCM(config or tiny_config(mode))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0, 0.3 / p.shape[1] ** 0.5 * 2)
            elif "norm" in name:
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0, 0.5)
        # Router: k = q-projection plus noise, so cos(q_{t-1}, k_t) reflects how alike adjacent
        # encoder states are, spreading p away from 0.5.
        model.router_wk.weight.copy_(model.router_wq.weight * 1.0 + 0.35 * torch.randn_like(model.router_wk.weight))
        model.embed.weight.mul_(3.0)
    model.eval()
    return model
