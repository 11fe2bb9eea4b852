"""W8: GPT generation: the W7 model (examples/char_gpt.py's GPT: 4 layers, 4 heads, width 128,
context 64, vocabulary 65), batch 1, a 1-token prompt, 500 new tokens with a key/value cache and
top-k 40 sampling. Figure: tokens per second.

PyTorch runs a twin of the same model with the same weights (copied from mnp's) and the same
sampling loop, so the two differ only in the framework that runs the forward passes.
"""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np

ID = "W8"
TITLE = "GPT generation"
FIGURES = {"tokens_per_s": ("tokens/s", True)}
PER_BACKEND = True
THREADED = True
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "char_gpt.py"


def cases(opts: dict) -> list[dict]:
    return [{"layers": 4, "heads": 4, "width": 128, "context": 64, "vocab": 65,
             "new_tokens": int(opts.get("new_tokens", 500)), "top_k": 40}]


def _example():
    spec = importlib.util.spec_from_file_location("char_gpt", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mnp_model(case: dict):
    import mnp.core as mnp
    mnp.manual_seed(0)
    model = _example().GPT(case["vocab"], case["context"], case["layers"], case["heads"], case["width"])
    model.eval()
    return model


def torch_twin(case: dict, state: dict[str, np.ndarray]):
    """The same GPT written in PyTorch, with ``state`` (mnp's weights) loaded."""
    import torch
    from torch import nn
    from torch.nn import functional as F
    width, heads = case["width"], case["heads"]

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)

        def forward(self, x, cache):
            b, t, c = x.shape
            q, k, v = self.qkv(x).reshape(b, t, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
            y = F.scaled_dot_product_attention(q, k, v, is_causal=q.shape[2] == k.shape[2])
            return self.proj(y.transpose(1, 2).reshape(b, t, c))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn, self.ln2 = nn.LayerNorm(width), Attention(), nn.LayerNorm(width)
            self.fc, self.gelu, self.out = nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)

        def forward(self, x, cache):
            x = x + self.attn(self.ln1(x), cache)
            return x + self.out(self.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = nn.Embedding(case["vocab"], width)
            self.pos_emb = nn.Embedding(case["context"], width)
            self.blocks = nn.ModuleList([Block() for _ in range(case["layers"])])
            self.ln_f = nn.LayerNorm(width)
            self.head = nn.Linear(width, case["vocab"], bias=False)
            self.head.weight = self.tok_emb.weight

        def forward(self, idx, caches, start):
            x = self.tok_emb(idx) + self.pos_emb(torch.arange(start, start + idx.shape[1]))
            for block, cache in zip(self.blocks, caches):
                x = block(x, cache)
            return self.head(self.ln_f(x))

    model = GPT()
    missing, unexpected = model.load_state_dict(
        {k: torch.from_numpy(np.array(v)) for k, v in state.items()}, strict=False)
    if unexpected or set(missing) - {"head.weight"}:    # head.weight is tok_emb.weight
        raise KeyError(f"W8 twin: names differ: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model


def generate(forward, layers: int, context: int, new_tokens: int, top_k: int,
             rng: np.random.Generator) -> np.ndarray:
    """The sampling loop of examples/char_gpt.py's ``GPT.generate`` over any framework's
    ``forward(tokens (1, t) int64 array, caches, start) -> logits array``."""
    tokens = np.zeros((1, 1), dtype=np.int64)
    keep = max(1, context // 2)
    caches, pos, logits = None, 0, None
    for _ in range(new_tokens):
        if caches is None or pos >= context:
            ctx = tokens[:, -(keep if caches is not None else context):]
            caches = [{} for _ in range(layers)]
            logits, pos = forward(ctx, caches, 0), ctx.shape[1]
        step = logits[:, -1, :].astype(np.float64) / 0.8
        kth = np.partition(step, -top_k, axis=-1)[:, -top_k][:, None]
        step = np.where(step < kth, -np.inf, step)
        probs = np.exp(step - step.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        nxt = np.array([[rng.choice(probs.shape[-1], p=probs[0])]], dtype=np.int64)
        tokens = np.concatenate([tokens, nxt], axis=1)
        logits = forward(nxt, caches, pos)
        pos += 1
    return tokens


def forward_fn(framework: str, case: dict):
    model = mnp_model(case)
    if framework == "torch":
        import torch
        state = {k: v.numpy() for k, v in model.state_dict().items()}
        twin = torch_twin(case, state)

        def forward(idx, caches, start):
            with torch.inference_mode():
                return twin(torch.from_numpy(idx), caches, start).numpy()
        return forward
    import mnp.core as mnp

    def forward(idx, caches, start):
        with mnp.no_grad():
            return model(mnp.from_numpy(idx), caches, start).numpy()
    return forward


def measure(framework: str, case: dict, repeat: int, opts: dict) -> dict[str, list[float]]:
    forward = forward_fn(framework, case)
    run = lambda: generate(forward, case["layers"], case["context"], case["new_tokens"],  # noqa: E731
                           case["top_k"], np.random.default_rng(0))
    run()                                                    # warm-up
    rates = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        rates.append(case["new_tokens"] / (time.perf_counter() - t))
    return {"tokens_per_s": rates}
