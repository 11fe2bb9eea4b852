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

import math
import os
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

import mnp.core as mnp
from mnp.core import MnpError, ShapeError, Tensor, parallel

from .callbacks import Callback
from .plotting import PlotError, plot_curves
from .progress import ProgressBar


_UNSET = object()


class TrainerError(MnpError, ValueError):
    """Bad arguments to `Trainer` or data it cannot batch."""


# -- History --------------------------------------------------------------------------------
class History:
    """Per-epoch values of a run: ``history["loss"][i]`` is epoch ``i``'s mean loss.

    Keys: ``loss``, each metric, and ``val_loss`` / ``val_<metric>`` with validation data.
    ``lr`` holds the learning rate each epoch trained with (the first parameter group's).
    """

    def __init__(self, history: dict[str, list[float]] | None = None,
                 epoch: list[int] | None = None, lr: list[float] | None = None):
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}
        self.epoch: list[int] = list(epoch or [])
        self.lr: list[float] = list(lr or [])

    def append(self, epoch: int, logs: Mapping[str, float], lr: float | None = None) -> None:
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        if lr is not None:
            self.lr.append(float(lr))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history, "epoch": self.epoch, "lr": self.lr}

    def plot(self, path: str | os.PathLike, keys: Sequence[str] | None = None,
             title: str | None = None) -> str:
        """Save a PNG of the curves: one panel per quantity with its training and validation
        curves (loss on a log axis), and the learning rate in its own panel when it changed.

        ``keys``: the quantities to draw (default: every training quantity); ``title``: the
        run's name above the panels. Returns the path. Needs matplotlib:
        ``pip install mnp-nn[plot]``.
        """
        if keys is not None:
            names = list(keys)
            unknown = [k for k in names if k not in self.history]
            if unknown:
                raise TrainerError(f"History.plot: no values for {unknown}; recorded: "
                                   f"{', '.join(self.history)}")
        else:
            names = [k for k in self.history if not k.startswith("val_")] or list(self.history)
        if not names:
            raise TrainerError("History.plot: nothing to plot (the history is empty)")
        if not parallel.is_main_process():      # in a process group only rank 0 writes
            return os.fspath(path)
        epochs = [e + 1 for e in self.epoch]
        panels = {}
        for name in names:
            base = name.removeprefix("val_")
            series = {("validation" if name.startswith("val_") else "training"): (epochs, self.history[name])}
            if not name.startswith("val_") and "val_" + name in self.history:
                series["validation"] = (epochs, self.history["val_" + name])
            panels[base] = {**panels.get(base, {}), **series}
        schedule = (epochs, self.lr) if len(set(self.lr)) > 1 and len(self.lr) == len(epochs) else None
        try:
            return plot_curves(path, panels, title or f"training: {len(epochs)} epochs",
                               "epoch", learning_rate=schedule, op="History.plot")
        except PlotError as exc:
            raise TrainerError(str(exc)) from None


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


# -- data -------------------------------------------------------------------------------------
def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, Tensor))


