"""W7: GPT training step: a decoder-only transformer (4 layers, 4 heads, width 128, context 64,
vocabulary 65), batch 12, no dropout, AdamW (lr 1e-3, weight decay 0.1). Figure: ms per step
(zero_grad, forward, loss, backward, step).

The model is written once for both frameworks from the API they share: token and position
embeddings, pre-norm blocks with causal self-attention, a GELU MLP, and a final norm and linear
head. Two cases differ only in how the attention is written: ``attention=matmul`` spells it out
(a matmul, an additive mask, a softmax and a matmul), ``attention=sdpa`` calls
``nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)`` (as
examples/char_gpt.py and nanoGPT do), each framework's fused attention.
"""
from __future__ import annotations

import math

import numpy as np

from common import framework as framework_api
from common import time_per_call, train_step

ID = "W7"
TITLE = "GPT training step"
FIGURES = {"ms_per_step": ("ms", False)}
PER_BACKEND = True
THREADED = True
LR, WEIGHT_DECAY = 1e-3, 0.1


def cases(opts: dict) -> list[dict]:
    base = {"layers": 4, "heads": 4, "width": 128, "context": 64, "vocab": 65, "batch": 12}
    return [dict(base, attention="matmul"), dict(base, attention="sdpa")]


def build(framework: str, case: dict):
    """``(model, loss_fn, optimizer)`` of the reference GPT in ``framework``."""
    nn, optim, as_tensor, _ = framework_api(framework)
    width, heads, context = case["width"], case["heads"], case["context"]
    fused = case.get("attention") == "sdpa"
    mask = np.triu(np.full((context, context), -np.inf, dtype=np.float32), k=1)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)
            self.mask = as_tensor(mask)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(x).reshape(b, t, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
            if fused:
                y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // heads)) + self.mask[:t, :t]
                y = att.softmax(-1) @ v
            return self.proj(y.transpose(1, 2).reshape(b, t, c))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn = nn.LayerNorm(width), Attention()
            self.ln2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                     nn.Linear(4 * width, width))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(case["vocab"], width)
            self.pos = nn.Embedding(context, width)
            self.blocks = nn.Sequential(*[Block() for _ in range(case["layers"])])
            self.ln = nn.LayerNorm(width)
            self.head = nn.Linear(width, case["vocab"])
            self.positions = as_tensor(np.arange(context, dtype=np.int64))

        def forward(self, idx):
            x = self.tok(idx) + self.pos(self.positions[: idx.shape[1]])
            logits = self.head(self.ln(self.blocks(x)))
            return logits.reshape(-1, logits.shape[-1])

    model = GPT()
    opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    return model, nn.CrossEntropyLoss(), opt


def _batch(case: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    idx = rng.integers(0, case["vocab"], (case["batch"], case["context"] + 1)).astype(np.int64)
    return idx[:, :-1].copy(), idx[:, 1:].reshape(-1).copy()


def measure(framework: str, case: dict, repeat: int, opts: dict) -> dict[str, list[float]]:
    *_, as_tensor, _ = framework_api(framework)
    model, loss_fn, opt = build(framework, case)
    x, y = (as_tensor(a) for a in _batch(case))
    seconds = time_per_call(lambda: train_step(model, loss_fn, opt, x, y), repeat,
                            min_sample_s=0.3, warmup_s=0.5)
    return {"ms_per_step": [s * 1e3 for s in seconds]}
