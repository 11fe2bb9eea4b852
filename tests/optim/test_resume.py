"""Saving optimizer + scheduler state mid-run and resuming into fresh objects gives exactly
the parameters of the uninterrupted run; state dicts have PyTorch's layout and are checked."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import optim
from mnp.optim import lr_scheduler

TOTAL, CUT = 30, 12
SHAPES = [(4, 3), (3,), ()]

SETUPS = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
     "StepLR", dict(step_size=5, gamma=0.5)),
    ("Adam", dict(lr=0.01, amsgrad=True), "CosineAnnealingLR", dict(T_max=10, eta_min=1e-3)),
    ("AdamW", dict(lr=0.01), "OneCycleLR", dict(max_lr=0.05, total_steps=TOTAL)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5), "LinearLR", dict(total_iters=8)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01), "ReduceLROnPlateau", dict(patience=1, factor=0.5)),
]


def _problem(dtype):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    targets = [rng.standard_normal(s) for s in SHAPES]
    noise = [[rng.standard_normal(s) * 0.1 for s in SHAPES] for _ in range(TOTAL)]
    return init, targets, noise


def _build(opt_name, opt_kw, sched_name, sched_kw, init):
    params = [mnp.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, opt_name)([{"params": params[:2]},
                                    {"params": params[2:], "lr": opt_kw["lr"] * 2}], **opt_kw)
    return params, opt, getattr(lr_scheduler, sched_name)(opt, **sched_kw)


def _train(params, opt, sched, targets, noise, steps):
    """Gradients that depend on the parameters: those of sum((p - t)^2) plus fixed noise."""
    for step in steps:
        opt.zero_grad()
        loss = 0.0
        for p, t, n in zip(params, targets, noise[step]):
            diff = p.data.astype(np.float64) - t
            loss += float((diff ** 2).sum())
            p.grad = mnp.tensor((2 * diff + n).astype(p.dtype))
        opt.step()
        if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            sched.step(loss)
        else:
            sched.step()


def _plain(sd):
    """What a checkpoint file gives back: numpy arrays, string keys, lists for tuples."""
    state = {str(k): {n: (v.numpy() if isinstance(v, mnp.Tensor) else v) for n, v in e.items()}
             for k, e in sd["state"].items()}
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
              for g in sd["param_groups"]]
    return {"state": state, "param_groups": groups}


@pytest.mark.parametrize("setup", SETUPS, ids=[s[0] for s in SETUPS])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("through_plain_types", [False, True], ids=["objects", "plain"])
def test_resume_is_exact(setup, dtype, through_plain_types):
    opt_name, opt_kw, sched_name, sched_kw = setup
    init, targets, noise = _problem(dtype)

    params, opt, sched = _build(*setup, init)
    _train(params, opt, sched, targets, noise, range(TOTAL))
    uninterrupted = [p.data.copy() for p in params]

    params, opt, sched = _build(*setup, init)
    _train(params, opt, sched, targets, noise, range(CUT))
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    saved_params = [p.data.copy() for p in params]
    # the snapshot must not follow the live objects
    _train(params, opt, sched, targets, noise, range(CUT, CUT + 3))
    if through_plain_types:
        opt_sd = _plain(opt_sd)

    fresh, opt2, sched2 = _build(*setup, [a.copy() for a in saved_params])
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    _train(fresh, opt2, sched2, targets, noise, range(CUT, TOTAL))
    for i, (a, b) in enumerate(zip(fresh, uninterrupted)):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a.data, b, err_msg=f"{opt_name} param {i}")
    assert not np.array_equal(uninterrupted[0], init[0])


def test_state_dict_layout_is_pytorchs():
    a = mnp.zeros(2, 2, requires_grad=True)
    b = mnp.zeros(3, requires_grad=True)
    c = mnp.zeros(1, requires_grad=True)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    for p in (a, c):
        p.grad = mnp.ones(*p.shape)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 2]
    assert sd["state"][0]["step"] == 1
    assert sd["state"][0]["exp_avg"].shape == (2, 2)
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["param_groups"][0]) == {"params", "lr", "betas", "eps", "weight_decay",
                                          "amsgrad", "maximize"}


def test_float16_state_holds_float32_master_and_buffers():
    p = mnp.tensor(np.array([1.0, 2.0], np.float16), requires_grad=True)
    opt = optim.SGD([p], lr=1e-4, momentum=0.9)
    p.grad = mnp.tensor(np.array([1.0, 1.0], np.float16))
    opt.step()
    state = opt.state[p]
    assert state["master_param"].dtype == np.float32
    assert state["momentum_buffer"].dtype == np.float32
    np.testing.assert_array_equal(state["master_param"].data,
                                  np.array([1.0, 2.0], np.float32) - np.float32(1e-4))
    # the float16 parameter is the rounded master
    np.testing.assert_array_equal(p.data, state["master_param"].data.astype(np.float16))


def test_load_state_dict_rejects_other_layouts():
    def make(shapes, groups=1):
        ps = [mnp.zeros(*s, requires_grad=True) for s in shapes]
        if groups == 1:
            return ps, optim.Adam(ps, lr=0.1)
        return ps, optim.Adam([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1)

    ps, opt = make([(2, 3), (4,)])
    for p in ps:
        p.grad = mnp.ones(*p.shape)
    opt.step()
    sd = opt.state_dict()

    _, two_groups = make([(2, 3), (4,)], groups=2)
    with pytest.raises(optim.OptimizerError, match=r"has 1 parameter group\(s\), the optimizer has 2"):
        two_groups.load_state_dict(sd)
    _, three = make([(2, 3), (4,), (1,)])
    with pytest.raises(optim.OptimizerError, match=r"sizes \[2\] .* \[3\]"):
        three.load_state_dict(sd)
    _, reshaped = make([(3, 2), (4,)])
    with pytest.raises(optim.OptimizerError, match=r"shape \(2, 3\) but the parameter has shape \(3, 2\)"):
        reshaped.load_state_dict(sd)
    _, same = make([(2, 3), (4,)])
    bad = {"state": {7: {"step": 1}}, "param_groups": sd["param_groups"]}
    with pytest.raises(optim.OptimizerError, match="parameter 7"):
        same.load_state_dict(bad)
    with pytest.raises(optim.OptimizerError, match="expected a dict"):
        same.load_state_dict([1, 2])
    same.load_state_dict(sd)  # the matching layout loads
    assert same.state[same.param_groups[0]["params"][0]]["step"] == 1


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd["state"].update({"abc": sd["state"].pop(0)}),
     r"Adam.load_state_dict: state key 'abc' is not an integer parameter index"),
    (lambda sd: sd["state"].update({1.5: sd["state"].pop(1)}), "state key 1.5 is not an integer"),
    (lambda sd: sd["state"].update({True: sd["state"].pop(1)}), "state key True is not an integer"),
    (lambda sd: sd["state"].update({None: sd["state"].pop(1)}), "state key None is not an integer"),
    (lambda sd: sd["state"].update({"-1": sd["state"].pop(1)}), "state key '-1' is not an integer"),
    (lambda sd: sd["param_groups"][0].update(params=["x", 1]),
     r"param_groups\[0\] lists parameter 'x' is not an integer"),
    (lambda sd: sd["param_groups"][0].pop("params"), "'param_groups' must be a list of dicts"),
    (lambda sd: sd.update(param_groups={"params": [0, 1]}), "'param_groups' must be a list"),
    (lambda sd: sd.update(state=[1, 2]), "'state' must be a dict"),
    (lambda sd: sd["state"].update({0: [1, 2]}), "the state of parameter 0 must be a dict"),
    (lambda sd: sd["state"][0].update(step="3"), "'step' of parameter 0 must be a non-negative"),
    (lambda sd: sd["state"][0].update(step=-1), "'step' of parameter 0 must be a non-negative"),
    (lambda sd: sd["state"][0].update(step=np.array(np.nan)), "'step' of parameter 0 must be"),
])
def test_load_state_dict_refuses_malformed_state_with_an_optimizer_error(mutate, match):
    ps = [mnp.zeros(2, 3, requires_grad=True), mnp.zeros(4, requires_grad=True)]
    opt = optim.Adam(ps, lr=0.1)
    for p in ps:
        p.grad = mnp.ones(*p.shape)
    opt.step()
    sd = opt.state_dict()
    mutate(sd)
    fresh = optim.Adam([mnp.zeros(2, 3, requires_grad=True), mnp.zeros(4, requires_grad=True)])
    with pytest.raises(optim.OptimizerError, match=match):
        fresh.load_state_dict(sd)


def test_state_keys_as_decimal_strings_and_numpy_steps_still_load():
    ps = [mnp.zeros(3, requires_grad=True)]
    opt = optim.Adam(ps, lr=0.1)
    ps[0].grad = mnp.ones(3)
    opt.step()
    sd = opt.state_dict()
    sd["state"] = {"0": dict(sd["state"][0], step=np.int64(1))}    # as JSON would leave them
    fresh = optim.Adam([mnp.zeros(3, requires_grad=True)], lr=0.1)
    fresh.load_state_dict(sd)
    assert fresh.state[fresh.param_groups[0]["params"][0]]["step"] == 1
