#!/usr/bin/env python3
"""Data half of the small-LM training recipe.

Builds a ~170 MB text corpus from Debian 12 (bookworm) packages, split into three
domains (prose / tech / code), trains an 8192-entry byte-level BPE on the train
split, and writes uint16 token streams plus stats.

    python3 weights/recipe/data.py            # idempotent: skips finished stages
    python3 weights/recipe/data.py --force    # redo every stage

Stages (outputs under weights/recipe/):
  1. download  .cache/debs/*.deb  (apt-get download)  -> .cache/root/ (dpkg -x)
  2. extract   data/{train,val}_{prose,tech,code}.jsonl   {"id":..., "text":...}
  3. tokenizer data/tokenizer.json   (train split only)
  4. encode    data/{split}_{domain}.bin   little-endian uint16, docs separated by id 0
  5. stats     data/stats.json

Only the standard library, numpy and `tokenizers` are used.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import html
import html.entities
import json
import os
import random
import re
import subprocess
import sys
import time
from html.parser import HTMLParser

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache")
DEBS = os.path.join(CACHE, "debs")
ROOT = os.path.join(CACHE, "root")
OUT = os.path.join(HERE, "data")

# Debian 12 package names (checked with `apt-cache policy`).
PACKAGES = [
    # prose
    "dict-gcide", "dict-wn", "fortunes", "fortunes-min",
    # tech
    "linux-doc-6.1", "python3.11-doc", "postgresql-doc-15", "sqlite3-doc",
    "python-django-doc", "perl-doc", "git-doc",
    # code
    "libpython3.11-minimal", "libpython3.11-stdlib", "golang-1.19-src",
]
DOMAINS = ["prose", "tech", "code"]
SPLITS = ["train", "val"]
EOT = "<|endoftext|>"
VOCAB_SIZE = 8192
MIN_DOC_BYTES = 200
MAX_CODE_BYTES = 200_000
VAL_FRAC = 0.01            # at least 1% of documents ...
VAL_MIN_BYTES = 1_500_000  # ... and at least ~1.5 MB of text per domain
TOK_TRAIN_BYTES = 60_000_000  # tokenizer training sample, split evenly across domains
SEED = 1234


def log(msg: str) -> None:
    print(msg, flush=True)


# ----------------------------------------------------------------------------
# 1. download + extract
# ----------------------------------------------------------------------------

def deb_for(pkg: str) -> str | None:
    hits = sorted(glob.glob(os.path.join(DEBS, f"{pkg}_*.deb")))
    return hits[-1] if hits else None


def stage_download(force: bool) -> None:
    os.makedirs(DEBS, exist_ok=True)
    os.makedirs(ROOT, exist_ok=True)
    missing = [p for p in PACKAGES if force or deb_for(p) is None]
    if missing:
        log(f"  apt-get download {' '.join(missing)}")
        subprocess.run(["apt-get", "download", "-q", *missing], cwd=DEBS, check=True,
                       stdout=subprocess.DEVNULL)
    for pkg in PACKAGES:
        deb = deb_for(pkg)
        if deb is None:
            raise SystemExit(f"download of {pkg} failed")
        marker = os.path.join(ROOT, f".extracted-{os.path.basename(deb)}")
        if force or not os.path.exists(marker):
            subprocess.run(["dpkg", "-x", deb, ROOT], check=True)
            open(marker, "w").close()


def package_info() -> dict:
    info = {}
    for pkg in PACKAGES:
        deb = deb_for(pkg)
        fields = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version", "Source"],
                                check=True, capture_output=True, text=True).stdout
        meta = dict(line.split(": ", 1) for line in fields.splitlines() if ": " in line)
        info[pkg] = {
            "version": meta.get("Version"),
            "source": meta.get("Source", pkg).split()[0],
            "deb": os.path.basename(deb),
            "license": read_licence(pkg),
        }
    return info


_LICENCE_HINTS = [
    ("PSF-2.0", r"PYTHON SOFTWARE FOUNDATION LICENSE"),
    ("GPL", r"GNU General Public License|\bGPL\b"),
    ("LGPL", r"Lesser General Public License|\bLGPL\b"),
    ("BSD-style", r"Redistribution and use in source and binary forms"),
    ("MIT/X11-style", r"Permission is hereby granted, free of charge"),
    ("public-domain", r"public domain"),
    ("Artistic", r"Artistic License"),
]


def read_licence(pkg: str) -> dict:
    path = os.path.join(ROOT, "usr/share/doc", pkg, "copyright")
    if not os.path.exists(path):  # e.g. libpython3.11-stdlib -> libpython3.11-minimal symlink
        link = os.path.join(ROOT, "usr/share/doc", pkg)
        return {"machine_readable": False,
                "summary": f"no copyright file in package (doc dir links to "
                           f"{os.readlink(link) if os.path.islink(link) else '?'})"}
    text = open(path, encoding="utf-8", errors="replace").read()
    if text.startswith("Format:"):
        names, main = [], None
        for para in re.split(r"\n\s*\n", text):
            m = re.search(r"^License:[ \t]*(\S[^\n]*)", para, re.M)
            if not m:
                continue
            name = m.group(1).strip()
            if name not in names:
                names.append(name)
            if main is None and re.search(r"^Files:\s*\*\s*$", para, re.M):
                main = name
        return {"machine_readable": True, "main": main, "all": names}
    hints = [name for name, rx in _LICENCE_HINTS if re.search(rx, text, re.I)]
    return {"machine_readable": False,
            "summary": "free-form copyright file; mentions: " + (", ".join(hints) or "no known licence")}


# ----------------------------------------------------------------------------
# 2. text extraction
# ----------------------------------------------------------------------------

def normalise(raw: bytes) -> str | None:
    """UTF-8 decode (None on error), \\n newlines, no NULs, no trailing spaces."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return clean(text)


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip("\n")


