"""Writes Tests/DLCMServerTests/Resources/tiny-served/: a tiny random DLCM plus a byte-level BPE
tokenizer whose vocabulary it covers, so the server can be tested end to end with real text.

The runtime's reference tiny models have 96 ids, fewer than the 256 a byte-level BPE needs; this
one has 320 (256 bytes + <|endoftext|> + 63 merges). The weights are random: the text is noise,
but it is deterministic under a seed, which is what the server tests need.

  python3 Tests/DLCMServerTests/Scripts/make_fixture.py
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "weights", "recipe"))
from model import DLCM, DLCMConfig, StackConfig  # noqa: E402

OUT = os.path.join(HERE, "..", "Resources", "tiny-served")
VOCAB = 320
EOT = "<|endoftext|>"
# Tensor names in the file differ from the PyTorch attributes for these (weights/recipe/export.py).
RENAMES = [("router_wq.", "router.wq."), ("router_wk.", "router.wk."), ("pool_up.", "pool.up."),
           ("concept_null", "concept.null")]


def tokenizer() -> Tokenizer:
    tok = Tokenizer(models.BPE(byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=[EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    text = open(os.path.join(HERE, "corpus.txt"), encoding="utf-8").read()
    tok.train_from_iterator(text.split("\n\n"), trainer=trainer)
    assert tok.token_to_id(EOT) == 0 and tok.get_vocab_size() == VOCAB, tok.get_vocab_size()
    return tok


def model() -> DLCM:
    # Same recipe as weights/recipe/tiny.py (router k correlated with q so boundaries keep a margin).
    cfg = DLCMConfig(vocab_size=VOCAB, d_token=32, d_concept=48, d_base=16,
                     encoder=StackConfig(2, 4, 2, 64), backbone=StackConfig(2, 4, 1, 96),
                     decoder=StackConfig(2, 4, 4, 64), cross_n_heads=4, cross_ffn_dim=64, d_scan=24,
                     threshold=0.5, target_r=4.0, concept_attention="replicated", max_seq_len=512,
                     eot_token_id=0)
    torch.manual_seed(1234)
    m = DLCM(cfg)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() == 2:
                p.normal_(0, 0.6 / p.shape[1] ** 0.5)
            elif "norm" in name:
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0, 0.5)
        m.router_wk.weight.copy_(m.router_wq.weight + 0.35 * torch.randn_like(m.router_wk.weight))
        m.embed.weight.mul_(3.0)
    return m


def file_name(name: str) -> str:
    for a, b in RENAMES:
        if name.startswith(a):
            return b + name[len(a):]
    return name


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    m = model()
    tensors = {file_name(k): v.detach().float().contiguous() for k, v in m.state_dict().items()}
    save_file(tensors, os.path.join(OUT, "model.safetensors"), metadata={"format": "dlcm"})
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(m.cfg.to_json("float32"), f, indent=2)
        f.write("\n")
    tokenizer().save(os.path.join(OUT, "tokenizer.json"))
    print("wrote", os.path.normpath(OUT), sorted(os.listdir(OUT)))
