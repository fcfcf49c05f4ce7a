"""Train a DLCM or the dense baseline on the recipe's token streams (see data.py).

  python3 weights/recipe/train.py --model dlcm  --steps 2400 --out weights/recipe/runs/dlcm
  python3 weights/recipe/train.py --model dense --steps 2400 --out weights/recipe/runs/dense

Decoupled muP (docs/model.md §7): hidden matrices of the token-width modules (encoder,
router, cross-attention, decoder) get lr eta / s_token and init std sigma / sqrt(s_token); the
backbone's (and the pooling up-projection's) get eta / s_concept and sigma / sqrt(s_concept);
embeddings, norms, the null concept and the LM head use the base rate. AdamW epsilon is divided by
the group's s. bf16 autocast and torch.compile on the CPU (about 4x fp32 on a 2-vCPU AMD EPYC,
Zen 4).
"""
from __future__ import annotations

import argparse
import shutil
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import (DLCM, DLCMConfig, DenseConfig, DenseLM, StackConfig, dense_flops_per_token,
                   dlcm_flops_per_token, global_parser_loss, non_embedding_params)

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAINS = ("prose", "tech", "code")


def presets(size: str = "7m"):
    """Model shapes by --size; each dense baseline is sized to its DLCM's inference FLOPs per token
    (at the target 4 tokens per concept) by its layer count."""
    if size == "7m":
        return dict(dlcm=DLCMConfig(), dense=DenseConfig())
    S = StackConfig
    if size == "4m":
        dlcm = DLCMConfig(d_token=128, d_concept=256, encoder=S(2, 4, 2, 384), backbone=S(2, 4, 2, 768),
                          decoder=S(2, 4, 2, 384), cross_ffn_dim=384, d_scan=128)
        dense = DenseConfig(d_model=128, stack=S(7, 4, 2, 384))
        return dict(dlcm=dlcm, dense=dense)
    if size == "5m":
        dlcm = DLCMConfig(d_token=128, d_concept=384, encoder=S(2, 4, 2, 384), backbone=S(2, 6, 2, 1024),
                          decoder=S(2, 4, 2, 384), cross_ffn_dim=384, d_scan=128)
        dense = DenseConfig(d_model=128, stack=S(9, 4, 2, 384))
        return dict(dlcm=dlcm, dense=dense)
    if size == "c4m":
        # Concept-heavy: a third or more of inference FLOPs in the backbone (4 layers of 256 over
        # concepts against 2 + 2 token layers of 128), the dense baseline matched by layer count.
        dlcm = DLCMConfig(d_token=128, d_concept=256, encoder=S(2, 4, 2, 384), backbone=S(4, 4, 2, 768),
                          decoder=S(2, 4, 2, 384), cross_ffn_dim=384, d_scan=128)
        dense = DenseConfig(d_model=128, stack=S(9, 4, 2, 384))
        return dict(dlcm=dlcm, dense=dense)
    if size == "c5m":
        # As c4m with a wider backbone (d_concept 384): about half of inference FLOPs on concepts.
        dlcm = DLCMConfig(d_token=128, d_concept=384, encoder=S(2, 4, 2, 384), backbone=S(4, 6, 2, 1024),
                          decoder=S(2, 4, 2, 384), cross_ffn_dim=384, d_scan=128)
        dense = DenseConfig(d_model=128, stack=S(13, 4, 2, 384))
        return dict(dlcm=dlcm, dense=dense)
    raise ValueError(f"unknown size {size}")


# ---- data ------------------------------------------------------------------------------------

class TokenStream:
    """Random windows from the per-domain uint16 token files, domains mixed by size."""

    def __init__(self, data_dir: str, split: str, seed: int):
        self.arrays = {d: np.memmap(os.path.join(data_dir, f"{split}_{d}.bin"), dtype=np.uint16, mode="r")
                       for d in DOMAINS}
        sizes = np.array([len(self.arrays[d]) for d in DOMAINS], dtype=np.float64)
        self.weights = sizes / sizes.sum()
        self.rng = np.random.default_rng(seed)

    def batch(self, B: int, L: int) -> torch.Tensor:
        out = np.empty((B, L + 1), dtype=np.int64)
        doms = self.rng.choice(len(DOMAINS), size=B, p=self.weights)
        for i, di in enumerate(doms):
            a = self.arrays[DOMAINS[di]]
            s = int(self.rng.integers(0, len(a) - L - 1))
            out[i] = a[s:s + L + 1]
        return torch.from_numpy(out)


