"""RNN, LSTM, GRU and their cells against PyTorch: outputs, final states and every gradient,
over layer counts, bias, batch_first, bidirectional, projections, initial states, unbatched
and packed inputs; float64 finite differences for the cells; state dicts and model files."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.core.testing import assert_close
from mnp.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

TOL = dict(rtol=2e-4, atol=2e-5)


def _pair(torch, cls, *args, **kw):
    """The same layer in torch and mnp, mnp loading torch's state dict unchanged."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(*args, **kw)
    ours = getattr(nn, cls)(*args, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _states(torch, rng, cls, shape, c_shape=None):
    h = rng.standard_normal(shape).astype(np.float32)
    if cls != "LSTM":
        return (mnp.tensor(h, requires_grad=True), torch.tensor(h, requires_grad=True))
    c = rng.standard_normal(c_shape or shape).astype(np.float32)
    ours = (mnp.tensor(h, requires_grad=True), mnp.tensor(c, requires_grad=True))
    theirs = (torch.tensor(h, requires_grad=True), torch.tensor(c, requires_grad=True))
    return ours, theirs


def _flat(out):
    """(output, h) or (output, (h, c)) as a flat list of tensors."""
    o, h = out
    return [o] + (list(h) if isinstance(h, tuple) else [h])


def _compare(torch, ours, theirs, x_np, hx=None, rng=None):
    """Forward and backward with random output gradients; compare everything."""
    x_ours, x_theirs = mnp.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    if hx is None:
        o_out, t_out = ours(x_ours), theirs(x_theirs)
    else:
        o_out, t_out = ours(x_ours, hx[0]), theirs(x_theirs, hx[1])
    o_list, t_list = _flat(o_out), _flat(t_out)
    loss_o, loss_t = 0, 0
    for o, t in zip(o_list, t_list):
        assert o.shape == tuple(t.shape)
        assert_close(o, t, **TOL)
        w = rng.standard_normal(o.shape).astype(np.float32)
        loss_o = loss_o + (o * mnp.tensor(w)).sum()
        loss_t = loss_t + (t * torch.tensor(w)).sum()
    loss_o.backward()
    loss_t.backward()
    assert_close(x_ours.grad, x_theirs.grad, **TOL)
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        assert_close(p.grad, tp.grad, rtol=2e-4, atol=1e-4)
    if hx is not None:
        o_h = hx[0] if isinstance(hx[0], tuple) else (hx[0],)
        t_h = hx[1] if isinstance(hx[1], tuple) else (hx[1],)
        for a, b in zip(o_h, t_h):
            assert_close(a.grad, b.grad, **TOL)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_layers_match_torch(torch, rng, cls, num_layers, bidirectional, batch_first):
    ours, theirs = _pair(torch, cls, 5, 7, num_layers=num_layers, bidirectional=bidirectional,
                         batch_first=batch_first)
    x = rng.standard_normal((3, 6, 5) if batch_first else (6, 3, 5)).astype(np.float32)
    _compare(torch, ours, theirs, x, rng=rng)


@pytest.mark.parametrize("cls,kw", [("LSTM", {}), ("GRU", {}), ("RNN", {}),
                                    ("RNN", {"nonlinearity": "relu"}),
                                    ("LSTM", {"proj_size": 3}),
                                    ("LSTM", {"proj_size": 2, "bidirectional": True})])
@pytest.mark.parametrize("bias", [True, False])
def test_initial_states_bias_and_options_match_torch(torch, rng, cls, kw, bias):
    ours, theirs = _pair(torch, cls, 4, 6, num_layers=2, bias=bias, **kw)
    dirs = 2 if kw.get("bidirectional") else 1
    out = kw.get("proj_size", 0) or 6
    hx = _states(torch, rng, cls, (2 * dirs, 3, out), (2 * dirs, 3, 6))
    _compare(torch, ours, theirs, rng.standard_normal((5, 3, 4)).astype(np.float32), hx, rng)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_unbatched_input_matches_torch(torch, rng, cls):
    ours, theirs = _pair(torch, cls, 4, 5, num_layers=2, bidirectional=True)
    hx = _states(torch, rng, cls, (4, 5))
    _compare(torch, ours, theirs, rng.standard_normal((6, 4)).astype(np.float32), hx, rng)


def test_dropout_is_inactive_in_eval_and_active_in_training(torch, rng):
    ours, theirs = _pair(torch, "LSTM", 4, 5, num_layers=2, dropout=0.5)
    ours.eval(), theirs.eval()
    _compare(torch, ours, theirs, rng.standard_normal((4, 2, 4)).astype(np.float32), rng=rng)
    ours.train()
    x = mnp.tensor(rng.standard_normal((4, 2, 4)).astype(np.float32))
    mnp.manual_seed(0)
    a = ours(x)[0]
    b = ours.eval()(x)[0]
    assert not np.allclose(a.numpy(), b.numpy())


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_unsorted_lengths_match_torch(torch, rng, cls, bidirectional, batch_first):
    ours, theirs = _pair(torch, cls, 3, 4, num_layers=2, bidirectional=bidirectional,
                         batch_first=batch_first)
    lengths = [3, 6, 1, 4, 6]
    B, T = len(lengths), max(lengths)
    x_np = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3)).astype(np.float32)
    dirs = 2 if bidirectional else 1
    hx = _states(torch, rng, cls, (2 * dirs, B, 4))
    x_o, x_t = mnp.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    p_o = pack_padded_sequence(x_o, lengths, batch_first=batch_first, enforce_sorted=False)
    p_t = torch.nn.utils.rnn.pack_padded_sequence(x_t, torch.tensor(lengths),
                                                  batch_first=batch_first, enforce_sorted=False)
    assert p_o.batch_sizes.tolist() == p_t.batch_sizes.tolist()
    out_o, h_o = ours(p_o, hx[0])
    out_t, h_t = theirs(p_t, hx[1])
    assert isinstance(out_o, nn.utils.rnn.PackedSequence)
    assert_close(out_o.data, out_t.data, **TOL)
    pad_o, len_o = pad_packed_sequence(out_o, batch_first=batch_first)
    pad_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first=batch_first)
    assert len_o.tolist() == len_t.tolist() == lengths
    assert_close(pad_o, pad_t, **TOL)
    outs_o = [pad_o] + (list(h_o) if cls == "LSTM" else [h_o])
    outs_t = [pad_t] + (list(h_t) if cls == "LSTM" else [h_t])
    loss_o = loss_t = 0
    for o, t in zip(outs_o, outs_t):
        assert_close(o, t, **TOL)
        w = rng.standard_normal(o.shape).astype(np.float32)
        loss_o = loss_o + (o * mnp.tensor(w)).sum()
        loss_t = loss_t + (t * torch.tensor(w)).sum()
    loss_o.backward()
    loss_t.backward()
    assert_close(x_o.grad, x_t.grad, **TOL)
    pad_mask = np.arange(T)[None, :] >= np.array(lengths)[:, None]      # (B, T)
    grad = x_o.grad.numpy() if batch_first else x_o.grad.numpy().swapaxes(0, 1)
    assert np.all(grad[pad_mask] == 0)                # padded steps get no gradient
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p.grad, tp.grad, rtol=2e-4, atol=1e-4)
    for a, b in zip(hx[0] if cls == "LSTM" else (hx[0],), hx[1] if cls == "LSTM" else (hx[1],)):
        assert_close(a.grad, b.grad, **TOL)


