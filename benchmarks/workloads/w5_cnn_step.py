"""W5: CNN training step on a random 64x1x28x28 batch: Conv2d(1,8,3,p=1)→ReLU→MaxPool2d(2)→
Conv2d(8,16,3,p=1)→ReLU→MaxPool2d(2)→Flatten→Linear(784,10), cross-entropy, SGD (lr 0.01):
ms per step (zero_grad, forward, loss, backward, step). Second case: one Conv2d(16,32,3,p=1)
on a 64x16x28x28 input, forward only (no grad) and forward+backward (input, weight and bias
gradients from a fixed upstream gradient), in ms. Each case runs in its own process."""
from __future__ import annotations

import numpy as np

from common import framework as framework_api
from common import time_per_call, train_step

ID = "W5"
TITLE = "CNN training step; single conv"
FIGURES = {"ms_per_step": ("ms", False), "forward_ms": ("ms", False),
           "forward_backward_ms": ("ms", False)}
PER_BACKEND = True
THREADED = True
PROCESS_PER_CASE = True     # a numpy step's time depends on the allocator state left before it
LR = 0.01


def cases(opts: dict) -> list[dict]:
    return [{"model": "cnn", "input": [64, 1, 28, 28]},
            {"model": "conv2d", "input": [64, 16, 28, 28], "out_channels": 32}]


def _cnn(framework: str, case: dict, repeat: int) -> dict[str, list[float]]:
    nn, optim, as_tensor, _ = framework_api(framework)
    rng = np.random.default_rng(0)
    x = as_tensor(rng.standard_normal(case["input"], dtype=np.float32))
    y = as_tensor(rng.integers(0, 10, case["input"][0]).astype(np.int64))
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(784, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=LR)

    seconds = time_per_call(lambda: train_step(model, loss_fn, opt, x, y), repeat,
                            min_sample_s=0.2, warmup_s=1.0)
    return {"ms_per_step": [s * 1e3 for s in seconds]}


def _conv(framework: str, case: dict, repeat: int) -> dict[str, list[float]]:
    nn, _, as_tensor, no_grad = framework_api(framework)
    rng = np.random.default_rng(0)
    n, c, h, w = case["input"]
    x = as_tensor(rng.standard_normal((n, c, h, w), dtype=np.float32))
    grad_out = as_tensor(rng.standard_normal((n, case["out_channels"], h, w), dtype=np.float32))
    conv = nn.Conv2d(c, case["out_channels"], 3, padding=1)

    def forward():
        with no_grad():
            conv(x)

    x.requires_grad_(True)
    params = [x, *conv.parameters()]

    def forward_backward():
        for p in params:
            p.grad = None
        conv(x).backward(grad_out)
    fwd = time_per_call(forward, repeat, min_sample_s=0.2, warmup_s=0.5)
    fwd_bwd = time_per_call(forward_backward, repeat, min_sample_s=0.2, warmup_s=1.0)
    return {"forward_ms": [s * 1e3 for s in fwd], "forward_backward_ms": [s * 1e3 for s in fwd_bwd]}


def measure(framework: str, case: dict, repeat: int, opts: dict) -> dict[str, list[float]]:
    return (_cnn if case["model"] == "cnn" else _conv)(framework, case, repeat)