class HTMLText(HTMLParser):
    BLOCK = {"p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4",
             "h5", "h6", "pre", "tr", "table", "blockquote", "section", "article", "hr",
             "tbody", "thead", "caption", "figure", "figcaption", "main", "body", "center"}
    SKIP_TAGS = {"script", "style", "noscript", "head", "nav", "template", "svg",
                 "form", "select"}
    SKIP_CLASSES = {"navheader", "navfooter", "related", "sphinxsidebar", "sphinxsidebarwrapper",
                    "footer", "headerlink", "breadcrumbs", "menu", "search", "skip-link",
                    "nav", "tagline", "searchmenu"}
    SKIP_IDS = {"footer", "nav", "sidebar", "toc", "search", "footer-text",
                "hd", "ft", "global-nav", "searchbox"}  # hd/ft: django page header/footer
    VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed",
            "param", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_tag: str | None = None
        self.skip_depth = 0
        self.pre = 0
        self.at_line_start = True

    def _emit(self, s: str) -> None:
        if s:
            self.out.append(s)
            self.at_line_start = s.endswith("\n")

    def handle_starttag(self, tag, attrs):
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
            return
        if tag not in self.VOID:
            a = dict(attrs)
            classes = set((a.get("class") or "").split())
            if (tag in self.SKIP_TAGS or classes & self.SKIP_CLASSES
                    or (a.get("id") or "") in self.SKIP_IDS):
                self.skip_tag, self.skip_depth = tag, 1
                return
        if tag == "pre":
            self.pre += 1
        if tag in self.BLOCK:
            self._emit("\n")
        elif tag in ("td", "th"):
            self._emit(" ")
        elif tag == "li":
            self._emit("\n")

    def handle_endtag(self, tag):
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in self.BLOCK:
            self._emit("\n")

    def handle_data(self, data):
        if self.skip_tag is not None:
            return
        if self.pre:
            self._emit(data)
            return
        data = re.sub(r"\s+", " ", data)
        if self.at_line_start:
            data = data.lstrip(" ")
        self._emit(data)

    def text(self) -> str:
        t = clean("".join(self.out))
        return re.sub(r"\n{3,}", "\n\n", t)


