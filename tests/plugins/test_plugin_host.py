"""The plugin host against fake installed distributions: loading, isolation, blocking,
duplicates, order, laziness, and one test per hookspec."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core import hookspecs
from mnp.core.errors import PluginError
from mnp.core.plugins import use_host


def by_name(host) -> dict:
    return {p.name: p for p in host.load().plugins}


# -- a working plugin -----------------------------------------------------------------------
def test_working_plugin_is_loaded_with_what_it_provides(site, src):
    mods = site.add("mnp-good", {"good": src.GOOD}, version="1.2.3")
    host = site.host()
    with use_host(host):
        rows = {p["name"]: p for p in mnp.plugins()}
        good = rows["good"]
        assert good["status"] == "loaded" and good["error"] is None
        assert good["version"] == "1.2.3" and good["distribution"] == "mnp-good"
        assert good["module"] == mods["good"] and good["builtin"] is False
        assert good["provides"] == {"backends": ["fast"], "kernels": ["fast:add"],
                                    "layers": ["GoodLayer"], "datasets": ["good_data"]}
        plugin_module = sys.modules[mods["good"]]
        assert mnp.lookup("layers", "GoodLayer") is plugin_module.GoodLayer
        X, y = mnp.registry("datasets")["good_data"](3)
        assert X.shape == (3, 2) and y.dtype == np.int64
        assert "fast" in [b["name"] for b in mnp.backends()]
        # the reference backend of core is always there, loaded first
        assert mnp.plugins()[0]["name"] == "numpy" and rows["numpy"]["status"] == "loaded"


def test_hooks_are_called_once_however_much_the_registries_are_used(site, src):
    mods = site.add("mnp-good", {"good": src.GOOD})
    host = site.host()
    with use_host(host):
        for _ in range(3):
            mnp.plugins(), mnp.registry("layers"), mnp.lookup("layers", "GoodLayer"), mnp.backends()
        calls = sys.modules[mods["good"]].CALLS
        assert calls["mnp_register_layers"] == 1
        assert calls["mnp_register_backends"] == 1
        assert calls["mnp_register_datasets"] == 1


def test_lookup_of_an_unknown_name_lists_the_known_ones(site, src):
    site.add("mnp-good", {"good": src.GOOD})
    with use_host(site.host()):
        with pytest.raises(PluginError, match=r"no layer named 'Nope'.*GoodLayer"):
            mnp.lookup("layers", "Nope")
        with pytest.raises(PluginError, match="unknown registry 'widgets'"):
            mnp.registry("widgets")


# -- failures are isolated ------------------------------------------------------------------
def test_plugin_failing_at_import_is_reported_and_others_still_load(site, src):
    site.add("mnp-broken", {"broken": src.BROKEN_IMPORT})
    site.add("mnp-good", {"good": src.GOOD})
    with use_host(site.host()) as host:
        rows = by_name(host)
        assert rows["broken"].status == "failed"
        assert "ModuleNotFoundError" in rows["broken"].error
        assert "mnp_no_such_module_anywhere" in rows["broken"].error
        assert rows["broken"].provides == {}
        assert rows["good"].status == "loaded"
        # ops still work with a broken plugin around
        y = (mnp.tensor([1.0, 2.0], requires_grad=True) * 3).sum()
        y.backward()
        assert y.item() == 9.0


def test_strict_mode_turns_a_failing_plugin_into_an_error(site, src):
    site.add("mnp-broken", {"broken": src.BROKEN_IMPORT})
    host = site.host(environ={"MNP_STRICT_PLUGINS": "1"})
    with pytest.raises(PluginError, match=r"plugin 'broken'.*failed to load.*ModuleNotFoundError"):
        host.load()
    with pytest.raises(PluginError):   # and stays an error: no silently half-loaded host
        host.load()
    with use_host(site.host(environ={"MNP_STRICT_PLUGINS": "1"})):
        with pytest.raises(PluginError, match="broken"):
            mnp.plugins()


def test_strict_mode_with_only_good_plugins_loads_normally(site, src):
    site.add("mnp-good", {"good": src.GOOD})
    host = site.host(environ={"MNP_STRICT_PLUGINS": "1"})
    assert by_name(host)["good"].status == "loaded"


def test_plugin_whose_hook_raises_is_failed_and_registers_nothing(site, src):
    site.add("mnp-raises", {"raises": src.HOOK_RAISES})
    site.add("mnp-good", {"good": src.GOOD})
    with use_host(site.host()) as host:
        rows = by_name(host)
        assert rows["raises"].status == "failed"
        assert rows["raises"].error == "RuntimeError: boom in mnp_register_layers"
        assert "PartialLayer" not in mnp.registry("layers")   # nothing half-registered
        assert rows["good"].status == "loaded"
        assert "GoodLayer" in mnp.registry("layers")


def test_misspelt_hook_fails_the_plugin_with_the_known_names(site):
    site.add("mnp-typo", {"typo": """
        from mnp.core import hookimpl

        @hookimpl
        def mnp_register_layer(register):
            register("X", object)
    """})
    rows = by_name(site.host())
    assert rows["typo"].status == "failed"
    assert "unknown hook 'mnp_register_layer'" in rows["typo"].error
    assert "mnp_register_layers" in rows["typo"].error


def test_hook_with_wrong_arguments_fails_the_plugin(site):
    site.add("mnp-badargs", {"badargs": """
        from mnp.core import hookimpl

        @hookimpl
        def mnp_register_layers(register, extra):
            register("X", object)
    """})
    rows = by_name(site.host())
    assert rows["badargs"].status == "failed"
    assert "extra" in rows["badargs"].error


# -- blocking by environment ----------------------------------------------------------------
def test_disabled_plugin_is_blocked_and_never_imported(site, src):
    mods = site.add("mnp-good", {"good": src.GOOD})
    rows = by_name(site.host(environ={"MNP_DISABLE_PLUGINS": "other, good"}))
    assert rows["good"].status == "blocked"
    assert "MNP_DISABLE_PLUGINS" in rows["good"].error
    assert mods["good"] not in sys.modules
    assert rows["numpy"].status == "loaded"


def test_disable_by_distribution_name(site, src):
    site.add("mnp-good", {"good": src.GOOD})
    assert by_name(site.host(environ={"MNP_DISABLE_PLUGINS": "mnp-good"}))["good"].status == "blocked"


def test_empty_load_list_loads_no_plugin_but_the_reference_backend(site, src):
    mods = site.add("mnp-good", {"good": src.GOOD})
    site.add("mnp-raises", {"raises": src.HOOK_RAISES})
    host = site.host(environ={"MNP_LOAD_PLUGINS": ""}, installed=True)
    rows = by_name(host)
    assert rows["numpy"].status == "loaded"
    others = [p for name, p in rows.items() if name != "numpy"]
    assert others and all(p.status == "blocked" for p in others)
    assert all("MNP_LOAD_PLUGINS" in p.error for p in others)
    assert mods["good"] not in sys.modules
    with use_host(host):
        assert (mnp.ones(2) + 1).tolist() == [2.0, 2.0]


def test_load_list_loads_only_the_named_plugins(site, src):
    site.add("mnp-good", {"good": src.GOOD})
    site.add("mnp-raises", {"raises": src.HOOK_RAISES})
    rows = by_name(site.host(environ={"MNP_LOAD_PLUGINS": "good"}))
    assert rows["good"].status == "loaded"
    assert rows["raises"].status == "blocked"
    rows = by_name(site.host(environ={"MNP_LOAD_PLUGINS": "mnp-raises"}))   # a distribution name
    assert rows["good"].status == "blocked" and rows["raises"].status == "failed"


def test_unset_load_list_loads_everything(site, src):
    site.add("mnp-good", {"good": src.GOOD})
    assert by_name(site.host(environ={}))["good"].status == "loaded"


# -- duplicates and order -------------------------------------------------------------------
def test_duplicate_name_is_an_error_naming_both_providers(site, src):
    site.add("beta-plugin", {"beta": src.layer_plugin("Dup", "OnlyBeta")})
    site.add("alpha-plugin", {"alpha": src.layer_plugin("Dup")})
    with use_host(site.host()) as host:
        rows = by_name(host)
        assert rows["alpha"].status == "loaded"          # alpha-plugin sorts first
        assert rows["beta"].status == "failed"
        assert "duplicate layer name 'Dup'" in rows["beta"].error
        assert "'alpha'" in rows["beta"].error and "'beta'" in rows["beta"].error
        assert "OnlyBeta" not in mnp.registry("layers")  # the failed plugin registers nothing
    with pytest.raises(PluginError, match="duplicate layer name 'Dup'"):
        site.host(environ={"MNP_STRICT_PLUGINS": "1"}).load()


def test_duplicate_backend_name_is_an_error(site):
    site.add("mnp-rival", {"rival": """
        import numpy as np
        from mnp.core import hookimpl

        @hookimpl
        def mnp_register_backends(register):
            register("numpy", {"add": np.add})
    """})
    rival = by_name(site.host())["rival"]
    assert rival.status == "failed"
    assert "duplicate backend 'numpy'" in rival.error and "'rival'" in rival.error


def test_duplicate_kernel_is_an_error(site):
    site.add("mnp-dupkernel", {"dupk": """
        import numpy as np
        from mnp.core import hookimpl

        @hookimpl
        def mnp_register_kernels(register):
            register("numpy", "add", np.add)
    """})
    dupk = by_name(site.host())["dupk"]
    assert dupk.status == "failed"
    assert "duplicate kernel numpy:add" in dupk.error and "'numpy'" in dupk.error


def test_load_order_is_builtins_then_distribution_name(site, src):
    site.add("zz-plugin", {"zz": src.layer_plugin("Z")})
    site.add("aa-plugin", {"aa": src.layer_plugin("A")})
    site.add("Mm_Plugin", {"mm": src.layer_plugin("M")})
    for reverse in (False, True):   # whatever order discovery yields
        order = [p.name for p in site.host(reverse=reverse).load().plugins]
        assert order == ["numpy", "aa", "mm", "zz"]
    installed = [p.name for p in site.host(installed=True).load().plugins]
    builtin = [p.name for p in site.host(installed=True).load().plugins if p.builtin]
    assert installed[: len(builtin)] == builtin and builtin[0] == "numpy"
    assert installed[len(builtin):] == ["aa", "mm", "zz"]


def test_builtin_plugins_are_marked(site, src):
    site.add("mnp-good", {"good": src.GOOD})
    rows = by_name(site.host(installed=True))
    assert rows["numpy"].builtin and not rows["good"].builtin
    assert rows["numpy"].distribution == "mnp-core"


# -- laziness -------------------------------------------------------------------------------
def test_import_mnp_core_loads_no_plugin(site, src):
    mods = site.add("mnp-lazy", {"lazy": src.GOOD})
    proc = site.run(f"""
        import importlib.metadata as md, json, sys
        import mnp.core
        plug = sys.modules["mnp.core.plugins"]
        plugin_modules = {{ep.value.split(":")[0] for ep in md.entry_points(group="mnp")}}
        assert {mods['lazy']!r} in plugin_modules and "mnp.core.numpy_backend" in plugin_modules
        before = sorted(m for m in sys.modules if m in plugin_modules)
        loaded_before = plug._host is not None and plug._host.loaded
        names = [p["name"] for p in mnp.core.plugins()]
        after = {mods['lazy']!r} in sys.modules
        print(json.dumps({{"before": before, "loaded_before": loaded_before, "names": names,
                           "after": after}}))
    """)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["before"] == [] and out["loaded_before"] is False
    assert "lazy" in out["names"] and out["after"] is True


# -- every hookspec -------------------------------------------------------------------------
ALL_HOOKS = """
    import numpy as np
    from mnp.core import hookimpl

    def twice(x):
        return 2 * x

    @hookimpl
    def mnp_register_backends(register):
        register("hooked", {"neg": np.negative}, priority=-1, available=lambda: True)

    @hookimpl
    def mnp_register_kernels(register):
        register("numpy", "twice", twice)
        register("hooked", "exp", np.exp, dtypes=("float64",))

    @hookimpl
    def mnp_register_layers(register):
        register("HookedLayer", type("HookedLayer", (), {}))

    @hookimpl
    def mnp_register_losses(register):
        register("HookedLoss", type("HookedLoss", (), {}))

    @hookimpl
    def mnp_register_optimizers(register):
        register("HookedOptimizer", type("HookedOptimizer", (), {}))

    @hookimpl
    def mnp_register_schedulers(register):
        register("HookedScheduler", type("HookedScheduler", (), {}))

    @hookimpl
    def mnp_register_datasets(register):
        register("hooked_dataset", lambda: (np.zeros((2, 2), np.float32), np.zeros(2, np.int64)))

    @hookimpl
    def mnp_register_loaders(register):
        register("HookedLoader", list)

    @hookimpl
    def mnp_register_metrics(register):
        register("hooked_metric", lambda y, p: 1.0)

    @hookimpl
    def mnp_register_process_groups(register):
        register("hooked_group", lambda: None)
