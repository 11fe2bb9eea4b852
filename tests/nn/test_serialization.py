"""Model files, state-dict files and checkpoints: bit-exact round trips, interop with the
safetensors format, atomic writes, strict loading."""
from __future__ import annotations

import importlib.metadata as md
import json
import os

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.core.plugins import PluginHost, use_host
from mnp.nn import serialization as S
from mnp.nn import serialization_io
from mnp.nn.serialization import ModelFormatError


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        assert np.array_equal(sa[k].data, sb[k].data), k


def _roundtrip(model, tmp_path, name="m.safetensors"):
    path = tmp_path / name
    nn.serialization.save(model, path)
    again = S.load(path)
    assert type(again) is type(model)
    assert again is not model
    _same_state(model, again)
    return again


# -- every layer type --------------------------------------------------------------------------
def _cases():
    g = np.random.default_rng(1)
    f = lambda *s: mnp.tensor(g.standard_normal(s).astype(np.float32))  # noqa: E731
    return {
        "Linear": (lambda: nn.Linear(5, 3), f(4, 5)),
        "Linear-nobias": (lambda: nn.Linear(5, 3, bias=False), f(4, 5)),
        "Dense": (lambda: nn.Dense(5, 2), f(4, 5)),
        "Conv1d": (lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1, dilation=1), f(2, 2, 9)),
        "Conv2d": (lambda: nn.Conv2d(2, 4, (3, 2), stride=(1, 2), padding=1, dilation=(2, 1)),
                   f(2, 2, 7, 6)),
        "MaxPool1d": (lambda: nn.MaxPool1d(2), f(2, 3, 8)),
        "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1), f(2, 3, 7, 7)),
        "AvgPool1d": (lambda: nn.AvgPool1d(2), f(2, 3, 8)),
        "AvgPool2d": (lambda: nn.AvgPool2d(2), f(2, 3, 6, 6)),
        "LayerNorm": (lambda: nn.LayerNorm([3, 4], eps=1e-3), f(2, 3, 4)),
        "GroupNorm": (lambda: nn.GroupNorm(2, 4, eps=1e-3), f(2, 4, 3)),
        "Dropout": (lambda: nn.Dropout(0.3), f(4, 6)),
        "Flatten": (lambda: nn.Flatten(), f(2, 3, 4)),
        "Identity": (lambda: nn.Identity(), f(2, 3)),
        "ReLU": (lambda: nn.ReLU(), f(3, 4)),
        "Sigmoid": (lambda: nn.Sigmoid(), f(3, 4)),
        "Tanh": (lambda: nn.Tanh(), f(3, 4)),
        "LeakyReLU": (lambda: nn.LeakyReLU(0.2), f(3, 4)),
        "GELU": (lambda: nn.GELU("tanh"), f(3, 4)),
        "Softmax": (lambda: nn.Softmax(dim=0), f(3, 4)),
        "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), f(3, 4)),
        "Embedding": (lambda: nn.Embedding(10, 4, padding_idx=2),
                      mnp.tensor(np.array([[1, 2, 9], [0, 0, 3]], dtype=np.int64))),
    }


@pytest.mark.parametrize("case", sorted(_cases()))
def test_every_layer_round_trips_bit_for_bit(case, tmp_path):
    mnp.manual_seed(0)
    make, x = _cases()[case]
    model = make()
    for p in model.parameters():          # not the initial values: something was learnt
        p.data[...] = np.random.default_rng(3).standard_normal(p.shape)
    model.eval()
    again = _roundtrip(model, tmp_path)
    again.eval()
    a, b = model(x), again(x)
    assert a.dtype == b.dtype and np.array_equal(a.data, b.data)
    assert again.get_config() == model.get_config()


@pytest.mark.parametrize("bn, shape", [(lambda: nn.BatchNorm1d(3), (8, 3)),
                                       (lambda: nn.BatchNorm1d(3, momentum=None), (8, 3, 5)),
                                       (lambda: nn.BatchNorm2d(3, affine=False), (4, 3, 5, 5))])