def html_to_text(raw: bytes) -> str | None:
    try:
        src = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    p = HTMLText()
    p.feed(src)
    p.close()
    return p.text()


_POD_ENT = {"lt": "<", "gt": ">", "sol": "/", "verbar": "|", "quot": '"', "amp": "&", "apos": "'"}


def _pod_entity(name: str) -> str:
    if name in _POD_ENT:
        return _POD_ENT[name]
    if name.isdigit():
        return chr(int(name))
    if name.lower().startswith("0x"):
        return chr(int(name, 16))
    return html.entities.html5.get(name + ";", html.entities.html5.get(name, ""))


def _pod_code(code: str, body: str) -> str:
    if code == "E":
        return _pod_entity(body.strip())
    if code in "XZ":
        return ""
    if code == "L":
        if "|" in body:
            return body.split("|", 1)[0]
        if re.match(r"\w+://", body):
            return body
        name, _, sec = body.partition("/")
        sec = sec.strip('"')
        return f'"{sec}" in {name}' if name and sec else (sec or name)
    return body  # B I C F S


def pod_inline(s: str) -> str:
    # C<< text >> style (any number of brackets, whitespace-delimited)
    s = re.sub(r"([A-Z])(<{2,})\s+(.*?)\s+(>{2,})",
               lambda m: _pod_code(m.group(1), m.group(3)) if len(m.group(2)) == len(m.group(4))
               else m.group(0), s, flags=re.S)
    rx = re.compile(r"([BCEFILSXZ])<([^<>]*)>")
    for _ in range(10):  # innermost first
        s2 = rx.sub(lambda m: _pod_code(m.group(1), m.group(2)), s)
        if s2 == s:
            break
        s = s2
    return s


def pod_to_text(raw: bytes) -> str | None:
    try:
        src = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    out, in_pod, in_begin = [], True, None
    for para in re.split(r"\n[ \t]*\n", src.replace("\r\n", "\n")):
        if para.startswith("="):
            first, _, tail = para.partition("\n")
            cmd, _, arg = first[1:].partition(" ")
            rest = arg + ("\n" + tail if tail else "")
            cmd = cmd.strip()
            if cmd == "cut":
                in_pod = False
                continue
            in_pod = True
            if cmd == "begin":
                in_begin = rest.split()[0] if rest.split() else ""
                continue
            if cmd == "end":
                in_begin = None
                continue
            if in_begin is not None or cmd in ("pod", "over", "back", "for", "encoding"):
                continue
            rest = pod_inline(rest.strip())
            if cmd.startswith("head"):
                out.append(rest)
            elif cmd == "item":
                out.append(rest if rest not in ("*", "") else "*")
            else:
                out.append(rest)
            continue
        if not in_pod or in_begin is not None:
            continue
        if para[:1] in (" ", "\t"):  # verbatim
            out.append(para)
        else:
            out.append(pod_inline(para))
    # merge "*" bullets with the following paragraph
    merged: list[str] = []
    for para in out:
        if merged and merged[-1] == "*":
            merged[-1] = "* " + para
        else:
            merged.append(para)
    return clean("\n\n".join(p for p in merged if p.strip()))


def pack(items: list[str], target: int, sep: str) -> list[str]:
    """Greedily pack consecutive small items into chunks of about `target` bytes."""
    chunks, cur, size = [], [], 0
    for it in items:
        n = len(it.encode("utf-8"))
        if cur and size + n > target:
            chunks.append(sep.join(cur))
            cur, size = [], 0
        cur.append(it)
        size += n + len(sep)
    if cur:
        chunks.append(sep.join(cur))
    return chunks