def test_sorted_packed_sequence_matches_torch(torch, rng):
    ours, theirs = _pair(torch, "GRU", 3, 4)
    x_np = rng.standard_normal((5, 3, 3)).astype(np.float32)
    p_o = pack_padded_sequence(mnp.tensor(x_np), [5, 3, 2])
    p_t = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x_np), [5, 3, 2])
    assert p_o.sorted_indices is None and p_o.unsorted_indices is None
    out_o, h_o = ours(p_o)
    out_t, h_t = theirs(p_t)
    assert_close(out_o.data, out_t.data, **TOL)
    assert_close(h_o, h_t, **TOL)


@pytest.mark.parametrize("cls,kw", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                    ("LSTMCell", {}), ("GRUCell", {}), ("GRUCell", {"bias": False}),
                                    ("LSTMCell", {"bias": False})])
@pytest.mark.parametrize("unbatched", [False, True])
def test_cells_match_torch(torch, rng, cls, kw, unbatched):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(4, 5, **kw)
    ours = getattr(nn, cls)(4, 5, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: mnp.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    shape = (5,) if unbatched else (3, 5)
    x_np = rng.standard_normal((4,) if unbatched else (3, 4)).astype(np.float32)
    x_o, x_t = mnp.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    hx = _states(torch, rng, "LSTM" if cls == "LSTMCell" else cls, shape)
    out_o, out_t = ours(x_o, hx[0]), theirs(x_t, hx[1])
    outs_o = list(out_o) if cls == "LSTMCell" else [out_o]
    outs_t = list(out_t) if cls == "LSTMCell" else [out_t]
    loss_o = loss_t = 0
    for o, t in zip(outs_o, outs_t):
        assert o.shape == tuple(t.shape)
        assert_close(o, t, **TOL)
        w = rng.standard_normal(o.shape).astype(np.float32)
        loss_o = loss_o + (o * mnp.tensor(w)).sum()
        loss_t = loss_t + (t * torch.tensor(w)).sum()
    loss_o.backward()
    loss_t.backward()
    assert_close(x_o.grad, x_t.grad, **TOL)
    for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p.grad, tp.grad, **TOL)
    for a, b in zip(hx[0] if cls == "LSTMCell" else (hx[0],),
                    hx[1] if cls == "LSTMCell" else (hx[1],)):
        assert_close(a.grad, b.grad, **TOL)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_pass_finite_differences(rng, cls):
    cell = getattr(nn, cls)(3, 4).double()
    params = list(cell.parameters())
    x = mnp.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = mnp.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    c = mnp.tensor(rng.standard_normal((2, 4)), requires_grad=True)

    def fn(x, h, c, *ps):
        out = cell(x, (h, c)) if cls == "LSTMCell" else cell(x, h) * (c * 0 + 1)
        return (out[0] * out[1]).sum() + out[0].sum() if cls == "LSTMCell" else (out * out).sum()

    assert mnp.grad_check(fn, [x, h, c] + params)