def test_batchnorm_after_training_steps_round_trips(bn, shape, tmp_path):
    mnp.manual_seed(0)
    model = nn.Sequential(bn(), nn.ReLU())
    g = np.random.default_rng(0)
    for _ in range(3):                    # running statistics move away from their initial values
        model(mnp.tensor(g.standard_normal(shape).astype(np.float32) * 2 + 1))
    assert model[0].num_batches_tracked.item() == 3
    model.eval()
    again = _roundtrip(model, tmp_path)
    again.eval()
    assert np.array_equal(again[0].running_mean.data, model[0].running_mean.data)
    assert again[0].num_batches_tracked.dtype == np.int64
    x = mnp.tensor(g.standard_normal(shape).astype(np.float32))
    assert np.array_equal(again(x).data, model(x).data)


def test_nested_sequential_cnn_round_trips(tmp_path):
    mnp.manual_seed(0)
    model = nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Conv2d(4, 8, 3, padding="same"), nn.ReLU(), nn.AvgPool2d(2)),
        nn.Flatten(), nn.Dropout(0.5),
        nn.Sequential(nn.Linear(8 * 2 * 2, 6), nn.GELU(), nn.LayerNorm(6), nn.Linear(6, 3)))
    x = mnp.randn(5, 1, 8, 8)
    model(x)                              # one training-mode pass updates BatchNorm
    model.eval()
    again = _roundtrip(model, tmp_path)
    assert again.training is True         # a loaded model starts in training mode, as a new one
    again.eval()
    assert repr(again) == repr(model)
    assert np.array_equal(again(x).data, model(x).data)


def test_containers_modulelist_moduledict(tmp_path):
    model = nn.Sequential(nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.Tanh()}),
                          nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 1)]))
    again = _roundtrip(model, tmp_path)
    assert list(again[0].keys()) == ["enc", "act"]
    assert isinstance(again[1], nn.ModuleList) and len(again[1]) == 2


def test_float64_model_loads_as_float64(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).double()
    again = _roundtrip(model, tmp_path)
    assert again[0].weight.dtype == np.float64
    x = mnp.randn(4, 3, dtype="float64")
    model.eval(), again.eval()
    assert np.array_equal(again(x).data, model(x).data)