_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _b64num(s: str) -> int:
    n = 0
    for c in s:
        n = n * 64 + _B64[c]
    return n


def dictd_docs(pkg: str, name: str, skipped: dict):
    base = os.path.join(ROOT, "usr/share/dictd", name)
    data = gzip.open(base + ".dict.dz").read()
    spans = set()
    with open(base + ".index", encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00database") or parts[0].startswith("00-database"):
                continue
            spans.add((_b64num(parts[1]), _b64num(parts[2])))
    entries = []
    for off, ln in sorted(spans):
        try:
            entries.append(clean(data[off:off + ln].decode("utf-8")))
        except UnicodeDecodeError:
            skipped["decode"] += 1
    entries = [e for e in entries if e]
    for i, chunk in enumerate(pack(entries, 3000, "\n\n")):
        yield f"{pkg}:{name}#{i}", chunk


def fortune_docs(pkg: str, skipped: dict):
    fdir = os.path.join(ROOT, "usr/share/games/fortunes")
    owned = set(subprocess.run(["dpkg-deb", "-c", deb_for(pkg)], capture_output=True, text=True,
                               check=True).stdout.split())
    for path in sorted(glob.glob(os.path.join(fdir, "*"))):
        rel = os.path.relpath(path, ROOT)
        if (os.path.splitext(path)[1] in (".dat", ".u8") or os.path.islink(path)
                or not os.path.isfile(path) or "./" + rel not in owned):
            continue
        text = normalise(open(path, "rb").read())
        if text is None:
            skipped["decode"] += 1
            continue
        items = [clean(x) for x in re.split(r"^%$", text, flags=re.M)]
        items = [x for x in items if x]
        # most single fortunes are < MIN_DOC_BYTES; keep them by packing neighbours.
        for i, chunk in enumerate(pack(items, 1500, "\n%\n")):
            yield f"{pkg}:{rel}#{i}", chunk


def walk(top: str, exts: tuple[str, ...], skip_dirs: set[str] = frozenset()):
    for dp, dns, fns in os.walk(top):
        dns[:] = sorted(d for d in dns if d not in skip_dirs)
        for fn in sorted(fns):
            p = os.path.join(dp, fn)
            if fn.endswith(exts) and os.path.isfile(p) and not os.path.islink(p):
                yield p


def file_docs(pkg: str, paths, convert, skipped: dict):
    for p in paths:
        raw = open(p, "rb").read()
        if p.endswith(".gz"):
            raw = gzip.decompress(raw)
        text = convert(raw)
        if text is None:
            skipped["decode"] += 1
            continue
        yield f"{pkg}:{os.path.relpath(p, ROOT)}", text


_GENERATED = re.compile(rb"Code generated .{0,200}DO NOT EDIT|DO NOT EDIT|generated (from|by) |"
                        rb"autogenerated|auto-generated", re.I)


def code_docs(pkg: str, top: str, ext: str, skip_dirs: set[str], skipped: dict):
    for p in walk(top, (ext,), skip_dirs):
        fn = os.path.basename(p)
        if fn.endswith("_test.go") or fn.startswith("test_"):
            skipped["test"] += 1
            continue
        if os.path.getsize(p) > MAX_CODE_BYTES:
            skipped["too_big"] += 1
            continue
        raw = open(p, "rb").read()
        if _GENERATED.search(raw[:1000]):
            skipped["generated"] += 1
            continue
        text = normalise(raw)
        if text is None:
            skipped["decode"] += 1
            continue
        yield f"{pkg}:{os.path.relpath(p, ROOT)}", text


def sources():
    """(domain, package, generator factory) in a fixed order."""
    D = os.path.join(ROOT, "usr/share/doc")
    ident = normalise
    no_html = lambda p: not re.search(r"/(genindex|search|py-modindex|bookindex|_modules)", p)
    return [
        ("prose", "dict-gcide", lambda sk: dictd_docs("dict-gcide", "gcide", sk)),
        ("prose", "dict-wn", lambda sk: dictd_docs("dict-wn", "wn", sk)),
        ("prose", "fortunes", lambda sk: fortune_docs("fortunes", sk)),
        ("prose", "fortunes-min", lambda sk: fortune_docs("fortunes-min", sk)),
        ("tech", "linux-doc-6.1", lambda sk: file_docs(
            "linux-doc-6.1", walk(f"{D}/linux-doc-6.1/Documentation", (".rst.gz", ".rst")), ident, sk)),
        ("tech", "python3.11-doc", lambda sk: file_docs(
            "python3.11-doc", walk(f"{D}/python3.11/html/_sources", (".rst.txt",)), ident, sk)),
        ("tech", "postgresql-doc-15", lambda sk: file_docs(
            "postgresql-doc-15", filter(no_html, walk(f"{D}/postgresql-doc-15/html", (".html",))),
            html_to_text, sk)),
        ("tech", "sqlite3-doc", lambda sk: file_docs(
            "sqlite3-doc", filter(no_html, walk(f"{D}/sqlite3", (".html",))), html_to_text, sk)),
        ("tech", "python-django-doc", lambda sk: file_docs(
            "python-django-doc", filter(no_html, walk(f"{D}/python-django-doc/html", (".html",),
                                                      {"_modules", "_static", "_images"})),
            html_to_text, sk)),
        ("tech", "perl-doc", lambda sk: file_docs(
            "perl-doc", walk(os.path.join(ROOT, "usr/share/perl"), (".pod",)), pod_to_text, sk)),
        ("tech", "git-doc", lambda sk: file_docs(
            "git-doc", walk(f"{D}/git-doc", (".html",)), html_to_text, sk)),
        ("code", "libpython3.11-minimal", lambda sk: code_docs(
            "libpython3.11-minimal", os.path.join(ROOT, "usr/lib/python3.11"), ".py",
            {"test", "tests", "idle_test", "site-packages", "dist-packages"}, sk)),
        ("code", "golang-1.19-src", lambda sk: code_docs(
            "golang-1.19-src", os.path.join(ROOT, "usr/share/go-1.19/src"), ".go",
            {"testdata", "vendor"}, sk)),
    ]
    # note: libpython3.11-minimal and -stdlib both install into usr/lib/python3.11; the
    # walk covers both and the ids use the -minimal name for the shared tree.


def doc_hash(doc_id: str) -> float:
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:13], 16) / 16 ** 13