@pytest.mark.parametrize("cls,kw", [("LSTM", {}), ("GRU", {}), ("RNN", {}),
                                    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
                                    ("LSTM", {"proj_size": 2, "num_layers": 2, "bias": False})])
def test_packed_layer_passes_finite_differences(rng, cls, kw):
    layer = getattr(nn, cls)(2, 3, bidirectional=True, **kw).double()
    x = mnp.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)

    def fn(x, *ps):
        packed = pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False)
        out, h = layer(packed)
        h = h[0] if cls == "LSTM" else h
        return (out.data * out.data).sum() + (h * h).sum()

    assert mnp.grad_check(fn, [x] + list(layer.parameters()))


def test_init_range_and_parameter_names():
    mnp.manual_seed(0)
    lstm = nn.LSTM(3, 16, num_layers=2, bidirectional=True, proj_size=4)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert "weight_hr_l1_reverse" in names and len(names) == 20
    assert lstm.weight_ih_l1.shape == (64, 8) and lstm.weight_hh_l0.shape == (64, 4)
    k = 1 / 4
    for p in lstm.parameters():
        assert np.all(np.abs(p.numpy()) <= k) and p.numpy().std() > k / 4


@pytest.mark.parametrize("cls,kw", [("LSTM", {"num_layers": 2, "bidirectional": True}),
                                    ("GRU", {}), ("RNN", {"nonlinearity": "relu"})])
