"""Module semantics (registration, traversal, state_dict, modes, hooks, summary, config) and
the XOR network learning its truth table."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn


class Block(nn.Module):
    def __init__(self, c=3):
        super().__init__()
        self.conv = nn.Conv2d(1, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)
        self.drop = nn.Dropout(0.25)

    def forward(self, x):
        return self.drop(self.bn(self.conv(x)).relu())


class Net(nn.Module):
    def __init__(self, c=3, classes=4):
        super().__init__()
        self.block = Block(c)
        self.scale = nn.Parameter(mnp.ones(1))
        self.register_buffer("steps", mnp.zeros(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * 4 * 4, classes))

    def forward(self, x):
        return self.head(self.block(x)) * self.scale


def _torch_net(torch, c=3, classes=4):
    tnn = torch.nn

    class TBlock(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv = tnn.Conv2d(1, c, 3, padding=1)
            self.bn = tnn.BatchNorm2d(c)
            self.drop = tnn.Dropout(0.25)

    class TNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.block = TBlock()
            self.scale = tnn.Parameter(torch.ones(1))
            self.register_buffer("steps", torch.zeros(1))
            self.head = tnn.Sequential(tnn.Flatten(), tnn.Linear(c * 4 * 4, classes))
    return TNet()


def test_state_dict_keys_order_and_shapes_like_torch(torch):
    ours, theirs = Net(), _torch_net(torch)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    assert [tuple(v.shape) for v in sd.values()] == [tuple(v.shape) for v in tsd.values()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    assert sd["block.bn.num_batches_tracked"].dtype == np.int64
    # values are Tensors sharing memory with the module
    assert isinstance(sd["head.1.weight"], mnp.Tensor)
    assert np.shares_memory(sd["head.1.weight"].data, ours.head[1].weight.data)
    assert not sd["head.1.weight"].requires_grad


def test_load_state_dict_round_trip_and_from_torch(torch, rng):
    a, b = Net(), Net()
    for p in a.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    weight = b.head[1].weight
    result = b.load_state_dict(a.state_dict())
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    assert b.head[1].weight is weight                        # loaded in place
    for (n, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert np.array_equal(p.data, q.data), n
    t = _torch_net(torch)
    b.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert np.array_equal(b.block.conv.weight.data, t.block.conv.weight.detach().numpy())


def test_load_state_dict_strict_missing_unexpected():
    net = Net()
    sd = net.state_dict()
    del sd["head.1.bias"]
    sd["extra.weight"] = mnp.zeros(2)
    with pytest.raises(nn.StateDictError, match=r"missing key\(s\): 'head.1.bias'.*unexpected "
                                                r"key\(s\): 'extra.weight'"):
        Net().load_state_dict(sd)
    fresh = Net()
    before = fresh.head[1].bias.data.copy()
    missing, unexpected = fresh.load_state_dict(sd, strict=False)
    assert missing == ["head.1.bias"] and unexpected == ["extra.weight"]
    assert np.array_equal(fresh.head[1].bias.data, before)
    assert np.array_equal(fresh.head[1].weight.data, net.head[1].weight.data)


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    sd = Net(classes=5).state_dict()
    target = Net(classes=4)
    before = target.block.conv.weight.data.copy()
    with pytest.raises(mnp.ShapeError, match=r"'head.1.weight'.*\(5, 48\).*\(4, 48\)"):
        target.load_state_dict(sd, strict=False)
    assert np.array_equal(target.block.conv.weight.data, before)   # nothing copied


def test_shared_parameters_come_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert seq.num_parameters() == 6
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert net.training and not net.block.bn.training and net.head.training


def test_eval_mode_is_deterministic_and_uses_running_stats(rng):
    net = Net()
    x = mnp.tensor(rng.standard_normal((4, 1, 4, 4)).astype(np.float32))
    net(x)                                   # one training step of BatchNorm statistics
    net.eval()
    assert np.array_equal(net(x).data, net(x).data)


def test_zero_grad_sets_none():
    net = Net()
    net(mnp.ones((2, 1, 4, 4))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(mnp.zeros(2))
    m.child = nn.Linear(2, 2)
    m.plain = mnp.zeros(3)                       # plain tensors are not registered
    assert [n for n, _ in m.named_parameters()] == ["w", "child.weight", "child.bias"]
    with pytest.raises(nn.ModuleError, match="parameter 'w'"):
        m.w = mnp.zeros(2)
    m.w = None
    assert [n for n, _ in m.named_parameters()] == ["child.weight", "child.bias"]
    del m.child
    assert list(m.state_dict()) == []
    m.register_buffer("tmp", mnp.ones(1), persistent=False)
    assert list(m.state_dict()) == [] and [n for n, _ in m.named_buffers()] == ["tmp"]
    with pytest.raises(nn.ModuleError, match="'.'"):
        m.register_buffer("a.b", mnp.ones(1))

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mnp.zeros(1))
            super().__init__()
    with pytest.raises(nn.ModuleError, match="before Module.__init__"):
        Early()
    with pytest.raises(nn.ModuleError, match="forward"):
        nn.Module()(1)


def test_parameter_is_tensor_requiring_grad():
    p = nn.Parameter(mnp.tensor([1.0, 2.0]))
    assert isinstance(p, mnp.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:")
    arr = np.zeros(3, np.float32)
    assert np.shares_memory(nn.Parameter(arr).data, arr)


def test_forward_hooks():
    lin = nn.Linear(2, 3)
    seen = []
    h = lin.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
    pre = lin.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    y = lin(mnp.ones((4, 2)))
    assert seen == [(4, 3)] and np.allclose(y.data, lin.bias.data)
    h.remove()
    pre.remove()
    lin(mnp.ones((4, 2)))
    assert seen == [(4, 3)]


def test_repr_like_torch(torch):
    ours = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()),
                         nn.BatchNorm1d(1), nn.Dropout(0.1), nn.LayerNorm(1), nn.AvgPool2d(2),
                         nn.LayerNorm(3, bias=False), nn.CrossEntropyLoss())
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(),
                                 torch.nn.Sequential(torch.nn.Linear(4, 1), torch.nn.Sigmoid()),
                                 torch.nn.BatchNorm1d(1), torch.nn.Dropout(0.1),
                                 torch.nn.LayerNorm(1), torch.nn.AvgPool2d(2),
                                 torch.nn.LayerNorm(3, bias=False), torch.nn.CrossEntropyLoss())
    assert repr(ours) == repr(theirs)


def test_summary_shapes_and_counts():
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    net.train()
    text = net.summary((2, 1, 28, 28))
    rows = {line.split()[0]: line for line in text.splitlines() if re.match(r"^\d ", line)}
    assert "[2, 8, 28, 28]" in rows["0"] and rows["0"].rstrip().endswith(" 80")
    assert "[2, 8, 14, 14]" in rows["2"] and "MaxPool2d" in rows["2"]
    assert "[2, 1568]" in rows["3"]
    assert "[2, 10]" in rows["4"] and rows["4"].rstrip().endswith("15,690")
    assert "Total params: 15,770" in text and "Trainable params: 15,770" in text
    assert net.training and all(m.training for m in net.modules())   # modes restored
    nested = Net().summary((1, 1, 4, 4))
    assert re.search(r"^  block\.bn\s+BatchNorm2d\s+\[1, 3, 4, 4\]\s+6$", nested, re.M)
    assert re.search(r"^head\s+Sequential\s+\[1, 4\]\s+196$", nested, re.M)
    emb = nn.Sequential(nn.Embedding(10, 3), nn.Flatten()).summary((2, 5), dtype="int64")
    assert "[2, 15]" in emb


def test_config_recorded_and_rebuilds():
    conv = nn.Conv2d(3, 8, (3, 5), stride=2, padding=1, bias=False)
    cfg = conv.get_config()
    assert cfg == {"in_channels": 3, "out_channels": 8, "kernel_size": [3, 5], "stride": 2,
                   "padding": 1, "dilation": 1, "groups": 1, "bias": False,
                   "padding_mode": "zeros", "device": None, "dtype": None}
    json.dumps(cfg)
    again = nn.Conv2d.from_config(cfg)
    assert again.weight.shape == conv.weight.shape and again.bias is None
    net = Net(c=2, classes=5)
    assert net.get_config() == {"c": 2, "classes": 5}      # outermost call only
    assert net.block.get_config() == {"c": 2}
    assert Net.from_config(net.get_config()).head[1].weight.shape == (5, 32)
    for layer in [nn.Linear(2, 3, bias=False), nn.BatchNorm1d(4, momentum=None), nn.LayerNorm([2, 3]),
                  nn.Embedding(5, 2, padding_idx=0), nn.GELU("tanh"), nn.MaxPool1d(3, 2, 1),
                  nn.Flatten(0), nn.Dropout(0.2), nn.LeakyReLU(0.3), nn.Softmax(0)]:
        c = json.loads(json.dumps(layer.get_config()))
        rebuilt = type(layer).from_config(c)
        assert repr(rebuilt) == repr(layer)


def test_containers_expose_children_for_rebuilding():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    assert nn.Sequential.is_container and not nn.Linear.is_container
    assert seq.get_config() == {}

    def rebuild(m):
        cls = mnp.lookup("layers", type(m).__name__)
        if cls.is_container:
            return cls.from_config(m.get_config(), [(n, rebuild(c)) for n, c in m.named_children()])
        return cls.from_config(m.get_config())
    copy = rebuild(seq)
    assert repr(copy) == repr(seq)
    copy.load_state_dict(seq.state_dict())
    x = mnp.ones((2, 2))
    assert np.array_equal(copy(x).data, seq(x).data)
    ml = nn.ModuleList([nn.Linear(1, 1), nn.ReLU()])
    assert len(nn.ModuleList.from_config({}, list(ml.named_children()))) == 2
    with pytest.raises(nn.ModuleError, match="cannot be stored"):
        class Wrap(nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner
        Wrap(nn.Linear(1, 1)).get_config()


def test_layers_registered_by_name():
    reg = mnp.registry("layers")
    for name in ["Linear", "Dense", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool2d",
                 "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Flatten", "Embedding",
                 "Identity", "Sequential", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU",
                 "Softmax", "LogSoftmax"]:
        assert reg[name] is getattr(nn, name)


def test_to_double_converts_in_place():
    lin = nn.Linear(2, 2)
    w = lin.weight
    lin.double()
    assert lin.weight is w and w.dtype == np.float64
    assert lin(mnp.ones((1, 2), dtype=mnp.float64)).dtype == np.float64


def test_xor_network_learns_truth_table():
    mnp.manual_seed(0)
    x = mnp.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mnp.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Dense(2, 4), nn.Tanh(), nn.Dense(4, 1), nn.Sigmoid())
    loss_fn = nn.MSELoss()
    lr = 0.5
    for step in range(2000):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with mnp.no_grad():
            for p in model.parameters():          # plain SGD
                p.data -= lr * p.grad.data
        if loss.item() < 0.01:
            break
    pred = model(x).data
    assert np.array_equal((pred > 0.5).astype(np.float32), y.data), pred
    assert loss.item() < 0.05 and step < 2000


def test_module_to_takes_the_tensor_spellings():
    """``model.to("cpu")`` and the other PyTorch spellings convert in place and return the
    module; another device raises naming the op and the device."""
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    assert model.to("cpu") is model and model.to(mnp.device("cpu")) is model
    assert model[0].weight.dtype == mnp.float32              # a device alone keeps the dtype
    assert model.to("cpu", mnp.float64) is model and weight.dtype == mnp.float64
    assert model[1].running_mean.dtype == mnp.float64
    model.to(device="cpu", dtype="float32")
    assert weight.dtype == mnp.float32 and model[0].weight is weight
    model.to(mnp.zeros(1, dtype=mnp.float64))                 # another tensor's dtype
    assert weight.dtype == mnp.float64
    model.to(mnp.float32, non_blocking=True)
    assert weight.dtype == mnp.float32
    with pytest.raises(mnp.ArgumentError, match=r"Module\.to: device 'cuda:0' is not available"):
        model.to("cuda:0")
    with pytest.raises(mnp.ArgumentError, match="dtype is given twice"):
        model.to(mnp.float32, mnp.float64)
    assert weight.dtype == mnp.float32