def stage_extract() -> dict:
    docs = {d: [] for d in DOMAINS}
    seen: set[bytes] = set()
    report = {}
    for domain, pkg, make in sources():
        t0 = time.time()
        skipped = {"decode": 0, "short": 0, "dup": 0, "eot": 0, "test": 0, "too_big": 0,
                   "generated": 0}
        n = nbytes = 0
        for doc_id, text in make(skipped):
            b = len(text.encode("utf-8"))
            if b < MIN_DOC_BYTES:
                skipped["short"] += 1
                continue
            if EOT in text:
                skipped["eot"] += 1
                continue
            h = hashlib.sha1(text.encode("utf-8")).digest()
            if h in seen:
                skipped["dup"] += 1
                continue
            seen.add(h)
            docs[domain].append((doc_id, text, b))
            n += 1
            nbytes += b
        report[pkg] = {"domain": domain, "documents": n, "bytes": nbytes,
                       "skipped": {k: v for k, v in skipped.items() if v}}
        log(f"  {domain:5s} {pkg:22s} {n:7d} docs {nbytes / 1e6:8.2f} MB  "
            f"skipped {report[pkg]['skipped']}  ({time.time() - t0:.1f}s)")
    os.makedirs(OUT, exist_ok=True)
    for domain in DOMAINS:
        total = sum(b for _, _, b in docs[domain])
        frac = max(VAL_FRAC, min(0.5, VAL_MIN_BYTES / max(total, 1)))
        files = {s: open(os.path.join(OUT, f"{s}_{domain}.jsonl.tmp"), "w", encoding="utf-8")
                 for s in SPLITS}
        for doc_id, text, _ in docs[domain]:
            split = "val" if doc_hash(doc_id) < frac else "train"
            files[split].write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
        for s, f in files.items():
            f.close()
            os.replace(f.name, os.path.join(OUT, f"{s}_{domain}.jsonl"))
        log(f"  {domain}: {len(docs[domain])} docs, {total / 1e6:.1f} MB, val fraction {frac:.4f}")
    with open(os.path.join(OUT, "sources.json"), "w") as f:
        json.dump(report, f, indent=1)
    return report


