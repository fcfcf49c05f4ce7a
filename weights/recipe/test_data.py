"""Fast checks of the outputs of weights/recipe/data.py (skipped until it has been run)."""
import json
import os

import numpy as np
import pytest

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
TOK = os.path.join(DATA, "tokenizer.json")

pytestmark = pytest.mark.skipif(not os.path.exists(TOK), reason="run weights/recipe/data.py first")

DOMAINS = ["prose", "tech", "code"]


@pytest.fixture(scope="module")
def tok():
    from tokenizers import Tokenizer
    return Tokenizer.from_file(TOK)


def test_tokenizer_shape(tok):
    assert tok.get_vocab_size() == 8192
    assert tok.token_to_id("<|endoftext|>") == 0


@pytest.mark.parametrize("text", [
    "Hello, world!",
    "  leading spaces, trailing tabs\t\t\n\n\n   \n",
    "Ünïcödé — ñ, 日本語のテキスト, emoji 🚀🧪, combining e\u0301, zero\u200bwidth",
    "def f(x):\n    return {'a': [1, 2, 3]}  # comment\n\tif x:\n\t\tpass\n",
    "func main() {\n\tfmt.Println(\"hi\\n\")\n}\n",
    "\r\n mixed \r line \x00 endings and NUL",
    "",
])
def test_roundtrip(tok, text):
    ids = tok.encode(text).ids
    assert 0 not in ids  # no added/special tokens sneak in
    assert tok.decode(ids, skip_special_tokens=False) == text


@pytest.mark.parametrize("domain", DOMAINS)
def test_bin_matches_jsonl(tok, domain):
    docs = []
    with open(os.path.join(DATA, f"val_{domain}.jsonl"), encoding="utf-8") as f:
        for line in f:
            docs.append(json.loads(line)["text"])
            if len(docs) == 5:
                break
    assert docs
    arr = np.fromfile(os.path.join(DATA, f"val_{domain}.bin"), dtype="<u2", count=4_000_000)
    seps = np.flatnonzero(arr == 0)
    assert len(seps) >= len(docs)
    start = 0
    for text, end in zip(docs, seps):
        assert tok.decode(arr[start:end].tolist(), skip_special_tokens=False) == text
        start = end + 1


def test_stats_consistent():
    stats = json.load(open(os.path.join(DATA, "stats.json")))
    for split in ["train", "val"]:
        for domain in DOMAINS:
            s = stats["splits"][f"{split}_{domain}"]
            n = os.path.getsize(os.path.join(DATA, f"{split}_{domain}.bin")) // 2
            assert n == s["tokens"] + s["documents"]
