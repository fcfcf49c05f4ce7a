"""export_gguf.py: the wq/wk row permutation turns DenseLM's rotate-half RoPE into llama.cpp's
adjacent-pair RoPE, and the GGUF file holds what llama.cpp's llama architecture reads.
(End-to-end parity with llama.cpp itself: bench/llamacpp/parity.py.)
Run: python3 -m pytest weights/recipe -q"""
import os

import numpy as np
import pytest
import torch

gguf = pytest.importorskip("gguf")

from export_gguf import rotate_half_to_interleaved, write_gguf  # noqa: E402
from model import DenseConfig, DenseLM, StackConfig, apply_rope, rope_tables  # noqa: E402

TOKENIZER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dlcm-10m-debian", "tokenizer.json")


def adjacent_pair_rope(x: torch.Tensor, pos: torch.Tensor, theta: float) -> torch.Tensor:
    """llama.cpp's LLAMA_ROPE_TYPE_NORM: pair (2i, 2i+1) rotates by pos * theta^(-2i/hd)."""
    hd = x.shape[-1]
    inv = theta ** (-torch.arange(0, hd // 2, dtype=torch.float64) * 2 / hd)
    ang = (pos[:, None].double() * inv).float()
    c, s = ang.cos(), ang.sin()
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * c - b * s, a * s + b * c], -1).flatten(-2)


@pytest.mark.parametrize("heads", [4, 2])
def test_permuted_projection_with_adjacent_rope_gives_the_same_scores(heads):
    torch.manual_seed(0)
    hd, d, n = 48, 192, 12
    wq, wk, x = torch.randn(heads * hd, d), torch.randn(heads * hd, d), torch.randn(n, d)
    pos = torch.arange(n)
    cos, sin = rope_tables(pos, hd, 10000.0)

    def heads_of(w):
        return (x @ w.T).view(n, heads, hd).transpose(0, 1)

    want = apply_rope(heads_of(wq), cos, sin) @ apply_rope(heads_of(wk), cos, sin).transpose(-1, -2)
    q = adjacent_pair_rope(heads_of(rotate_half_to_interleaved(wq, heads)), pos, 10000.0)
    k = adjacent_pair_rope(heads_of(rotate_half_to_interleaved(wk, heads)), pos, 10000.0)
    assert torch.allclose(q @ k.transpose(-1, -2), want, atol=1e-3, rtol=1e-4)
    # Without the permutation the scores differ: the test can tell.
    q0 = adjacent_pair_rope(heads_of(wq), pos, 10000.0)
    k0 = adjacent_pair_rope(heads_of(wk), pos, 10000.0)
    assert not torch.allclose(q0 @ k0.transpose(-1, -2), want, atol=1e-1)


def test_gguf_file_holds_llama_tensors_and_vocabulary(tmp_path):
    torch.manual_seed(1)
    cfg = DenseConfig(d_model=64, d_base=128, stack=StackConfig(2, 4, 2, 96))
    model = DenseLM(cfg).eval()
    path = str(tmp_path / "dense.gguf")
    write_gguf(model, TOKENIZER, path, "f32")
    r = gguf.GGUFReader(path)
    field = {k: f.contents() for k, f in r.fields.items()}
    assert field["general.architecture"] == "llama"
    assert field["llama.block_count"] == 2 and field["llama.embedding_length"] == 64
    assert field["llama.attention.head_count"] == 4 and field["llama.attention.head_count_kv"] == 2
    assert field["llama.rope.dimension_count"] == 16 and field["llama.feed_forward_length"] == 96
    assert field["tokenizer.ggml.model"] == "gpt2" and field["tokenizer.ggml.pre"] == "gpt-2"
    assert len(field["tokenizer.ggml.tokens"]) == 8192 and field["tokenizer.ggml.tokens"][0] == "<|endoftext|>"
    assert field["tokenizer.ggml.bos_token_id"] == 0 and field["tokenizer.ggml.eos_token_id"] == 0
    assert field["tokenizer.ggml.merges"][0] == "Ġ Ġ"
    t = {x.name: np.asarray(x.data) for x in r.tensors}
    assert len(t) == 2 + 9 * 2 + 1
    sd = model.state_dict()
    # logit_scale (128/64 = 2) folded into output.weight.
    np.testing.assert_allclose(t["output.weight"], sd["lm_head.weight"].numpy() * 2, rtol=1e-6)
    np.testing.assert_array_equal(t["blk.1.attn_q.weight"],
                                  rotate_half_to_interleaved(sd["stack.layers.1.attn.wq.weight"], 4).numpy())
    np.testing.assert_array_equal(t["blk.1.attn_k.weight"],
                                  rotate_half_to_interleaved(sd["stack.layers.1.attn.wk.weight"], 2).numpy())
    np.testing.assert_array_equal(t["blk.0.ffn_gate.weight"], sd["stack.layers.0.ffn.w1.weight"].numpy())
    np.testing.assert_array_equal(t["blk.0.ffn_up.weight"], sd["stack.layers.0.ffn.w3.weight"].numpy())
    np.testing.assert_array_equal(t["blk.0.ffn_down.weight"], sd["stack.layers.0.ffn.w2.weight"].numpy())


@pytest.mark.parametrize("dtype", ["q8_0", "q4_0"])
def test_quantized_gguf_with_a_vocabulary_padded_past_the_tokenizer(tmp_path, dtype):
    torch.manual_seed(2)
    cfg = DenseConfig(vocab_size=8192 + 40, d_model=64, d_base=64, stack=StackConfig(1, 4, 2, 96))
    model = DenseLM(cfg).eval()
    path = str(tmp_path / f"dense-{dtype}.gguf")
    write_gguf(model, TOKENIZER, path, dtype)
    r = gguf.GGUFReader(path)
    field = {k: f.contents() for k, f in r.fields.items()}
    tokens, types = field["tokenizer.ggml.tokens"], field["tokenizer.ggml.token_type"]
    assert len(tokens) == len(types) == 8232 and len(set(tokens)) == 8232
    assert tokens[8191] != "<|unused_8191|>" and tokens[8192] == "<|unused_8192|>"
    assert types[8191] == gguf.TokenType.NORMAL and set(types[8192:]) == {gguf.TokenType.UNUSED}
    qtype = getattr(gguf.GGMLQuantizationType, dtype.upper())
    t = {x.name: x for x in r.tensors}
    assert t["blk.0.ffn_down.weight"].tensor_type == qtype and t["token_embd.weight"].tensor_type == qtype
    assert t["blk.0.attn_norm.weight"].tensor_type == gguf.GGMLQuantizationType.F32
    w = model.state_dict()["stack.layers.0.ffn.w2.weight"].numpy()
    back = gguf.quants.dequantize(np.asarray(t["blk.0.ffn_down.weight"].data), qtype).reshape(w.shape)
    assert np.abs(back - w).max() <= (0.01 if dtype == "q8_0" else 0.2) * np.abs(w).max()
