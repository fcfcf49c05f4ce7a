"""Reference DLCM (Dynamic Large Concept Model) and a dense LLaMA baseline, in PyTorch.

This file is the single source of truth for what the Swift runtime computes; weights/FORMAT.md
describes the same thing in prose. Every equation follows docs/model.md, the model specification,
whose sections the references below (docs/model.md §N) cite.

Shapes use B = batch, L = tokens, M = concepts (segments), d = width, H = heads, hd = head dim.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

@dataclass
class StackConfig:
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn_dim: int
    window: int = 0              # self-attention sees at most this many positions (its own included); 0: all


@dataclass
class DLCMConfig:
    vocab_size: int = 8192
    d_token: int = 192
    d_concept: int = 384
    d_base: int = 128            # muP base width: s_token = d_token / d_base, s_concept = d_concept / d_base
    encoder: StackConfig = field(default_factory=lambda: StackConfig(2, 4, 2, 512))
    backbone: StackConfig = field(default_factory=lambda: StackConfig(2, 6, 2, 1024))
    decoder: StackConfig = field(default_factory=lambda: StackConfig(2, 4, 2, 512))
    cross_n_heads: int = 4       # cross-attention heads; head dim = d_token / cross_n_heads, K/V heads = cross_n_heads
    cross_ffn_dim: int = 512
    d_scan: int = 192            # router projection width
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    threshold: float = 0.5       # boundary fires when p >= threshold (inference)
    target_r: float = 4.0        # target tokens per concept (global parser)
    concept_attention: str = "replicated"   # or "unique" (docs/model.md §6)
    max_seq_len: int = 1024
    eot_token_id: int = 0        # <|endoftext|>: document separator, used as BOS and EOS
    pooling: str = "mean"        # or "mean+first": also the segment's first state, projected apart

    @property
    def logit_scale(self) -> float:
        return self.d_base / self.d_token

    def to_json(self, dtype: str = "float32") -> dict:
        d = asdict(self)
        for k in ("encoder", "backbone", "decoder"):
            if not d[k]["window"]:
                del d[k]["window"]     # full attention: the format has no window field
        if d["pooling"] == "mean":
            del d["pooling"]
        d = {"model_type": "dlcm", "format_version": 1, **d}
        d["logit_scale"] = self.logit_scale
        d["dtype"] = dtype
        return d

    @staticmethod
    def from_json(d: dict) -> "DLCMConfig":
        d = dict(d)
        for k in ("model_type", "format_version", "logit_scale", "dtype"):
            d.pop(k, None)
        for k in ("encoder", "backbone", "decoder"):
            d[k] = StackConfig(**d[k])
        return DLCMConfig(**d)


@dataclass
class DenseConfig:
    """A plain LLaMA decoder, the baseline sized to the DLCM's inference FLOPs per token."""
    vocab_size: int = 8192
    d_model: int = 192
    d_base: int = 128
    stack: StackConfig = field(default_factory=lambda: StackConfig(7, 4, 2, 512))
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    max_seq_len: int = 1024
    eot_token_id: int = 0

    @property
    def logit_scale(self) -> float:
        return self.d_base / self.d_model

    def to_json(self, dtype: str = "float32") -> dict:
        d = {"model_type": "dense", "format_version": 1, **asdict(self)}
        if not d["stack"]["window"]:
            del d["stack"]["window"]
        d["logit_scale"] = self.logit_scale
        d["dtype"] = dtype
        return d


# --------------------------------------------------------------------------------------------
# Building blocks (LLaMA style)
# --------------------------------------------------------------------------------------------

class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.float()).type_as(x)


def rope_tables(positions: torch.Tensor, head_dim: int, theta: float):
    """cos, sin [..., n, head_dim] for the rotate-half convention: pair (i, i + hd/2) rotates by
    angle pos * theta^(-2i/hd)."""
    half = head_dim // 2
    inv = theta ** (-torch.arange(0, half, dtype=torch.float64) * 2.0 / head_dim)
    ang = positions.to(torch.float64)[..., None] * inv          # [..., n, half]
    ang = torch.cat([ang, ang], dim=-1)                           # [..., n, hd]
    return ang.cos().float(), ang.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    # x [B, H, n, hd]; cos/sin [n, hd]
    half = x.shape[-1] // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rot * sin


