"""Datasets through mnp.core's plugin registry: the data plugin's hook, load(), list_datasets()."""
from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core import PluginError, PluginHost, hookimpl, use_host
from mnp.data import digits, list_datasets, load, xor
from mnp.data import DataLoader
from mnp.data.plugin import DATASETS, LOADER

EXPECTED = ["blobs", "circles", "digits", "linear", "moons", "regression", "spiral", "xor"]


def _host(*entry_points: EntryPoint, environ=None) -> PluginHost:
    return PluginHost(entry_points=lambda: list(entry_points), environ=environ or {})


DATA_EP = EntryPoint("data", "mnp.data.plugin", "mnp")


def test_installed_plugin_lists_every_dataset():
    assert set(EXPECTED) <= set(list_datasets())
    info = next(p for p in mnp.plugins() if p["module"] == "mnp.data.plugin")
    assert info["status"] == "loaded"
    assert info["provides"]["datasets"] == sorted(EXPECTED)
    assert info["provides"]["loaders"] == [LOADER]


def test_the_loader_is_registered_as_a_loader_not_a_dataset():
    assert mnp.lookup("loaders", LOADER) is DataLoader
    assert LOADER not in list_datasets()


def test_hook_registers_exactly_the_data_sets():
    with use_host(_host(DATA_EP)) as host:
        assert list_datasets() == EXPECTED
        assert mnp.lookup("datasets", "digits") is digits
        assert host.registry("datasets")["xor"].provider == "data"
    assert sorted(DATASETS) == EXPECTED


def test_load_passes_keyword_arguments():
    with use_host(_host(DATA_EP)):
        X, y = load("xor")
        np.testing.assert_array_equal(X, xor()[0])
        X, y = load("spiral", n_per_class=10, classes=2, seed=0)
        assert X.shape == (20, 2)
        X, y = load("digits", return_images=True)
        assert X.shape == (1797, 8, 8)


def test_unknown_name_lists_known_ones():
    with use_host(_host(DATA_EP)):
        with pytest.raises(PluginError, match="no dataset named 'mnist'.*digits.*xor"):
            load("mnist")


def test_disabled_plugin_registers_nothing():
    with use_host(_host(DATA_EP, environ={"MNP_LOAD_PLUGINS": ""})):
        assert list_datasets() == []
        with pytest.raises(PluginError, match=r"\(none\)"):
            load("digits")


def test_third_party_dataset_is_found(monkeypatch):
    module = types.ModuleType("extra_mnp_datasets")

    @hookimpl
    def mnp_register_datasets(register):
        register("ones", lambda n=3: (np.ones((n, 2), np.float32), np.zeros(n, np.int64)))

    module.mnp_register_datasets = mnp_register_datasets
    monkeypatch.setitem(sys.modules, "extra_mnp_datasets", module)
    extra = EntryPoint("extra", "extra_mnp_datasets", "mnp")
    with use_host(_host(DATA_EP, extra)):
        assert "ones" in list_datasets() and "digits" in list_datasets()
        X, y = load("ones", n=5)
        assert X.shape == (5, 2)


def test_duplicate_dataset_name_is_reported(monkeypatch):
    module = types.ModuleType("dup_mnp_datasets")

    @hookimpl
    def mnp_register_datasets(register):
        register("digits", lambda: None)

    module.mnp_register_datasets = mnp_register_datasets
    monkeypatch.setitem(sys.modules, "dup_mnp_datasets", module)
    with use_host(_host(DATA_EP, EntryPoint("dup", "dup_mnp_datasets", "mnp"))):
        assert mnp.lookup("datasets", "digits") is digits
        dup = next(p for p in mnp.plugins() if p["name"] == "dup")
        assert dup["status"] == "failed" and "duplicate" in dup["error"]
