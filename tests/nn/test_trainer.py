"""Trainer, History, callbacks and resumable checkpoints."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import metrics as M
from mnp.nn.callbacks import Callback, CallbackError, EarlyStopping, ModelCheckpoint
from mnp.nn.trainer import History, Trainer, TrainerError

optim = pytest.importorskip("mnp.optim")


def _blobs(n=120, seed=0):
    """Two well separated classes in 2-d."""
    g = np.random.default_rng(seed)
    y = g.integers(0, 2, n)
    x = (g.normal(size=(n, 2)) * 0.5 + np.where(y[:, None] == 1, 2.0, -2.0)).astype(np.float32)
    return x, y.astype(np.int64)


def _model(seed=0, dropout=0.0):
    mnp.manual_seed(seed)
    layers = [nn.Linear(2, 8), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(8, 2))


def _weights(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def _trainer(model, lr=0.1, **kw):
    return Trainer(model, optim.SGD(model.parameters(), lr=lr), nn.CrossEntropyLoss(), **kw)


class _Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, round(logs["loss"], 6)))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))


# -- fit / evaluate / predict ---------------------------------------------------------------
def test_fit_learns_a_separable_problem_and_records_history():
    x, y = _blobs()
    model = _model()
    rec = _Recorder()
    trainer = _trainer(model, metrics=("accuracy", "f1"), callbacks=[rec])
    history = trainer.fit(x, y, epochs=8, batch_size=16, progress=False, seed=0)
    assert isinstance(history, History) and history is trainer.history
    assert sorted(history.history) == ["accuracy", "f1", "loss"]
    assert all(len(v) == 8 for v in history.history.values()) and history.epoch == list(range(8))
    assert history["accuracy"][-1] >= 0.97
    assert history["loss"][-1] < history["loss"][0] / 3
    assert M.accuracy(trainer.predict(x), y) >= 0.97
    # callbacks saw every batch of every epoch, in order
    kinds = [e[0] for e in rec.events]
    assert kinds[0] == "train_begin" and kinds[-1] == "train_end"
    assert kinds.count("batch_end") == 8 * 8 and kinds.count("epoch_end") == 8
    assert rec.events[-2] == ("epoch_end", 7, ["accuracy", "f1", "loss"])


def test_epoch_loss_and_metrics_are_over_the_whole_epoch():
    """The logged loss is the sample-weighted mean of the batch losses (last batch smaller);
    metrics are computed on the epoch's concatenated outputs."""
    x, y = _blobs(50)
    model = _model()
    seen = []
    trainer = _trainer(model, lr=0.0, metrics={"acc": M.accuracy, "first": lambda o, t: o[0, 0]})
    orig = trainer.train_step

    def spy(xb, yb):
        loss, out = orig(xb, yb)
        seen.append((loss, len(out), out.copy(), np.asarray(yb).copy()))
        return loss, out

    trainer.train_step = spy
    history = trainer.fit(x, y, epochs=1, batch_size=16, shuffle=False, progress=False)
    assert [n for _, n, _, _ in seen] == [16, 16, 16, 2]
    expected = sum(loss * n for loss, n, _, _ in seen) / 50
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)
    outs = np.concatenate([o for _, _, o, _ in seen])
    assert history["acc"][0] == M.accuracy(outs, y)
    assert history["first"][0] == pytest.approx(float(outs[0, 0]))


def test_validation_metrics_and_evaluate_match_a_manual_computation():
    x, y = _blobs(100)
    xv, yv = _blobs(40, seed=1)
    model = _model(dropout=0.3)
    trainer = _trainer(model)
    history = trainer.fit(x, y, epochs=3, validation_data=(xv, yv), progress=False, seed=1)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 3 for v in history.history.values())
    result = trainer.evaluate(xv, yv, batch_size=7)
    assert set(result) == {"loss", "accuracy"}
    model.eval()                          # dropout off, as evaluate runs it
    with mnp.no_grad():
        out = model(mnp.tensor(xv))
        loss = nn.CrossEntropyLoss()(out, mnp.tensor(yv)).item()
    assert result["loss"] == pytest.approx(loss, rel=1e-5)
    assert result["accuracy"] == M.accuracy(out, yv)
    assert history["val_loss"][-1] == pytest.approx(loss, rel=1e-5)
    assert model.training is False        # evaluate restored the mode it found


