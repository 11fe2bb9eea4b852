"""W4: MNIST-shaped MLP training step: a random 128x784 float32 batch with labels 0..9;
784→256→ReLU→10, cross-entropy, SGD (lr 0.01, momentum 0.9). Figure: ms per step
(zero_grad, forward, loss, backward, step)."""
from __future__ import annotations

import numpy as np

from common import framework as framework_api
from common import time_per_call, train_step

ID = "W4"
TITLE = "MLP training step"
FIGURES = {"ms_per_step": ("ms", False)}
PER_BACKEND = True
THREADED = True
LR, MOMENTUM = 0.01, 0.9


def cases(opts: dict) -> list[dict]:
    return [{"batch": 128, "features": 784, "hidden": 256, "classes": 10}]


def _batch(case: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((case["batch"], case["features"]), dtype=np.float32)
    return x, rng.integers(0, case["classes"], case["batch"]).astype(np.int64)


def measure(framework: str, case: dict, repeat: int, opts: dict) -> dict[str, list[float]]:
    nn, optim, as_tensor, _ = framework_api(framework)
    x, y = (as_tensor(a) for a in _batch(case))
    model = nn.Sequential(nn.Linear(case["features"], case["hidden"]), nn.ReLU(),
                          nn.Linear(case["hidden"], case["classes"]))
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    seconds = time_per_call(lambda: train_step(model, loss_fn, opt, x, y), repeat,
                            min_sample_s=0.1, warmup_s=0.3)
    return {"ms_per_step": [s * 1e3 for s in seconds]}
