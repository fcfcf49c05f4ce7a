"""quantize.py: the q8_0 / q4_0 rules (weights/FORMAT.md, "Quantized checkpoints"), the refusal
of widths that are not multiples of 32, the committed fixtures, and export.load_dlcm loading a
quantized directory as the float DLCM of its dequantized weights.
(The Swift converter writing the same bytes: Tests/DLCMRuntimeTests/QuantizedCheckpointTests.swift.)
Run: python3 -m pytest weights/recipe -q"""
import json
import os

import numpy as np
import pytest
import torch

from export import load_dlcm
from quantize import QuantizeError, dequantize_matrix, quantize_dir, quantize_matrix

RESOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "DLCMRuntimeTests", "Resources")
QMAX = {"q8_0": 127, "q4_0": 7}


def sample(rows=6, cols=96, seed=0):
    """Blocks of very different magnitudes, one of zeros."""
    g = np.random.default_rng(seed)
    w = g.uniform(-1, 1, (rows, cols)).astype(np.float32)
    w *= np.array([0.05, 0.3, 1, 4, 100, 0.02], np.float32)[:rows, None]
    w[2, 32:64] = 0
    return w


@pytest.mark.parametrize("qtype", ["q8_0", "q4_0"])
def test_round_trip_is_within_half_a_step(qtype):
    w = sample()
    codes, scales = quantize_matrix(w, qtype)
    assert codes.dtype == (np.int8 if qtype == "q8_0" else np.uint8)
    assert codes.shape == (6, 96 if qtype == "q8_0" else 48) and scales.shape == (6, 3) and scales.dtype == np.float16
    s = scales.astype(np.float32)
    amax = np.abs(w.reshape(6, 3, 32)).max(-1)
    assert (s == (amax / np.float32(QMAX[qtype])).astype(np.float16).astype(np.float32)).all()
    deq = dequantize_matrix(codes, scales, qtype)
    err = np.abs(w - deq).reshape(6, 3, 32)
    assert (err <= s[..., None] / 2).all()
    assert s[2, 1] == 0 and (deq[2, 32:64] == 0).all()


def test_q4_nibbles_and_ties():
    # Scale 1 (max|w| = 7); element j in byte j's low nibble, j + 16 in its high one, as q + 8.
    w = np.zeros((1, 32), np.float32)
    w[0, :15] = np.arange(-7, 8)
    w[0, 15] = 0.5          # ties to even: 0
    w[0, 16:] = -np.arange(16) % 15 - 7 + 0.0
    codes, scales = quantize_matrix(w, "q4_0")
    assert scales[0, 0] == 1
    low, high = (codes[0] & 15).astype(int) - 8, (codes[0] >> 4).astype(int) - 8
    assert list(low) == list(w[0, :15].astype(int)) + [0]
    assert list(high) == list(w[0, 16:].astype(int))
    q8, _ = quantize_matrix(np.array([[127, 2.5, 3.5, -2.5] + [0] * 28], np.float32), "q8_0")
    assert list(q8[0, :4]) == [127, 2, 4, -2]


def test_refuses_a_width_that_is_not_a_multiple_of_32(tmp_path):
    with pytest.raises(QuantizeError, match=r"tensor 'x' is \[2, 48\]: its width 48 is not a multiple of 32"):
        quantize_matrix(np.zeros((2, 48), np.float32), "q8_0", "x")
    # The whole checkpoint: the first such matrix by name (as the Swift converter names it).
    with pytest.raises(QuantizeError, match=r"'backbone.layers.0.attn.wk.weight' is \[12, 48\]"):
        quantize_dir(os.path.join(RESOURCES, "tiny-replicated"), str(tmp_path / "q"), "q8_0")
    with pytest.raises(QuantizeError, match="not finite"):
        quantize_matrix(np.full((1, 32), np.inf, np.float32), "q8_0")


@pytest.mark.parametrize("qtype", ["q8_0", "q4_0"])
def test_fixture_is_what_quantize_writes(tmp_path, qtype):
    out = str(tmp_path / qtype)
    quantize_dir(os.path.join(RESOURCES, "tiny-quant"), out, qtype)
    ref = os.path.join(RESOURCES, f"tiny-quant-{qtype}")
    assert open(os.path.join(out, "model.safetensors"), "rb").read() == open(os.path.join(ref, "model.safetensors"), "rb").read()
    assert json.load(open(os.path.join(out, "config.json"))) == json.load(open(os.path.join(ref, "config.json")))


@pytest.mark.parametrize("qtype", ["q8_0", "q4_0"])
@torch.no_grad()
def test_load_dlcm_reads_a_quantized_directory_as_its_dequantized_model(qtype):
    quantized = load_dlcm(os.path.join(RESOURCES, f"tiny-quant-{qtype}"))
    dequantized = load_dlcm(os.path.join(RESOURCES, f"tiny-quant-{qtype}-dequantized"))
    for (k, a), (k2, b) in zip(quantized.state_dict().items(), dequantized.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    original = load_dlcm(os.path.join(RESOURCES, "tiny-quant"))
    ids = torch.randint(1, original.cfg.vocab_size, (1, 40), generator=torch.Generator().manual_seed(0))
    a, b = original(ids)["logits"], quantized(ids)["logits"]
    assert (a - b).abs().max() < (0.05 if qtype == "q8_0" else 0.5) * a.abs().max()