def test_predict_shapes_batches_and_modes():
    x, y = _blobs(37)
    model = _model(dropout=0.5)
    trainer = _trainer(model)
    pred = trainer.predict(x, batch_size=10)
    assert isinstance(pred, mnp.Tensor) and pred.shape == (37, 2)
    assert not pred.requires_grad
    model.eval()
    assert np.array_equal(pred.data, model(mnp.tensor(x)).data)   # eval mode: no dropout
    batches = [x[i:i + 8] for i in range(0, 37, 8)]
    assert np.array_equal(trainer.predict(batches).data, pred.data)
    pairs = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 37, 8)]
    assert np.array_equal(trainer.predict(pairs).data, pred.data)


def test_training_mode_and_grad_mode_per_phase():
    x, y = _blobs(24)
    modes = []

    class Probe(nn.Module):
        def forward(self, input):
            modes.append((self.training, mnp.is_grad_enabled()))
            return input

    model = nn.Sequential(nn.Linear(2, 2), Probe())
    trainer = _trainer(model)
    trainer.fit(x, y, epochs=1, batch_size=12, validation_data=(x, y), progress=False)
    assert modes == [(True, True)] * 2 + [(False, False)] * 2
    modes.clear()
    trainer.predict(x, batch_size=24)
    trainer.evaluate(x, y, batch_size=24)
    assert modes == [(False, False)] * 2
    assert model.training is True


def test_iterables_of_batches_and_a_dataloader():
    data = pytest.importorskip("mnp.data")
    x, y = _blobs()
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    model = _model()
    trainer = _trainer(model)
    history = trainer.fit(loader, epochs=6, validation_data=loader, progress=False)
    assert history["accuracy"][-1] >= 0.97 and len(history["val_loss"]) == 6
    assert set(trainer.evaluate(loader)) == {"loss", "accuracy"}
    assert trainer.predict(loader).shape == (120, 2)
    batches = [(x[i:i + 30], y[i:i + 30]) for i in range(0, 120, 30)]   # a plain list
    assert len(trainer.fit(batches, epochs=2, progress=False)) == 2


def test_a_generator_cannot_feed_a_second_epoch():
    x, y = _blobs(32)
    gen = ((x[i:i + 8], y[i:i + 8]) for i in range(0, 32, 8))
    with pytest.raises(TrainerError, match="no batches.*generator"):
        _trainer(_model()).fit(gen, epochs=2, progress=False)


def test_shuffling_is_deterministic_under_seed():
    x, y = _blobs(64)

    def run(seed, shuffle=True):
        model = _model(0)
        _trainer(model).fit(x, y, epochs=2, batch_size=8, shuffle=shuffle, seed=seed,
                            progress=False)
        return _weights(model)

    a, b, c = run(5), run(5), run(6)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)
    d, e = run(5, shuffle=False), run(6, shuffle=False)
    assert all(np.array_equal(d[k], e[k]) for k in d)
    assert not all(np.array_equal(a[k], d[k]) for k in a)


def test_loss_and_metrics_by_registered_name():
    x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    t = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    mnp.manual_seed(0)
    model = nn.Linear(3, 1)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), "MSELoss",
                      metrics=["mse", "mae"])
    history = trainer.fit(x, t, epochs=30, batch_size=16, progress=False, seed=0)
    assert history["mse"][-1] < 1e-3
    assert history["loss"][-1] == pytest.approx(history["mse"][-1], rel=1e-4)
    with pytest.raises(mnp.PluginError, match="no metric named 'nope'"):
        Trainer(model, trainer.optimizer, "MSELoss", metrics=["nope"])
    with pytest.raises(mnp.PluginError, match="no loss named 'Nope'"):
        Trainer(model, trainer.optimizer, "Nope")
    with pytest.raises(TrainerError, match="used twice"):
        Trainer(model, trainer.optimizer, "MSELoss", metrics=["mse", M.mse])