def read_jsonl(path: str):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


# ----------------------------------------------------------------------------
# 3. tokenizer
# ----------------------------------------------------------------------------

def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    tok = Tokenizer(models.BPE(byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    return tok


def stage_tokenizer() -> dict:
    from tokenizers import pre_tokenizers, trainers
    rng = random.Random(SEED)
    per_domain = TOK_TRAIN_BYTES // len(DOMAINS)
    sample, sampled = [], {}
    for domain in DOMAINS:
        texts = [d["text"] for d in read_jsonl(os.path.join(OUT, f"train_{domain}.jsonl"))]
        rng.shuffle(texts)
        got = 0
        for t in texts:
            if got >= per_domain:
                break
            sample.append(t)
            got += len(t.encode("utf-8"))
        sampled[domain] = got
        del texts
    rng.shuffle(sample)
    log(f"  training BPE on {sum(sampled.values()) / 1e6:.1f} MB "
        f"({', '.join(f'{d} {b / 1e6:.1f}' for d, b in sampled.items())} MB), {len(sample)} docs")
    tok = build_tokenizer()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=[EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator((sample[i:i + 1000] for i in range(0, len(sample), 1000)),
                            trainer=trainer, length=len(sample))
    assert tok.token_to_id(EOT) == 0, tok.token_to_id(EOT)
    assert tok.get_vocab_size() == VOCAB_SIZE, tok.get_vocab_size()
    tok.save(os.path.join(OUT, "tokenizer.json"))
    return {"sample_bytes": sampled, "sample_docs": len(sample)}


def verify_roundtrip(n_per_domain: int = 200) -> dict:
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))
    result = {}
    for domain in DOMAINS:
        for split in SPLITS:
            docs = []
            for i, d in enumerate(read_jsonl(os.path.join(OUT, f"{split}_{domain}.jsonl"))):
                if i >= n_per_domain:
                    break
                docs.append(d["text"])
            encs = tok.encode_batch(docs)
            bad = sum(tok.decode(e.ids, skip_special_tokens=False) != t or 0 in e.ids
                      for e, t in zip(encs, docs))
            result[f"{split}_{domain}"] = {"checked": len(docs), "failed": bad}
            log(f"  round-trip {split}_{domain}: {len(docs) - bad}/{len(docs)} ok")
    return result


# ----------------------------------------------------------------------------
# 4. encode
# ----------------------------------------------------------------------------

def stage_encode(split: str, domain: str) -> None:
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))
    eot = tok.token_to_id(EOT)
    assert eot == 0 and tok.get_vocab_size() <= 65536
    final = os.path.join(OUT, f"{split}_{domain}.bin")
    tmp = final + ".tmp"
    batch: list[str] = []

    def flush(f):
        if not batch:
            return
        encs = tok.encode_batch(batch)
        lens = [len(e.ids) + 1 for e in encs]
        arr = np.empty(sum(lens), dtype="<u2")
        pos = 0
        for e, n in zip(encs, lens):
            arr[pos:pos + n - 1] = e.ids
            arr[pos + n - 1] = eot
            pos += n
        arr.tofile(f)
        batch.clear()

    with open(tmp, "wb") as f:
        for d in read_jsonl(os.path.join(OUT, f"{split}_{domain}.jsonl")):
            batch.append(d["text"])
            if len(batch) >= 2000:
                flush(f)
        flush(f)
    os.replace(tmp, final)


