"""Reference vectors for the Swift runtime's parity tests.

  python3 weights/recipe/make_vectors.py tiny                       # tiny random DLCMs, both modes
  python3 weights/recipe/make_vectors.py shipped weights/dlcm-10m-debian
  python3 weights/recipe/make_vectors.py quant                      # quantized checkpoint fixtures
  python3 weights/recipe/make_vectors.py windowed                   # a tiny DLCM with windowed token stacks
  python3 weights/recipe/make_vectors.py first                      # ... and "mean+first" pooling

tiny: Tests/DLCMRuntimeTests/Resources/tiny-{replicated,unique}/ with config.json,
model.safetensors and vectors.json: per prompt the token ids, per-token p and b, the segment count,
the logits at every position (full forward), and a greedy continuation produced by step().
shipped: <model>/reference-vectors.json: a few prompts with logits at a few positions, p and b,
greedy continuation, and tokenizer cases (text -> ids -> text).
quant: Tests/DLCMRuntimeTests/Resources/tiny-quant/ (an f32 tiny DLCM whose matrix widths are
multiples of 32, tiny.tiny_quant_config), its quantize.py copies tiny-quant-q8_0/ and
tiny-quant-q4_0/, and those dequantized back to f32 checkpoints (tiny-quant-q8_0-dequantized/, ...).

Boundary decisions and greedy choices are only testable when they do not hinge on rounding: every
prompt kept has |p - threshold| >= MARGIN at every token and a top-2 logit gap >= MARGIN at every
greedy step; prompts that fail are redrawn (the file records the margins).
"""
from __future__ import annotations

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import load_dlcm, save_dlcm
from tiny import tiny_model

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MARGIN = 1e-4


def rounded(t: torch.Tensor, digits: int = 7):
    return [round(float(x), digits) for x in t.flatten()]


@torch.no_grad()
def case(model, prompt: list[int], n_greedy: int, logit_positions=None):
    cfg = model.cfg
    ids = torch.tensor([prompt])
    full = model(ids)
    st = model.new_state()
    for i, t in enumerate(prompt):
        logits = st.step(t)
        assert (logits - full["logits"][0, i]).abs().max() < 1e-4, "step() disagrees with forward()"
    greedy, gaps = [], []
    for _ in range(n_greedy):
        top = logits.topk(2).values
        gaps.append(float(top[0] - top[1]))
        nxt = int(logits.argmax())
        greedy.append(nxt)
        logits = st.step(nxt)
    p_all = torch.tensor(st.p_hist)
    p_margin = float((p_all[1:] - cfg.threshold).abs().min()) if len(p_all) > 1 else 1.0
    positions = list(range(len(prompt))) if logit_positions is None else logit_positions
    out = dict(
        prompt=prompt,
        p=rounded(full["p"][0]),
        b=[int(x) for x in full["b"][0]],
        segments=int(full["n_concepts"][0]),
        logit_positions=positions,
        logits=[rounded(full["logits"][0, i]) for i in positions],
        greedy=greedy,
        greedy_p=rounded(p_all[len(prompt):]),
        greedy_b=[int(x) for x in st.b_hist[len(prompt):]],
        segments_after_greedy=st.n_concepts + 1,
        min_p_margin=p_margin,
        min_greedy_gap=min(gaps) if gaps else 1.0,
    )
    ok = p_margin >= MARGIN and out["min_greedy_gap"] >= MARGIN
    return out, ok


def safe_cases(model, g: torch.Generator) -> list[dict]:
    """One case per prompt length, each prompt drawn from `g` until its decisions keep MARGIN."""
    cases = []
    for length in (1, 2, 7, 19, 48, 90):
        for attempt in range(200):
            prompt = torch.randint(1, model.cfg.vocab_size, (length,), generator=g).tolist()
            c, ok = case(model, prompt, n_greedy=40)
            if ok:
                cases.append(c)
                break
        else:
            raise SystemExit(f"no prompt of length {length} with a safe margin")
    return cases


def tiny():
    for mode in ("replicated", "unique"):
        model = tiny_model(mode, seed=11)
        cfg = model.cfg
        d = os.path.join(ROOT, "Tests", "DLCMRuntimeTests", "Resources", f"tiny-{mode}")
        save_dlcm(model, d)
        cases = safe_cases(model, torch.Generator().manual_seed(100))
        json.dump(dict(mode=mode, threshold=cfg.threshold, margin=MARGIN, cases=cases),
                  open(os.path.join(d, "vectors.json"), "w"))
        print(mode, [(len(c["prompt"]), c["segments"], c["segments_after_greedy"]) for c in cases])


def windowed_config(pooling: str = "mean"):
    """The tiny replicated config with windowed token stacks (the encoder sees its last 2
    positions, the decoder its last 4), as `train.py --encoder-window 2 --decoder-window 4`
    trains them."""
    from model import StackConfig
    from tiny import tiny_config
    cfg = tiny_config("replicated")
    cfg.encoder = StackConfig(2, 4, 2, 64, window=2)
    cfg.decoder = StackConfig(2, 4, 4, 64, window=4)
    cfg.pooling = pooling
    return cfg