def eval_windows(data_dir: str, domain: str, L: int, n: int) -> torch.Tensor:
    """n fixed, evenly spaced windows [n, L+1] from a validation file (deterministic)."""
    a = np.memmap(os.path.join(data_dir, f"val_{domain}.bin"), dtype=np.uint16, mode="r")
    n = min(n, (len(a) - 1) // (L + 1))
    starts = np.linspace(0, len(a) - L - 2, n).astype(np.int64)
    return torch.from_numpy(np.stack([a[s:s + L + 1] for s in starts]).astype(np.int64))


# ---- muP -------------------------------------------------------------------------------------

def param_groups(model, args):
    if isinstance(model, DLCM):
        cfg = model.cfg
        s_tok, s_con = cfg.d_token / cfg.d_base, cfg.d_concept / cfg.d_base
        concept_prefixes = ("backbone.", "pool_up.", "pool_first.")
    else:
        cfg = model.cfg
        s_tok, s_con = cfg.d_model / cfg.d_base, 1.0
        concept_prefixes = ()
    groups = {"token": [], "concept": [], "base": [], "base_nowd": []}
    for name, p in model.named_parameters():
        if name.startswith("embed.") or name.startswith("lm_head."):
            groups["base"].append(p)
        elif p.dim() < 2 or name.startswith("concept_null"):
            groups["base_nowd"].append(p)
        elif name.startswith(concept_prefixes):
            groups["concept"].append(p)
        else:
            groups["token"].append(p)
    lr, eps = args.lr, 1e-8
    return [
        dict(params=groups["token"], lr=lr / s_tok, eps=eps / s_tok, weight_decay=args.wd, name="token", s=s_tok),
        dict(params=groups["concept"], lr=lr / s_con, eps=eps / s_con, weight_decay=args.wd, name="concept", s=s_con),
        dict(params=groups["base"], lr=lr, eps=eps, weight_decay=0.0, name="base", s=1.0),
        dict(params=groups["base_nowd"], lr=lr, eps=eps, weight_decay=0.0, name="base_nowd", s=1.0),
    ]


def mup_init(model, sigma: float):
    if isinstance(model, DLCM):
        cfg = model.cfg
        s_tok, s_con = cfg.d_token / cfg.d_base, cfg.d_concept / cfg.d_base
    else:
        s_tok = s_con = model.cfg.d_model / model.cfg.d_base
    n_layers = {}
    for name, mod in model.named_modules():
        if hasattr(mod, "layers"):
            n_layers[name] = len(mod.layers)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("embed."):
                p.normal_(0, 1.0)
            elif name.startswith("lm_head."):
                p.zero_()
            elif name.startswith("concept_null"):
                p.normal_(0, 1.0)
            elif p.dim() < 2:
                p.fill_(1.0)
            else:
                s = s_con if name.startswith(("backbone.", "pool_up.", "pool_first.")) else s_tok
                std = sigma / math.sqrt(s)
                if name.endswith(("wo.weight", "w2.weight")):
                    stack = name.split(".")[0]
                    std /= math.sqrt(2 * n_layers.get(stack, 1))
                p.normal_(0, std)


# ---- evaluation ------------------------------------------------------------------------------

@torch.no_grad()
def evaluate(model, data_dir, L, n_windows, stats):
    model.eval()
    out = {}
    for dom in DOMAINS:
        w = eval_windows(data_dir, dom, L, n_windows)
        tot_loss, tot_tok, tot_concepts = 0.0, 0, 0
        for i in range(0, len(w), 8):
            x = w[i:i + 8]
            with torch.autocast("cpu", dtype=torch.bfloat16):
                r = model(x[:, :-1])
            loss = F.cross_entropy(r["logits"].float().flatten(0, 1), x[:, 1:].flatten(), reduction="sum")
            tot_loss += float(loss)
            tot_tok += x[:, 1:].numel()
            if "n_concepts" in r:
                tot_concepts += int(r["n_concepts"].sum())
        nats = tot_loss / tot_tok
        split = stats["splits"][f"val_{dom}"]
        bpt = split["bytes"] / split["tokens"]
        out[dom] = dict(loss=nats, bits_per_byte=nats / math.log(2) / bpt, tokens=tot_tok)
        if tot_concepts:
            out[dom]["tokens_per_concept"] = w[:, :-1].numel() / tot_concepts
    tok = sum(v["tokens"] for v in out.values())
    out["all"] = dict(loss=sum(v["loss"] * v["tokens"] for v in out.values()) / tok)
    if all("tokens_per_concept" in out[d] for d in DOMAINS):
        conc = sum(out[d]["tokens"] / out[d]["tokens_per_concept"] for d in DOMAINS)
        out["all"]["tokens_per_concept"] = tok / conc
    model.train()
    return out


# ---- main ------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["dlcm", "dense"], required=True)
    ap.add_argument("--size", choices=["7m", "5m", "4m", "c4m", "c5m"], default="7m", help="model shape (presets())")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--sigma", type=float, default=0.05)
    ap.add_argument("--aux", type=float, default=0.03, help="global parser loss weight (lambda)")
    ap.add_argument("--target-r", type=float, default=None, help="target tokens per concept (default: the preset's)")
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--train-boundaries", choices=["sample", "threshold"], default="sample",
                    help="segment starts while training: Bernoulli(sharpen(p)), or p >= threshold as at inference")
    ap.add_argument("--router-grad", action="store_true",
                    help="language-model gradient into p (undetached smoothing, straight-through confidence)")
    ap.add_argument("--router-target", choices=["none", "entropy"], default="none",
                    help="entropy: also train p towards cuts before hard predictions (a boundary at token t "
                         "where the model's predictive entropy at t is in the batch's top 1/R), as entropy "
                         "patching does")
    ap.add_argument("--router-target-weight", type=float, default=0.5,
                    help="weight of the --router-target loss")
    ap.add_argument("--collapse-loss", type=float, default=0.0,
                    help="weight of a penalty on the share of the backbone outputs' energy along their batch mean "
                         "(0 = off): keeps the concept path from settling on one constant vector")
    ap.add_argument("--token-window", type=int, default=0,
                    help="the encoder's and decoder's self-attention see at most this many tokens (0: all); "
                         "context further back reaches the decoder only through concepts (weights/FORMAT.md)")
    ap.add_argument("--encoder-window", type=int, default=None,
                    help="the encoder's window alone (overrides --token-window for the encoder; 0: all)")
    ap.add_argument("--decoder-window", type=int, default=None,
                    help="the decoder's window alone (overrides --token-window for the decoder; 0: all)")
    ap.add_argument("--pooling", choices=["mean", "mean+first"], default="mean",
                    help="concept pooling: the mean of the segment's encoder states, or also its first state")
    ap.add_argument("--ablate", action="store_true",
                    help="after training, score the validation windows with forced boundaries (ablate.py)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--eval-windows", type=int, default=96)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    ap.add_argument("--synthetic", action="store_true", help="random tokens (speed checks only)")
    ap.add_argument("--save-every", type=int, default=300)
    ap.add_argument("--eval-only", action="store_true",
                    help="evaluate a saved checkpoint and write result.json (tokens and time from log.jsonl)")
    ap.add_argument("--at-step", type=int, default=None,
                    help="with --eval-only: evaluate <out>/ckpt_step<N>.pt (a copy kept during training) instead of checkpoint.pt")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    cfg = presets(args.size)[args.model]
    if not args.synthetic:
        # The vocabulary is the data's: the token files were written by its tokenizer.
        cfg.vocab_size = json.load(open(os.path.join(args.data, "stats.json")))["vocab_size"]
    if args.token_window and args.model == "dlcm":
        cfg.encoder.window = cfg.decoder.window = args.token_window
    if args.model == "dlcm":
        if args.target_r is not None:
            cfg.target_r = args.target_r
        if args.encoder_window is not None:
            cfg.encoder.window = args.encoder_window
        if args.decoder_window is not None:
            cfg.decoder.window = args.decoder_window
        cfg.pooling = args.pooling
    model = DLCM(cfg) if args.model == "dlcm" else DenseLM(cfg)
    mup_init(model, args.sigma)
    model.train()
    if args.eval_only:
        eval_only(model, cfg, args)
        return
    if not args.no_compile:
        if args.model == "dlcm":
            for m in (model.encoder, model.backbone, model.decoder, model.cross):
                m.compile(dynamic=True)
        else:
            model.compile(dynamic=False)

    groups = param_groups(model, args)
    opt = torch.optim.AdamW(groups, betas=(0.9, 0.95))
    for g in opt.param_groups:
        g["base_lr"] = g["lr"]

    if args.synthetic:
        class Synthetic:
            def batch(self, B, L):
                return torch.randint(1, cfg.vocab_size, (B, L + 1))
        stream, stats = Synthetic(), None
    else:
        stream = TokenStream(args.data, "train", args.seed)
        stats = json.load(open(os.path.join(args.data, "stats.json")))

    if args.model == "dlcm":
        flops = dlcm_flops_per_token(cfg, cfg.target_r)
    else:
        flops = dict(total=dense_flops_per_token(cfg))
    info = dict(model=args.model, non_embedding_params=non_embedding_params(model),
                params=sum(p.numel() for p in model.parameters()), flops_per_token=flops,
                config=cfg.to_json(), args=vars(args))
    print(json.dumps(info, indent=1), flush=True)

    log = open(os.path.join(args.out, "log.jsonl"), "a")
    t0 = time.time()
    tokens = 0
    for step in range(1, args.steps + 1):
        frac = step / args.steps
        lr_mult = min(1.0, step / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = g["base_lr"] * lr_mult
        x = stream.batch(args.batch, args.seq)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.fp32):
            if args.model == "dlcm":
                r = model(x[:, :-1], sample=args.train_boundaries == "sample", router_grad=args.router_grad)
            else:
                r = model(x[:, :-1])
            ce = F.cross_entropy(r["logits"].float().flatten(0, 1), x[:, 1:].flatten())
            loss = ce
            aux = None
            if "p" in r:
                aux = global_parser_loss(r["p"], r["b"], cfg.target_r)
                loss = ce + args.aux * aux
                if args.router_target == "entropy":
                    # p again from the encoder's states without their gradient: the target trains
                    # the router's projections only (into the encoder, it cost ~1 nat/token).
                    p_router = model.boundary_probs(r["h"].detach())
                    loss = loss + args.router_target_weight * entropy_target_loss(p_router, r["logits"], cfg.target_r)
                if args.collapse_loss > 0:
                    loss = loss + args.collapse_loss * mean_direction_energy(r["z"], r["n_concepts"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens += x[:, 1:].numel()
        if step % 10 == 0 or step == 1:
            el = time.time() - t0
            rec = dict(step=step, ce=float(ce), lr_mult=lr_mult, grad_norm=float(gn),
                       tok_s=tokens / el, elapsed=el, tokens=tokens)
            if aux is not None:
                rec.update(aux=float(aux), F=float(r["b"].float().mean()), G=float(r["p"].float().mean()))
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if step % args.save_every == 0 or step == args.steps:
            save(model, cfg, args.out)
            if step % args.save_every == 0:
                # A copy per save, so both runs can be evaluated at the same step (--at-step) if
                # one has to be stopped early.
                shutil.copy(os.path.join(args.out, "checkpoint.pt"), os.path.join(args.out, f"ckpt_step{step}.pt"))
    train_time = time.time() - t0
    result = dict(info, tokens_seen=tokens, steps=args.steps, train_seconds=train_time)
    if stats is not None:
        result["eval"] = evaluate(model, args.data, args.seq, args.eval_windows, stats)
        print(json.dumps(result["eval"], indent=1), flush=True)
        if args.ablate and args.model == "dlcm":
            result["ablations"] = ablations(model, args)
            print(json.dumps(result["ablations"], indent=1), flush=True)
    json.dump(result, open(os.path.join(args.out, "result.json"), "w"), indent=1)


def entropy_target_loss(p: torch.Tensor, logits: torch.Tensor, target_r: float) -> torch.Tensor:
    """Binary cross-entropy of p towards cuts before hard predictions. p [B, L] (p[:, 0] is
    always 1 and left out); logits [B, L, V]: position t predicts token t + 1, so a boundary at t
    gives that prediction a concept closed just before it. Target: 1 where the model's own
    predictive entropy at t (no gradient) is in the batch's top 1/R. The two classes weigh the same,
    so p >= 0.5 (the inference threshold) exactly where the router's odds of a hard prediction are
    at least 1/R: unweighted, the 5-to-1 majority of easy positions pulls every p below 0.5 and no
    boundary fires."""
    with torch.no_grad():
        lp = torch.log_softmax(logits[:, 1:].float(), -1)
        H = -(lp.exp() * lp).sum(-1)                                        # [B, L-1]
        k = max(1, int(H.numel() / target_r))
        thr = H.flatten().topk(k).values[-1]
        hard = H >= thr
    q = p[:, 1:].float().clamp(1e-6, 1 - 1e-6)
    return 0.5 * (-q[hard].log().mean() - (1 - q[~hard]).log().mean())


def mean_direction_energy(z: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Share of the backbone outputs' energy along their mean over the batch's concepts:
    |mean z|^2 / mean |z|^2 (1 when every concept gets the same vector). z [B, M, dc]; n [B] concepts
    per row (positions past n are padding)."""
    valid = (torch.arange(z.shape[1], device=z.device)[None, :] < n[:, None]).to(torch.float32)[..., None]
    zf = z.float() * valid
    count = valid.sum()
    mean = zf.sum((0, 1)) / count
    return mean.pow(2).sum() / (zf.pow(2).sum() / count)


def ablations(model, args) -> dict:
    """Validation loss with boundaries forced (ablate.py) and the backbone's collapse diagnostic."""
    from ablate import backbone_cosine, matched_modes, validation_ablations
    model.eval()
    wins = {d: eval_windows(args.data, d, args.seq, args.eval_windows) for d in DOMAINS}
    res = validation_ablations(model, wins, ["learned"], args.seed)
    res.update(validation_ablations(model, wins, matched_modes(res["learned"]["all"]["tokens_per_concept"]), args.seed))
    res["backbone"] = backbone_cosine(model, torch.cat(list(wins.values())))
    model.train()
    return res


def eval_only(model, cfg, args):
    name = "checkpoint.pt" if args.at_step is None else f"ckpt_step{args.at_step}.pt"
    ck = torch.load(os.path.join(args.out, name), map_location="cpu")
    model.load_state_dict(ck["state_dict"])
    log = [json.loads(l) for l in open(os.path.join(args.out, "log.jsonl"))]
    last = log[-1] if args.at_step is None else next(r for r in log if r["step"] == args.at_step)
    stats = json.load(open(os.path.join(args.data, "stats.json")))
    flops = dlcm_flops_per_token(cfg, cfg.target_r) if args.model == "dlcm" else dict(total=dense_flops_per_token(cfg))
    result = dict(model=args.model, non_embedding_params=non_embedding_params(model),
                  params=sum(p.numel() for p in model.parameters()), flops_per_token=flops,
                  config=cfg.to_json(), args=vars(args), tokens_seen=last["tokens"], steps=last["step"],
                  train_seconds=last["elapsed"], final_train_ce=last["ce"], checkpoint=name,
                  schedule_steps=args.steps)
    result["eval"] = evaluate(model, args.data, args.seq, args.eval_windows, stats)
    print(json.dumps(result["eval"], indent=1), flush=True)
    if args.ablate and args.model == "dlcm":
        result["ablations"] = ablations(model, args)
        print(json.dumps(result["ablations"], indent=1), flush=True)
    json.dump(result, open(os.path.join(args.out, "result.json"), "w"), indent=1)


def save(model, cfg, out):
    sd = {k.replace("_orig_mod.", ""): v.detach().clone() for k, v in model.state_dict().items()}
    torch.save(dict(config=cfg.to_json(), state_dict=sd), os.path.join(out, "checkpoint.pt"))


if __name__ == "__main__":
    main()
