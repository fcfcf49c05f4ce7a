"""Expected ids for EVERY validation document of the project's own tokenizer, from the library.

    python3 Tests/TokenizationTests/Scripts/make_project_cases.py [data dir]

The data dir (default /work/main/weights/recipe/data) holds tokenizer.json and
val_{prose,tech,code}.jsonl (one {"id", "text"} object per line); it is git-ignored, so this copies
tokenizer.json and writes everything the Swift test needs into Resources/project/:

  tokenizer.json   a copy of the project tokenizer
  val_cases.bin    all documents with their ids (format below)
  manifest.json    source file hashes, counts, library version

val_cases.bin (little-endian, no compression):
  "TOKCASE1", u32 document count, then per document:
  u8 split (0 prose, 1 tech, 2 code), u32 text byte length, u32 id count, UTF-8 text, ids as u16
  (the vocabulary has 8192 < 65536 entries; a larger one fails here loudly).
Rerun whenever the corpus or the tokenizer is regenerated.
"""
import hashlib
import json
import os
import shutil
import struct
import sys

import tokenizers
from tokenizers import Tokenizer

SPLITS = ["prose", "tech", "code"]
data = sys.argv[1] if len(sys.argv) > 1 else "/work/main/weights/recipe/data"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Resources", "project")
os.makedirs(out, exist_ok=True)


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


tok_path = os.path.join(data, "tokenizer.json")
tok = Tokenizer.from_file(tok_path)
assert tok.get_vocab_size() <= 65536, "ids no longer fit in u16; widen the format"
shutil.copyfile(tok_path, os.path.join(out, "tokenizer.json"))

manifest = {"library": "tokenizers " + tokenizers.__version__, "tokenizer_sha256": sha256(tok_path),
            "vocab_size": tok.get_vocab_size(), "splits": {}}
records = []
for split_index, split in enumerate(SPLITS):
    path = os.path.join(data, f"val_{split}.jsonl")
    docs = tokens = nbytes = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            text = doc["text"]
            raw = text.encode("utf-8")  # fails loudly on lone surrogates, which the library rejects too
            ids = tok.encode(text).ids
            assert tok.decode(ids, skip_special_tokens=False) == text, doc["id"]
            records.append(struct.pack("<BII", split_index, len(raw), len(ids)) + raw + struct.pack(f"<{len(ids)}H", *ids))
            docs += 1
            tokens += len(ids)
            nbytes += len(raw)
    manifest["splits"][split] = {"file": os.path.basename(path), "sha256": sha256(path), "documents": docs,
                                 "tokens": tokens, "bytes": nbytes}
    print(f"{split}: {docs} documents, {nbytes} bytes, {tokens} tokens")

with open(os.path.join(out, "val_cases.bin"), "wb") as f:
    f.write(b"TOKCASE1" + struct.pack("<I", len(records)))
    for record in records:
        f.write(record)
manifest["documents"] = len(records)
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
print("wrote", os.path.normpath(out), os.path.getsize(os.path.join(out, "val_cases.bin")), "bytes")
