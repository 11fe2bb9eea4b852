"""Bad input never crashes the interpreter: every kernel is called with wrong types, dtypes,
ranks, shapes, strides, sizes and argument counts in a child process; each call returns (a
fallback) or raises. Shape mistakes raise ShapeError naming the kernel."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(r'''
    import json, sys
    import numpy as np
    import mnp.kernels_c as pkg
    from mnp.core.errors import MnpError
    kc = pkg._ext
    f4 = lambda *s: np.ones(s, np.float32)
    i8 = lambda *s: np.zeros(s, np.int64)
    x4, w4 = f4(2, 3, 6, 6), f4(4, 3, 3, 3)
    p1 = (1, 1)
    VALID = {
        "gemm": (f4(3, 4), f4(4, 5), False, False), "matmul": (f4(2, 3, 4), f4(4, 5)),
        "addmm": (f4(5), f4(3, 4), f4(4, 5), False, False),
        "add": (f4(3, 4), f4(4)), "sub": (f4(3, 4), f4(3, 1)), "mul": (f4(3), f4(3)),
        "div": (f4(3), f4(3)), "relu": (f4(5),), "sigmoid": (f4(5),), "tanh": (f4(5),),
        "relu_backward": (f4(5), f4(5)), "sigmoid_backward": (f4(5), f4(5)),
        "tanh_backward": (f4(5), f4(5)), "sum": (f4(3, 4), (1,), False), "max": (f4(3, 4), None, True),
        "im2col": (x4, (3, 3), p1, p1, p1),
        "col2im": (f4(2, 27, 36), (2, 3, 6, 6), (3, 3), p1, p1, p1),
        "conv2d_forward": (x4, w4, f4(4), p1, p1, p1),
        "conv2d_backward": (f4(2, 4, 6, 6), x4, w4, p1, p1, p1, True, True, True),
        "max_pool2d_forward": (x4, (2, 2), (2, 2), (0, 0)),
        "max_pool2d_backward": (f4(2, 3, 3, 3), i8(2, 3, 3, 3), (2, 3, 6, 6)),
        "avg_pool2d_forward": (x4, (2, 2), (2, 2), (0, 0)),
        "avg_pool2d_backward": (f4(2, 3, 3, 3), (2, 3, 6, 6), (2, 2), (2, 2), (0, 0)),
        "cross_entropy_forward": (f4(4, 3), i8(4), 0.0),
        "cross_entropy_backward": (f4(4), f4(4, 3), i8(4), 0.0),
        "batch_norm_forward": (f4(4, 3, 5), f4(3), f4(3), 1e-5),
        "batch_norm_backward": (f4(4, 3, 5), f4(4, 3, 5), f4(3), f4(3), f4(3)),
        "sgd_step": (f4(6), f4(6), f4(6), 0.1, 0.9, 0.0, False, 0.0, False),
        "adam_step": (f4(6), f4(6), f4(6), f4(6), None, 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False),
        "rmsprop_step": (f4(6), f4(6), f4(6), f4(6), 1e-2, 0.99, 1e-8, 0.9, 0.0),
        "rmsprop_centered_step": (f4(6), f4(6), f4(6), f4(6), f4(6), 1e-2, 0.99, 1e-8, 0.9, 0.0),
        "adagrad_step": (f4(6), f4(6), f4(6), 1, 1e-2, 0.0, 1e-10, 0.0),
        "argmax": (f4(3, 4), 1, False), "argmin": (f4(3, 4), None, True),
        "maximum": (f4(3, 4), f4(4)), "minimum": (f4(3, 1), f4(4)),
        "sqrt": (f4(5),), "neg": (f4(5),), "abs": (f4(5),), "sign": (f4(5),),
        "min": (f4(3, 4), (0,), False),
        "leaky_relu": (f4(3, 4), 0.01), "leaky_relu_backward": (f4(3, 4), f4(3, 4), 0.2),
        "gelu": (f4(3, 4), "none"), "gelu_backward": (f4(3, 4), f4(3, 4), "tanh"),
        "erf": (f4(3, 4),),
        "softmax": (f4(3, 4), -1), "log_softmax": (f4(3, 4), 0),
        "softmax_backward": (f4(3, 4), f4(3, 4), 1), "log_softmax_backward": (f4(3, 4), f4(3, 4), -2),
        "layer_norm_forward": (f4(4, 5), f4(5), f4(5), 1e-5),
        "layer_norm_backward": (f4(4, 5), f4(4, 5), f4(5), f4(4), f4(4)),
        "attention_forward": (f4(2, 3, 4), f4(2, 5, 4), f4(2, 5, 4), None, False, 0.5, None),
        "attention_backward": (f4(2, 3, 4), f4(2, 3, 4), f4(2, 5, 4), f4(2, 5, 4), f4(2, 3, 4),
                               f4(2, 3), None, True, 0.5, None),
    }
    BY_KIND = {"unary": (f4(5),), "binary": (f4(3, 4), f4(4)), "unary_backward": (f4(5), f4(5))}
    for k in pkg.manifest.KERNELS:                  # new elementwise kernels: by their kind
        if k.name not in VALID and k.kind in BY_KIND:
            VALID[k.name] = BY_KIND[k.kind]
    missing = sorted(set(pkg.KERNEL_NAMES) - set(VALID))
    assert not missing, f"no valid call to fuzz for {missing}"
    ro = f4(3, 4); ro.flags.writeable = False
    BAD = [None, 1, -7, 2.5, "x", b"y", [1.0, 2.0], (1,), (-1, -1), (0, 0), (10**18, 1), (2**62, 2**62),
           f4(), f4(0), f4(3), f4(0, 0), f4(1, 1, 1, 1, 1), f4(2, 3, 0, 0), f4(7, 7)[::2, ::3],
           np.ones((3, 4), np.float16), np.ones((3, 4), np.int32), np.ones((3, 4), np.float64),
           np.array(["a", "b"]), np.array([None, 1.0], dtype=object), np.ones(4, ">f4"),
           np.frombuffer(b"\0" * 17, np.uint8)[1:].view(np.float32), ro, i8(4) - 5, np.float32(3)]
    counts = {"ok": 0, "mnp": 0, "other": 0}
    kinds = {}
    for name, args in VALID.items():
        fn = getattr(kc, name)
        fn(*args)                                     # the valid call works
        calls = [args[:-1], args + (None,) * 3, ()]
        for i in range(len(args)):
            for bad in BAD:
                calls.append(args[:i] + (bad,) + args[i + 1:])
        for call in calls:
            try:
                fn(*call)
                counts["ok"] += 1
            except MnpError:
                counts["mnp"] += 1
            except (TypeError, ValueError, IndexError, OverflowError, MemoryError, KeyError,
                    AttributeError, ZeroDivisionError, FloatingPointError) as exc:
                counts["other"] += 1
                kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
    print(json.dumps({"counts": counts, "kinds": kinds}))
''')


def test_bad_input_never_crashes(kc, tmp_path):
    script = tmp_path / "fuzz.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, MNP_NUM_THREADS="2"))
    assert done.returncode == 0, f"child died ({done.returncode}):\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    counts = report["counts"]
    assert sum(counts.values()) > 2000
    assert counts["mnp"] > 200 and counts["ok"] > 200, report


@pytest.mark.parametrize("name,args,match", [
    ("add", lambda np: (np.ones((2, 3), "f4"), np.ones((3, 2), "f4")), "add: shapes"),
    ("gemm", lambda np: (np.ones((2, 3), "f4"), np.ones((2, 3), "f4")), "gemm: shapes"),
    ("conv2d_forward", lambda np: (np.ones((1, 3, 4, 4), "f4"), np.ones((2, 3, 3), "f4"), None,
                                   (1, 1), (0, 0), (1, 1)), "conv2d_forward: expected x"),
    ("batch_norm_forward", lambda np: (np.ones(3, "f4"), None, None, 1e-5), "batch_norm_forward"),
])
def test_shape_errors_are_mnp_errors(kc, name, args, match):
    import numpy as np
    from mnp.core.errors import ShapeError
    with pytest.raises(ShapeError, match=match):
        getattr(kc, name)(*args(np))
