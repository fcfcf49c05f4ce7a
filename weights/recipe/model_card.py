"""Write a checkpoint's model card (README.md) from the training runs' own outputs.

  python3 weights/recipe/model_card.py weights/dlcm-10m-debian \
      --dlcm weights/recipe/runs/dlcm --dense weights/recipe/runs/dense

Every figure comes from result.json (written by train.py at the end of a run), data/stats.json
(data.py) and samples generated here with the reference model's step() and a fixed seed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export import load_dlcm  # noqa: E402
from model import dlcm_flops_per_token, dense_flops_per_token, DenseConfig  # noqa: E402

PROMPTS = [
    "Serialization is",
    "def read_config(path):\n",
    "The word \"harbour\" means",
    "package main\n\nimport (\n",
    "To create a new branch, run",
]


@torch.no_grad()
def sample(model, tok, prompt: str, n: int, temperature: float, seed: int) -> str:
    g = torch.Generator().manual_seed(seed)
    ids = [model.cfg.eot_token_id] + tok.encode(prompt).ids
    st = model.new_state()
    for t in ids:
        logits = st.step(t)
    out = []
    for _ in range(n):
        if temperature == 0:
            nxt = int(logits.argmax())
        else:
            probs = torch.softmax(logits / temperature, -1)
            # nucleus 0.95
            sp, si = probs.sort(descending=True)
            keep = (sp.cumsum(0) - sp) < 0.95
            sp = sp * keep
            nxt = int(si[torch.multinomial(sp / sp.sum(), 1, generator=g)])
        if nxt == model.cfg.eot_token_id:
            break
        out.append(nxt)
        logits = st.step(nxt)
    return tok.decode(out)


def fmt_table(rows):
    head = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n"
    return head + "".join("| " + " | ".join(str(c) for c in r) + " |\n" for r in rows[1:])


def training_boundaries(a: dict) -> tuple[str, str]:
    """How the run drew its training boundaries, in words and as train.py flags."""
    thr = a.get("train_boundaries", "sample") == "threshold"
    grad = a.get("router_grad", False)
    words = ("Boundaries where p >= threshold, as at inference" if thr else "Boundaries sampled from Bernoulli(sharpen(p))")
    words += ("; the language-model loss reaches the router (straight-through confidence on the cross-attention "
              "output, smoothing P not detached)" if grad else "; the router is trained by the auxiliary loss alone")
    col = a.get("collapse_loss")
    if col:
        words += (f"; a collapse penalty (weight {col}) on the share of the backbone outputs' energy along their mean keeps them "
                  "from converging to one vector (docs/model.md §8)")
    enc = a.get("encoder_window") if a.get("encoder_window") is not None else a.get("token_window", 0)
    dec = a.get("decoder_window") if a.get("decoder_window") is not None else a.get("token_window", 0)
    if enc or dec:
        words += (f"; the encoder's self-attention sees {f'its last {enc} tokens' if enc else 'every earlier token'} and the "
                  f"decoder's {f'its last {dec}' if dec else 'every earlier one'}, so older context reaches the decoder only "
                  "through concepts (weights/recipe/EXPERIMENTS.md)")
    pooling = a.get("pooling", "mean")
    if pooling == "mean+first":
        words += ("; each concept is the mean of its tokens' encoder states plus its first token's state, projected "
                  "apart (`\"pooling\": \"mean+first\"`, docs/model.md §3), so where a concept starts is part of what it carries")
    flags = ((" --train-boundaries threshold" if thr else "") + (" --router-grad" if grad else "")
             + (f" --collapse-loss {col}" if col else "")
             + (f" --encoder-window {enc}" if enc else "") + (f" --decoder-window {dec}" if dec else "")
             + (f" --target-r {a['target_r']:g}" if a.get("target_r") else "")
             + (f" --pooling {pooling}" if pooling != "mean" else "") + " --ablate")
    return words, flags


def ablations_section(rd: dict, others: list[dict]) -> str:
    """Validation loss with boundaries forced elsewhere (ablate.py), per domain, and the backbone's
    collapse diagnostic; the spread over seed runs of the same recipe is the noise."""
    ab = rd.get("ablations")
    if not ab:
        return ""
    doms = ("prose", "tech", "code", "all")
    modes = list(ab.keys() - {"backbone"})
    modes = ["learned"] + sorted(m for m in modes if m != "learned")
    rows = [["boundaries"] + [f"{d} (nats/token)" for d in doms] + ["tokens/concept", "vs learned, all"]]
    for m in modes:
        r = ab[m]
        rows.append([f"`{m}`"] + [f"{r[d]['loss']:.3f}" for d in doms] + [f"{r['all']['tokens_per_concept']:.2f}",
                    "" if m == "learned" else f"{r['all']['loss'] - ab['learned']['all']['loss']:+.3f}"])
    noise = ""
    if others:
        gaps = {}
        for o in [rd] + others:
            oa = o["ablations"]
            for m in oa:
                if m in ("learned", "backbone"):
                    continue
                if m.startswith("random") or m == "none":
                    kind = m.split(":")[0]
                elif m in ("stride:2", "stride:8"):
                    kind = m
                else:
                    kind = "stride@exact rate" if "." in m else "stride@rate"
                gaps.setdefault(kind, []).append(oa[m]["all"]["loss"] - oa["learned"]["all"]["loss"])
        learned = [o["ablations"]["learned"]["all"]["loss"] for o in [rd] + others]
        noise = ("\nSeed noise ({n} runs of the same recipe at the same budget): learned loss {lo:.3f}-{hi:.3f}; "
                 "penalty of each ablation (min-max): {g}.\n").format(
            n=len(learned), lo=min(learned), hi=max(learned),
            g=", ".join(f"{k} {min(v):+.3f} to {max(v):+.3f} (mean {statistics.mean(v):+.3f}, sd {statistics.stdev(v):.3f})"
                        if len(v) > 1 else f"{k} {v[0]:+.3f}" for k, v in sorted(gaps.items())))
    b = ab["backbone"]
    return f"""
