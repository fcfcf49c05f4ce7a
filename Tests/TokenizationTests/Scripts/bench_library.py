"""Single-thread encoding throughput of the `tokenizers` library, same input and method as
tokenizer-bench: each document of the JSONL files encoded with Tokenizer.encode (no encode_batch),
one warm-up pass, best of 5.   Usage: bench_library.py <tokenizer.json> <file.jsonl>..."""
import json
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

tok = Tokenizer.from_file(sys.argv[1])
docs = [json.loads(line)["text"] for path in sys.argv[2:] for line in open(path, encoding="utf-8") if line.strip()]
nbytes = sum(len(d.encode("utf-8")) for d in docs)


def run():
    return sum(len(tok.encode(d).ids) for d in docs)


run()
best = float("inf")
for _ in range(5):
    start = time.perf_counter()
    tokens = run()
    best = min(best, time.perf_counter() - start)
print(f"library_mb_per_s={nbytes / best / 1e6:.2f} tokens={tokens} bytes={nbytes} seconds={best:.3f}")
