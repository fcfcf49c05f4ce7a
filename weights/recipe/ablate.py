"""Where concepts start, forced: perplexity under learned, fixed-stride, random and no boundaries.

The same measurement as `dlcm eval` in the Swift CLI, on the reference model:

  python3 weights/recipe/ablate.py --model weights/dlcm-10m-debian --boundaries stride:4 FILE...
  python3 weights/recipe/ablate.py --model weights/recipe/runs/dlcm --val   # every mode, per domain

Boundary modes (only where concepts start changes; p, the smoothing and the caches run as usual):
  learned      the router's decisions (p >= threshold)
  stride:K     a concept starts at every K-th token of a window (positions 0, K, 2K, ...); a
               fractional K cuts where floor(i / K) steps up, exactly 1/K of the tokens
  random:RATE  a concept starts at each token with probability RATE (SplitMix64, --seed)
  none         the first token is a concept of its own and no other boundary fires, so the
               backbone only ever sees that one concept

A file is one document: BOS, then its tokens. Longer than the model's context, it is cut into
windows of max_seq_len tokens overlapping by one, so every token after BOS is predicted once.
The random draws come from one SplitMix64 stream seeded with --seed, one draw per window position
after the first, in file and window order; the Swift side draws the same stream.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import DLCM, DLCMConfig  # noqa: E402

MASK64 = (1 << 64) - 1


class SplitMix64:
    """The boundary draws of `random:RATE` (same sequence as the Swift runtime's)."""

    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self) -> float:
        """In [0, 1), 53 bits."""
        return (self.next() >> 11) * (1.0 / (1 << 53))


def parse_mode(text: str):
    """'learned' | 'stride:K' | 'random:RATE' | 'none' -> (kind, value)."""
    if text in ("learned", "none"):
        return text, None
    kind, _, arg = text.partition(":")
    if kind == "stride":
        try:
            k = float(arg)
        except ValueError:
            k = 0.0
        if math.isfinite(k) and k >= 1:
            return "stride", k
    if kind == "random":
        rate = float(arg)
        if 0 <= rate <= 1:
            return "random", rate
    raise ValueError(f"boundaries must be learned, stride:K (K >= 1, may be fractional), random:RATE (0..1) or none, not {text!r}")


def forced_boundaries(mode, L: int, rng: SplitMix64 | None) -> torch.Tensor | None:
    """bool [L] segment starts for one window (None for learned)."""
    kind, arg = mode
    if kind == "learned":
        return None
    if kind == "stride":
        # Position i starts a concept when floor(i / K) steps up: every K-th token for a whole K, and
        # a regular pattern at exactly 1/K per token for a fractional one (K = 3.5: 0, 4, 7, 11, ...).
        # Python floats and Swift Doubles divide alike, so both sides cut at the same places.
        q = [math.floor(i / arg) for i in range(L)]
        b = torch.tensor([i == 0 or q[i] != q[i - 1] for i in range(L)], dtype=torch.bool)
    elif kind == "none":
        b = torch.zeros(L, dtype=torch.bool)
        b[:2] = True
    else:
        b = torch.tensor([True] + [rng.uniform() < arg for _ in range(L - 1)], dtype=torch.bool)
    b[0] = True
    return b


@torch.no_grad()
def score(model: DLCM, ids: torch.Tensor, mode, rng: SplitMix64 | None, fp32: bool = True):
    """ids [L] one window -> (sum of nats over positions 1.., tokens scored, concepts started)."""
    b = forced_boundaries(mode, ids.shape[0], rng)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not fp32):
        r = model(ids[None], boundaries=None if b is None else b[None])
    logits = r["logits"][0, :-1].float()
    nats = F.cross_entropy(logits, ids[1:], reduction="sum")
    return float(nats), ids.shape[0] - 1, int(r["b"][0].sum())


def windows(ids: list[int], ctx: int):
    """Windows of at most ctx tokens, overlapping by one."""
    step = ctx - 1
    out, start = [], 0
    while True:
        out.append(ids[start:start + ctx])
        if start + ctx >= len(ids):
            return out
        start += step


def eval_documents(model: DLCM, docs: list[tuple[str, list[int], int]], mode, seed: int):
    """docs: (name, token ids with BOS first, bytes of text). The JSON `dlcm eval --json` prints."""
    rng = SplitMix64(seed)
    files, tot = [], dict(nats=0.0, tokens=0, concepts=0, bytes=0, positions=0)
    for name, ids, nbytes in docs:
        f = dict(nats=0.0, tokens=0, concepts=0, positions=0)
        if len(ids) >= 2:
            for w in windows(ids, model.cfg.max_seq_len):
                nats, n, c = score(model, torch.tensor(w), mode, rng)
                f["nats"] += nats; f["tokens"] += n; f["concepts"] += c; f["positions"] += len(w)
        files.append(dict(file=name, tokens=f["tokens"], nats_per_token=f["nats"] / max(1, f["tokens"]),
                          bits_per_byte=f["nats"] / math.log(2) / max(1, nbytes),
                          tokens_per_concept=f["positions"] / max(1, f["concepts"]), concepts=f["concepts"]))
        for k in ("nats", "tokens", "concepts", "positions"):
            tot[k] += f[k]
        tot["bytes"] += nbytes
    return dict(boundaries=mode_name(mode), seed=seed, tokens=tot["tokens"],
                nats_per_token=tot["nats"] / max(1, tot["tokens"]),
                bits_per_byte=tot["nats"] / math.log(2) / max(1, tot["bytes"]),
                tokens_per_concept=tot["positions"] / max(1, tot["concepts"]), concepts=tot["concepts"],
                files=files)