### Do the concepts matter? (`ablate.py`, same windows, boundaries forced; everything else as at inference)

{fmt_table(rows)}{noise}
`none`: only the first token forms a concept, so the backbone contributes one concept per window; `stride:K`
(K the learned rate rounded, and K exactly the learned rate: a fractional K cuts where floor(i / K) steps up)
and `random:RATE` cut concepts at the learned rate without the router. Backbone outputs on these windows
(learned boundaries, {b['concepts']} concepts): mean cosine to their mean {b['output_cosine_to_mean']:.3f}
({b['mean_direction_energy']:.1%} of their energy along the mean direction; near 1 would mean the backbone
says the same thing for every concept).
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--dlcm", required=True)
    ap.add_argument("--dense", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--note", default="", help="a sentence on how the run went (pauses, sharing), added to the card")
    ap.add_argument("--master", default=None, help="the f32 training checkpoint exported (default <dlcm>/checkpoint.pt)")
    ap.add_argument("--dense-name", default="dense-baseline", help="the directory the dense baseline was exported to (weights/<name>)")
    ap.add_argument("--seed-runs", nargs="*", default=[],
                    help="runs of the same recipe with other seeds (result.json with ablations): their spread is the noise the ablations are read against")
    args = ap.parse_args()
    from tokenizers import Tokenizer

    rd = json.load(open(os.path.join(args.dlcm, "result.json")))
    rn = json.load(open(os.path.join(args.dense, "result.json")))
    stats = json.load(open(os.path.join(args.data, "stats.json")))
    model = load_dlcm(args.model_dir)
    tok = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    cfg = model.cfg
    name = os.path.basename(os.path.normpath(args.model_dir))

    ev_d, ev_n = rd["eval"], rn["eval"]
    loss_rows = [["domain", "DLCM loss (nats/token)", "dense loss", "DLCM bits/byte", "dense bits/byte", "DLCM tokens/concept"]]
    for dom in ("prose", "tech", "code"):
        loss_rows.append([dom, f"{ev_d[dom]['loss']:.3f}", f"{ev_n[dom]['loss']:.3f}", f"{ev_d[dom]['bits_per_byte']:.3f}",
                          f"{ev_n[dom]['bits_per_byte']:.3f}", f"{ev_d[dom]['tokens_per_concept']:.2f}"])
    loss_rows.append(["all", f"{ev_d['all']['loss']:.3f}", f"{ev_n['all']['loss']:.3f}", "", "", f"{ev_d['all']['tokens_per_concept']:.2f}"])

    tpc = ev_d["all"]["tokens_per_concept"]
    fl = dlcm_flops_per_token(cfg, tpc)
    fl4 = dlcm_flops_per_token(cfg, cfg.target_r)
    dense_cfg = DenseConfig(**{k: v for k, v in rn["config"].items() if k in ("vocab_size", "d_model", "d_base", "rope_theta", "norm_eps", "max_seq_len", "eot_token_id")})
    from model import StackConfig
    dense_cfg.stack = StackConfig(**rn["config"]["stack"])
    dense_fl = dense_flops_per_token(dense_cfg)

    # What storing the weights in the file's dtype costs: validation loss of the exported weights
    # against the f32 master weights of the training checkpoint, on the same windows.
    dtype_name = json.load(open(os.path.join(args.model_dir, "config.json"))).get("dtype", "float32")
    rounding_note = ""
    master = args.master or os.path.join(args.dlcm, "checkpoint.pt")
    if dtype_name != "float32" and os.path.exists(master):
        from train import eval_windows
        import torch.nn.functional as F
        f32 = load_dlcm(master)
        losses = {}
        for label, m in (("file", model), ("master", f32)):
            tot = 0.0
            for dom in ("prose", "tech", "code"):
                w = eval_windows(args.data, dom, 256, 16)
                with torch.no_grad():
                    logits = m(w[:, :-1])["logits"]
                tot += float(F.cross_entropy(logits.flatten(0, 1), w[:, 1:].flatten())) / 3
            losses[label] = tot
        rounding_note = (f"; rounded from the f32 master weights, validation loss {losses['file']:.4f} vs "
                         f"{losses['master']:.4f} nats/token in f32 (16 windows per domain)")
    samples = []
    for i, p in enumerate(PROMPTS):
        samples.append((p, sample(model, tok, p, 80, 0.8, seed=i)))
    greedy = sample(model, tok, PROMPTS[0], 60, 0.0, 0)

    data_rows = [["split", "domain", "documents", "MB", "tokens", "bytes/token"]]
    for split in ("train", "val"):
        for dom in ("prose", "tech", "code"):
            s = stats["splits"][f"{split}_{dom}"]
            data_rows.append([split, dom, s["documents"], f"{s['bytes'] / 1e6:.1f}", f"{s['tokens']:,}", f"{s['bytes'] / s['tokens']:.3f}"])

    lic = stats.get("packages", {})
    lic_lines = []
    if isinstance(lic, dict):
        for pkg, info in sorted(lic.items()):
            if isinstance(info, dict):
                l = info.get("license", {})
                text = ", ".join(l["all"]) if l.get("all") else l.get("summary", "")
                lic_lines.append(f"- {pkg} {info.get('version', '')}: {text}")
            else:
                lic_lines.append(f"- {pkg}: {info}")
    elif isinstance(lic, list):
        for info in lic:
            lic_lines.append(f"- {info.get('package', info.get('name'))} {info.get('version', '')}: {info.get('license', info.get('licenses', ''))}")

    a = rd["args"]
    boundary_note, recipe_flags = training_boundaries(a)
    ablation_section = ablations_section(rd, [json.load(open(os.path.join(r, "result.json"))) for r in args.seed_runs])
    import math
    rd.setdefault("schedule_steps", rd["steps"]); rn.setdefault("schedule_steps", rn["steps"])
    stopped_early = rd["steps"] < rd["schedule_steps"]
    frac = rd["steps"] / rd["schedule_steps"]
    lr_left = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac))
    stop_note = (f" Both runs were stopped at step {rd['steps']} of a {rd['schedule_steps']}-step cosine schedule "
                 f"(learning rate still {lr_left:.2f} of its peak) when the time set aside for training ran out, and are "
                 f"compared at that step." if stopped_early else "")
    finalize_step = f" {rd['steps']}" if stopped_early else ""
    card = f"""# {name}: a small DLCM trained on Debian's documentation, dictionaries and source code

A Dynamic Large Concept Model (arXiv 2512.24617) in the format of `weights/FORMAT.md`, trained from
scratch on two CPU cores by `weights/recipe/`. It exists so that the server has a real
model to serve and the runtime a real checkpoint to be checked against; it is far too small and too
briefly trained to be useful for anything else.

## Shape

| | |
|---|---|
| parameters | {rd['params']:,} ({rd['non_embedding_params']:,} non-embedding) |
| token stacks | d_token {cfg.d_token}; encoder {cfg.encoder.n_layers} layers, decoder {cfg.decoder.n_layers} layers, {cfg.encoder.n_heads} heads / {cfg.encoder.n_kv_heads} KV heads, FFN {cfg.encoder.ffn_dim}{f"; self-attention windows: encoder {cfg.encoder.window or 'all'}, decoder {cfg.decoder.window or 'all'} tokens" if (cfg.encoder.window or cfg.decoder.window) else ""} |
| concept backbone | d_concept {cfg.d_concept}; {cfg.backbone.n_layers} layers, {cfg.backbone.n_heads} heads / {cfg.backbone.n_kv_heads} KV heads, FFN {cfg.backbone.ffn_dim} |
| cross-attention | {cfg.cross_n_heads} heads, FFN {cfg.cross_ffn_dim}; `concept_attention: {cfg.concept_attention}` |
| router | d_scan {cfg.d_scan}, threshold {cfg.threshold}, target R = {cfg.target_r} |
| vocabulary | {cfg.vocab_size} byte-level BPE (`tokenizer.json`), `<|endoftext|>` = {cfg.eot_token_id} (BOS/EOS) |
| context | trained on {a['seq']}-token windows; `max_seq_len` {cfg.max_seq_len} |
| dtype | {dtype_name} ({os.path.getsize(os.path.join(args.model_dir, 'model.safetensors')) / 1e6:.1f} MB){rounding_note} |

## Training

- Data: {sum(stats['splits'][f'train_{d}']['tokens'] for d in ('prose', 'tech', 'code')):,} training tokens from
  Debian packages (below); each model saw **{rd['tokens_seen']:,} tokens** ({rd['steps']} steps of {a['batch']} x {a['seq']}),
  {rd['tokens_seen'] / rd['non_embedding_params']:.1f} tokens per non-embedding parameter.{stop_note}
- Time: DLCM {rd['train_seconds'] / 60:.0f} min, dense baseline {rn['train_seconds'] / 60:.0f} min, run side by side on the
  2 vCPUs (one thread each), bf16 autocast, eager (how the cores were shared: below).
- Optimiser: AdamW (0.9, 0.95), weight decay {a['wd']}, base lr {a['lr']} with decoupled muP groups (token
  width lr/s_token, backbone lr/s_concept), {a['warmup']} warm-up steps, cosine to 10%, grad clip 1.0.
- {boundary_note}; global parser loss, lambda = {a['aux']}, R = {cfg.target_r}.

### Data

{fmt_table(data_rows)}
Sources and licences (from each package's copyright file):

{chr(10).join(lic_lines) if lic_lines else '(see weights/recipe/data/stats.json)'}

## Results (validation, {a['eval_windows']} windows of {a['seq']} tokens per domain)

{fmt_table(loss_rows)}
The dense baseline is a LLaMA of d_model {rn['config']['d_model']} and {rn['config']['stack']['n_layers']} layers,
sized to the DLCM's inference FLOPs per token at R = 4 ({dense_fl / 1e6:.2f} M vs {fl4['total'] / 1e6:.2f} M), trained
on the same token stream for the same steps. Bits per byte use each validation domain's bytes per token.

Realised tokens per concept at inference (threshold 0.5): {ev_d['all']['tokens_per_concept']:.2f} overall.
{ablation_section}
### Inference FLOPs per token (matrix products)

At the realised {tpc:.2f} tokens per concept: {fl['total'] / 1e6:.2f} MFLOP per token, of which the concept
backbone (with its up-projection and cross K/V) is **{100 * fl['backbone'] / fl['total']:.1f}%**; encoder
{100 * fl['encoder'] / fl['total']:.0f}%, decoder {100 * fl['decoder'] / fl['total']:.0f}%, cross-attention
{100 * fl['cross'] / fl['total']:.0f}%, LM head {100 * fl['lm_head'] / fl['total']:.0f}%. The paper reports about a third
in the backbone for its 2.3B model.

## Samples (temperature 0.8, top-p 0.95, seeds 0..4, reference step())

""" + "\n".join(f"**{p!r}** →\n```\n{p}{s}\n```\n" for p, s in samples) + f"""
Greedy from {PROMPTS[0]!r}:
```
{PROMPTS[0]}{greedy}
```

## What to expect, and why

The model has seen {rd['tokens_seen'] / 1e6:.1f}M tokens in {rd['train_seconds'] / 60:.0f} minutes: {rd['tokens_seen'] / rd['non_embedding_params']:.1f} per
non-embedding parameter ({rd['tokens_seen'] / (rd['non_embedding_params'] - cfg.vocab_size * cfg.d_token):.1f} not counting the LM head). {args.note}
It picks up some surface of each domain but not meaning: the samples are corpus-flavoured babble,
as expected after {rd['tokens_seen'] / 1e6:.1f}M tokens. At this budget the dense baseline scores
{ev_n['all']['loss']:.3f} nats/token on all validation domains against the DLCM's {ev_d['all']['loss']:.3f}
({"the DLCM behind by " if ev_d['all']['loss'] > ev_n['all']['loss'] else "the DLCM ahead by "}{abs(ev_d['all']['loss'] - ev_n['all']['loss']):.3f});
`weights/recipe/EXPERIMENTS.md` has what the recipe's choices cost and `weights/recipe/README.md` the
commands to train longer.


## Reproduce

```sh
pip install torch tokenizers safetensors numpy
python3 weights/recipe/data.py
python3 weights/recipe/train.py --model dlcm  --size {a.get('size', '7m')} --no-compile --steps {rd['schedule_steps']} --warmup {a['warmup']} --batch {a['batch']} --seq {a['seq']} --threads 1 --seed {a['seed']}{recipe_flags} --out weights/recipe/runs/dlcm
python3 weights/recipe/train.py --model dense --size {a.get('size', '7m')} --no-compile --steps {rn['schedule_steps']} --warmup {a['warmup']} --batch {a['batch']} --seq {a['seq']} --threads 1 --seed {a['seed']} --out weights/recipe/runs/dense
NAME={name} DENSE_NAME={args.dense_name} SIZE={a.get('size', '7m')} STEPS={rd['schedule_steps']} bash weights/recipe/finalize.sh{finalize_step}   # eval both, export both, reference vectors, this card
```
The two runs were trained side by side with the same seed, so they read the same token stream. The
dense baseline ships beside this model as `weights/{args.dense_name}` (config.json + model.safetensors,
`export_dense.py`), so the comparison, and the llama.cpp one (`bench/llamacpp_bench.sh`), can be re-run
without training.
"""
    open(os.path.join(args.model_dir, "README.md"), "w").write(card)
    print(card)


if __name__ == "__main__":
    main()