class Attention(nn.Module):
    def __init__(self, d: int, n_heads: int, n_kv_heads: int, window: int = 0):
        super().__init__()
        assert d % n_heads == 0 and n_heads % n_kv_heads == 0
        self.n_heads, self.n_kv, self.hd = n_heads, n_kv_heads, d // n_heads
        self.window = window
        self.wq = nn.Linear(d, n_heads * self.hd, bias=False)
        self.wk = nn.Linear(d, n_kv_heads * self.hd, bias=False)
        self.wv = nn.Linear(d, n_kv_heads * self.hd, bias=False)
        self.wo = nn.Linear(n_heads * self.hd, d, bias=False)

    def forward(self, x, cos, sin, cache: dict | None = None):
        """x [B, n, d]. Without a cache: causal attention over the n positions. With a cache (dict
        holding k, v [B, KV, past, hd]): the n new positions attend the past and themselves."""
        B, n, _ = x.shape
        q = self.wq(x).view(B, n, self.n_heads, self.hd).transpose(1, 2)
        k = self.wk(x).view(B, n, self.n_kv, self.hd).transpose(1, 2)
        v = self.wv(x).view(B, n, self.n_kv, self.hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        rep = self.n_heads // self.n_kv
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if self.window > 0:
            # Query i (at position past + i) sees keys j with 0 <= past + i - j < window.
            past = k.shape[2] - n
            qi = torch.arange(n, device=x.device)[:, None] + past
            kj = torch.arange(k.shape[2], device=x.device)[None, :]
            mask = (kj <= qi) & (qi - kj < self.window)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        elif n == 1:
            out = F.scaled_dot_product_attention(q, k, v)
        elif cache is not None and k.shape[2] > n:
            past = k.shape[2] - n
            mask = torch.ones(n, k.shape[2], dtype=torch.bool, device=x.device).tril(past)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(out.transpose(1, 2).reshape(B, n, -1))


class FFN(nn.Module):
    def __init__(self, d: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(d, hidden, bias=False)   # gate
        self.w3 = nn.Linear(d, hidden, bias=False)   # up
        self.w2 = nn.Linear(hidden, d, bias=False)   # down

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, d: int, cfg: StackConfig, eps: float):
        super().__init__()
        self.attn_norm = RMSNorm(d, eps)
        self.attn = Attention(d, cfg.n_heads, cfg.n_kv_heads, cfg.window)
        self.ffn_norm = RMSNorm(d, eps)
        self.ffn = FFN(d, cfg.ffn_dim)

    def forward(self, x, cos, sin, cache=None):
        x = x + self.attn(self.attn_norm(x), cos, sin, cache)
        return x + self.ffn(self.ffn_norm(x))


class Stack(nn.Module):
    """A causal transformer stack ending in an RMSNorm."""

    def __init__(self, d: int, cfg: StackConfig, theta: float, eps: float):
        super().__init__()
        self.hd, self.theta = d // cfg.n_heads, theta
        self.layers = nn.ModuleList(Block(d, cfg, eps) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(d, eps)

    def forward(self, x, start: int = 0, caches: list | None = None):
        """x [B, n, d] at positions start .. start+n-1; caches: one dict per layer, or None."""
        pos = torch.arange(start, start + x.shape[1], device=x.device)
        cos, sin = rope_tables(pos, self.hd, self.theta)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i])
        return self.norm(x)

    def new_caches(self):
        return [dict() for _ in self.layers]


# --------------------------------------------------------------------------------------------
# DLCM
# --------------------------------------------------------------------------------------------

def sharpen(p: torch.Tensor) -> torch.Tensor:
    """ConceptMoE's sharpening for training-time Bernoulli sampling (docs/model.md §2)."""
    return torch.where(p > 0.5, p.clamp_min(1e-12) ** (1 / 6), 1 - (1 - p).clamp_min(1e-12) ** (1 / 6))


