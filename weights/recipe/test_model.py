"""Reference-model tests: the incremental step() reproduces the parallel forward (the model is
causal), and the replicated mode computed over unique concepts with a log-count bias equals the
paper's literal repeat_interleave form. Run: python3 -m pytest weights/recipe -q"""
import pytest
import torch

from model import DLCM, DLCMConfig, DenseConfig, DenseLM, StackConfig, global_parser_loss
from tiny import tiny_config, tiny_model


def random_ids(cfg, L, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, cfg.vocab_size, (1, L), generator=g)


@pytest.mark.parametrize("mode", ["replicated", "unique"])
def test_step_matches_forward(mode):
    model = tiny_model(mode, seed=1)
    cfg = model.cfg
    for seed in range(3):
        ids = random_ids(cfg, 48, seed)
        with torch.no_grad():
            full = model(ids)
        st = model.new_state()
        logits = torch.stack([st.step(int(t)) for t in ids[0]])
        assert st.b_hist == full["b"][0].tolist()
        assert st.n_concepts + 1 == int(full["n_concepts"][0])   # the open segment is not a concept yet
        torch.testing.assert_close(torch.tensor(st.p_hist), full["p"][0], atol=1e-5, rtol=0)
        torch.testing.assert_close(logits, full["logits"][0], atol=1e-4, rtol=0)
        # Boundaries must actually fire, or the test proves nothing about concepts.
        assert 3 <= st.n_concepts <= 40


def test_windowed_step_matches_forward():
    # --token-window: the encoder and decoder see at most 5 tokens; step() (one query against the
    # cache) and forward() (a mask over the whole window) must agree.
    model = tiny_model("replicated", seed=1)
    model.cfg.encoder.window = model.cfg.decoder.window = 5
    for stack in (model.encoder, model.decoder):
        for layer in stack.layers:
            layer.attn.window = 5
    ids = random_ids(model.cfg, 40, 7)
    with torch.no_grad():
        full = model(ids)
    st = model.new_state()
    logits = torch.stack([st.step(int(t)) for t in ids[0]])
    assert st.b_hist == full["b"][0].tolist()
    torch.testing.assert_close(logits, full["logits"][0], atol=1e-4, rtol=0)
    assert model.cfg.to_json()["encoder"]["window"] == 5 and "window" not in DLCMConfig().to_json()["encoder"]


def test_first_state_pooling():
    # "mean+first": step() == forward(), pool_first gets a gradient, it changes the logits, and the
    # config says so (the default stays out of config.json).
    cfg = tiny_config()
    cfg.pooling = "mean+first"
    model = tiny_model(config=cfg, seed=2)
    ids = random_ids(model.cfg, 40, 9)
    with torch.no_grad():
        full = model(ids)
    st = model.new_state()
    logits = torch.stack([st.step(int(t)) for t in ids[0]])
    assert st.b_hist == full["b"][0].tolist() and st.n_concepts >= 3
    torch.testing.assert_close(logits, full["logits"][0], atol=1e-4, rtol=0)
    with torch.no_grad():
        model.pool_first.weight.zero_()
        assert not torch.allclose(model(ids)["logits"], full["logits"])
    assert model.cfg.to_json()["pooling"] == "mean+first" and "pooling" not in DLCMConfig().to_json()
    model = tiny_model(config=cfg, seed=2)
    out = model(ids[:, :-1], sample=True)
    torch.nn.functional.cross_entropy(out["logits"].flatten(0, 1), ids[:, 1:].flatten()).backward()
    assert model.pool_first.weight.grad.abs().sum() > 0


def test_replicated_equals_literal_repeat_interleave():
    model = tiny_model("replicated", seed=2)
    for seed in range(3):
        ids = random_ids(model.cfg, 64, 10 + seed)
        with torch.no_grad():
            a = model(ids)["logits"]
            b = model(ids, literal=True)["logits"]
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_modes_differ():
    """If the log-count bias did nothing, the two modes would agree: they must not."""
    model = tiny_model("replicated", seed=3)
    ids = random_ids(model.cfg, 64, 5)
    with torch.no_grad():
        a = model(ids, mode="replicated")["logits"]
        b = model(ids, mode="unique")["logits"]
    assert (a - b).abs().max() > 1e-4


def test_batched_forward_matches_single_rows():
    model = tiny_model("replicated", seed=4)
    ids = torch.cat([random_ids(model.cfg, 40, s) for s in range(3)])
    with torch.no_grad():
        batch = model(ids)["logits"]
        rows = torch.cat([model(ids[i:i + 1])["logits"] for i in range(3)])
    torch.testing.assert_close(batch, rows, atol=1e-5, rtol=0)


def test_future_tokens_do_not_change_past_logits():
    model = tiny_model("unique", seed=5)
    ids = random_ids(model.cfg, 40, 7)
    ids2 = ids.clone()
    ids2[0, 30:] = random_ids(model.cfg, 10, 99)[0]
    with torch.no_grad():
        a, b = model(ids)["logits"], model(ids2)["logits"]
    torch.testing.assert_close(a[0, :30], b[0, :30], atol=1e-5, rtol=0)


def test_global_parser_loss_is_zero_at_target():
    p = torch.full((4, 100), 0.25)
    b = torch.zeros(4, 100)
    b[:, ::4] = 1
    assert abs(float(global_parser_loss(p, b, 4.0))) < 1e-6
    assert float(global_parser_loss(torch.full((4, 100), 0.9), torch.ones(4, 100), 4.0)) > 0.1


def test_training_forward_has_gradients_everywhere():
    model = tiny_model("replicated", seed=6)
    ids = random_ids(model.cfg, 33, 3)
    out = model(ids[:, :-1], sample=True)
    loss = torch.nn.functional.cross_entropy(out["logits"].flatten(0, 1), ids[:, 1:].flatten())
    loss = loss + 0.03 * global_parser_loss(out["p"], out["b"], model.cfg.target_r)
    loss.backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert no_grad == [], no_grad


def test_dense_baseline_runs():
    cfg = DenseConfig(vocab_size=64, d_model=32, d_base=16, stack=StackConfig(2, 4, 2, 64))
    m = DenseLM(cfg)
    assert m(torch.randint(0, 64, (2, 9)))["logits"].shape == (2, 9, 64)
