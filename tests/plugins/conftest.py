"""Fake plugin distributions: real ``*.dist-info`` directories (METADATA + entry_points.txt in
group ``mnp``) and their plugin modules in a temporary site directory, found through
``importlib.metadata.distributions(path=[...])`` by an injected `PluginHost`."""
from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from mnp.core.plugins import GROUP, PluginHost


class FakeSite:
    """A directory of fake installed distributions. Module names get a per-test prefix so
    that no two tests share an imported module."""

    def __init__(self, root: Path):
        self.root = root
        self.prefix = f"fakeplug_{uuid.uuid4().hex[:8]}_"
        self.modules: list[str] = []

    def module_name(self, short: str) -> str:
        return self.prefix + short

    def add(self, dist: str, plugins: dict[str, str], version: str = "1.0.0") -> dict[str, str]:
        """Install distribution ``dist`` whose entry points are ``{name: module source}``.
        Returns ``{entry point name: module name}``."""
        names = {}
        lines = [f"[{GROUP}]"]
        for ep_name, source in plugins.items():
            mod = self.module_name(ep_name)
            (self.root / f"{mod}.py").write_text(textwrap.dedent(source))
            lines.append(f"{ep_name} = {mod}")
            names[ep_name] = mod
            self.modules.append(mod)
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        importlib.invalidate_caches()
        return names

    def entry_points(self) -> list[md.EntryPoint]:
        return [ep for d in md.distributions(path=[str(self.root)]) for ep in d.entry_points
                if ep.group == GROUP]

    def host(self, environ: dict | None = None, installed: bool = False, reverse: bool = False) -> PluginHost:
        """A host seeing the fake distributions (plus the installed ones if ``installed``)."""
        def eps():
            found = self.entry_points()
            if installed:
                found = list(md.entry_points(group=GROUP)) + found
            return found[::-1] if reverse else found
        return PluginHost(entry_points=eps, environ={} if environ is None else environ)

    def run(self, code: str, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run ``python -c code`` with this site on the path (so installed-style discovery
        finds the fake distributions)."""
        full = {k: v for k, v in os.environ.items() if not k.startswith("MNP_")}
        full["PYTHONPATH"] = os.pathsep.join([str(self.root)] + [p for p in sys.path if p])
        full.update(env or {})
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full,
                              capture_output=True, text=True, timeout=60)


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    s = FakeSite(root)
    yield s
    for mod in s.modules:
        sys.modules.pop(mod, None)


# -- plugin sources -------------------------------------------------------------------------
GOOD = """
    import numpy as np
    from mnp.core import hookimpl

    CALLS = {}

    def _count(key):
        CALLS[key] = CALLS.get(key, 0) + 1

    class GoodLayer:
        pass

    def good_data(n=4):
        return np.zeros((n, 2), np.float32), np.zeros(n, np.int64)

    def fast_add(a, b):
        _count("fast_add")
        return np.add(a, b)

    @hookimpl
    def mnp_register_backends(register):
        _count("mnp_register_backends")
        register("fast", {"add": fast_add}, priority=5, dtypes={"add": ("float32",)},
                 description="a fake backend with one float32 kernel")

    @hookimpl
    def mnp_register_layers(register):
        _count("mnp_register_layers")
        register("GoodLayer", GoodLayer)

    @hookimpl
    def mnp_register_datasets(register):
        _count("mnp_register_datasets")
        register("good_data", good_data)
"""

BROKEN_IMPORT = """
    import mnp_no_such_module_anywhere  # fails at import
"""

HOOK_RAISES = """
    from mnp.core import hookimpl

    class Partial:
        pass

    @hookimpl
    def mnp_register_layers(register):
        register("PartialLayer", Partial)
        raise RuntimeError("boom in mnp_register_layers")
"""


def layer_plugin(*names: str) -> str:
    regs = "\n".join(f"        register({n!r}, type({n!r}, (), {{}}))" for n in names)
    return f"""
    from mnp.core import hookimpl

    @hookimpl
    def mnp_register_layers(register):
{regs}
"""


class Sources:
    """Plugin module sources, for tests (conftest modules are not importable by name)."""
    GOOD = GOOD
    BROKEN_IMPORT = BROKEN_IMPORT
    HOOK_RAISES = HOOK_RAISES
    layer_plugin = staticmethod(layer_plugin)


@pytest.fixture
def src() -> type[Sources]:
    return Sources


@pytest.fixture(autouse=True)
def _restore_host():
    """Leave the plugin host as found, whatever a test did with it."""
    plug = sys.modules["mnp.core.plugins"]
    before = plug._host
    yield
    if plug._host is not before:
        plug.set_host(before)
