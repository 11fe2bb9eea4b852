"""Transformer layers: PyTorch state dicts load unchanged and give PyTorch's outputs (eval) and
gradients (train, dropout 0); nn.save / nn.load round trips."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.core.testing import F32, assert_close, assert_matches_torch, assert_parameter_grads_match


def _load_torch(ours, theirs):
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _seq(rng, batch_first, t, n=3, e=8):
    return rng.standard_normal((n, t, e) if batch_first else (t, n, e)).astype(np.float32)


LAYER_CASES = [dict(batch_first=bf, norm_first=nf, activation=act)
               for bf in (False, True) for nf in (False, True) for act in ("relu", "gelu")] + \
              [dict(bias=False), dict(layer_norm_eps=1e-3, batch_first=True)]


@pytest.mark.parametrize("kw", LAYER_CASES)
def test_encoder_layer_loads_torch_state_dict(torch, rng, kw):
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, **kw).eval()
    ours = nn.TransformerEncoderLayer(8, 2, 16, **kw).eval()
    _load_torch(ours, theirs)
    x = _seq(rng, kw.get("batch_first", False), 5)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    kpm = np.where(rng.random((3, 5)) > 0.7, -np.inf, 0.0).astype(np.float32)   # float, as
    kpm[:, 0] = 0                                                                # the mask
    with torch.no_grad():
        t_out = theirs(torch.tensor(x), src_mask=mask, src_key_padding_mask=torch.tensor(kpm))
    out = ours(x, src_mask=mask.numpy(), src_key_padding_mask=kpm)
    assert_close(out, t_out, **F32)


@pytest.mark.parametrize("kw", LAYER_CASES)
def test_decoder_layer_loads_torch_state_dict(torch, rng, kw):
    theirs = torch.nn.TransformerDecoderLayer(8, 2, 16, **kw).eval()
    ours = nn.TransformerDecoderLayer(8, 2, 16, **kw).eval()
    _load_torch(ours, theirs)
    bf = kw.get("batch_first", False)
    x, mem = _seq(rng, bf, 4), _seq(rng, bf, 6)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    mkpm = rng.random((3, 6)) > 0.7
    mkpm[:, 0] = False
    with torch.no_grad():
        t_out = theirs(torch.tensor(x), torch.tensor(mem), tgt_mask=mask, tgt_is_causal=True,
                       memory_key_padding_mask=torch.tensor(mkpm))
    out = ours(x, mem, tgt_mask=mask.numpy(), tgt_is_causal=True, memory_key_padding_mask=mkpm)
    assert_close(out, t_out, **F32)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_loads_torch_state_dict(torch, rng, batch_first):
    theirs = torch.nn.Transformer(8, 2, 2, 1, 16, batch_first=batch_first).eval()
    ours = nn.Transformer(8, 2, 2, 1, 16, batch_first=batch_first).eval()
    _load_torch(ours, theirs)
    src, tgt = _seq(rng, batch_first, 5), _seq(rng, batch_first, 4)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)
    with torch.no_grad():
        t_out = theirs(torch.tensor(src), torch.tensor(tgt), tgt_mask=torch.tensor(tgt_mask.data))
    assert_close(ours(src, tgt, tgt_mask=tgt_mask), t_out, **F32)


def test_encoder_stack_matches_torch(torch, rng):
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16), 3,
                                         norm=torch.nn.LayerNorm(8),
                                         enable_nested_tensor=False).eval()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 3, norm=nn.LayerNorm(8))
    ours.eval()
    _load_torch(ours, theirs)
    x = _seq(rng, False, 5)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    with torch.no_grad():
        t_out = theirs(torch.tensor(x), mask=torch.tensor(mask.data), is_causal=True)
    assert_close(ours(x, mask=mask, is_causal=True), t_out, **F32)


@pytest.mark.parametrize("norm_first", [False, True])
def test_layer_gradients_match_torch(torch, rng, norm_first):
    ours = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first)
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert_matches_torch(lambda x, m: ours(x, m, tgt_mask=mask),
                         lambda x, m: theirs(x, m, tgt_mask=torch.tensor(mask.data)),
                         _seq(rng, False, 4), _seq(rng, False, 6), rng=rng)
    assert_parameter_grads_match(ours, theirs)


def test_generate_square_subsequent_mask(torch):
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    assert mask.dtype == mnp.get_default_dtype()
    np.testing.assert_array_equal(mask.data,
                                  torch.nn.Transformer.generate_square_subsequent_mask(5).numpy())


def test_transformer_init_is_xavier_and_copies_are_independent():
    model = nn.Transformer(8, 2, 2, 2, 16)
    layers = model.encoder.layers
    assert not np.array_equal(layers[0].linear1.weight.data, layers[1].linear1.weight.data)
    assert layers[0].linear1.weight is not layers[1].linear1.weight
    bound = np.sqrt(6.0 / (8 + 16))
    assert np.abs(layers[0].linear1.weight.data).max() <= bound


def test_save_load_round_trip(tmp_path, rng):
    model = nn.Transformer(8, 2, 2, 1, 16, activation="gelu", norm_first=True).eval()
    nn.save(model, tmp_path / "t.safetensors")
    back = nn.load(tmp_path / "t.safetensors").eval()
    src, tgt = _seq(rng, False, 5), _seq(rng, False, 4)
    assert_close(back(src, tgt), model(src, tgt), rtol=0, atol=0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, activation=nn.functional.gelu),
                                2, norm=nn.LayerNorm(8)).eval()
    nn.save(enc, tmp_path / "e.safetensors")
    back = nn.load(tmp_path / "e.safetensors").eval()
    assert back.layers[0].activation is nn.functional.gelu and back.num_layers == 2
    assert_close(back(src), enc(src), rtol=0, atol=0)


def test_unstorable_arguments_are_clear_errors():
    with pytest.raises(mnp.ArgumentError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=lambda x: x)
    with pytest.raises(nn.ModuleError, match="activation"):
        layer.get_config()
    custom = nn.Transformer(8, 2, custom_encoder=nn.Identity(), num_decoder_layers=1,
                            dim_feedforward=16)
    with pytest.raises(nn.ModuleError, match="custom"):
        custom.get_config()
    with pytest.raises(mnp.ShapeError, match="Transformer"):
        nn.Transformer(8, 2, 1, 1, 16)(mnp.zeros((5, 3, 8)), mnp.zeros((4, 2, 8)))


def test_layers_registered_by_name():
    reg = mnp.registry("layers")
    for name in ("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
                 "TransformerEncoder", "TransformerDecoder", "Transformer"):
        assert reg[name] is getattr(nn, name)


def test_training_mode_uses_dropout_and_reaches_every_parameter(rng):
    mnp.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.5, batch_first=True)
    src, tgt = _seq(rng, True, 5), _seq(rng, True, 4)
    a, b = model(src, tgt), model(src, tgt)
    assert not np.allclose(a.data, b.data)                 # dropout draws differ per call
    model.eval()
    assert_close(model(src, tgt), model(src, tgt), rtol=0, atol=0)
    model.train()
    (a * a).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.any(p.grad.data != 0), name