def global_parser_loss(p: torch.Tensor, b: torch.Tensor, target_r: float) -> torch.Tensor:
    """Paper Eq. 8-10: G = mean p (differentiable), F = mean b (no gradient), over the whole batch."""
    R = target_r
    G = p.float().mean()
    Fr = b.float().mean().detach()
    return R / (R - 1) * ((R - 1) * Fr * G + (1 - Fr) * (1 - G)) - 1


class CrossAttention(nn.Module):
    """Psi (docs/model.md §6): tokens attend completed concepts (index 0 = the null concept),
    QK-norm, then an FFN, both residual."""

    def __init__(self, cfg: DLCMConfig):
        super().__init__()
        d, dc, nh = cfg.d_token, cfg.d_concept, cfg.cross_n_heads
        self.nh, self.hd = nh, d // nh
        self.wq = nn.Linear(d, nh * self.hd, bias=False)
        self.wk = nn.Linear(dc, nh * self.hd, bias=False)
        self.wv = nn.Linear(dc, nh * self.hd, bias=False)
        self.wo = nn.Linear(nh * self.hd, d, bias=False)
        self.q_norm = RMSNorm(self.hd, cfg.norm_eps)
        self.k_norm = RMSNorm(self.hd, cfg.norm_eps)
        self.ffn_norm = RMSNorm(d, cfg.norm_eps)
        self.ffn = FFN(d, cfg.cross_ffn_dim)

    def project_concepts(self, z):
        """z [B, C, dc] -> K, V [B, nh, C, hd] (K already QK-normed)."""
        B, C, _ = z.shape
        k = self.k_norm(self.wk(z).view(B, C, self.nh, self.hd)).transpose(1, 2)
        v = self.wv(z).view(B, C, self.nh, self.hd).transpose(1, 2)
        return k, v

    def attend(self, h, k, v, mask, gate=None):
        """h [B, n, d]; k, v [B, nh, C or n, hd]; mask: bool or additive float [B, 1, n, C];
        gate: None or [B, n, 1], multiplies the attention output (training's confidence term)."""
        B, n, _ = h.shape
        q = self.q_norm(self.wq(h).view(B, n, self.nh, self.hd)).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        o = self.wo(a.transpose(1, 2).reshape(B, n, -1))
        u = h + (o if gate is None else o * gate.to(o.dtype))
        return u + self.ffn(self.ffn_norm(u))


