"""mnp.nn.metrics against hand-computed values and the scikit-learn definitions."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mnp.core as mnp
from mnp.nn import metrics
from mnp.core.testing import assert_close


# -- hand-computed ----------------------------------------------------------------------
def test_accuracy_from_logits_indices_onehot_and_tensors():
    logits = np.array([[2.0, 0.1, 0.0], [0.3, 1.5, 0.2], [0.0, 0.1, 3.0], [1.0, 0.0, 0.5]])
    target = np.array([0, 1, 1, 2])
    assert metrics.accuracy(logits, target) == 0.5
    assert metrics.accuracy(mnp.tensor(logits), mnp.tensor(target)) == 0.5
    assert metrics.accuracy(logits, np.eye(3)[target]) == 0.5          # one-hot target
    assert metrics.accuracy(np.array([0, 1, 2, 2]), target) == 0.75     # class indices
    assert metrics.accuracy(logits, target.reshape(-1, 1)) == 0.5


def test_accuracy_binary_threshold_probabilities_and_logits():
    probs = np.array([0.9, 0.2, 0.7, 0.4])
    target = np.array([1, 0, 0, 0])
    assert metrics.accuracy(probs, target) == 0.75
    assert metrics.accuracy(probs, target, threshold=0.8) == 1.0
    assert metrics.accuracy(probs.reshape(-1, 1), target.astype(np.float32)) == 0.75
    logits = np.array([2.0, -1.0, 0.5, -0.1])              # outside [0, 1]: sigmoid first
    assert metrics.accuracy(logits, target) == 0.75
    assert metrics.accuracy(logits, target, threshold=0.7) == 1.0   # sigmoid(0.5) = 0.62


def test_mse_mae():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [3.0, 7.0]])
    assert metrics.mse(a, b) == pytest.approx((0 + 4 + 0 + 9) / 4)
    assert metrics.mae(a, b) == pytest.approx((0 + 2 + 0 + 3) / 4)
    assert metrics.mse(mnp.tensor(a[:, :1]), b[:, 0]) == 0.0        # (N, 1) against (N,)
    with pytest.raises(mnp.ShapeError, match="mse"):
        metrics.mse(np.ones(3), np.ones(4))


def test_confusion_matrix_hand_computed():
    pred = np.array([0, 2, 1, 1, 0, 2, 2])
    true = np.array([0, 1, 1, 2, 0, 2, 1])
    cm = metrics.confusion_matrix(pred, true)
    # rows: true class, columns: predicted class
    assert cm.tolist() == [[2, 0, 0], [0, 1, 2], [0, 1, 1]]
    assert cm.dtype == np.int64
    assert metrics.confusion_matrix(pred, true, num_classes=4).shape == (4, 4)
    with pytest.raises(mnp.ShapeError, match="num_classes=2"):
        metrics.confusion_matrix(pred, true, num_classes=2)
    logits = np.eye(5)[[0, 1]]                      # two samples, five class columns
    assert metrics.confusion_matrix(logits, np.array([0, 0])).shape == (5, 5)


def test_precision_recall_f1_binary_hand_computed():
    pred = np.array([1, 1, 0, 1, 0, 0])
    true = np.array([1, 0, 0, 1, 1, 0])
    # tp = 2, fp = 1, fn = 1
    assert metrics.precision(pred, true) == pytest.approx(2 / 3)
    assert metrics.recall(pred, true) == pytest.approx(2 / 3)
    assert metrics.f1(pred, true) == pytest.approx(2 / 3)
    assert metrics.precision(pred, true, pos_label=0) == pytest.approx(2 / 3)
    assert metrics.recall(np.array([1, 0, 0]), np.array([1, 1, 0])) == pytest.approx(0.5)
    assert metrics.f1(np.array([1, 0, 0]), np.array([1, 1, 0])) == pytest.approx(2 / 3)
    # no predicted positives: precision is 0 (scikit-learn's zero_division=0)
    assert metrics.precision(np.zeros(3, int), np.array([1, 0, 0])) == 0.0


def test_precision_recall_f1_multiclass_hand_computed():
    pred = np.array([0, 2, 1, 1, 0, 2, 2])
    true = np.array([0, 1, 1, 2, 0, 2, 1])
    # per class: precision 2/2, 1/2, 1/3; recall 2/2, 1/3, 1/2
    p = [1.0, 0.5, 1 / 3]
    r = [1.0, 1 / 3, 0.5]
    f = [2 * a * b / (a + b) for a, b in zip(p, r)]
    assert metrics.precision(pred, true, average="macro") == pytest.approx(np.mean(p))
    assert metrics.recall(pred, true, average="macro") == pytest.approx(np.mean(r))
    assert metrics.f1(pred, true, average="macro") == pytest.approx(np.mean(f))
    assert metrics.precision(pred, true) == pytest.approx(np.mean(p))     # default: macro
    acc = 4 / 7                                      # micro = accuracy for single-label data
    for fn in (metrics.precision, metrics.recall, metrics.f1):
        assert fn(pred, true, average="micro") == pytest.approx(acc)
    with pytest.raises(mnp.MnpError, match="binary"):
        metrics.f1(pred, true, average="binary")
    with pytest.raises(mnp.MnpError, match="average"):
        metrics.f1(pred, true, average="weighted")


def test_bad_inputs_raise_mnp_errors():
    with pytest.raises(mnp.ShapeError, match=r"accuracy: .*\(3, 2\).*\(4,\)"):
        metrics.accuracy(np.ones((3, 2)), np.ones(4))
    with pytest.raises(mnp.DTypeError, match="non-integer"):
        metrics.accuracy(np.ones((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(mnp.DTypeError, match="numeric"):
        metrics.accuracy(np.array(["a", "b"]), np.array([0, 1]))


def test_metrics_registry_dict():
    assert set(metrics.METRICS) == {"accuracy", "mse", "mae", "precision", "recall", "f1",
                                    "confusion_matrix"}
    assert all(callable(f) for f in metrics.METRICS.values())


# -- property tests against the definitions ----------------------------------------------
def _reference(pred, true, labels):
    """Per-class precision/recall/f1 straight from the definitions (scikit-learn's)."""
    out = []
    for c in labels:
        tp = sum(1 for p, t in zip(pred, true) if p == c and t == c)
        pp = sum(1 for p in pred if p == c)
        ap = sum(1 for t in true if t == c)
        prec = tp / pp if pp else 0.0
        rec = tp / ap if ap else 0.0
        f = 2 * tp / (pp + ap) if pp + ap else 0.0
        out.append((prec, rec, f))
    return np.array(out)


labels_st = st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 4), min_size=n, max_size=n),
    st.lists(st.integers(0, 4), min_size=n, max_size=n)))