def mode_name(mode) -> str:
    kind, arg = mode
    return kind if arg is None else f"{kind}:{arg:g}" if kind == "random" else f"{kind}:{arg}"


# ---- validation-set ablations and the backbone diagnostic ------------------------------------

@torch.no_grad()
def backbone_cosine(model: DLCM, wins: torch.Tensor) -> dict:
    """Mean cosine of the backbone's outputs (learned boundaries) to their mean, and of its pooled
    inputs to theirs: near 1 means the backbone says the same thing for every concept."""
    zs, cs = [], []
    for i in range(0, len(wins), 8):
        x = wins[i:i + 8, :-1]
        r = model(x)
        n = r["n_concepts"]
        for j in range(x.shape[0]):
            zs.append(r["z"][j, :int(n[j])].float())
    z = torch.cat(zs)
    cos = F.cosine_similarity(z, z.mean(0, keepdim=True), dim=-1)
    energy = float((z @ F.normalize(z.mean(0), dim=0)).pow(2).sum() / z.pow(2).sum())
    return dict(output_cosine_to_mean=float(cos.mean()), mean_direction_energy=energy, concepts=int(z.shape[0]))


@torch.no_grad()
def validation_ablations(model: DLCM, wins_by_domain: dict, modes: list[str], seed: int) -> dict:
    """nats/token per domain for each boundary mode over fixed validation windows [n, L+1]."""
    out = {}
    for text in modes:
        mode = parse_mode(text)
        rng = SplitMix64(seed)
        row, tot_n, tot_t, tot_c = {}, 0.0, 0, 0
        for dom, w in wins_by_domain.items():
            n_sum, t_sum, c_sum = 0.0, 0, 0
            for k in range(len(w)):
                nats, n, c = score(model, w[k], mode, rng, fp32=False)
                n_sum += nats; t_sum += n; c_sum += c
            row[dom] = dict(loss=n_sum / t_sum, tokens_per_concept=(t_sum + len(w)) / max(1, c_sum))
            tot_n += n_sum; tot_t += t_sum; tot_c += c_sum
        row["all"] = dict(loss=tot_n / tot_t,
                          tokens_per_concept=(tot_t + sum(len(w) for w in wins_by_domain.values())) / max(1, tot_c))
        out[text] = row
    return out


def load_model(path: str) -> DLCM:
    """A training run's checkpoint.pt (or the directory holding it), or an exported model directory."""
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "checkpoint.pt")):
        path = os.path.join(path, "checkpoint.pt")
    if path.endswith(".pt"):
        ck = torch.load(path, map_location="cpu")
        model = DLCM(DLCMConfig.from_json(ck["config"]))
        model.load_state_dict(ck["state_dict"])
    else:
        from export import load_dlcm
        model = load_dlcm(path)
    return model.eval()


def add_to_result(model: DLCM, run_dir: str):
    """Scores the matched modes a run's result.json lacks (a mode added to `matched_modes` after the
    run), on the windows the run was evaluated on, and writes them into result.json."""
    from train import DOMAINS, eval_windows
    path = os.path.join(run_dir, "result.json")
    result = json.load(open(path))
    a, args = result["ablations"], result["args"]
    missing = [m for m in matched_modes(a["learned"]["all"]["tokens_per_concept"]) if m not in a]
    if not missing:
        print(path, "has every matched mode")
        return
    data = args.get("data") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    wins = {d: eval_windows(data, d, args["seq"], args["eval_windows"]) for d in DOMAINS}
    a.update(validation_ablations(model, wins, missing, args.get("seed", 0)))
    json.dump(result, open(path, "w"), indent=1)
    print(path, {m: round(a[m]["all"]["loss"] - a["learned"]["all"]["loss"], 4) for m in missing})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="exported model directory, run directory or checkpoint.pt")
    ap.add_argument("--boundaries", default="learned")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val", action="store_true", help="every mode on the validation windows, per domain")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--eval-windows", type=int, default=96)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--add-to-result", action="store_true",
                    help="with --val and a run directory: score the matched modes its result.json lacks (on the run's own "
                         "validation windows) and add them there")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    if args.val and args.add_to_result:
        add_to_result(model, args.model)
        return
    if args.val:
        from train import DOMAINS, eval_windows
        wins = {d: eval_windows(args.data, d, args.seq, args.eval_windows) for d in DOMAINS}
        res = validation_ablations(model, wins, ["learned"], args.seed)
        res.update(validation_ablations(model, wins, matched_modes(res["learned"]["all"]["tokens_per_concept"]), args.seed))
        res["backbone"] = backbone_cosine(model, torch.cat(list(wins.values())))
        print(json.dumps(res, indent=1))
        return
    from tokenizers import Tokenizer
    tok_path = os.path.join(args.model if os.path.isdir(args.model) else os.path.dirname(args.model), "tokenizer.json")
    tok = Tokenizer.from_file(tok_path)
    docs = []
    for f in args.files:
        text = open(f, encoding="utf-8").read()
        docs.append((f, [model.cfg.eot_token_id] + tok.encode(text).ids, len(text.encode("utf-8"))))
    print(json.dumps(eval_documents(model, docs, parse_mode(args.boundaries), args.seed), indent=1))


def matched_modes(tokens_per_concept: float) -> list[str]:
    """The ablations beside learned: none, and a fixed stride and random boundaries at the rate the
    learned router realised (plus stride 2 and 8 for the shape of the curve)."""
    k = max(1, int(round(tokens_per_concept)))
    exact = f"stride:{max(1.0, tokens_per_concept):.2f}"
    return ["none", f"stride:{k}", exact, f"random:{1 / tokens_per_concept:.4f}", "stride:2", "stride:8"]


if __name__ == "__main__":
    main()
