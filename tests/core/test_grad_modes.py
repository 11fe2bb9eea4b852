"""inference_mode and set_grad_enabled, as PyTorch's."""
from __future__ import annotations

import threading

import pytest

import mnp.core as mnp
from mnp.core.errors import ArgumentError


def _records() -> bool:
    return (mnp.ones(2, requires_grad=True) * 2).requires_grad


def test_inference_mode_records_no_graph():
    with mnp.inference_mode():
        assert not _records() and not mnp.is_grad_enabled()
    assert _records()
    with mnp.inference_mode(True):
        assert not _records()
    with mnp.inference_mode(False):     # mode=False changes nothing
        assert _records()
        with mnp.no_grad(), mnp.inference_mode(False):
            assert not _records()
    assert mnp.is_grad_enabled()


def test_inference_mode_as_decorator_bare_and_called():
    @mnp.inference_mode
    def bare():
        return _records()

    @mnp.inference_mode()
    def called():
        return _records()

    @mnp.inference_mode(mode=False)
    def off():
        return _records()

    assert (bare(), called(), off(), bare()) == (False, False, True, False)
    assert bare.__name__ == "bare" and mnp.is_grad_enabled()


def test_inference_mode_restores_on_error():
    with pytest.raises(ValueError):
        with mnp.inference_mode():
            raise ValueError
    assert mnp.is_grad_enabled()


def test_set_grad_enabled_as_a_function():
    try:
        mnp.set_grad_enabled(False)
        assert not mnp.is_grad_enabled() and not _records()
        mnp.set_grad_enabled(True)
        assert mnp.is_grad_enabled() and _records()
    finally:
        mnp.set_grad_enabled(True)


def test_set_grad_enabled_as_a_context_manager_restores():
    with mnp.set_grad_enabled(False):
        assert not _records()
        with mnp.set_grad_enabled(True):
            assert _records()
        assert not _records()
    assert _records()
    with mnp.no_grad():
        with mnp.set_grad_enabled(True):
            assert _records()
        assert not mnp.is_grad_enabled()
    assert mnp.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_sets_mode_only_in_calls():
    torch = pytest.importorskip("torch")

    @mnp.set_grad_enabled(False)
    def f():
        return _records()

    @torch.set_grad_enabled(False)
    def g():
        return torch.is_grad_enabled()

    assert mnp.is_grad_enabled() and torch.is_grad_enabled()   # as torch: not left off
    assert f() is False and g() is False and f() is False
    assert mnp.is_grad_enabled() and torch.is_grad_enabled()


def test_set_grad_enabled_is_per_thread():
    seen = []
    with mnp.set_grad_enabled(False):
        t = threading.Thread(target=lambda: seen.append(mnp.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_set_grad_enabled_rejects_non_bools():
    with pytest.raises(ArgumentError, match="set_grad_enabled: mode must be a bool"):
        mnp.set_grad_enabled("no")
    assert mnp.is_grad_enabled()
