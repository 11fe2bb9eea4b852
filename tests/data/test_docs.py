"""The runnable examples in mnp.data's docstrings stay true."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["mnp.data", "mnp.data.dataset", "mnp.data.loader", "mnp.data.split",
           "mnp.data.synthetic", "mnp.data.digits", "mnp.data.idx", "mnp.data.files",
           "mnp.data.transforms", "mnp.data.registry", "mnp.data.worker"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