def _np(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _group() -> Any:
    """The process group of data-parallel training, if one of several ranks is active."""
    group = parallel.get_process_group()
    return group if group is not None and group.world_size > 1 else None


def _sharded_source(source: Any) -> bool:
    """True for a loader whose sampler already gives each rank its own share."""
    return getattr(getattr(source, "sampler", None), "num_replicas", None) is not None


class _Data:
    """Batches from arrays (shuffled with the trainer's generator) or from an iterable."""

    def __init__(self, x: Any, y: Any, batch_size: int, op: str, need_targets: bool):
        self.op = op
        if int(batch_size) < 1:
            raise TrainerError(f"{op}: batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.arrays = _is_array(x) or y is not None
        if self.arrays:
            self.x = _np(x)
            self.y = None if y is None else _np(y)
            if self.x.ndim == 0:
                raise ShapeError(f"{op}: x must have a batch dimension, got shape {self.x.shape}")
            if self.y is not None and len(self.y) != len(self.x):
                raise ShapeError(f"{op}: x has {len(self.x)} samples but y has {len(self.y)} "
                                 f"(shapes {self.x.shape} and {self.y.shape})")
            if need_targets and self.y is None:
                raise TrainerError(f"{op}: y is required when x is an array")
            self.n = len(self.x)
        else:
            if not isinstance(x, Iterable):
                raise TrainerError(f"{op}: x must be an array, a Tensor or an iterable of "
                                   f"(inputs, targets) batches, got {type(x).__name__}")
            self.source, self.n = x, None
        self.need_targets = need_targets
        self.group: Any = None       # set by `shard`: each rank then batches its own share
        self.train_shard = False

    def shard(self, group: Any, train: bool) -> "_Data":
        """Split the data across ``group``'s ranks. Training: the epoch's order is padded and
        dealt out (equal counts, as DistributedSampler), ``batch_size`` being the global
        batch; evaluation: contiguous blocks, gathered back in order. An iterable must
        already be sharded by its sampler."""
        if self.arrays:
            if train or self.n >= group.world_size:
                self.group, self.train_shard = group, train
                if train:
                    self.batch_size = math.ceil(self.batch_size / group.world_size)
        elif _sharded_source(self.source):
            self.group = group
        elif train:
            raise TrainerError(f"{self.op}: with {group.world_size} ranks training data-"
                               f"parallel, an iterable of batches must give each rank its own "
                               f"share: pass a DataLoader with sampler=DistributedSampler("
                               f"dataset) (mnp.distributed), or pass arrays")
        return self

    def _order(self, rng: np.random.Generator | None) -> np.ndarray | None:
        order = rng.permutation(self.n) if rng is not None else None
        g = self.group
        if g is None:
            return order
        if self.train_shard:
            return g.shard(order if order is not None else np.arange(self.n))
        return np.array_split(np.arange(self.n), g.world_size)[g.rank]

    def _local_n(self) -> int:
        g = self.group
        if g is None:
            return self.n
        if self.train_shard:
            return math.ceil(self.n / g.world_size)
        return len(np.array_split(np.arange(self.n), g.world_size)[g.rank])

    def __len__(self) -> int:
        if self.arrays:
            return math.ceil(self._local_n() / self.batch_size)
        return len(self.source)  # type: ignore[arg-type]

    def num_batches(self) -> int | None:
        try:
            return len(self)
        except TypeError:
            return None

    def batches(self, rng: np.random.Generator | None) -> Iterator[tuple[Any, Any]]:
        if self.arrays:
            order = self._order(rng)
            for start in range(0, self._local_n(), self.batch_size):
                idx = order[start:start + self.batch_size] if order is not None else \
                    slice(start, start + self.batch_size)
                yield self.x[idx], (None if self.y is None else self.y[idx])
            return
        for batch in self.source:
            if isinstance(batch, (tuple, list)) and len(batch) == 2:
                yield batch[0], batch[1]
            elif self.need_targets:
                raise TrainerError(f"{self.op}: each batch must be an (inputs, targets) pair, "
                                   f"got {type(batch).__name__}"
                                   f"{f' of length {len(batch)}' if isinstance(batch, (tuple, list)) else ''}")
            else:
                yield (batch[0] if isinstance(batch, (tuple, list)) and len(batch) == 1
                       else batch), None


def _validation(validation_data: Any, batch_size: int) -> _Data | None:
    if validation_data is None:
        return None
    if (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2
            and _is_array(validation_data[0])):
        return _Data(validation_data[0], validation_data[1], batch_size, "fit (validation)", True)
    return _Data(validation_data, None, batch_size, "fit (validation)", True)


# -- the trainer ------------------------------------------------------------------------------
class Trainer:
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
        if not isinstance(loss, Tensor) or loss.size != 1:
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

    # -- checkpoints --------------------------------------------------------------------------
    def checkpoint_state(self) -> dict[str, Any]:
        """What besides model and optimizer a resumed run needs (JSON data and arrays)."""
        return {
            "epoch": self.epoch,
            "shuffle_rng": self.rng.bit_generator.state,
            "mnp_rng": mnp.get_rng_state(),
            "history": self.history.state_dict(),
            "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks],
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
        }

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Write a resumable checkpoint (model, optimizer, epoch, random states, history,
        callbacks, scheduler) to ``path`` atomically."""
        from .serialization import save_checkpoint
        group = _group()
        if group is None or group.rank == 0:     # data-parallel: rank 0 writes, all wait
            save_checkpoint(path, model=self.model, optimizer_state=self.optimizer.state_dict(),
                            epoch=self.epoch, extra={"trainer": self.checkpoint_state()})
        if group is not None:
            group.barrier()

    def load_checkpoint(self, path: str | os.PathLike) -> dict[str, Any]:
        """Restore everything `save_checkpoint` wrote; returns the checkpoint's contents."""
        from .serialization import ModelFormatError, load_checkpoint
        ckpt = load_checkpoint(path, model=self.model, optimizer=self.optimizer)
        state = (ckpt.get("extra") or {}).get("trainer")
        if not isinstance(state, dict):
            raise ModelFormatError(f"resume: {os.fspath(path)}: not a Trainer checkpoint (no "
                                   f"trainer state); write it with ModelCheckpoint or "
                                   f"Trainer.save_checkpoint")
        try:
            self.rng = np.random.default_rng()
            self.rng.bit_generator.state = state["shuffle_rng"]
            mnp.set_rng_state(state["mnp_rng"])
            self.epoch = int(state["epoch"])
            self.history = History(**state["history"])
            self._restore_callbacks(state["callbacks"])
            if self.scheduler is not None and state.get("scheduler") is not None:
                self.scheduler.load_state_dict(state["scheduler"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelFormatError(f"resume: {os.fspath(path)}: malformed trainer state: "
                                   f"{type(exc).__name__}: {exc}") from None
        return ckpt

    def _restore_callbacks(self, saved: list) -> None:
        """Give the k-th saved state of each callback class to the k-th callback of that class;
        callbacks added since keep a fresh state, states of removed ones are dropped."""
        pending: dict[str, list] = {}
        for name, cb_state in saved:
            pending.setdefault(str(name), []).append(cb_state)
        for cb in self.callbacks:
            states = pending.get(type(cb).__name__)
            if states:
                cb.load_state_dict(states.pop(0))
