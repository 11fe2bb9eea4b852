"""`Trainer`: the fit / evaluate / predict loop, with metrics, callbacks, a progress bar and
resumable checkpoints.

>>> import numpy as np, mnp.core as mnp
>>> from mnp import nn
>>> from mnp.nn import Trainer
>>> class SGD:                                   # any optimizer with this shape works
...     def __init__(self, params, lr): self.params, self.lr = list(params), lr
...     def zero_grad(self):
...         for p in self.params: p.grad = None
...     def step(self):
...         for p in self.params: p.data -= self.lr * p.grad.data
...     def state_dict(self): return {"lr": self.lr}
...     def load_state_dict(self, sd): self.lr = sd["lr"]
>>> mnp.manual_seed(0)
>>> x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
>>> y = (x[:, 0] > 0).astype(np.int64)
>>> model = nn.Linear(2, 2)
>>> history = Trainer(model, SGD(model.parameters(), 0.5), "CrossEntropyLoss").fit(
...     x, y, epochs=20, progress=False, seed=0)
>>> history.history["accuracy"][-1] > 0.9
True
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Mapping

import numpy as np

import mnp.core as mnp
from mnp.core import Tensor, parallel

from ._util import TrainerError
from .callbacks import Callback
from .history import History
from .progress import ProgressBar
from .trainer_checkpoint import _Checkpoints
from .trainer_data import _Data, _group, _np, _validation

_UNSET = object()


# -- resolving names --------------------------------------------------------------------------
def _resolve_loss(loss_fn: Any) -> Callable:
    if isinstance(loss_fn, str):
        found = mnp.lookup("losses", loss_fn)
        return found() if isinstance(found, type) else found
    if not callable(loss_fn):
        raise TrainerError(f"Trainer: loss_fn must be a callable (logits, targets) -> scalar "
                           f"Tensor or a registered loss name, got {type(loss_fn).__name__}")
    return loss_fn


def _resolve_metric(metric: Any) -> tuple[str, Callable]:
    if isinstance(metric, str):
        from .metrics import METRICS    # serves also when the nn plugin is not loaded
        found = mnp.registry("metrics").get(metric) or METRICS.get(metric)
        return metric, found if found is not None else mnp.lookup("metrics", metric)
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    raise TrainerError(f"Trainer: a metric must be a registered name or a callable "
                       f"(input, target) -> float, got {type(metric).__name__}")


def _resolve_metrics(metrics: Any) -> dict[str, Callable]:
    if metrics is None:
        return {}
    if isinstance(metrics, (str,)) or callable(metrics):
        metrics = (metrics,)
    if isinstance(metrics, Mapping):
        return {str(k): _resolve_metric(v)[1] for k, v in metrics.items()}
    out = {}
    for m in metrics:
        name, fn = _resolve_metric(m)
        if name in out or name == "loss":
            raise TrainerError(f"Trainer: metric name {name!r} is used twice; pass a dict "
                               f"{{name: metric}} to name them")
        out[name] = fn
    return out


class Trainer(_Checkpoints):
    """Train ``model`` with ``optimizer`` (anything with ``zero_grad()``, ``step()``,
    ``state_dict()``, ``load_state_dict()``) on ``loss_fn`` — a callable
    ``(outputs, targets) -> scalar Tensor`` or a registered loss name such as
    ``"CrossEntropyLoss"``.

    ``metrics``: registered names (``"accuracy"``, ``"f1"``, ...), callables
    ``(outputs, targets) -> float``, or a dict naming them; computed over each whole epoch.
    ``scheduler``: optional learning-rate scheduler stepped after every epoch (with the
    value of ``scheduler_monitor`` when given, as ReduceLROnPlateau wants).
    The loss reported for an epoch is the sample-weighted mean of the batch losses.
    """

    def __init__(self, model: Any, optimizer: Any, loss_fn: Any,
                 metrics: Any = ("accuracy",), callbacks: Iterable[Callback] = (),
                 scheduler: Any = None, scheduler_monitor: str | None = None):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.scheduler_monitor = scheduler_monitor
        self.loss_fn = _resolve_loss(loss_fn)
        self.metrics = _resolve_metrics(metrics)
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TrainerError(f"Trainer: callbacks must be Callback instances, got "
                                   f"{type(cb).__name__}")
        self.stop_training = False
        self.history = History()
        self.epoch = 0                 # epochs completed
        self.rng = np.random.default_rng()
        self._run_dtype: Any = _UNSET   # the model's float dtype, cached during an epoch
        self._parallel_model: Any = None   # the model wrapped for data-parallel training

    @property
    def is_main_process(self) -> bool:
        """True unless training data-parallel on a rank other than 0 (which prints and writes
        nothing)."""
        return parallel.is_main_process()

    # -- one batch --------------------------------------------------------------------------
    def _dtype(self) -> np.dtype | None:
        for p in self.model.parameters():
            if p.dtype.kind == "f":
                return p.dtype
        return None

    def _tensor(self, v: Any, dtype: np.dtype | None) -> Tensor:
        if isinstance(v, Tensor):
            if dtype is not None and v.dtype.kind == "f" and v.dtype != dtype:
                return v.astype(dtype)
            return v
        arr = np.asarray(v)
        if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
            arr = arr.astype(dtype)
        return mnp.from_numpy(np.ascontiguousarray(arr))

    def _loss(self, out: Tensor, target: Tensor, op: str) -> Tensor:
        loss = self.loss_fn(out, target)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            shape = getattr(loss, "shape", type(loss).__name__)
            raise TrainerError(f"{op}: loss_fn must return a scalar Tensor, got {shape} "
                               f"(use reduction='mean' or 'sum')")
        return loss

    def train_step(self, x: Any, y: Any) -> tuple[float, np.ndarray]:
        """One optimisation step on a batch; returns the loss and the outputs."""
        dtype = self._run_dtype if self._run_dtype is not _UNSET else self._dtype()
        xb, yb = self._tensor(x, dtype), self._tensor(y, dtype)
        self.optimizer.zero_grad()
        out = (self._parallel_model or self.model)(xb)
        loss = self._loss(out, yb, "fit")
        loss.backward()
        self.optimizer.step()
        return float(loss.item()), out.data

    # -- epochs -----------------------------------------------------------------------------
    def _metrics(self, outputs: list[np.ndarray], targets: list[np.ndarray]) -> dict[str, float]:
        if not self.metrics or not outputs:
            return {}
        out, tgt = np.concatenate(outputs), np.concatenate(targets)
        values = {}
        for name, fn in self.metrics.items():
            value = fn(out, tgt)
            if np.ndim(value) != 0:
                raise TrainerError(f"Trainer: metric {name!r} returned a value of shape "
                                   f"{np.shape(value)}; metrics must return one number")
            values[name] = float(value)
        return values

    def _run(self, data: _Data, rng: np.random.Generator | None, train: bool, bar: ProgressBar,
             prefix: str = "") -> dict[str, float]:
        dtype = self._run_dtype = self._dtype()
        try:
            return self._epoch(data, rng, train, bar, prefix, dtype)
        finally:
            self._run_dtype = _UNSET

    def _epoch(self, data: _Data, rng: np.random.Generator | None, train: bool,
               bar: ProgressBar, prefix: str, dtype: np.dtype | None) -> dict[str, float]:
        total, count = 0.0, 0
        outputs: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        for i, (x, y) in enumerate(data.batches(rng)):
            if train:
                for cb in self.callbacks:
                    cb.on_batch_begin(i)
                loss, out = self.train_step(x, y)
            else:
                out_t = self.model(self._tensor(x, dtype))
                loss = float(self._loss(out_t, self._tensor(y, dtype), "evaluate").item())
                out = out_t.data
            n = len(out) if np.ndim(out) else 1
            total, count = total + loss * n, count + n
            if self.metrics:
                outputs.append(np.array(out, copy=True))
                targets.append(np.array(_np(y), copy=True))
            bar.update(1, loss=total / count)
            if train:
                for cb in self.callbacks:
                    cb.on_batch_end(i, {"loss": loss, "size": n})
                if self.stop_training:
                    break
        if data.group is not None:        # every rank's share: sums and all outputs
            sums = data.group.all_reduce(np.array([total, count], np.float64), "sum")
            total, count = float(sums[0]), int(sums[1])
            if self.metrics and count:
                outputs = [data.group.all_gather(np.concatenate(outputs))]
                targets = [data.group.all_gather(np.concatenate(targets))]
        if count == 0:
            raise TrainerError(f"{data.op}: the data yielded no batches (a generator can be "
                               f"iterated once only; pass a re-iterable such as a DataLoader)")
        logs = {prefix + "loss": total / count}
        logs.update({prefix + k: v for k, v in self._metrics(outputs, targets).items()})
        return logs

    def fit(self, x: Any, y: Any = None, epochs: int = 1, batch_size: int = 32,
            shuffle: bool = True, validation_data: Any = None, progress: bool = True,
            seed: int | None = None, resume_from: str | os.PathLike | None = None) -> History:
        """Train for ``epochs`` epochs (the total, counting any resumed ones) -> `History`.

        ``x``: an array/Tensor with targets ``y``, or an iterable of ``(inputs, targets)``
        batches (re-iterated every epoch; it does its own batching and shuffling, and one
        with ``set_epoch`` — a DataLoader — is told the epoch, so seeded runs resume exactly).
        ``validation_data``: ``(x_val, y_val)`` arrays or an iterable of batches.
        ``seed``: seeds the shuffling generator (default: drawn from mnp's generator).
        ``resume_from``: a checkpoint written by `ModelCheckpoint`/`save_checkpoint`; model,
        optimizer, random states, history and callbacks continue from it exactly.

        Data-parallel: in a process group of several ranks (started by the script, or found
        when the script runs under mpiexec with mnp-distributed installed) every rank runs
        ``fit``; the model is wrapped so gradients are averaged, arrays are dealt out so each
        rank trains on its share of every global batch of ``batch_size``, losses and metrics
        are computed over all ranks, and only rank 0 shows progress and writes files. A
        checkpoint resumes on any number of ranks.
        """
        group = _group() if parallel.default_process_group() is not None else None
        data = _Data(x, y, batch_size, "fit", True)
        val = _validation(validation_data, batch_size)
        if group is not None:
            data.shard(group, True)
            if val is not None:
                val.shard(group, False)
            wrapped = self._parallel_model
            if wrapped is None or getattr(wrapped, "module", None) is not self.model:
                self._parallel_model = group.wrap_model(self.model)
            progress = progress and group.rank == 0
        else:
            self._parallel_model = None
        self.stop_training = False
        if seed is None:
            seed = int(mnp.generator().integers(2**63))
        if group is not None:               # one shuffle for all ranks: rank 0's seed
            seed = int(group.broadcast(np.array([seed], np.uint64), 0)[0])
        self.rng = np.random.default_rng(seed)
        self.history, self.epoch = History(), 0
        for cb in self.callbacks:
            cb.set_trainer(self)
            cb.on_train_begin()
        if resume_from is not None:
            self.load_checkpoint(resume_from)
        start = self.epoch
        for epoch in range(start, int(epochs)):
            if self.stop_training:
                break
            for cb in self.callbacks:
                cb.on_epoch_begin(epoch)
            self.model.train()
            if not data.arrays and hasattr(data.source, "set_epoch"):
                data.source.set_epoch(epoch)   # a seeded DataLoader shuffles as epoch `epoch`
            bar = ProgressBar(data.num_batches(), f"Epoch {epoch + 1}/{epochs}", progress)
            try:
                logs = self._run(data, self.rng if shuffle and data.arrays else None, True, bar)
                if val is not None:
                    logs.update(self._evaluate(val, ProgressBar(None, "", False), "val_"))
            except BaseException:
                bar.close()
                raise
            lr = self._learning_rate()
            self._step_scheduler(logs)
            self.history.append(epoch, logs, lr)
            self.epoch = epoch + 1
            bar.close(**logs)
            for cb in self.callbacks:
                cb.on_epoch_end(epoch, dict(logs))
        for cb in self.callbacks:
            cb.on_train_end(dict(self._last_logs()))
        return self.history

    def _learning_rate(self) -> float | None:
        groups = getattr(self.optimizer, "param_groups", None)
        try:
            return float(groups[0]["lr"])
        except (TypeError, LookupError, ValueError):
            return None

    def _last_logs(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.history.history.items() if v}

    def _step_scheduler(self, logs: dict[str, float]) -> None:
        if self.scheduler is None:
            return
        if self.scheduler_monitor is None:
            self.scheduler.step()
            return
        if self.scheduler_monitor not in logs:
            raise TrainerError(f"fit: scheduler_monitor {self.scheduler_monitor!r} is not in "
                               f"the logs ({', '.join(logs)})")
        self.scheduler.step(logs[self.scheduler_monitor])

    # -- evaluation ---------------------------------------------------------------------------
    def _evaluate(self, data: _Data, bar: ProgressBar, prefix: str) -> dict[str, float]:
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        try:
            with mnp.no_grad():
                return self._run(data, None, False, bar, prefix)
        finally:
            bar.close()
            self.model.train(was_training)

    def evaluate(self, x: Any, y: Any = None, batch_size: int = 32,
                 progress: bool = False) -> dict[str, float]:
        """Mean loss and metrics over ``x`` (eval mode, no gradients): ``{"loss": ..., ...}``."""
        data = _Data(x, y, batch_size, "evaluate", True)
        group = _group()
        if group is not None:
            data.shard(group, False)
            progress = progress and group.rank == 0
        return self._evaluate(data, ProgressBar(data.num_batches(), "evaluate", progress), "")

    def predict(self, x: Any, batch_size: int = 32) -> Tensor:
        """The model's outputs for ``x`` (eval mode, no gradients), batches concatenated.

        ``x``: an array/Tensor, or an iterable of batches (inputs, or ``(inputs, targets)``).
        """
        data = _Data(x, None, batch_size, "predict", False)
        dtype = self._dtype()
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        outs = []
        try:
            with mnp.no_grad():
                for xb, _ in data.batches(None):
                    outs.append(self.model(self._tensor(xb, dtype)).data)
        finally:
            self.model.train(was_training)
        if not outs:
            raise TrainerError("predict: the data yielded no batches")
        return mnp.from_numpy(np.concatenate(outs))


__all__ = ["History", "Trainer", "TrainerError"]
