"""Generates the parity cases the Swift tests check, with the `tokenizers` library as the reference.

    python3 Tests/TokenizationTests/make_cases.py

Reads  Resources/gpt2/tokenizer.json (see Scripts/make_gpt2_tokenizer.py) and writes
  Resources/gpt2/cases.json       encode/decode cases for several variants of that tokenizer
  Resources/gpt2/char_classes.json the pre-tokenizer's class (letter/number/space/other) of every
                                   code point, as run-length ranges, probed through the library
"""
import copy
import json
import os
import random

import tokenizers
from tokenizers import Tokenizer, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(HERE, "Resources", "gpt2")
BASE = json.load(open(os.path.join(RES, "tokenizer.json"), encoding="utf-8"))
GPT2_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
CL100K_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def added(id, content, special=True, lstrip=False, rstrip=False, single_word=False, normalized=None):
    return {"id": id, "content": content, "single_word": single_word, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": (not special) if normalized is None else normalized, "special": special}


def byte_level(prefix=False, regex=True):
    return {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": regex}


def split(pattern, behavior, invert=False, regex=False):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern}, "behavior": behavior, "invert": invert}


def tiny_tokenizer():
    """A small byte-level BPE whose vocabulary lacks some bytes ("q", "z", "é"'s lead byte), to
    exercise unknown handling; `<unk>` is in the vocabulary, the model's unk_token set per variant."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_char = {b: chr(c) for b, c in zip(bs, cs)}
    vocab = {}
    for b in range(256):
        if b not in (ord("q"), ord("z"), 0xC3):
            vocab[byte_char[b]] = len(vocab)
    merges = [["Ġ", "t"], ["h", "e"], ["Ġt", "he"], ["x", "x"], ["xx", "x"]]
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab["<unk>"] = len(vocab)
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [added(len(vocab), "<|endoftext|>")],
            "normalizer": None, "pre_tokenizer": byte_level(), "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": merges}}


TINY = tiny_tokenizer()

# Each variant is a patch of top-level keys of the GPT-2 tokenizer.json ("_base": "tiny" starts from
# TINY instead; "_model" patches keys of the model); the Swift test applies the same.
EXTRA_ADDED = BASE["added_tokens"] + [
    added(50257, "<|im_start|>"),
    added(50258, "<|lstrip|>", lstrip=True),
    added(50259, "<|rstrip|>", rstrip=True),
    added(50260, "<|both|>", lstrip=True, rstrip=True),
    added(50261, "magicword", special=False, single_word=True),
    added(50262, "naïve", special=False),
    added(50263, "<|end", special=True),
    added(50264, "<é>", special=True),
    added(50265, "[sp]", special=False, normalized=False),
]
VARIANTS = {
    "base": {},
    "prefix_space": {"pre_tokenizer": byte_level(prefix=True)},
    "no_regex": {"pre_tokenizer": byte_level(regex=False)},
    "no_regex_prefix": {"pre_tokenizer": byte_level(prefix=True, regex=False)},
    "split_gpt2": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        split(GPT2_REGEX, "Isolated", regex=True), byte_level(regex=False)]}},
    "split_cl100k": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        split(CL100K_REGEX, "Isolated", regex=True), byte_level(regex=False)]}},
    "added_flags": {"added_tokens": EXTRA_ADDED},
    "added_flags_prefix": {"added_tokens": EXTRA_ADDED, "pre_tokenizer": byte_level(prefix=True)},
    "split_removed": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(" ", "Removed"), byte_level()]}},
    "split_prev": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [split("\n", "MergedWithPrevious"), byte_level(regex=False)]}},
    "split_next": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [split("\n", "MergedWithNext"), byte_level(regex=False)]}},
    "split_contiguous": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [split("o", "Contiguous"), byte_level(regex=False)]}},
    "split_invert": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [split("ab", "Isolated", invert=True), byte_level(regex=False)]}},
    "nfkc": {"normalizer": {"type": "NFKC"}, "added_tokens": EXTRA_ADDED},
    "ignore_merges": {"_model": {"ignore_merges": True}},
    "tiny_unk": {"_base": "tiny", "_model": {"unk_token": "<unk>"}},
    "tiny_unk_fuse": {"_base": "tiny", "_model": {"unk_token": "<unk>", "fuse_unk": True}},
    "tiny_no_unk": {"_base": "tiny"},
}

TEXTS = [
    "", " ", "  ", "\n", "a", "Hello world", "Hello, world!", " leading space", "trailing space ", "trailing spaces   ",
    # Unicode
    "café naïve résumé Ångström", "e\u0301 vs \u00e9, n\u0303o", "Zalgo: H\u0334\u0310e\u0337\u0301l\u0336l\u0335o\u0338",
    "日本語のテキストです。中文字符测试。한국어 텍스트", "Emoji: 👍🏽 🇫🇷 👨‍👩‍👧‍👦 ❤️ 🎉🎉🎉", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 math",
    "שלום עולם! مرحبا بالعالم ١٢٣٤", "Ελληνικά Кириллица Ünïcödé", "ＦＵＬＬ　ｗｉｄｔｈ　１２３", "ﬁ ligature ﬀ Ⅻ ½ ² ①",
    "\u200b zero\u200dwidth\ufeff bom", "\u00a0nbsp\u00a0 and \u2003em\u3000ideographic\u2028line\u2029para\u0085nel",
    "tab\u000bvt\u000cff\u001cfs\u001fus", "\u0000null\u0001ctl\u007fdel", "Ⓐⓑ ⅰⅱ ߀߁ ٠١ ०१२ 〇",
    # whitespace
    "a  b   c    d", "a\tb\t\tc", "line1\nline2\n\nline4\n", "windows\r\nline\r\n\r\n", "  \n  \t \n", "x \n y", "x\n \ny",
    "   leading", "end   ", "\t\tindent", "a \u00a0b", " \t a",
    # contractions
    "I'm you're he's we've they'll I'd can't won't", "I'M YOU'RE HE'S", "'s 't 're 've 'm 'll 'd", "''s ''t rock'n'roll",
    "don’t curly’s", "'", "''", "'sss", "'ll've",
    # numbers
    "1 12 123 1234 12345 1234567890", "3.14159 -2.5e10 0x1F 1,000,000", "v1.2.3 2024-01-15 12:34:56", "١٢٣ ४५६ ¹²³",
    # code
    "def foo(x: int) -> int:\n    return x ** 2  # square\n",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"Hello, 世界\")\n}\n",
    "#include <stdio.h>\nint main(void) {\n    printf(\"%d\\n\", 42);\n    return 0;\n}\n",
    "if (a != b && c <= d || !e) { x += 1; } // comment\n/* block */",
    "    def __init__(self):\n        self._cache = {}\n\n\n", "SELECT * FROM users WHERE id = 1;", "<div class=\"x\">&nbsp;</div>",
    "https://example.com/path?q=1&r=two#frag", "user@example.com", "~!@#$%^&*()_+-=[]{}|;:,.<>?/`", "......!!!???",
    # special and added tokens
    "<|endoftext|>", "a<|endoftext|>b", "<|endoftext|><|endoftext|>", " <|endoftext|> ", "text <|endoftext|>\nmore",
    "<|endoftext", "<|endoftext|", "<|end|>", "x<|end<|endoftext|>", "<|im_start|>user\nhi<|im_end|>",
    "a <|lstrip|> b", "a   <|lstrip|>", "<|rstrip|>   b", "a \n<|both|>\t\n b", "  <|both|>  <|both|>  ",
    "magicword here", "amagicword", "magicword_x", "(magicword)", "a magicword.", "naïve naive naïveté", "x[sp]y [sp] ",
    "<é> <é>x", "Ａ<|endoftext|>ﬁ",
    # normalization: a compatibility decomposition whose marks must be reordered (Foundation gets it wrong)
    "\u1fcf\u08f0 x\u0301\u0316 \u00c5\u0323",
    # invalid-ish
    "\ufffd replacement", "\U0010ffff max", "\ue000 private use", "lone ` backtick", "A" * 300, "ab" * 200 + " end",
    "x" + " " * 40 + "y", "\n" * 20, "🙂" * 30,
    # cl100k-specific: number groups, one leading non-letter, newlines after punctuation, case
    "1234567 12 1 ١٢٣٤", "(hello) [world] \tindent _under", "a!\n\n b", "end.\r\n\r\nnext", " \t\n \n  x",
    "'S'RE'Ve'LL'D'M'T", "'ſx 'ſ 'K", "x  \n", "\n\n\n", "  \n\t", "a1b2c3", "$100,000.00!!\n",
    # unknown bytes in the tiny vocabulary
    "quiz", "zzz qqq", "the xxxx théâtre", "qz", "éé", "<unk>", "a<unk>b",
]


def random_texts(rng, count):
    pools = ["abcXYZ", "0123456789", " ", "\t\n\r", "'", ".,;!?-_()[]{}<>\"/\\", "éüñçÅ", "日本中文한", "😀👍🏽🎉",
             "\u0301\u0308", "٠١٢", "\u00a0\u2003\u3000", "sStTdDlLrReEvVmM", "<|endoftext|>", "<|both|>", "magicword"]
    out = []
    for _ in range(count):
        n = rng.randint(1, 40)
        out.append("".join(rng.choice(rng.choice(pools)) if rng.random() < 0.9 else rng.choice(pools) for _ in range(n)))
    return out


def wide_random_texts(rng, count):
    """Random code points from every plane (ASCII, whitespace and apostrophe-letters weighted up)."""
    def one():
        r = rng.random()
        if r < 0.3:
            return chr(rng.randrange(0x20, 0x7F))
        if r < 0.4:
            return rng.choice(" \t\n\r\x0b\x0c\u00a0\u2003\u3000\u2028\u0085")
        if r < 0.5:
            return rng.choice("'sStTrReEvVlLdDmM\u017f")
        while True:
            cp = rng.randrange(0, 0x110000 if rng.random() < 0.3 else 0x3000)
            if not 0xD800 <= cp <= 0xDFFF:
                return chr(cp)
    return ["".join(one() for _ in range(rng.randint(1, 40))) for _ in range(count)]


def load(patch):
    doc = copy.deepcopy(TINY if patch.get("_base") == "tiny" else BASE)
    for key, value in patch.items():
        if key == "_model":
            doc["model"].update(value)
        elif key != "_base":
            doc[key] = value
    return Tokenizer.from_str(json.dumps(doc))


def main():
    rng = random.Random(1234)
    texts = TEXTS + random_texts(rng, 300)
    wide = wide_random_texts(rng, 500)
    cases = []
    for name, patch in VARIANTS.items():
        tok = load(patch)
        plain = load(patch)
        plain.encode_special_tokens = True
        variant_texts = texts if name in ("base", "added_flags", "prefix_space", "split_cl100k") or name.startswith("tiny") or name == "nfkc" else texts[:: (2 if name.startswith("added") else 3)]
        if name in ("base", "split_cl100k"):
            variant_texts = variant_texts + wide
        for text in variant_texts:
            ids = tok.encode(text).ids
            cases.append({
                "variant": name, "text": text, "ids": ids,
                "ids_plain": plain.encode(text).ids,
                "decoded": tok.decode(ids, skip_special_tokens=False),
                "decoded_skip": tok.decode(ids, skip_special_tokens=True),
            })
    # Decoding arbitrary ids: byte tokens that form invalid UTF-8, out-of-range ids, specials.
    base = load({})
    byte_ids = [base.token_to_id(pre_tokenizers.ByteLevel.alphabet()[0])]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    byte_ids = [base.token_to_id(c) for c in alphabet]
    decodes = []
    for _ in range(200):
        ids = [rng.choice(byte_ids) if rng.random() < 0.6 else rng.randrange(0, 50300) for _ in range(rng.randint(0, 12))]
        decodes.append({"ids": ids, "decoded": base.decode(ids, skip_special_tokens=False),
                        "decoded_skip": base.decode(ids, skip_special_tokens=True)})
    out = {"library": "tokenizers " + tokenizers.__version__, "variants": VARIANTS, "cases": cases, "decodes": decodes,
           "vocab_size": base.get_vocab_size(), "tiny_tokenizer": TINY}
    with open(os.path.join(RES, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    print(len(cases), "encode cases,", len(decodes), "decode cases")
    write_char_classes()


def write_char_classes():
    """Class of every code point as the GPT-2 pattern sees it, from how the library splits
    "a"+c, "1"+c and "!"+c: a letter joins "a", a number joins "1", an "other" joins "!",
    and whitespace joins none of them."""
    pre = pre_tokenizers.Split(tokenizers.Regex(GPT2_REGEX), "isolated")
    runs = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            cls = "O"  # surrogates cannot occur in UTF-8 text
        else:
            c = chr(cp)
            joins = [len(pre.pre_tokenize_str(p + c)) == 1 for p in ("a", "1", "!")]
            cls = "L" if joins[0] else "N" if joins[1] else "O" if joins[2] else "S"
            assert sum(joins) <= 1, hex(cp)
        if runs and runs[-1][2] == cls:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp, cls])
    with open(os.path.join(RES, "char_classes.json"), "w") as f:
        json.dump(runs, f, separators=(",", ":"))
    print(len(runs), "class runs")


if __name__ == "__main__":
    main()
