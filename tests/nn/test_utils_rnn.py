"""nn.utils: pad/pack/unpack of variable-length sequences (against torch and by hypothesis),
gradient clipping shared with mnp.optim, parameters_to_vector / vector_to_parameters."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mnp.core as mnp
from mnp import nn, optim
from mnp.core.testing import assert_close
from mnp.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence,
                              pad_packed_sequence, pad_sequence, unpack_sequence, unpad_sequence)


def _seqs(rng, lengths, feat=(2,)):
    return [rng.standard_normal((n,) + feat).astype(np.float32) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch_with_gradient(torch, rng, batch_first, padding_side):
    arrays = _seqs(rng, [3, 5, 1])
    ours = [mnp.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    o = pad_sequence(ours, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    t = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first, padding_value=-1.5,
                                        padding_side=padding_side)
    assert_close(o, t)
    w = rng.standard_normal(o.shape).astype(np.float32)
    (o * mnp.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_and_pad_match_torch(torch, rng, batch_first, enforce_sorted):
    lengths = [5, 4, 4, 2, 1] if enforce_sorted else [2, 5, 1, 4, 4]
    x = rng.standard_normal((5, 5, 3)).astype(np.float32)
    xo, xt = mnp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    po = pack_padded_sequence(xo, lengths, batch_first, enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first,
                                                 enforce_sorted)
    assert_close(po.data, pt.data)
    assert po.batch_sizes.tolist() == pt.batch_sizes.tolist()
    if enforce_sorted:
        assert po.sorted_indices is None and pt.sorted_indices is None
    else:
        assert po.sorted_indices.tolist() == pt.sorted_indices.tolist()
        assert po.unsorted_indices.tolist() == pt.unsorted_indices.tolist()
    do, lo = pad_packed_sequence(po, batch_first, padding_value=7.0, total_length=6)
    dt, lt = torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first, padding_value=7.0,
                                                    total_length=6)
    assert_close(do, dt)
    assert lo.tolist() == lt.tolist() == lengths
    w = rng.standard_normal(do.shape).astype(np.float32)
    (do * mnp.tensor(w)).sum().backward()
    (dt * torch.tensor(w)).sum().backward()
    assert_close(xo.grad, xt.grad)


def test_pack_sequence_and_unpack_match_torch(torch, rng):
    arrays = _seqs(rng, [2, 4, 3])
    po = pack_sequence([mnp.tensor(a) for a in arrays], enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    assert_close(po.data, pt.data)
    for a, b in zip(unpack_sequence(po), arrays):
        np.testing.assert_array_equal(a.numpy(), b)


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(1, 7), min_size=1, max_size=6),
       feat=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       batch_first=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_pack_pad_round_trip_shapes_and_lengths(lengths, feat, batch_first, seed):
    rng = np.random.default_rng(seed)
    arrays = _seqs(rng, lengths, tuple(feat))
    padded = pad_sequence([mnp.tensor(a) for a in arrays], batch_first=batch_first)
    T, B = max(lengths), len(lengths)
    assert padded.shape == ((B, T) if batch_first else (T, B)) + tuple(feat)
    packed = pack_padded_sequence(padded, lengths, batch_first, enforce_sorted=False)
    assert packed.data.shape == (sum(lengths),) + tuple(feat)
    bs = packed.batch_sizes.tolist()
    assert len(bs) == T and sum(bs) == sum(lengths)
    assert bs == sorted(bs, reverse=True) and bs[0] == B
    back, lens = pad_packed_sequence(packed, batch_first)
    assert lens.tolist() == lengths
    np.testing.assert_array_equal(back.numpy(), padded.numpy())
    for a, b in zip(unpad_sequence(back, lens, batch_first), arrays):
        np.testing.assert_array_equal(a.numpy(), b)


def test_bad_pack_inputs_are_clear_errors():
    x = mnp.zeros((4, 3, 2))
    with pytest.raises(mnp.ArgumentError, match="not sorted"):
        pack_padded_sequence(x, [1, 3, 2])
    with pytest.raises(mnp.ShapeError, match="2 lengths for a batch of 3"):
        pack_padded_sequence(x, [1, 3])
    with pytest.raises(mnp.ArgumentError, match="> 0"):
        pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(mnp.ArgumentError, match="longer than"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(mnp.ArgumentError, match="total_length"):
        pad_packed_sequence(pack_padded_sequence(x, [4, 2, 1]), total_length=3)
    with pytest.raises(mnp.ShapeError, match="sequence 1"):
        pad_sequence([mnp.zeros((2, 3)), mnp.zeros((2, 4))])
    assert isinstance(pack_padded_sequence(x, [4, 2, 1]), PackedSequence)


# -- clipping and parameter vectors --------------------------------------------------------------
def _grads(rng):
    params = [mnp.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
              for s in [(3, 4), (4,), (2, 2)]]
    for p in params:
        p.grad = mnp.tensor(rng.standard_normal(p.shape).astype(np.float32) * 3)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, "inf", 3.0])
def test_clip_grad_norm_matches_torch_and_optim(torch, rng, norm_type):
    ours = _grads(rng)
    again = [mnp.tensor(p.numpy(), requires_grad=True) for p in ours]
    theirs = [torch.tensor(p.numpy(), requires_grad=True) for p in ours]
    for a, p, t in zip(again, ours, theirs):
        a.grad = mnp.tensor(p.grad.numpy())
        t.grad = torch.tensor(p.grad.numpy())
    total = nn.utils.clip_grad_norm_(ours, 1.5, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type=float(norm_type))
    assert_close(total, total_t, rtol=1e-5)
    optim.clip_grad_norm_(again, 1.5, norm_type=norm_type)
    for p, a, t in zip(ours, again, theirs):
        assert_close(p.grad, t.grad, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(p.grad.numpy(), a.grad.numpy())


def test_clip_grad_value_and_errors_shared_with_optim(torch, rng):
    ours = _grads(rng)
    theirs = [torch.tensor(p.numpy()) for p in ours]
    for p, t in zip(ours, theirs):
        t.grad = torch.tensor(p.grad.numpy())
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs):
        assert_close(p.grad, t.grad)
    assert nn.utils.NonFiniteNormError is optim.NonFiniteNormError
    ours[0].grad.data[0, 0] = np.inf
    with pytest.raises(optim.NonFiniteNormError):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(mnp.ArgumentError, match="clip_value"):
        nn.utils.clip_grad_value_(ours, -1.0)
    with pytest.raises(optim.OptimizerError, match="clip_value"):
        optim.clip_grad_value_(ours, -1.0)


def test_parameters_to_vector_and_back_match_torch(torch, rng):
    lin = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    tlin = torch.nn.Linear(3, 2)
    tlin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lin.state_dict().items()})
    assert_close(vec, torch.nn.utils.parameters_to_vector(tlin.parameters()))
    (vec * mnp.arange(8).astype("float32")).sum().backward()      # differentiable
    assert lin.weight.grad.tolist() == [[0, 1, 2], [3, 4, 5]]
    new = rng.standard_normal(8).astype(np.float32)
    nn.utils.vector_to_parameters(mnp.tensor(new), lin.parameters())
    np.testing.assert_array_equal(lin.weight.numpy().ravel(), new[:6])
    np.testing.assert_array_equal(lin.bias.numpy(), new[6:])
    with pytest.raises(mnp.ShapeError, match="9 elements"):
        nn.utils.vector_to_parameters(mnp.zeros(9), lin.parameters())