def test_bad_inputs_raise_clear_errors():
    x, y = _blobs(10)
    trainer = _trainer(_model())
    with pytest.raises(mnp.ShapeError, match=r"x has 10 samples but y has 9"):
        trainer.fit(x, y[:9], progress=False)
    with pytest.raises(TrainerError, match="y is required"):
        trainer.fit(x, progress=False)
    with pytest.raises(TrainerError, match="batch_size"):
        trainer.fit(x, y, batch_size=0, progress=False)
    bad = Trainer(_model(), trainer.optimizer, nn.CrossEntropyLoss(reduction="none"))
    with pytest.raises(TrainerError, match="scalar Tensor"):
        bad.fit(x, y, progress=False)
    cm = Trainer(_model(), trainer.optimizer, "CrossEntropyLoss", metrics=["confusion_matrix"])
    with pytest.raises(TrainerError, match="'confusion_matrix' returned a value of shape"):
        cm.fit(x, y, progress=False)
    with pytest.raises(TrainerError, match="Callback instances"):
        Trainer(_model(), trainer.optimizer, "MSELoss", callbacks=[object()])


# -- progress bar and plots ----------------------------------------------------------------------
def test_progress_bar_shows_loss_and_metrics(capsys):
    x, y = _blobs(40)
    _trainer(_model()).fit(x, y, epochs=2, batch_size=10, validation_data=(x, y), seed=0)
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "Epoch 2/2" in err
    assert "loss=" in err and "accuracy=" in err and "val_loss=" in err
    assert "4/4" in err