"""
COVERED = {"mnp_register_backends", "mnp_register_kernels", "mnp_register_layers",
           "mnp_register_losses", "mnp_register_optimizers", "mnp_register_schedulers",
           "mnp_register_datasets", "mnp_register_loaders", "mnp_register_metrics",
           "mnp_register_process_groups"}


def test_every_hookspec_is_covered_here():
    specs = {n for n in dir(hookspecs) if n.startswith("mnp_")
             and getattr(getattr(hookspecs, n), "mnp_spec", None) is not None}
    assert specs == COVERED
    assert set(hookspecs.REGISTRY_HOOKS) == COVERED - {"mnp_register_backends", "mnp_register_kernels"}


def test_backends_hook(site):
    site.add("mnp-all", {"all": ALL_HOOKS})
    with use_host(site.host()):
        row = next(b for b in mnp.backends() if b["name"] == "hooked")
        assert row == {"name": "hooked", "available": True, "priority": -1, "provider": "all",
                       "description": "", "kernels": ["exp", "neg"]}
        assert mnp.get_backend() == "numpy"          # numpy's priority 0 beats -1
        with mnp.use_backend("hooked"):
            assert (-mnp.tensor([1.0, -2.0])).tolist() == [-1.0, 2.0]


def test_kernels_hook_adds_to_any_backend(site):
    site.add("mnp-all", {"all": ALL_HOOKS})
    with use_host(site.host()) as host:
        assert by_name(host)["all"].provides["kernels"] == ["hooked:exp", "hooked:neg", "numpy:twice"]
        twice = mnp.kernel("twice", np.dtype("float32"))
        assert twice(np.ones(2, np.float32)).tolist() == [2.0, 2.0]
        dispatch = sys.modules["mnp.core.dispatch"]
        assert dispatch.resolve("exp", np.dtype("float64"), backend="hooked")[1] == "hooked"
        assert dispatch.resolve("exp", np.dtype("float32"), backend="hooked")[1] == "numpy"


@pytest.mark.parametrize("kind, name", [("layers", "HookedLayer"), ("losses", "HookedLoss"),
                                        ("optimizers", "HookedOptimizer"),
                                        ("schedulers", "HookedScheduler"),
                                        ("datasets", "hooked_dataset"), ("loaders", "HookedLoader"),
                                        ("metrics", "hooked_metric"),
                                        ("process_groups", "hooked_group")])
def test_registry_hooks(site, kind, name):
    site.add("mnp-all", {"all": ALL_HOOKS})
    with use_host(site.host()) as host:
        assert name in mnp.registry(kind)
        obj = mnp.lookup(kind, name)
        assert obj is host.registry(kind)[name].obj
        assert host.registry(kind)[name].provider == "all"
        assert by_name(host)["all"].provides[kind] == [name]


@pytest.mark.parametrize("bad, message", [
    ("register('', object)", "name must be a non-empty string"),
    ("register(3, object)", "name must be a non-empty string"),
])
def test_registering_a_bad_name_fails_the_plugin(site, bad, message):
    site.add("mnp-badname", {"badname": f"""
        from mnp.core import hookimpl

        @hookimpl
        def mnp_register_metrics(register):
            {bad}
    """})
    row = by_name(site.host())["badname"]
    assert row.status == "failed" and message in row.error


def test_kernel_for_an_unknown_backend_fails_the_plugin(site):
    site.add("mnp-orphan", {"orphan": """
        import numpy as np
        from mnp.core import hookimpl

        @hookimpl
        def mnp_register_kernels(register):
            register("nowhere", "add", np.add)
    """})
    row = by_name(site.host())["orphan"]
    assert row.status == "failed" and "unknown backend 'nowhere'" in row.error


# -- SystemExit and other BaseExceptions are isolated too -----------------------------------
_BASE_RAISES = {
    "SystemExit": ("raise SystemExit(3)", "SystemExit: 3"),
    "GeneratorExit": ("raise GeneratorExit('closing')", "GeneratorExit: closing"),
    "custom": ("class Quit(BaseException):\n        pass\n    raise Quit('custom base')",
               "Quit: custom base"),
}


def _base_raiser(where: str, statement: str) -> str:
    if where == "import":
        return f"""
    {statement}