class DLCM(nn.Module):
    def __init__(self, cfg: DLCMConfig):
        super().__init__()
        self.cfg = cfg
        d, dc = cfg.d_token, cfg.d_concept
        self.embed = nn.Embedding(cfg.vocab_size, d)
        self.encoder = Stack(d, cfg.encoder, cfg.rope_theta, cfg.norm_eps)
        self.router_wq = nn.Linear(d, cfg.d_scan, bias=False)
        self.router_wk = nn.Linear(d, cfg.d_scan, bias=False)
        self.pool_up = nn.Linear(d, dc, bias=False)
        if cfg.pooling == "mean+first":
            self.pool_first = nn.Linear(d, dc, bias=False)
        elif cfg.pooling != "mean":
            raise ValueError(f"unknown pooling {cfg.pooling!r}")
        self.backbone = Stack(dc, cfg.backbone, cfg.rope_theta, cfg.norm_eps)
        self.concept_null = nn.Parameter(torch.zeros(dc))
        self.cross = CrossAttention(cfg)
        self.decoder = Stack(d, cfg.decoder, cfg.rope_theta, cfg.norm_eps)
        self.lm_head = nn.Linear(d, cfg.vocab_size, bias=False)

    # ---- router (docs/model.md §2) -----------------------------------------------------------
    def boundary_probs(self, h):
        """h [B, L, d] -> p [B, L] in fp32, p[:, 0] = 1."""
        q = self.router_wq(h).float()
        k = self.router_wk(h).float()
        cos = F.cosine_similarity(q[:, :-1], k[:, 1:], dim=-1, eps=1e-8)
        p = (0.5 * (1 - cos)).clamp(0, 1)
        return torch.cat([torch.ones(p.shape[0], 1, dtype=p.dtype, device=p.device), p], dim=1)

    # ---- the parallel forward ----------------------------------------------------------------
    def forward(self, ids, sample: bool = False, mode: str | None = None, literal: bool = False,
                boundaries: torch.Tensor | None = None, router_grad: bool = False):
        """ids [B, L]. sample: Bernoulli boundaries on sharpened p (training), else p >= threshold.
        mode: concept_attention override. literal: compute the replicated mode as the paper does,
        with token-aligned repeated K/V under an ordinary causal mask (for testing).
        boundaries: bool [B, L] forced segment starts (ablations: everything else, p and the
        smoothing included, runs as usual; position 0 always starts one).
        router_grad: let the language-model loss reach p (training only; the forward values are
        unchanged): the smoothing's P keeps its gradient, and each token's cross-attention output
        is scaled by a straight-through confidence ste(c_t), c_t = p_t if b_t else 1 - p_t, whose
        value is exactly 1 (H-Net's dechunking confidence).
        Returns dict(logits [B, L, V], p [B, L], b [B, L] bool, n_concepts [B], z [B, M, dc],
        h [B, L, d] (the encoder's output))."""
        cfg = self.cfg
        mode = mode or cfg.concept_attention
        B, L = ids.shape
        dev = ids.device
        h = self.encoder(self.embed(ids))                                   # [B, L, d]

        p = self.boundary_probs(h)                                          # [B, L]
        with torch.no_grad():
            if boundaries is not None:
                b = boundaries.to(torch.bool).clone()
            elif sample:
                b = torch.bernoulli(sharpen(p)).bool()
            else:
                b = p >= cfg.threshold
            b[:, 0] = True
            seg = b.long().cumsum(1) - 1                                    # [B, L] 0-based segment of each token
            n_seg = seg[:, -1] + 1                                          # [B]
            M = int(n_seg.max())
            counts = torch.zeros(B, M, device=dev).scatter_add_(1, seg, torch.ones(B, L, device=dev))
            tpos = torch.arange(L, device=dev).expand(B, L)
            start = torch.zeros(B, M, dtype=torch.long, device=dev).scatter_add_(1, seg, tpos * b)

        # Pooling (docs/model.md §3): mean of each segment's h, projected up.
        sums = torch.zeros(B, M, h.shape[-1], device=dev, dtype=h.dtype)
        sums = sums.scatter_add(1, seg[..., None].expand_as(h), h)
        c = self.pool_up(sums / counts.clamp_min(1)[..., None].to(h.dtype))  # [B, M, dc]
        if cfg.pooling == "mean+first":
            c = c + self.pool_first(h.gather(1, start[..., None].expand(B, M, h.shape[-1])))
        z = self.backbone(c)                                                # [B, M, dc]

        # Smoothing (docs/model.md §5): z~_k = P_k z_k + (1 - P_k) z~_{k-1}, P from the segment's
        # first token; z~_0 = z_0. Closed form: z~_k = sum_{i<=k} P_i prod_{i<j<=k} (1 - P_j) z_i.
        with torch.set_grad_enabled(router_grad and torch.is_grad_enabled()):
            pp = p if router_grad else p.detach()
            P = torch.zeros(B, M, device=dev).scatter_add(1, seg, pp * b)
            P = P.clamp(1e-4, 1 - 1e-4)
            P = torch.cat([torch.ones(B, 1, device=dev), P[:, 1:]], 1)
            logq = torch.log1p(-P[:, 1:])                                   # [B, M-1]
            S = torch.cat([torch.zeros(B, 1, device=dev), logq.cumsum(1)], 1)   # [B, M]
            diff = S[:, :, None] - S[:, None, :]                            # [B, k, i]
            causal = torch.ones(M, M, dtype=torch.bool, device=dev).tril()
            W = torch.where(causal, P[:, None, :] * diff.clamp_max(0).exp(), torch.zeros((), device=dev))
        zs = torch.bmm(W, z.float()).to(z.dtype)                            # [B, M, dc]

        # Cross-attention (docs/model.md §4, §6): token t in segment s sees concept indices 0..s,
        # where index 0 is the null concept and index k >= 1 is z~ of segment k-1.
        concepts = torch.cat([self.concept_null.to(zs.dtype).expand(B, 1, -1), zs], 1)  # [B, M+1, dc]
        k, v = self.cross.project_concepts(concepts)                       # [B, nh, M+1, hd]
        with torch.no_grad():
            ci = torch.arange(M + 1, device=dev)
            s = seg[:, :, None]                                             # [B, L, 1]
            if literal:
                mask = None
            elif mode == "unique":
                mask = torch.where(ci <= s, 0.0, float("-inf"))
            elif mode == "replicated":
                # log multiplicity: full segment length for older concepts, the tokens of the
                # current segment so far for the latest one.
                full = torch.cat([counts, torch.ones(B, 1, device=dev)], 1).log()   # [B, M+1]
                cur = (tpos - start.gather(1, seg) + 1).float().log()[..., None]    # [B, L, 1]
                mask = torch.where(ci < s, full[:, None, :], torch.where(ci == s, cur, float("-inf")))
            else:
                raise ValueError(f"unknown concept_attention {mode!r}")
        if literal:
            assert mode == "replicated"
            idx = seg[:, None, :, None].expand(B, k.shape[1], L, k.shape[-1])
            krep, vrep = k.gather(2, idx), v.gather(2, idx)                 # [B, nh, L, hd]
            causal_tok = torch.ones(L, L, dtype=torch.bool, device=dev).tril()
            u = self.cross.attend(h, krep, vrep, causal_tok)
        else:
            gate = None
            if router_grad and torch.is_grad_enabled():
                c_conf = torch.where(b, p, 1 - p)                           # [B, L]
                gate = (c_conf + (1 - c_conf).detach())[..., None]          # value 1, gradient to p
            u = self.cross.attend(h, k, v, mask[:, None].to(h.dtype), gate=gate)
        y = self.decoder(u)
        logits = self.lm_head(y) * cfg.logit_scale
        return dict(logits=logits, p=p, b=b, n_concepts=n_seg, z=z, h=h)

    # ---- incremental generation (docs/model.md §9) -------------------------------------------
    def new_state(self) -> "DLCMState":
        return DLCMState(self)


