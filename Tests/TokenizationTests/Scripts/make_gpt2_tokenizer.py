"""Builds Resources/gpt2/tokenizer.json from OpenAI's GPT-2 vocab.json + merges.txt.

The files ship in the PyPI source package openai-whisper==20230124 (MIT licence),
under whisper/assets/gpt2/. Fetch them with (in a venv that has setuptools<70):

    pip download --no-deps --no-build-isolation openai-whisper==20230124
    tar xzf openai-whisper-20230124.tar.gz

then run:  python3 make_gpt2_tokenizer.py openai-whisper-20230124/whisper/assets/gpt2
"""
import os
import sys

from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
from tokenizers.models import BPE

src = sys.argv[1]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Resources", "gpt2", "tokenizer.json")

tok = Tokenizer(BPE.from_file(os.path.join(src, "vocab.json"), os.path.join(src, "merges.txt")))
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.post_processor = processors.ByteLevel(trim_offsets=False)
tok.decoder = decoders.ByteLevel()
# <|endoftext|> is already in vocab.json (id 50256); registering it makes it special.
tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
assert tok.token_to_id("<|endoftext|>") == 50256
tok.save(os.path.normpath(out), pretty=False)
print("wrote", os.path.normpath(out), tok.get_vocab_size())