"""
    body = statement.replace("\n    ", "\n        ")
    return f"""
    from mnp.core import hookimpl

    @hookimpl
    def mnp_register_layers(register):
        register("HalfLayer", type("HalfLayer", (), {{}}))
        {body}
"""


@pytest.mark.parametrize("where", ["import", "hook"])
@pytest.mark.parametrize("kind", sorted(_BASE_RAISES))
def test_plugin_raising_a_base_exception_is_isolated(site, src, where, kind):
    statement, error = _BASE_RAISES[kind]
    site.add("mnp-quits", {"quits": _base_raiser(where, statement)})
    site.add("mnp-good", {"good": src.GOOD})
    with use_host(site.host()) as host:
        rows = by_name(host)
        assert rows["quits"].status == "failed" and rows["quits"].error == error
        assert rows["quits"].provides == {}
        assert "HalfLayer" not in mnp.registry("layers")
        assert rows["good"].status == "loaded"
        assert (mnp.tensor([1.0, 2.0]) * 2).sum().item() == 6.0


@pytest.mark.parametrize("kind", sorted(_BASE_RAISES))
def test_strict_mode_turns_a_base_exception_into_a_plugin_error(site, kind):
    statement, error = _BASE_RAISES[kind]
    site.add("mnp-quits", {"quits": _base_raiser("hook", statement)})
    host = site.host(environ={"MNP_STRICT_PLUGINS": "1"})
    with pytest.raises(PluginError, match=rf"plugin 'quits'.*failed to load.*{error}"):
        host.load()


def test_keyboard_interrupt_in_a_plugin_still_interrupts(site):
    site.add("mnp-ctrlc", {"ctrlc": _base_raiser("hook", "raise KeyboardInterrupt")})
    with pytest.raises(KeyboardInterrupt):
        site.host().load()


def test_backend_availability_raising_system_exit_means_unavailable(site):
    site.add("mnp-flaky", {"flaky": """
    import numpy as np
    from mnp.core import hookimpl

    def available():
        raise SystemExit(3)

    @hookimpl
    def mnp_register_backends(register):
        register("flaky", {"add": np.add}, available=available)
"""})
    with use_host(site.host()):
        rows = {b["name"]: b for b in mnp.backends()}
        assert rows["flaky"]["available"] is False


def test_system_exit_plugin_does_not_end_the_process(site, src):
    site.add("mnp-quits", {"quits": _base_raiser("import", "raise SystemExit(3)")})
    code = """
        import json, sys
        import mnp.core
        from mnp.core.cli import main
        y = (mnp.core.tensor([1.0, 2.0]) * 3).sum().item()
        print(json.dumps({"y": y}))
        sys.exit(main(["list-plugins", "--json"]))
    """
    proc = site.run(code)
    assert proc.returncode == 0, proc.stderr
    first, rest = proc.stdout.split("\n", 1)
    assert json.loads(first) == {"y": 9.0}
    rows = {p["name"]: p for p in json.loads(rest)}
    assert rows["quits"]["status"] == "failed" and rows["quits"]["error"] == "SystemExit: 3"
    strict = site.run("""
        import sys
        from mnp.core.cli import main
        sys.exit(main(["list-plugins"]))
    """, env={"MNP_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1
    assert "mnp list-plugins: PluginError" in strict.stderr and "quits" in strict.stderr and "SystemExit: 3" in strict.stderr