def test_progress_false_is_silent(capsys):
    x, y = _blobs(40)
    _trainer(_model()).fit(x, y, epochs=2, batch_size=10, progress=False)
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_history_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    x, y = _blobs(40)
    history = _trainer(_model()).fit(x, y, epochs=3, validation_data=(x, y), progress=False)
    path = history.plot(tmp_path / "curves.png")
    data = (tmp_path / "curves.png").read_bytes()
    assert path.endswith("curves.png") and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    history.plot(tmp_path / "val.png", keys=["val_loss"])
    assert (tmp_path / "val.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(TrainerError, match="no values for \\['f1'\\]"):
        history.plot(tmp_path / "none.png", keys=["f1"])


def test_history_plot_without_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    import sys
    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)      # as if it were not installed
    history = History({"loss": [1.0, 0.5]}, [0, 1])
    with pytest.raises(TrainerError, match=r"pip install mnp-nn\[plot\]"):
        history.plot(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# -- EarlyStopping ----------------------------------------------------------------------------------
def test_early_stopping_stops_after_patience_epochs_without_improvement():
    x, y = _blobs(32)
    stop = EarlyStopping(monitor="loss", patience=2)
    trainer = _trainer(_model(), lr=0.0, callbacks=[stop])   # lr 0: loss never improves
    history = trainer.fit(x, y, epochs=20, progress=False, shuffle=False)
    assert len(history) == 3 and stop.stopped_epoch == 2 and stop.best_epoch == 0
    assert stop.mode == "min" and EarlyStopping("val_accuracy").mode == "max"


def test_early_stopping_min_delta_and_restore_best_weights():
    x, y = _blobs(32)
    scores = iter([0.5, 0.9, 0.7, 0.91, 0.6, 0.95])
    snapshots = []

    class Snap(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(_weights(self.trainer.model))

    stop = EarlyStopping(monitor="score", patience=2, min_delta=0.05, mode="max",
                         restore_best_weights=True)
    model = _model()
    trainer = _trainer(model, metrics={"score": lambda o, t: next(scores)},
                       callbacks=[Snap(), stop])
    history = trainer.fit(x, y, epochs=10, progress=False, seed=0)
    # 0.5 best, 0.9 best (+0.4), 0.7 worse, 0.91 only +0.01 < min_delta: second miss, stop
    assert history["score"] == [0.5, 0.9, 0.7, 0.91]
    assert stop.best_epoch == 1 and stop.stopped_epoch == 3 and stop.best == 0.9
    final = _weights(model)
    assert all(np.array_equal(final[k], snapshots[1][k]) for k in final)
    assert not all(np.array_equal(snapshots[3][k], snapshots[1][k]) for k in final)


def test_early_stopping_missing_monitor_names_the_fix():
    x, y = _blobs(16)
    trainer = _trainer(_model(), callbacks=[EarlyStopping()])
    with pytest.raises(CallbackError, match="'val_loss' is not in the logs.*validation_data"):
        trainer.fit(x, y, progress=False)
    with pytest.raises(CallbackError, match="mode"):
        EarlyStopping(mode="best")


# -- ModelCheckpoint and resuming -----------------------------------------------------------------
def test_model_checkpoint_save_best_only_and_path_formatting(tmp_path):
    x, y = _blobs(32)
    scores = iter([0.5, 0.4, 0.8, 0.8])
    ck = ModelCheckpoint(tmp_path / "ck-{epoch:02d}-{score:.2f}.safetensors", monitor="score",
                         save_best_only=True, mode="max")
    trainer = _trainer(_model(), metrics={"score": lambda o, t: next(scores)}, callbacks=[ck])
    trainer.fit(x, y, epochs=4, progress=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ck-01-0.50.safetensors", "ck-03-0.80.safetensors"]
    assert ck.best_path == str(tmp_path / "ck-03-0.80.safetensors") and ck.mode == "max"
    from mnp.nn.serialization import load, load_checkpoint
    ckpt = load_checkpoint(ck.best_path)
    assert ckpt["epoch"] == 3 and ckpt["extra"]["trainer"]["history"]["history"]["score"] == \
        [0.5, 0.4, 0.8]
    assert isinstance(load(ck.best_path), nn.Sequential)   # also a model file


def _resumable(seed=0):
    """A model whose training uses every kind of state a checkpoint must carry: Adam
    moments, BatchNorm statistics, dropout (mnp's generator), a scheduler, shuffling."""
    mnp.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def test_interrupted_and_resumed_run_equals_an_uninterrupted_run_bit_for_bit(tmp_path):
    x, y = _blobs(60)
    xv, yv = _blobs(20, seed=1)
    fit = dict(epochs=5, batch_size=16, validation_data=(xv, yv), progress=False, seed=7)

    model, opt, sched = _resumable()
    stop = EarlyStopping(monitor="val_loss", patience=50)
    full = Trainer(model, opt, "CrossEntropyLoss", scheduler=sched,
                   callbacks=[ModelCheckpoint(tmp_path / "full-{epoch}.safetensors"), stop])
    full_history = full.fit(x, y, **fit)
    rng_after_full = mnp.get_rng_state()

    # the same run, killed in the middle of epoch 4 (after epoch 3's checkpoint)
    model2, opt2, sched2 = _resumable()
    calls = [0]

    def loss_then_crash(out, target):
        calls[0] += 1
        if calls[0] == 3 * 6 + 2:         # 4 train + 2 validation batches per epoch
            raise KeyboardInterrupt
        return nn.functional.cross_entropy(out, target)

    crashing = Trainer(model2, opt2, loss_then_crash, scheduler=sched2, callbacks=[
        ModelCheckpoint(tmp_path / "run-{epoch}.safetensors"), EarlyStopping(patience=50)])
    with pytest.raises(KeyboardInterrupt):
        crashing.fit(x, y, **fit)
    assert sorted(p.name for p in tmp_path.glob("run-*")) == [
        "run-1.safetensors", "run-2.safetensors", "run-3.safetensors"]

    # a new process: different initial weights, optimizer settings and global random state
    model3, opt3, sched3 = _resumable(seed=123)
    opt3.param_groups[0]["lr"] = 0.5
    mnp.manual_seed(999)
    stop3 = EarlyStopping(monitor="val_loss", patience=50)
    resumed = Trainer(model3, opt3, "CrossEntropyLoss", scheduler=sched3, callbacks=[
        ModelCheckpoint(tmp_path / "run-{epoch}.safetensors"), stop3])
    history = resumed.fit(x, y, **dict(fit, seed=12345),
                          resume_from=tmp_path / "run-3.safetensors")

    a, b = _weights(model), _weights(model3)
    assert list(a) == list(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert history.history == full_history.history and history.epoch == [0, 1, 2, 3, 4]
    assert opt3.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.02 * 0.5 ** 2
    sa, sb = opt.state_dict()["state"], opt3.state_dict()["state"]
    for i in sa:
        for key in ("exp_avg", "exp_avg_sq"):
            assert np.array_equal(sa[i][key].data, sb[i][key].data)
    assert stop3.best == stop.best and stop3.best_epoch == stop.best_epoch
    assert mnp.get_rng_state() == rng_after_full and resumed.epoch == 5


def test_resume_with_a_seeded_dataloader_is_exact(tmp_path):
    data = pytest.importorskip("mnp.data")
    x, y = _blobs(48)

    def run(resume_from=None, epochs=4, seed=0):
        model, opt, _ = _resumable(seed)
        loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True, seed=3)
        trainer = Trainer(model, opt, "CrossEntropyLoss",
                          callbacks=[ModelCheckpoint(tmp_path / "dl-{epoch}.safetensors")])
        trainer.fit(loader, epochs=epochs, progress=False, resume_from=resume_from)
        return _weights(model)

    full = run()
    run(epochs=2)                          # a run stopped after epoch 2 rewrites dl-1, dl-2
    resumed = run(resume_from=tmp_path / "dl-2.safetensors", seed=9)
    assert all(np.array_equal(full[k], resumed[k]) for k in full)


def test_resume_from_a_file_without_trainer_state(tmp_path):
    from mnp.nn.serialization import ModelFormatError, save_checkpoint
    model = _model()
    trainer = _trainer(model)
    path = tmp_path / "plain.safetensors"
    save_checkpoint(path, model=model, optimizer_state=trainer.optimizer.state_dict(), epoch=1)
    x, y = _blobs(16)
    with pytest.raises(ModelFormatError, match="not a Trainer checkpoint"):
        trainer.fit(x, y, resume_from=path, progress=False)


def test_training_curves_are_readable(tmp_path):
    """Title naming the run, labelled axes, loss on a log axis with training and validation
    told apart, and the learning-rate schedule in its own panel."""
    pytest.importorskip("matplotlib")
    from mnp.nn.plotting import curves_figure
    history = History()
    for epoch, (loss, val, lr) in enumerate([(2.0, 2.2, 1e-3), (0.1, 0.3, 5e-4), (1e-3, 0.05, 1e-4)]):
        history.append(epoch, {"loss": loss, "val_loss": val, "accuracy": 0.5 + epoch / 10}, lr)
    assert history.lr == [1e-3, 5e-4, 1e-4]
    assert History(**history.state_dict()).lr == history.lr
    path = history.plot(tmp_path / "curves.png", title="digits CNN, seed 0")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.endswith(".png")
    import mnp.nn.history as trainer_module
    seen = {}
    real = trainer_module.plot_curves

    def spy(path, panels, title, xlabel, learning_rate=None, op="plot_curves"):
        seen["fig"] = curves_figure(panels, title, xlabel, learning_rate, op)
        return real(path, panels, title, xlabel, learning_rate, op)
    trainer_module.plot_curves = spy
    try:
        history.plot(tmp_path / "again.png", title="digits CNN, seed 0")
    finally:
        trainer_module.plot_curves = real
    fig = seen["fig"]
    assert fig._suptitle.get_text() == "digits CNN, seed 0"
    loss_ax, acc_ax, lr_ax = fig.axes
    assert loss_ax.get_yscale() == "log" and acc_ax.get_yscale() == "linear"
    assert loss_ax.get_ylabel() == "loss (log scale)" and loss_ax.get_xlabel() == "epoch"
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["training", "validation"]
    assert lr_ax.get_title() == "learning rate"
    assert list(lr_ax.lines[0].get_ydata()) == [1e-3, 5e-4, 1e-4]


def test_fit_records_the_learning_rate_of_each_epoch():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    trainer = nn.Trainer(model, opt, nn.MSELoss(), metrics=(), scheduler=sched)
    X = np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32)
    history = trainer.fit(X, X[:, :1], epochs=3, progress=False, seed=0)
    assert history.lr == pytest.approx([0.1, 0.05, 0.025])
