"""W3: digits MLP, trained the way a user would: ``data.digits()`` standardized, 80/20 split
(seed 0), 64→128→ReLU→64→ReLU→10, cross-entropy, Adam lr 1e-3, batch 32, 20 shuffled epochs.

Figures: seconds per epoch (median over the epochs after the first), final test accuracy, and
the worker process's peak RSS (``ru_maxrss``, so it includes the framework's import). One
training run per process gives ``EPOCHS - 1`` epoch samples; ``repeat`` is not used.

Cases: ``loop`` is a plain training loop (mnp: `mnp.data.DataLoader` + `mnp.nn` +
`mnp.optim.Adam`; PyTorch: `TensorDataset`/`DataLoader` + `torch.nn` + `torch.optim.Adam`);
``trainer`` trains mnp through ``nn.Trainer.fit(progress=False)`` and compares it with the
same PyTorch loop (PyTorch has no built-in trainer).
"""
from __future__ import annotations

import time

import numpy as np

from common import peak_rss_mb, train_step

ID = "W3"
TITLE = "digits MLP training"
FIGURES = {"s_per_epoch": ("s", False), "test_accuracy": ("fraction", True),
           "peak_rss_mb": ("MiB", False)}
PER_BACKEND = True
THREADED = False
PROCESS_PER_CASE = True     # peak RSS is per process
EPOCHS, BATCH, LR, SEED = 20, 32, 1e-3, 0


def cases(opts: dict) -> list[dict]:
    return [{"path": "loop"}, {"path": "trainer"}]


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, X_test, y_train, y_test``: standardized digits, 80/20 split with seed 0."""
    from mnp import data
    X, y = data.digits()
    X = data.standardize(X)
    return data.train_test_split(X, y, test_size=0.2, seed=SEED)


def _mnp_model():
    import mnp.core as mnp
    from mnp import nn
    mnp.manual_seed(SEED)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def _mnp_accuracy(model, X_test: np.ndarray, y_test: np.ndarray) -> float:
    import mnp.core as mnp
    model.eval()
    with mnp.no_grad():
        pred = model(mnp.from_numpy(X_test)).numpy().argmax(axis=1)
    return float((pred == y_test).mean())


def _timed_epochs(model, loader, loss_fn, opt) -> list[float]:
    """The same plain training loop for both frameworks (their APIs agree); seconds per epoch."""
    epochs = []
    for _ in range(EPOCHS):
        t0 = time.perf_counter()
        model.train()
        for xb, yb in loader:
            train_step(model, loss_fn, opt, xb, yb)
        epochs.append(time.perf_counter() - t0)
    return epochs


def _mnp_loop(X_train, X_test, y_train, y_test) -> tuple[list[float], float]:
    from mnp import data, nn, optim
    model = _mnp_model()
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=LR)
    loader = data.DataLoader(data.TensorDataset(X_train, y_train), batch_size=BATCH,
                             shuffle=True, seed=SEED)
    return _timed_epochs(model, loader, loss_fn, opt), _mnp_accuracy(model, X_test, y_test)


def _mnp_trainer(X_train, X_test, y_train, y_test) -> tuple[list[float], float]:
    from mnp import nn, optim
    from mnp.nn.callbacks import Callback

    class EpochTimer(Callback):
        def __init__(self):
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.t0)

    model = _mnp_model()
    timer = EpochTimer()
    trainer = nn.Trainer(model, optim.Adam(model.parameters(), lr=LR), nn.CrossEntropyLoss(),
                         callbacks=[timer])
    trainer.fit(X_train, y_train, epochs=EPOCHS, batch_size=BATCH, shuffle=True,
                progress=False, seed=SEED)
    return timer.seconds, _mnp_accuracy(model, X_test, y_test)


def _torch_loop(X_train, X_test, y_train, y_test) -> tuple[list[float], float]:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    torch.manual_seed(SEED)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(TensorDataset(torch.from_numpy(X_train), torch.from_numpy(y_train)),
                        batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(SEED))
    epochs = _timed_epochs(model, loader, loss_fn, opt)
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return epochs, float((pred == y_test).mean())


def measure(framework: str, case: dict, repeat: int, opts: dict) -> dict[str, list[float]]:
    split = _data()
    if framework == "torch":
        epochs, accuracy = _torch_loop(*split)
    elif case["path"] == "trainer":
        epochs, accuracy = _mnp_trainer(*split)
    else:
        epochs, accuracy = _mnp_loop(*split)
    return {"s_per_epoch": epochs[1:], "test_accuracy": [accuracy], "peak_rss_mb": [peak_rss_mb()]}
