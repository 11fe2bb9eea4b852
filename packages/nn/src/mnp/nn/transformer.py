"""Transformer layers as PyTorch's: `TransformerEncoderLayer`, `TransformerDecoderLayer`,
`TransformerEncoder`, `TransformerDecoder` and `Transformer`, with the same submodule names, so
a PyTorch state dict loads unchanged. Compositions of `MultiheadAttention`, `Linear`,
`LayerNorm` and `Dropout`."""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

import numpy as np

import mnp.core as mnp
from mnp.core import Tensor, as_tensor, get_default_dtype

from . import init
from ._util import ArgumentError
from .attention import MultiheadAttention
from .containers import ModuleList
from .activation import gelu, relu
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleError, _jsonable
from .norm import LayerNorm

_ACTIVATIONS: dict[str, Callable] = {"relu": relu, "gelu": gelu}


def _activation(activation: Any, op: str) -> Callable:
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ArgumentError(f"{op}: activation should be 'relu' or 'gelu' (or a callable), "
                                f"got {activation!r}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise ArgumentError(f"{op}: activation must be 'relu', 'gelu' or a callable, got "
                            f"{type(activation).__name__}")
    return activation


def _config_naming_activation(module: Module) -> dict:
    """`Module.get_config` with the activation function given by its name."""
    config = dict(module.__dict__.get("_config", {}))
    act = config.get("activation")
    if not isinstance(act, str):
        names = {fn: name for name, fn in _ACTIVATIONS.items()}
        if act not in names:
            raise ModuleError(f"{type(module).__name__}.get_config: activation {act!r} cannot "
                              f"be stored; use 'relu', 'gelu' or override get_config")
        config["activation"] = names[act]
    where = f"{type(module).__name__}.get_config"
    return {k: _jsonable(v, f"{where}: argument {k!r}") for k, v in config.items()}


class _Layer(Module):
    """What the encoder and decoder layers share: the self-attention and feed-forward blocks
    and a JSON config naming the activation."""

    def _build_common(self, d_model: int, dim_feedforward: int, dropout: float, activation: Any,
                      layer_norm_eps: float, norm_first: bool, bias: bool, norms: int) -> None:
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = bool(norm_first)
        for i in range(1, norms + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        for i in range(1, norms + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation, type(self).__name__)

    def _sa_block(self, x: Tensor, mask: Any, kpm: Any, is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=kpm, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor, drop: Dropout) -> Tensor:
        return drop(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def get_config(self) -> dict:
        return _config_naming_activation(self)


class TransformerEncoderLayer(_Layer):
    """Self-attention then a feed-forward block, each with dropout, a residual connection and
    layer norm (after, or before when ``norm_first``); inputs (S, N, E), or (N, S, E) when
    ``batch_first``, or unbatched (S, E).

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(mnp.randn(5, 3, 8)).shape
    (5, 3, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first)
        self._build_common(d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                           norm_first, bias, norms=2)

    def forward(self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x), self.dropout2)
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x, self.dropout2))
        return x


class TransformerDecoderLayer(_Layer):
    """Self-attention, attention over ``memory`` (the encoder's output), then a feed-forward
    block, each with dropout, a residual connection and layer norm.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(mnp.randn(4, 3, 8), mnp.randn(5, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first)
        self._build_common(d_model, dim_feedforward, dropout, activation, layer_norm_eps,
                           norm_first, bias, norms=3)

    def _mha_block(self, x: Tensor, mem: Tensor, mask: Any, kpm: Any, is_causal: bool) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=mask, key_padding_mask=kpm,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x), self.dropout3)
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x, self.dropout3))
        return x


class _Stack(Module):
    """``num_layers`` copies of a layer in ``layers`` (a ModuleList), then ``norm`` if given.
    Saved as a container: its config holds its own options, its children the layers."""
    is_container = True

    def __init__(self, layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        if int(num_layers) < 1:
            raise ArgumentError(f"{type(self).__name__}: num_layers must be >= 1, got "
                                f"{num_layers}")
        self.layers = ModuleList([copy.deepcopy(layer) for _ in range(int(num_layers))])
        self.num_layers = int(num_layers)
        self.norm = norm

    def get_config(self) -> dict:
        return {k: _jsonable(v, f"{type(self).__name__}.get_config: argument {k!r}")
                for k, v in self.__dict__.get("_config", {}).items()
                if k not in ("encoder_layer", "decoder_layer", "norm")}

    @classmethod
    def from_config(cls, config: dict, children: Iterable[tuple[str, Module]] | None = None
                    ) -> Module:
        parts = dict(children or [])
        if "layers" not in parts or not len(parts["layers"]):
            raise ModuleError(f"{cls.__name__}.from_config: the children must hold 'layers'")
        return cls(parts["layers"][0], norm=parts.get("norm"), **config)


class TransformerEncoder(_Stack):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (in ``layers``), then ``norm``.
    ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch compatibility; padded
    positions of the output are computed, not zeroed."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__(encoder_layer, num_layers, norm)
        self.enable_nested_tensor, self.mask_check = bool(enable_nested_tensor), bool(mask_check)

    def forward(self, src: Tensor, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, is_causal=bool(is_causal) and mask is not None,
                        src_key_padding_mask=src_key_padding_mask)
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(_Stack):
    """A stack of ``num_layers`` copies of ``decoder_layer`` (in ``layers``), then ``norm``."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__(decoder_layer, num_layers, norm)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask,
                        memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=bool(tgt_is_causal) and tgt_mask is not None,
                        memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need", as PyTorch's
    ``nn.Transformer`` (``encoder``, ``decoder``, each ending in a LayerNorm; every matrix
    parameter xavier_uniform_ initialised).

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
    ...                        dim_feedforward=16)
    >>> model(mnp.randn(5, 3, 8), mnp.randn(4, 3, 8)).shape
    (4, 3, 8)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True):
        super().__init__()
        args = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                    layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                    norm_first=norm_first, bias=bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **args), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **args), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = int(d_model), int(nhead), bool(batch_first)

    def get_config(self) -> dict:
        config = self.__dict__.get("_config", {})
        if config.get("custom_encoder") is not None or config.get("custom_decoder") is not None:
            raise ModuleError("Transformer.get_config: a custom encoder or decoder cannot be "
                              "stored in a configuration; save the state dict instead")
        return _config_naming_activation(self)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Any = None, tgt_mask: Any = None,
                memory_mask: Any = None, src_key_padding_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        src, tgt = as_tensor(src, op="Transformer"), as_tensor(tgt, op="Transformer")
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch] != tgt.shape[batch]:
            raise mnp.ShapeError(f"Transformer: the batch sizes of src {src.shape} and tgt "
                                 f"{tgt.shape} differ")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise mnp.ShapeError(f"Transformer: the feature size of src {src.shape} and tgt "
                                 f"{tgt.shape} must equal d_model={self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None
                                        ) -> Tensor:
        """A float (sz, sz) mask: ``-inf`` above the diagonal, 0 elsewhere."""
        dt = np.dtype(dtype) if dtype is not None else get_default_dtype()
        return mnp.tensor(np.triu(np.full((sz, sz), -np.inf, dt), k=1))


__all__ = ["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerDecoder", "Transformer"]