# ----------------------------------------------------------------------------
# byte-level streams (an experiment: EXPERIMENTS.md, "Bytes instead of BPE tokens")
# ----------------------------------------------------------------------------

BYTES_OUT = os.path.join(HERE, "data-bytes")


def byte_tokenizer():
    """A byte-level BPE without merges: id 0 is <|endoftext|>, byte b is id b + 1."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    chars = pre_tokenizers.ByteLevel.alphabet()
    # ByteLevel's alphabet is GPT-2's byte -> character table; rebuild its order by byte.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, extra = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + extra)
            extra += 1
    table = {b: chr(c) for b, c in zip(bs, cs)}
    assert set(table.values()) == set(chars)
    vocab = {EOT: 0, **{table[b]: b + 1 for b in range(256)}}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([EOT])
    return tok


def stage_bytes() -> None:
    """data-bytes/: the same documents as bytes (uint16 id = byte + 1, documents followed by 0),
    with a tokenizer.json and stats.json of the same shape as data/'s."""
    os.makedirs(BYTES_OUT, exist_ok=True)
    tok = byte_tokenizer()
    tok.save(os.path.join(BYTES_OUT, "tokenizer.json"))
    probe = "héllo wörld\n\tdef f(x): return x  # 日本"
    assert tok.encode(probe).ids == [b + 1 for b in probe.encode()] and tok.decode(tok.encode(probe).ids) == probe
    stats = {"splits": {}, "vocab_size": 257, "eot_id": 0, "dtype": "uint16 little-endian",
             "separator": "each document is followed by token id 0 (<|endoftext|>)"}
    for split in SPLITS:
        for domain in DOMAINS:
            parts, nbytes, ndocs = [], 0, 0
            for d in read_jsonl(os.path.join(OUT, f"{split}_{domain}.jsonl")):
                b = d["text"].encode("utf-8")
                parts += [np.frombuffer(b, dtype=np.uint8).astype("<u2") + 1, np.zeros(1, "<u2")]
                nbytes += len(b)
                ndocs += 1
            np.concatenate(parts).tofile(os.path.join(BYTES_OUT, f"{split}_{domain}.bin"))
            stats["splits"][f"{split}_{domain}"] = {"documents": ndocs, "bytes": nbytes, "tokens": nbytes,
                                                    "bytes_per_token": 1.0}
            log(f"  {split}_{domain}: {nbytes} bytes")
    with open(os.path.join(BYTES_OUT, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)


# ----------------------------------------------------------------------------
# 5. stats
# ----------------------------------------------------------------------------

def stage_stats(timings: dict, extra: dict) -> dict:
    stats = {"splits": {}, "vocab_size": VOCAB_SIZE, "eot_id": 0, "dtype": "uint16 little-endian",
             "separator": "each document is followed by token id 0 (<|endoftext|>)"}
    for split in SPLITS:
        for domain in DOMAINS:
            n = nbytes = 0
            for d in read_jsonl(os.path.join(OUT, f"{split}_{domain}.jsonl")):
                n += 1
                nbytes += len(d["text"].encode("utf-8"))
            arr = np.memmap(os.path.join(OUT, f"{split}_{domain}.bin"), dtype="<u2", mode="r")
            seps = int((arr == 0).sum())
            assert seps == n, (split, domain, seps, n)
            ntok = int(arr.shape[0]) - seps
            stats["splits"][f"{split}_{domain}"] = {
                "documents": n, "bytes": nbytes, "tokens": ntok,
                "bytes_per_token": round(nbytes / max(ntok, 1), 4)}
    stats["packages"] = package_info()
    src = os.path.join(OUT, "sources.json")
    if os.path.exists(src):
        stats["per_package"] = json.load(open(src))
    stats.update(extra)
    stats["timings_s"] = timings
    with open(os.path.join(OUT, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    return stats


def print_summary(stats: dict, timings: dict) -> None:
    log("\n split  domain  docs        MB      tokens   bytes/tok")
    for split in SPLITS:
        tb = tt = 0
        for domain in DOMAINS:
            s = stats["splits"][f"{split}_{domain}"]
            tb += s["bytes"]
            tt += s["tokens"]
            log(f" {split:5s}  {domain:6s} {s['documents']:7d} {s['bytes'] / 1e6:9.2f} "
                f"{s['tokens']:11d} {s['bytes_per_token']:8.3f}")
        log(f" {split:5s}  all            {tb / 1e6:9.2f} {tt:11d} {tb / max(tt, 1):8.3f}")
    log("\n stage timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="redo every stage")
    ap.add_argument("--bytes", action="store_true",
                    help="also write data-bytes/: the documents as byte-level token streams")
    args = ap.parse_args()
    os.environ.setdefault("RAYON_NUM_THREADS", "2")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    timings: dict[str, float] = {}
    extra: dict = {}
    t_all = time.time()

    def stage(name, done: bool, fn):
        t0 = time.time()
        if done and not args.force:
            log(f"[{name}] outputs exist, skipping (use --force to redo)")
            timings[name] = 0.0
            return None
        log(f"[{name}]")
        r = fn()
        timings[name] = round(time.time() - t0, 1)
        log(f"[{name}] done in {timings[name]:.1f}s")
        return r

    ex = lambda *p: all(os.path.exists(os.path.join(OUT, x)) for x in p)
    jsonls = [f"{s}_{d}.jsonl" for s in SPLITS for d in DOMAINS]
    bins = [f"{s}_{d}.bin" for s in SPLITS for d in DOMAINS]

    stage("download", all(deb_for(p) and os.path.exists(os.path.join(ROOT, f".extracted-{os.path.basename(deb_for(p))}"))
                          for p in PACKAGES), lambda: stage_download(args.force))
    stage("extract", ex(*jsonls, "sources.json"), stage_extract)
    r = stage("tokenizer", ex("tokenizer.json"), stage_tokenizer)
    if r:
        extra["tokenizer_training"] = r
    t0 = time.time()
    log("[verify]")
    extra["roundtrip"] = verify_roundtrip()
    timings["verify"] = round(time.time() - t0, 1)
    if any(v["failed"] for v in extra["roundtrip"].values()):
        raise SystemExit("tokenizer round-trip FAILED")

    def encode_all():
        for s in SPLITS:
            for d in DOMAINS:
                if args.force or not ex(f"{s}_{d}.bin"):
                    t1 = time.time()
                    stage_encode(s, d)
                    log(f"  {s}_{d}.bin ({time.time() - t1:.1f}s)")
    stage("encode", ex(*bins), encode_all)
    t0 = time.time()
    log("[stats]")
    old = os.path.join(OUT, "stats.json")
    if os.path.exists(old) and not args.force:  # keep timings of stages skipped this run
        prev = json.load(open(old))
        for k, v in prev.get("timings_s", {}).items():
            if timings.get(k) == 0.0:
                timings[k] = v
        if "tokenizer_training" in prev and "tokenizer_training" not in extra:
            extra["tokenizer_training"] = prev["tokenizer_training"]
    timings["stats"] = round(time.time() - t0, 1)
    stats = stage_stats(timings, extra)
    timings["stats"] = round(time.time() - t0, 1)
    timings["total_this_run"] = round(time.time() - t_all, 1)
    stats["timings_s"] = timings
    with open(old, "w") as f:
        json.dump(stats, f, indent=1)
    print_summary(stats, timings)
    if args.bytes:
        stage("bytes", ex("../data-bytes/stats.json") and not args.force, stage_bytes)


if __name__ == "__main__":
    main()
