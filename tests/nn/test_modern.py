"""Embedding options (padding_idx, max_norm, scale_grad_by_freq, from_pretrained), RMSNorm,
init.trunc_normal_ and weight tying between an Embedding and an output Linear."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.core import PluginHost, use_host
from mnp.core.testing import assert_close
from mnp.nn import functional as F

TOL = dict(rtol=1e-5, atol=1e-6)


def _emb_pair(torch, *args, **kw):
    theirs = torch.nn.Embedding(*args, **kw)
    ours = nn.Embedding(*args, **kw)
    ours.load_state_dict({"weight": theirs.weight.detach().numpy().copy()})
    return ours, theirs


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True},
                                {"scale_grad_by_freq": True, "padding_idx": 0},
                                {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}])
def test_embedding_options_match_torch(torch, rng, kw):
    ours, theirs = _emb_pair(torch, 7, 4, **kw)
    assert repr(ours) == repr(theirs)
    idx = np.array([[0, 2, 2, 5], [6, 2, 0, 0]])
    out_o, out_t = ours(mnp.tensor(idx)), theirs(torch.tensor(idx))
    assert_close(out_o, out_t, **TOL)
    assert_close(ours.weight, theirs.weight.detach(), **TOL)   # max_norm renormalised in place
    w = rng.standard_normal(out_o.shape).astype(np.float32)
    (out_o * mnp.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad, **TOL)


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=1)
    assert emb.weight.numpy()[1].tolist() == [0, 0, 0]
    emb(mnp.tensor([1, 1, 2])).sum().backward()
    assert emb.weight.grad.numpy()[1].tolist() == [0, 0, 0]
    assert emb.weight.grad.numpy()[2].tolist() == [1, 1, 1]


def test_embedding_from_pretrained_and_functional(torch):
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(mnp.tensor(table))
    assert not emb.weight.requires_grad and emb.weight.shape == (4, 3)
    np.testing.assert_array_equal(emb(mnp.tensor([3, 0])).numpy(), table[[3, 0]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0, max_norm=10.0)
    assert trainable.weight.requires_grad
    t = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=False, padding_idx=0,
                                           max_norm=10.0)
    assert_close(trainable(mnp.tensor([3, 1])), t(torch.tensor([3, 1])), **TOL)
    assert repr(trainable) == repr(t)
    w = mnp.tensor(table.copy())
    assert_close(F.embedding(mnp.tensor([2, 3]), w, max_norm=5.0),
                 torch.nn.functional.embedding(torch.tensor([2, 3]), torch.tensor(table),
                                               max_norm=5.0), **TOL)
    with pytest.raises(mnp.ShapeError, match="2-d"):
        nn.Embedding.from_pretrained(np.zeros(3))
    with pytest.raises(nn.ArgumentError, match="sparse"):
        nn.Embedding(3, 2, sparse=True)


def test_pretrained_embedding_model_file_keeps_weights_not_config(tmp_path):
    emb = nn.Embedding.from_pretrained(np.ones((3, 2), np.float32) * 2, freeze=False)
    assert emb.get_config()["_weight"] is None
    nn.save(emb, tmp_path / "e.safetensors")
    back = nn.load(tmp_path / "e.safetensors")
    np.testing.assert_array_equal(back.weight.numpy(), emb.weight.numpy())


# -- RMSNorm ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,ns", [((4, 6), 6), ((2, 3, 5), (3, 5)), ((3, 4), (4,))])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_matches_torch(torch, rng, shape, ns, eps, affine):
    ours = nn.RMSNorm(ns, eps=eps, elementwise_affine=affine)
    theirs = torch.nn.RMSNorm(ns, eps=eps, elementwise_affine=affine)
    if affine:
        w = rng.standard_normal(theirs.weight.shape).astype(np.float32)
        ours.load_state_dict({"weight": w})
        theirs.load_state_dict({"weight": torch.tensor(w)})
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal(shape).astype(np.float32)
    xo, xt = mnp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo, yt, rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(shape).astype(np.float32)
    (yo * mnp.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    assert_close(xo.grad, xt.grad, rtol=1e-4, atol=1e-5)
    if affine:
        assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-5)


def test_rms_norm_finite_differences_and_errors(rng):
    x = mnp.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    w = mnp.tensor(rng.standard_normal(5), requires_grad=True)
    assert mnp.grad_check(lambda x, w: (F.rms_norm(x, 5, w, 1e-4) ** 2).sum() +
                          F.rms_norm(x, (5,), None).sum(), [x, w])
    with pytest.raises(mnp.ShapeError, match="normalized_shape"):
        nn.RMSNorm(4)(mnp.zeros((2, 5)))
    with pytest.raises(mnp.ShapeError, match="weight"):
        F.rms_norm(mnp.zeros((2, 5)), 5, mnp.ones(4))


# -- trunc_normal_ ---------------------------------------------------------------------------------
def test_trunc_normal_bounds_and_moments():
    mnp.manual_seed(0)
    t = nn.init.trunc_normal_(mnp.empty(200, 200), mean=1.0, std=2.0, a=-1.0, b=2.0)
    v = t.numpy()
    assert v.min() >= -1.0 and v.max() <= 2.0
    # a N(1, 2) truncated to [-1, 2]: alpha = -1, beta = 0.5
    from math import erf, exp, pi, sqrt
    phi = lambda z: exp(-z * z / 2) / sqrt(2 * pi)            # noqa: E731
    cdf = lambda z: 0.5 * (1 + erf(z / sqrt(2)))              # noqa: E731
    Z = cdf(0.5) - cdf(-1.0)
    mean = 1.0 + 2.0 * (phi(-1.0) - phi(0.5)) / Z
    assert abs(v.mean() - mean) < 0.01
    mnp.manual_seed(0)
    again = nn.init.trunc_normal_(mnp.empty(200, 200), mean=1.0, std=2.0, a=-1.0, b=2.0)
    np.testing.assert_array_equal(again.numpy(), v)


# -- weight tying ----------------------------------------------------------------------------------
class TiedLM(nn.Module):
    """Embedding and output projection sharing one weight."""

    def __init__(self, vocab: int = 11, dim: int = 4):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, idx):
        return self.head(self.emb(idx).tanh())


def test_tied_weight_is_one_parameter_with_summed_gradients(torch, rng):
    model = TiedLM()
    assert model.head.weight is model.emb.weight
    assert len(list(model.parameters())) == 1
    assert list(model.state_dict()) == ["emb.weight", "head.weight"]
    tmodel = torch.nn.ModuleDict({"emb": torch.nn.Embedding(11, 4),
                                  "head": torch.nn.Linear(4, 11, bias=False)})
    tmodel["head"].weight = tmodel["emb"].weight
    assert list(tmodel.state_dict()) == list(model.state_dict())
    tmodel["emb"].weight.data[...] = torch.tensor(model.emb.weight.numpy())
    idx = np.array([[1, 4, 4, 9], [0, 10, 2, 4]])
    out = model(mnp.tensor(idx))
    tout = tmodel["head"](tmodel["emb"](torch.tensor(idx)).tanh())
    assert_close(out, tout, **TOL)
    F.cross_entropy(out.reshape(-1, 11), mnp.tensor(idx.reshape(-1))).backward()
    torch.nn.functional.cross_entropy(tout.reshape(-1, 11),
                                      torch.tensor(idx.reshape(-1))).backward()
    assert_close(model.emb.weight.grad, tmodel["emb"].weight.grad, **TOL)
    # the sum of both uses: not the embedding's part alone
    only_emb = np.zeros((11, 4), np.float32)
    assert not np.allclose(model.emb.weight.grad.numpy(), only_emb)
    # loading a state dict with both keys keeps the tie
    sd = {k: v.numpy() * 0 + 3 for k, v in model.state_dict().items()}
    model.load_state_dict(sd)
    assert model.head.weight is model.emb.weight and model.head.weight.numpy().max() == 3


def test_tied_model_round_trips_through_model_files(tmp_path, rng):
    import importlib.metadata as md
    import types
    plugin = types.ModuleType("tied_plugin")

    @mnp.hookimpl
    def mnp_register_layers(register):
        register("TiedLM", TiedLM)

    plugin.mnp_register_layers = mnp_register_layers

    class _EntryPoint:
        name, value, dist = "tied", "tied_plugin", None

        def load(self):
            return plugin

    model = TiedLM()
    with use_host(PluginHost(entry_points=lambda: list(md.entry_points(group="mnp")) +
                             [_EntryPoint()], environ={})):
        nn.save(model, tmp_path / "t.safetensors")
        back = nn.load(tmp_path / "t.safetensors")
    assert back.head.weight is back.emb.weight
    assert len(list(back.parameters())) == 1
    np.testing.assert_array_equal(back.emb.weight.numpy(), model.emb.weight.numpy())
    idx = mnp.tensor(rng.integers(0, 11, (2, 5)))
    np.testing.assert_array_equal(back(idx).numpy(), model(idx).numpy())


def test_rms_norm_and_embedding_options_round_trip_through_model_files(tmp_path, rng):
    model = nn.Sequential(nn.Embedding(6, 4, padding_idx=0, max_norm=2.0, scale_grad_by_freq=True),
                          nn.RMSNorm(4, eps=1e-3), nn.RMSNorm((4,), elementwise_affine=False))
    model[1].weight.data[...] = rng.standard_normal(4)
    nn.save(model, tmp_path / "m.safetensors")
    back = nn.load(tmp_path / "m.safetensors")
    assert repr(back) == repr(model)
    idx = mnp.tensor([[1, 5, 0]])
    np.testing.assert_array_equal(back(idx).numpy(), model(idx).numpy())


def test_embedding_gradient_sums_repeated_and_negative_indices():
    """Rows looked up several times, also as a negative index counted from the end, get the
    sum of their gradients (the segment sum of the backward)."""
    w = mnp.tensor(np.arange(15, dtype=np.float64).reshape(5, 3), requires_grad=True)
    idx = mnp.tensor([[-1, 4, 0], [2, 4, 0]])
    g = np.random.default_rng(0).standard_normal((2, 3, 3))
    (nn.functional.embedding(idx, w) * mnp.tensor(g)).sum().backward()
    expect = np.zeros((5, 3))
    np.add.at(expect, np.array([4, 4, 0, 2, 4, 0]), g.reshape(-1, 3))
    np.testing.assert_allclose(w.grad.numpy(), expect, rtol=1e-12)
