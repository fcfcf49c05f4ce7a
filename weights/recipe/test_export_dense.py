"""export_dense.py: a dense baseline written as a directory loads back to the same model."""
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_dense import load_dense, save_dense  # noqa: E402
from model import DenseConfig, DenseLM, StackConfig  # noqa: E402


def test_directory_round_trip_in_f32_and_bf16():
    torch.manual_seed(0)
    model = DenseLM(DenseConfig(vocab_size=300, d_model=64, d_base=128, stack=StackConfig(2, 4, 2, 96))).eval()
    ids = torch.randint(0, 300, (2, 17))
    with torch.no_grad():
        want = model(ids)["logits"]
    for dtype, tol in (("float32", 0.0), ("bfloat16", 0.05)):
        with tempfile.TemporaryDirectory() as d:
            save_dense(model, d, dtype)
            back = load_dense(d)
            assert back.cfg == model.cfg
            with torch.no_grad():
                got = back(ids)["logits"]
            assert (got - want).abs().max().item() <= tol * want.abs().max().item(), dtype


def test_checkpoint_and_directory_agree():
    torch.manual_seed(1)
    model = DenseLM(DenseConfig(vocab_size=300, d_model=64, d_base=128, stack=StackConfig(1, 4, 2, 96))).eval()
    with tempfile.TemporaryDirectory() as d:
        pt = os.path.join(d, "checkpoint.pt")
        torch.save(dict(config=model.cfg.to_json(), state_dict=model.state_dict()), pt)
        save_dense(load_dense(pt), os.path.join(d, "out"), "float32")
        a, b = load_dense(pt), load_dense(os.path.join(d, "out"))
        for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
            assert ka == kb and torch.equal(va, vb)