@settings(max_examples=40, deadline=None)
@given(labels_st)
def test_macro_micro_match_definitions(pair):
    pred, true = map(np.array, pair)
    present = sorted(set(pred.tolist()) | set(true.tolist()))
    ref = _reference(pred, true, present).mean(axis=0)
    got = [metrics.precision(pred, true, average="macro"),
           metrics.recall(pred, true, average="macro"),
           metrics.f1(pred, true, average="macro")]
    assert_close(got, ref, rtol=1e-12, atol=1e-12)
    acc = float(np.mean(pred == true))
    assert metrics.accuracy(pred, true) == pytest.approx(acc)
    assert metrics.f1(pred, true, average="micro") == pytest.approx(acc)
    cm = metrics.confusion_matrix(pred, true, num_classes=5)
    assert cm.sum() == len(pred) and np.trace(cm) == int(np.sum(pred == true))
    for t, p in zip(true, pred):
        assert cm[t, p] >= 1
    # num_classes given: absent classes count as 0 in the macro mean
    full = _reference(pred, true, range(5)).mean(axis=0)
    assert metrics.f1(pred, true, average="macro", num_classes=5) == pytest.approx(full[2])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 30), st.integers(2, 6), st.integers(0, 2**31 - 1))
def test_accuracy_of_logits_is_argmax_agreement(n, c, seed):
    g = np.random.default_rng(seed)
    logits = g.standard_normal((n, c)).astype(np.float32)
    target = g.integers(0, c, n)
    expected = np.mean(np.argmax(logits, axis=1) == target)
    assert metrics.accuracy(logits, target) == pytest.approx(expected)
    assert metrics.accuracy(mnp.softmax(mnp.tensor(logits), axis=-1), target) == pytest.approx(expected)