class DLCMState:
    """Per-sequence caches for token-by-token generation. step() must reproduce forward()."""

    def __init__(self, model: DLCM):
        self.m = model
        cfg = model.cfg
        self.t = 0                                  # tokens consumed
        self.enc = model.encoder.new_caches()
        self.bb = model.backbone.new_caches()
        self.dec = model.decoder.new_caches()
        self.q_prev = None                          # router q of the previous token [d_scan]
        self.seg_sum = None                         # open segment's sum of h [d_token]
        self.seg_len = 0
        self.p_open = 1.0                           # boundary probability of the open segment's first token
        self.n_concepts = 0                         # completed concepts (backbone steps taken)
        self.z_prev = None                          # last smoothed concept [d_concept]
        k, v = model.cross.project_concepts(model.concept_null.view(1, 1, -1))
        self.ck, self.cv = k, v                     # cross K/V [1, nh, 1 + n_concepts, hd]
        self.mult = []                              # multiplicity of each attended concept index
        self.p_hist, self.b_hist = [], []

    @torch.no_grad()
    def step(self, token: int) -> torch.Tensor:
        m, cfg = self.m, self.m.cfg
        if self.t >= cfg.max_seq_len:
            raise ValueError("context length exceeded")
        x = m.embed(torch.tensor([[token]]))
        h = m.encoder(x, start=self.t, caches=self.enc)[0, 0]              # [d]
        q = m.router_wq(h).float()
        if self.t == 0:
            p = 1.0
        else:
            k = m.router_wk(h).float()
            cos = F.cosine_similarity(self.q_prev[None], k[None], dim=-1, eps=1e-8)[0]
            p = float((0.5 * (1 - cos)).clamp(0, 1))
        self.q_prev = q
        boundary = self.t == 0 or p >= cfg.threshold
        if boundary and self.seg_len > 0:
            c = m.pool_up(self.seg_sum / self.seg_len)
            if cfg.pooling == "mean+first":
                c = c + m.pool_first(self.seg_first)
            z = m.backbone(c.view(1, 1, -1), start=self.n_concepts, caches=self.bb)[0, 0]
            if self.n_concepts == 0:
                zs = z
            else:
                P = min(max(self.p_open, 1e-4), 1 - 1e-4)
                zs = P * z + (1 - P) * self.z_prev
            self.z_prev = zs
            self.n_concepts += 1
            k, v = m.cross.project_concepts(zs.view(1, 1, -1))
            self.ck = torch.cat([self.ck, k], 2)
            self.cv = torch.cat([self.cv, v], 2)
            self.seg_sum, self.seg_len = None, 0
        if boundary:
            self.p_open = p
            self.seg_first = h.clone()
            self.mult.append(0)
        self.seg_sum = h.clone() if self.seg_sum is None else self.seg_sum + h
        self.seg_len += 1
        self.mult[-1] += 1
        if cfg.concept_attention == "replicated":
            bias = torch.tensor(self.mult, dtype=torch.float32).log()
        else:
            bias = torch.zeros(len(self.mult))
        u = m.cross.attend(h.view(1, 1, -1), self.ck, self.cv, bias.view(1, 1, 1, -1))
        y = m.decoder(u, start=self.t, caches=self.dec)
        logits = m.lm_head(y[0, 0]) * cfg.logit_scale
        self.p_hist.append(p)
        self.b_hist.append(bool(boundary))
        self.t += 1
        return logits


