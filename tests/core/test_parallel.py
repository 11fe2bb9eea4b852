"""mnp.core.parallel: the process-group slot that training loops consult."""
import sys

import pytest

from mnp.core import parallel

plugins = sys.modules["mnp.core.plugins"]     # the module (mnp.core.plugins is also a function)


class FakeGroup:
    def __init__(self, rank, world_size=2):
        self.rank, self.world_size = rank, world_size


@pytest.fixture(autouse=True)
def _clean():
    before = parallel.get_process_group()
    parallel.set_process_group(None)
    yield
    parallel.set_process_group(before)


def test_no_group_without_a_factory_that_finds_a_launcher(monkeypatch):
    monkeypatch.setattr(plugins, "registry", lambda kind: {"none": lambda: None})
    assert parallel.default_process_group() is None
    assert parallel.get_process_group() is None and parallel.is_main_process()


def test_the_first_factory_with_a_group_starts_it_once(monkeypatch):
    calls = []

    def factory():
        calls.append(1)
        return FakeGroup(1)
    monkeypatch.setattr(plugins, "registry", lambda kind: {"none": lambda: None, "fake": factory})
    group = parallel.default_process_group()
    assert isinstance(group, FakeGroup) and parallel.get_process_group() is group
    assert parallel.default_process_group() is group and calls == [1]
    assert not parallel.is_main_process()
    parallel.set_process_group(FakeGroup(0))
    assert parallel.is_main_process()