def test_model_file_is_standard_safetensors(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    path = tmp_path / "m.safetensors"
    S.save(model, path)
    theirs = safetensors_numpy.load_file(str(path))
    assert set(theirs) == set(model.state_dict())
    for k, v in model.state_dict().items():
        assert theirs[k].dtype == v.dtype and np.array_equal(theirs[k], v.data)
    _, meta, _ = serialization_io.read_header(path)
    arch = json.loads(meta["mnp.architecture"])
    assert arch["type"] == "Sequential"
    assert [c[1]["type"] for c in arch["children"]] == ["Linear", "BatchNorm1d"]
    assert arch["children"][0][1]["config"] == {"in_features": 3, "out_features": 4, "bias": True}
    assert meta["mnp.format_version"] == str(S.FORMAT_VERSION)
    assert meta["mnp.version"] == mnp.__version__


def test_alias_saved_under_class_name(tmp_path):
    path = tmp_path / "m.safetensors"
    S.save(nn.Dense(2, 2), path)
    _, meta, _ = serialization_io.read_header(path)
    assert json.loads(meta["mnp.architecture"])["type"] == "Linear"


def test_save_model_load_model_aliases(tmp_path):
    assert S.save_model is S.save and S.load_model is S.load
    model = nn.Linear(2, 2)
    S.save_model(model, tmp_path / "a.safetensors")
    _same_state(model, S.load_model(tmp_path / "a.safetensors"))


# -- unregistered and third-party layers ---------------------------------------------------------
class Block(nn.Module):
    """A composite layer: builds its own children from its config."""

    def __init__(self, features: int, hidden: int = 5):
        super().__init__()
        self.inner = nn.Linear(features, hidden)
        self.outer = nn.Linear(hidden, features)

    def forward(self, x):
        return x + self.outer(self.inner(x).tanh())


def test_unregistered_layer_cannot_be_saved(tmp_path):
    path = tmp_path / "m.safetensors"
    with pytest.raises(ModelFormatError, match=r"model\.1 is a .*Block.*not a registered layer"):
        S.save(nn.Sequential(nn.Linear(3, 3), Block(3)), path)
    assert not path.exists()
    S.save_state_dict(Block(3).state_dict(), path)      # the weights alone can always be saved


class _EntryPoint:
    """Just enough of importlib.metadata.EntryPoint for PluginHost."""

    def __init__(self, name, module):
        self.name, self.value, self.dist, self._module = name, module.__name__, None, module

    def load(self):
        return self._module


def test_third_party_layer_registered_through_the_hook_round_trips(tmp_path):
    import types
    plugin = types.ModuleType("block_plugin")

    @mnp.hookimpl
    def mnp_register_layers(register):
        register("Block", Block)

    plugin.mnp_register_layers = mnp_register_layers
    eps = lambda: list(md.entry_points(group="mnp")) + [_EntryPoint("block", plugin)]  # noqa: E731
    model = nn.Sequential(Block(4, hidden=6), nn.ReLU())
    x = mnp.randn(3, 4)
    path = tmp_path / "m.safetensors"
    with use_host(PluginHost(entry_points=eps, environ={})):
        S.save(model, path)
        again = S.load(path)
        assert np.array_equal(again(x).data, model(x).data)
        assert again[0].inner.out_features == 6
    with pytest.raises(ModelFormatError, match="'Block' at model.0 is not registered") as info:
        S.load(path)                      # without the plugin, the name means nothing
    assert "saved with it from plugin 'block', which is not loaded here" in str(info.value)
    blocked = PluginHost(entry_points=eps, environ={"MNP_DISABLE_PLUGINS": "block"})
    with use_host(blocked), pytest.raises(ModelFormatError) as info:
        S.load(path)
    assert "from plugin 'block'; that plugin is blocked here" in str(info.value)
    assert "MNP_DISABLE_PLUGINS" in str(info.value)


def test_a_model_file_records_where_its_layer_types_came_from(tmp_path):
    from mnp.nn import serialization_sources as sources
    path = tmp_path / "m.safetensors"
    S.save(nn.Sequential(nn.Linear(2, 3), nn.Tanh()), path)
    _, meta, _ = serialization_io.read_header(path)
    recorded = sources.read(meta)
    assert set(recorded) == {"Sequential", "Linear", "Tanh"}
    assert recorded["Linear"]["plugin"] == "nn"
    assert recorded["Linear"]["distribution"].replace("_", "-").lower() == "mnp-nn"


def test_layer_sources_from_a_file_are_only_trusted_as_plain_names():
    from mnp.nn import serialization_sources as sources
    good = {"plugin": "example", "distribution": "mnp-example-plugin", "version": "0.1.0"}
    meta = {sources.KEY: json.dumps({
        "Swish": good,
        "Evil": {"plugin": "x", "distribution": "pkg; rm -rf ~", "version": "1"},
        "Long": {"plugin": "x", "distribution": "a" * 500, "version": "1"},
        "Partial": {"plugin": "x"},
        "Odd": ["not", "a", "dict"]})}
    assert sources.read(meta) == {"Swish": good}
    for junk in ("[1, 2]", "not json", "[" * 100_000, "null"):
        assert sources.read({sources.KEY: junk}) == {}
    assert sources.read({}) == {}


def test_layer_source_hints_for_each_situation():
    from mnp.nn import serialization_sources as sources
    absent = {"plugin": "example", "distribution": "no-such-dist-q", "version": "2.0"}
    assert sources.hint("Swish", {"Swish": absent}).endswith(
        "which is not installed here (pip install no-such-dist-q)")
    nn_dist = next(p["distribution"] for p in mnp.plugins() if p["name"] == "nn")
    there = {"plugin": "nn", "distribution": nn_dist, "version": "0.1.0"}
    assert "is installed here but registers no layer 'Nope'" in sources.hint("Nope", {"Nope": there})
    assert sources.hint("Unrecorded", {"Swish": absent}) == ""


# -- state dicts ----------------------------------------------------------------------------------
def test_state_dict_round_trip_all_dtypes(tmp_path):
    g = np.random.default_rng(0)
    sd = {"f16": g.standard_normal((2, 3)).astype(np.float16),
          "f32": mnp.tensor(g.standard_normal(4).astype(np.float32)),
          "f64": g.standard_normal((1, 2, 1)),
          "i32": np.arange(5, dtype=np.int32), "i64": np.array(7, dtype=np.int64),
          "bool": np.array([True, False, True]), "empty": np.zeros((0, 3), np.float32),
          "strided": g.standard_normal((4, 6)).astype(np.float32)[::2, 1::2].T}
    path = tmp_path / "sd.safetensors"
    S.save_state_dict(sd, path, metadata={"note": "x"})
    back = S.load_state_dict(path)
    assert list(back) == list(sd)
    for k, v in sd.items():
        ref = np.asarray(v.data if isinstance(v, mnp.Tensor) else v)
        assert isinstance(back[k], mnp.Tensor)
        assert back[k].dtype == ref.dtype and back[k].shape == ref.shape, k
        assert np.array_equal(back[k].data, ref), k
    _, meta, _ = serialization_io.read_header(path)
    assert meta["note"] == "x" and meta["mnp.kind"] == "state_dict"


def test_state_dict_interop_with_the_safetensors_package(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    theirs = {k: np.array(v.data, order="C") for k, v in model.state_dict().items()}
    path = tmp_path / "theirs.safetensors"
    safetensors_numpy.save_file(theirs, str(path), metadata={"format": "np"})
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    fresh.load_state_dict(S.load_state_dict(path))
    _same_state(model, fresh)


def test_load_refuses_a_plain_state_dict_file(tmp_path):
    path = tmp_path / "sd.safetensors"
    S.save_state_dict(nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(ModelFormatError, match="no architecture.*load_state_dict"):
        S.load(path)


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    model = nn.Linear(2, 2)
    meta = S._metadata("model", **{"mnp.architecture": json.dumps(S.describe(model))})
    meta["mnp.format_version"] = "99"
    serialization_io.write_file(path, {k: v.data for k, v in model.state_dict().items()}, meta)
    with pytest.raises(ModelFormatError, match="format version 99.*upgrade"):
        S.load(path)


# -- checkpoints ------------------------------------------------------------------------------------
def test_checkpoint_round_trips_optimizer_state_and_extras(tmp_path):
    optim = pytest.importorskip("mnp.optim")
    mnp.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=1e-2, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        model(mnp.randn(5, 3)).sum().backward()
        opt.step()
    rng_state = mnp.get_rng_state()
    extra = {"ints": {1: "one", 2: (3, 4.5)}, "nan": float("nan"), "inf": -float("inf"),
             "scalar": np.float32(1.25), "arr": np.arange(3), "none": None, "flag": True,
             "nested": [[{"__tensor__": "not a reference"}]], "rng": rng_state}
    path = tmp_path / "ckpt.safetensors"
    S.save_checkpoint(path, model=model, optimizer_state=opt.state_dict(), epoch=7, extra=extra)

    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    ckpt = S.load_checkpoint(path, model=fresh, optimizer=fresh_opt)
    _same_state(model, fresh)
    assert ckpt["epoch"] == 7
    a, b = opt.state_dict(), fresh_opt.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for i in a["state"]:
        for k, v in a["state"][i].items():
            w = b["state"][i][k]
            if isinstance(v, mnp.Tensor):
                assert v.dtype == w.dtype and np.array_equal(v.data, w.data), (i, k)
            else:
                assert v == w, (i, k)
    e = ckpt["extra"]
    assert e["ints"] == {1: "one", 2: (3, 4.5)}
    assert np.isnan(e["nan"]) and e["inf"] == -np.inf
    assert type(e["scalar"]) is np.float32 and e["scalar"] == 1.25
    assert np.array_equal(e["arr"], np.arange(3)) and e["arr"].dtype == np.arange(3).dtype
    assert e["none"] is None and e["flag"] is True
    assert e["nested"] == [[{"__tensor__": "not a reference"}]]
    assert e["rng"] == rng_state
    # a checkpoint with a registered architecture is also a model file
    _same_state(model, S.load(path))


def test_checkpoint_rejects_values_it_cannot_store(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    with pytest.raises(ModelFormatError, match="extra/fn: a builtin_function_or_method cannot be stored"):
        S.save_checkpoint(path, extra={"fn": len})
    with pytest.raises(ModelFormatError, match="dict key"):
        S.save_checkpoint(path, extra={(1, 2): 3})
    assert not path.exists()


# -- atomic writes ------------------------------------------------------------------------------------
def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    old = nn.Linear(4, 4)
    S.save(old, path)
    before = path.read_bytes()
    calls = []

    def write_half_then_fail(f, arr):
        calls.append(arr.shape)
        f.write(b"\0" * 3)
        raise OSError("disk full")

    monkeypatch.setattr(serialization_io, "_write_array", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        S.save(nn.Linear(4, 4), path)
    assert calls, "the failure happened while tensor data was being written"
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]
    new = tmp_path / "new.safetensors"
    with pytest.raises(OSError):
        S.save_state_dict({"w": np.ones(3)}, new)
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]


def test_unsupported_dtype_and_bad_names_fail_before_writing(tmp_path):
    path = tmp_path / "sd.safetensors"
    with pytest.raises(ModelFormatError, match="'c'.*complex128"):
        S.save_state_dict({"c": np.ones(2, np.complex128)}, path)
    with pytest.raises(ModelFormatError, match="__metadata__"):
        S.save_state_dict({"__metadata__": np.ones(2)}, path)
    assert os.listdir(tmp_path) == []


def test_written_files_get_normal_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = tmp_path / "m.safetensors"
        S.save(nn.Linear(2, 2), path)
        assert path.stat().st_mode & 0o777 == 0o644       # not the temporary file's 0600
        path.chmod(0o640)
        S.save(nn.Linear(2, 2), path)
        assert path.stat().st_mode & 0o777 == 0o640       # a replaced file keeps its mode
    finally:
        os.umask(mask)


# -- a layer name now provided by another plugin --------------------------------------------------
class OtherBlock(nn.Module):
    """Another plugin's layer that happens to be registered as "Block" too."""

    def __init__(self, features: int, hidden: int = 5):
        super().__init__()
        self.inner = nn.Linear(features, hidden)
        self.outer = nn.Linear(hidden, features)

    def forward(self, x):
        return x - self.outer(self.inner(x).relu())


class _Dist:
    def __init__(self, name, version):
        self.metadata, self.version = {"Name": name}, version


def _block_host(cls, plugin_name, dist=None, version="1.0"):
    import types
    module = types.ModuleType(f"{plugin_name}_module")

    @mnp.hookimpl
    def mnp_register_layers(register):
        register("Block", cls)

    module.mnp_register_layers = mnp_register_layers
    ep = _EntryPoint(plugin_name, module)
    ep.dist = _Dist(dist, version) if dist else None
    return PluginHost(entry_points=lambda: list(md.entry_points(group="mnp")) + [ep],
                      environ={})


def test_a_layer_name_provided_by_another_plugin_is_refused_unless_allowed(tmp_path):
    path = tmp_path / "m.safetensors"
    model = nn.Sequential(Block(4, hidden=6), nn.ReLU())
    with use_host(_block_host(Block, "blocks", "mnp-blocks", "1.2")):
        S.save(model, path)
    x = mnp.randn(3, 4)
    with use_host(_block_host(OtherBlock, "impostor", "other-dist", "3.0")):
        with pytest.raises(ModelFormatError) as info:
            S.load(path)
        message = str(info.value)
        assert str(path) in message and "'Block' at model.0" in message
        assert "saved from plugin 'blocks' of distribution mnp-blocks 1.2" in message
        assert "here plugin 'impostor' of distribution other-dist 3.0 provides that name" in message
        assert "allow_provider_mismatch=True" in message
        with pytest.raises(ModelFormatError, match="'Block'"):
            S.load(path, allow_provider_mismatch={"Linear"})      # allows only other names
        for allow in (True, {"Block"}, ["Block"], "Block"):
            again = S.load(path, allow_provider_mismatch=allow)
            assert type(again[0]) is OtherBlock
            assert np.array_equal(again[0].inner.weight.data, model[0].inner.weight.data)
        with pytest.raises(mnp.ArgumentError, match="allow_provider_mismatch"):
            S.load(path, allow_provider_mismatch=3)
    with use_host(_block_host(OtherBlock, "blocks", "another-dist")):   # same plugin name
        with pytest.raises(ModelFormatError, match="distribution another-dist 1.0 provides"):
            S.load(path)
    with use_host(_block_host(Block, "blocks", "MNP_Blocks", "2.0")):  # a newer version of it
        again = S.load(path)
        assert np.array_equal(again(x).data, model(x).data)


def test_files_without_layer_sources_load_with_whatever_provides_the_name(tmp_path):
    path = tmp_path / "m.safetensors"
    with use_host(_block_host(Block, "blocks", "mnp-blocks")):
        arch = S.describe(nn.Sequential(Block(2)))
        S.save_state_dict({"0." + k: v for k, v in Block(2).state_dict().items()}, path,
                          metadata={"mnp.kind": "model", "mnp.architecture": json.dumps(arch)})
    with use_host(_block_host(OtherBlock, "impostor", "other-dist")):
        assert type(S.load(path)[0]) is OtherBlock