def test_torch_state_dict_loads_and_gives_equal_outputs(torch, rng, cls, kw):
    theirs = getattr(torch.nn, cls)(6, 8, **kw)
    ours = getattr(nn, cls)(6, 8, **kw)
    ours.load_state_dict(theirs.state_dict())   # torch tensors convert through numpy
    x = rng.standard_normal((5, 2, 6)).astype(np.float32)
    for a, b in zip(_flat(ours(mnp.tensor(x))), _flat(theirs(torch.tensor(x)))):
        assert_close(a, b, **TOL)


@pytest.mark.parametrize("cls,kw", [("LSTM", {"num_layers": 2, "bidirectional": True,
                                              "proj_size": 3, "batch_first": True}),
                                    ("GRU", {"bias": False}), ("RNN", {"nonlinearity": "relu"}),
                                    ("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {})])
def test_save_load_round_trip(tmp_path, rng, cls, kw):
    layer = getattr(nn, cls)(4, 5, **kw)
    model = nn.Sequential(layer) if cls.endswith("Cell") else layer
    path = tmp_path / "m.safetensors"
    nn.save(model, path)
    back = nn.load(path)
    assert repr(back) == repr(model)
    x = mnp.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    x = x[0] if cls.endswith("Cell") else x
    for a, b in zip(_flat(model(x)) if not cls.endswith("Cell") else [model(x)],
                    _flat(back(x)) if not cls.endswith("Cell") else [back(x)]):
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_bad_inputs_are_clear_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(mnp.ShapeError, match="input_size=3"):
        lstm(mnp.zeros((2, 2, 5)))
    with pytest.raises(mnp.ShapeError, match="4-d|3-d"):
        lstm(mnp.zeros((2, 2, 2, 3)))
    with pytest.raises(mnp.ShapeError, match=r"c_0 of shape \(1, 2, 4\)"):
        lstm(mnp.zeros((5, 2, 3)), (mnp.zeros((1, 2, 4)), mnp.zeros((1, 3, 4))))
    with pytest.raises(nn.ArgumentError, match="tuple"):
        lstm(mnp.zeros((5, 2, 3)), mnp.zeros((1, 2, 4)))
    with pytest.raises(nn.ArgumentError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(nn.ArgumentError, match="proj_size"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(TypeError, match="proj_size"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(mnp.ShapeError, match="GRUCell"):
        nn.GRUCell(3, 4)(mnp.zeros((2, 5)))



@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_weight_changed_in_place_before_backward_is_an_autograd_error(rng, cls):
    """The time loop's backward reads the recurrent weights: an optimizer step (an in-place
    change) between forward and backward is caught, as in PyTorch."""
    layer = getattr(nn, cls)(3, 4)
    out, _ = layer(mnp.tensor(rng.standard_normal((5, 2, 3)).astype(np.float32)))
    with mnp.no_grad():
        layer.weight_hh_l0.mul_(0.5)
    with pytest.raises(mnp.AutogradError, match="modified by an inplace operation"):
        out.sum().backward()


def test_repr_matches_torch(torch):
    for cls, kw in [("RNN", dict(nonlinearity="relu", num_layers=2, bias=False, batch_first=True,
                                 dropout=0.5, bidirectional=True)),
                    ("LSTM", dict(proj_size=2)), ("GRU", {})]:
        assert repr(getattr(nn, cls)(4, 5, **kw)) == repr(getattr(torch.nn, cls)(4, 5, **kw))


@pytest.mark.parametrize("name", ["mnp.nn.rnn", "mnp.nn.utils.rnn", "mnp.nn.utils",
                                  "mnp.core.gradclip"])
def test_docstring_examples_run(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result


def test_all_weights_and_flatten_parameters_match_torch(torch):
    ours, theirs = _pair(torch, "LSTM", 3, 4, num_layers=2, bidirectional=True, proj_size=2)
    ours.flatten_parameters()
    assert [[tuple(p.shape) for p in group] for group in ours.all_weights] == \
        [[tuple(p.shape) for p in group] for group in theirs.all_weights]
    assert ours._flat_weights_names == theirs._flat_weights_names