def write_fixture(name: str, model, case_seed: int):
    """Tests/DLCMRuntimeTests/Resources/NAME/: the checkpoint and its vectors."""
    d = os.path.join(ROOT, "Tests", "DLCMRuntimeTests", "Resources", name)
    save_dlcm(model, d)
    cases = safe_cases(model, torch.Generator().manual_seed(case_seed))
    json.dump(dict(mode="replicated", threshold=model.cfg.threshold, margin=MARGIN, cases=cases),
              open(os.path.join(d, "vectors.json"), "w"))
    print(name, [(len(c["prompt"]), c["segments"], c["segments_after_greedy"]) for c in cases])


def windowed():
    """tiny-windowed: windowed token stacks; prompts run past both windows."""
    write_fixture("tiny-windowed", tiny_model(seed=13, config=windowed_config()), 101)


def first():
    """tiny-first: windowed, and concepts that also carry their first token's state ("mean+first",
    as the shipped recipe trains them)."""
    write_fixture("tiny-first", tiny_model(seed=17, config=windowed_config("mean+first")), 102)


def shipped(model_dir: str):
    from tokenizers import Tokenizer
    model = load_dlcm(model_dir)
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    texts = [
        "The quick brown fox jumps over the lazy dog.",
        "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
        "Serialization is the process of converting a data structure into a format that can be stored",
        "func main() {\n\tfmt.Println(\"hello\")\n}\n",
    ]
    cases = []
    for text in texts:
        ids = tok.encode(text).ids
        L = len(ids)
        c, ok = case(model, ids, n_greedy=32, logit_positions=sorted({0, L // 2, L - 1}))
        c["text"] = text
        c["ok"] = ok
        cases.append(c)
        print(repr(text[:30]), "segments", c["segments"], "margin", c["min_p_margin"], "gap", c["min_greedy_gap"],
              "->", repr(tok.decode(c["greedy"])[:60]))
    tok_cases = []
    for text in texts + ["naïve café — 日本語 🎉", "  spaces   and\ttabs\n\n\nnewlines  ", "x = {'a': [1, 2.5e-3]}"]:
        ids = tok.encode(text).ids
        tok_cases.append(dict(text=text, ids=ids, decoded=tok.decode(ids)))
    json.dump(dict(margin=MARGIN, cases=cases, tokenizer_cases=tok_cases),
              open(os.path.join(model_dir, "reference-vectors.json"), "w"))


def eval_vectors():
    """Perplexity under each boundary rule (ablate.py) on the tiny replicated model, for the Swift
    `score(document:rule:rng:)` parity test. Documents of token ids, one longer than the context
    (windows); learned decisions kept away from the threshold so rounding cannot flip them."""
    from ablate import eval_documents, parse_mode
    d = os.path.join(ROOT, "Tests", "DLCMRuntimeTests", "Resources", "tiny-replicated")
    model = load_dlcm(d)
    cfg = model.cfg
    g = torch.Generator().manual_seed(200)
    docs = []
    for length in (1, 2, 37, 300, 90):
        for attempt in range(500):
            ids = [cfg.eot_token_id] + torch.randint(1, cfg.vocab_size, (length - 1,), generator=g).tolist()
            with torch.no_grad():
                p = torch.cat([model(torch.tensor([w]))["p"][0, 1:] for w in windows_of(ids, cfg.max_seq_len)])
            if len(p) == 0 or float((p - cfg.threshold).abs().min()) >= MARGIN:
                docs.append((f"doc{len(docs)}", ids, 3 * length))
                break
        else:
            raise SystemExit(f"no document of length {length} with a safe margin")
    cases = []
    for rule, seed in (("learned", 0), ("stride:3", 0), ("stride:2.5", 0), ("stride:1", 0), ("random:0.3", 7), ("random:0.3", 8), ("none", 0)):
        r = eval_documents(model, docs, parse_mode(rule), seed)
        cases.append(dict(rule=rule, seed=seed, nats=[f["nats_per_token"] * f["tokens"] for f in r["files"]],
                          tokens=[f["tokens"] for f in r["files"]], concepts=[f["concepts"] for f in r["files"]]))
        print(rule, seed, round(r["nats_per_token"], 4), r["concepts"])
    json.dump(dict(documents=[ids for _, ids, _ in docs], cases=cases), open(os.path.join(d, "eval-vectors.json"), "w"))


def quant():
    """Fixtures of the quantized format (weights/FORMAT.md): the Swift converter must write the
    bytes quantize.py wrote here, and a quantized model must compute what its dequantized f32
    checkpoint computes."""
    from quantize import quantize_dir, save_dequantized
    from tiny import tiny_quant_config
    res = os.path.join(ROOT, "Tests", "DLCMRuntimeTests", "Resources")
    base = os.path.join(res, "tiny-quant")
    save_dlcm(tiny_model(seed=12, config=tiny_quant_config()), base)
    for qtype in ("q8_0", "q4_0"):
        q = f"{base}-{qtype}"
        before, after = quantize_dir(base, q, qtype)
        save_dequantized(q, q + "-dequantized")
        print(qtype, before, "->", after, "bytes")


def windows_of(ids, ctx):
    from ablate import windows
    return windows(ids, ctx)


if __name__ == "__main__":
    if sys.argv[1] == "tiny":
        tiny()
    elif sys.argv[1] == "eval":
        eval_vectors()
    elif sys.argv[1] == "quant":
        quant()
    elif sys.argv[1] == "windowed":
        windowed()
    elif sys.argv[1] == "first":
        first()
    else:
        shipped(sys.argv[2])