# --------------------------------------------------------------------------------------------
# Dense baseline
# --------------------------------------------------------------------------------------------

class DenseLM(nn.Module):
    def __init__(self, cfg: DenseConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.stack = Stack(cfg.d_model, cfg.stack, cfg.rope_theta, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, ids, **_):
        return dict(logits=self.lm_head(self.stack(self.embed(ids))) * self.cfg.logit_scale)


# --------------------------------------------------------------------------------------------
# FLOPs per token (inference, multiply-adds x 2, attention excluded: it depends on context)
# --------------------------------------------------------------------------------------------

def stack_matmul_params(d: int, s: StackConfig) -> int:
    hd = d // s.n_heads
    attn = d * s.n_heads * hd * 2 + d * s.n_kv_heads * hd * 2
    return s.n_layers * (attn + 3 * d * s.ffn_dim)


def dlcm_flops_per_token(cfg: DLCMConfig, tokens_per_concept: float) -> dict:
    d, dc = cfg.d_token, cfg.d_concept
    enc = stack_matmul_params(d, cfg.encoder)
    dec = stack_matmul_params(d, cfg.decoder)
    router = 2 * d * cfg.d_scan
    cross = 2 * d * d + 3 * d * cfg.cross_ffn_dim       # per token: wq, wo, ffn
    per_concept = d * dc + stack_matmul_params(dc, cfg.backbone) + 2 * dc * d   # up, backbone, cross wk/wv
    if cfg.pooling == "mean+first":
        per_concept += d * dc                                # pool.first
    head = d * cfg.vocab_size
    parts = dict(encoder=enc, router=router, cross=cross, decoder=dec, lm_head=head,
                 backbone=per_concept / tokens_per_concept)
    parts = {k: 2 * v for k, v in parts.items()}
    parts["total"] = sum(parts.values())
    return parts


def dense_flops_per_token(cfg: DenseConfig) -> float:
    return 2 * (stack_matmul_params(cfg.d_model, cfg.stack) + cfg.d_model * cfg.vocab_size)


def non_embedding_params(model: nn.Module) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith("embed."))
