"""The kernels of the C backend, one entry each: the single list everything else comes from.

Plain data (standard library only), so that ``hatch_build.py`` reads it without importing
mnp. From it come the extension's method table and prototypes (generated at build time),
`mnp.kernels_c.KERNEL_NAMES` and the plugin's registration, the kernel table of
docs/kernels.md, and the checks that each kernel is built and has a conformance generator
and a ``numpy`` reference.

A `Kernel` names the C function ``kc_<name>`` in ``csrc/<family>.c``; it must match the
``numpy`` backend's kernel of the same name (``reference``) on every input it takes, and
*declines* the others by returning ``NotImplemented`` (``declines`` says which, for the docs);
dispatch then runs the reference. ``kind`` tells the conformance kit how to make inputs for a
kernel it has no generator for (``unary``, ``binary``, ``unary_backward``; ``custom``: the
kit's own generator). ``limits`` are the ``kc_limits.h`` sizes at which the kernel changes
path (``mnp.kernels_c.thresholds()``). ``size_rule`` names the size rule of ``plugin.py``
that hands large calls to another backend (its work is a C helper: one C call per op).

Adding an elementwise kernel: an entry here, its loop in ``csrc/<family>.c`` and, if mnp-core
lacks it, the ``numpy`` reference; the conformance cases follow from ``kind``.

    python -m mnp.kernels_c --markdown        # the kernel table of docs/kernels.md
    python -m mnp.kernels_c --update-docs docs/kernels.md
"""
from __future__ import annotations

from typing import NamedTuple


class Kernel(NamedTuple):
    name: str
    family: str                 # csrc/<family>.c
    args: str                   # the Python signature, e.g. "a, b" or "x, axis"
    kind: str                   # unary | binary | unary_backward | custom
    doc: str                    # one line
    limits: tuple[str, ...] = ()
    declines: str = ""
    dtypes: tuple[str, ...] = ("float32", "float64")
    reference: str = "numpy"
    size_rule: str | None = None


_EW = ("EW_NOGIL_FROM", "EW_THREADS_FROM")
_EW_HEAVY = ("EW_NOGIL_FROM", "EW_HEAVY_THREADS_FROM")
_ACT = ("EW_NOGIL_FROM", "EW_THREADS_FROM", "ACT_BLOCK")
_ACT_HEAVY = ("EW_NOGIL_FROM", "EW_HEAVY_THREADS_FROM", "ACT_BLOCK")
_BINARY = "mixed dtypes, two 0-d operands, more than 32 dims, strides off the item size"
_UNARY = "0-d arrays"
_BACKWARD = "mixed dtypes, 0-d arrays, shapes that differ (broadcasting)"
_SOFTMAX = ("SM_SMALL", "SM_BLOCK", "SM_CHUNK", "SM_THREADS_FROM")
_POOL = ("POOL_THREADS_FROM",)
_NORM = ("NN_THREADS_FROM",)
_LN = ("LN_THREADS_FROM",)
_OPT = ("OPT_THREADS_FROM",)
_OPT4 = ("OPT_THREADS_FROM / 4",)
_GEMM = ("GEMM_SMALL", "GEMM_THREADS_FROM", "GEMM_NOPACK", "GEMM_BLAS_FROM")
_STEP = "mixed dtypes, buffers that are not writeable C-contiguous arrays of the parameter's size"

KERNELS: tuple[Kernel, ...] = (
    # -- gemm.c ---------------------------------------------------------------------------
    Kernel("gemm", "gemm", "a, b, trans_a=False, trans_b=False", "custom",
           "op(a) @ op(b) for 2-d a, b", _GEMM, "mixed dtypes", size_rule="gemm"),
    Kernel("addmm", "gemm", "bias, a, b, trans_a=False, trans_b=False", "custom",
           "bias + op(a) @ op(b), the bias added in the product's last pass", _GEMM[:3],
           "mixed dtypes, a bias other than one value per column"),
    Kernel("matmul", "gemm", "a, b", "custom", "numpy's matmul, batch dims broadcast", _GEMM,
           "mixed dtypes, 1-d operands, more than 32 dims, strides off the item size",
           size_rule="matmul"),
    # -- elementwise.c: arithmetic ----------------------------------------------------------
    Kernel("add", "elementwise", "a, b", "binary", "a + b, numpy broadcasting", _EW, _BINARY),
    Kernel("sub", "elementwise", "a, b", "binary", "a - b, numpy broadcasting", _EW, _BINARY),
    Kernel("mul", "elementwise", "a, b", "binary", "a * b, numpy broadcasting", _EW, _BINARY),
    Kernel("div", "elementwise", "a, b", "binary", "a / b, numpy broadcasting", _EW, _BINARY),
    Kernel("maximum", "elementwise", "a, b", "binary",
           "maximum(a, b), broadcasting (NaN if either is NaN)", _EW, _BINARY),
    Kernel("minimum", "elementwise", "a, b", "binary",
           "minimum(a, b), broadcasting (NaN if either is NaN)", _EW, _BINARY),
    Kernel("sqrt", "elementwise", "x", "unary", "sqrt(x)", _EW, _UNARY),
    Kernel("neg", "elementwise", "x", "unary", "-x", _EW, _UNARY),
    Kernel("abs", "elementwise", "x", "unary", "absolute value", _EW, _UNARY),
    Kernel("sign", "elementwise", "x", "unary", "-1, 0 or 1 (0 for NaN, as PyTorch)", _EW, _UNARY),
    Kernel("log1p", "elementwise", "x", "unary", "log(1 + x), exact near 0", _EW_HEAVY, _UNARY),
    Kernel("expm1", "elementwise", "x", "unary", "exp(x) - 1, exact near 0", _EW_HEAVY, _UNARY),
    # -- activation.c -----------------------------------------------------------------------
    Kernel("relu", "activation", "x", "unary", "max(x, 0) (NaN kept)", _EW, _UNARY),
    Kernel("sigmoid", "activation", "x", "unary", "1 / (1 + exp(-x))", _EW_HEAVY, _UNARY),
    Kernel("tanh", "activation", "x", "unary", "tanh(x)", _EW_HEAVY, _UNARY),
    Kernel("erf", "activation", "x", "unary", "the error function", _ACT_HEAVY, _UNARY),
    Kernel("relu_backward", "activation", "g, x", "unary_backward", "g * (x > 0)", _EW,
           _BACKWARD),
    Kernel("sigmoid_backward", "activation", "g, y", "unary_backward", "g * y * (1 - y)", _EW,
           _BACKWARD),
    Kernel("tanh_backward", "activation", "g, y", "unary_backward", "g * (1 - y * y)", _EW,
           _BACKWARD),
    Kernel("leaky_relu", "activation", "x, slope", "custom", "x if x > 0 else slope * x", _ACT,
           "0-d arrays, a slope that is not a number"),
    Kernel("leaky_relu_backward", "activation", "g, x, slope", "unary_backward",
           "g if x > 0 else slope * g", _ACT, _BACKWARD + ", a slope that is not a number"),
    Kernel("gelu", "activation", "x, approximate='none'", "custom",
           "x Phi(x), or its 'tanh' form", _ACT_HEAVY,
           "0-d arrays, approximate other than 'none'/'tanh'"),
    Kernel("gelu_backward", "activation", "g, x, approximate='none'", "unary_backward",
           "g * gelu'(x)", _ACT_HEAVY, _BACKWARD + ", approximate other than 'none'/'tanh'"),
    # -- reduce.c -------------------------------------------------------------------------
    Kernel("sum", "reduce", "x, axes, keepdims", "custom", "sum over axes (a sorted tuple or None)",
           ("RED_CHUNK", "RED_THREADS_FROM"), "axes that are not a tuple of valid axes or None"),
    Kernel("max", "reduce", "x, axes, keepdims", "custom", "max over axes (NaN wins)",
           ("RED_CHUNK", "RED_THREADS_FROM"), "axes that are not a tuple of valid axes or None"),
    Kernel("min", "reduce", "x, axes, keepdims", "custom", "min over axes (NaN wins)",
           ("RED_CHUNK", "RED_THREADS_FROM"), "axes that are not a tuple of valid axes or None"),
    Kernel("argmax", "reduce", "x, axis, keepdims", "custom",
           "int64 index of the first maximum (NaN wins)",
           ("ARG_LANES_FROM", "ARG_BLOCK", "ARG_THREADS_FROM"), "0-d or empty x, a bad axis"),
    Kernel("argmin", "reduce", "x, axis, keepdims", "custom",
           "int64 index of the first minimum (NaN wins)",
           ("ARG_LANES_FROM", "ARG_BLOCK", "ARG_THREADS_FROM"), "0-d or empty x, a bad axis"),
    # -- softmax.c ------------------------------------------------------------------------
    Kernel("softmax", "softmax", "x, axis", "custom", "max-shifted softmax along axis", _SOFTMAX,
           "0-d or empty x, a bad axis"),
    Kernel("log_softmax", "softmax", "x, axis", "custom", "max-shifted log-softmax along axis",
           _SOFTMAX, "0-d or empty x, a bad axis"),
    Kernel("softmax_backward", "softmax", "g, y, axis", "custom", "g y - y sum(g y)", _SOFTMAX,
           "0-d or empty x, a bad axis, mixed dtypes or shapes"),
    Kernel("log_softmax_backward", "softmax", "g, y, axis", "custom", "g - exp(y) sum(g)",
           _SOFTMAX, "0-d or empty x, a bad axis, mixed dtypes or shapes"),
    # -- conv.c ---------------------------------------------------------------------------
    Kernel("im2col", "conv", "x, kernel_size, stride, padding, dilation", "custom",
           "columns (N, C*KH*KW, OH*OW) of x (N, C, H, W)", ("COLS_THREADS_FROM",)),
    Kernel("col2im", "conv", "cols, x_shape, kernel_size, stride, padding, dilation", "custom",
           "the image of columns, overlaps summed", ("COLS_THREADS_FROM",)),
    Kernel("conv2d_forward", "conv", "x, w, b, stride, padding, dilation", "custom",
           "2-d convolution (N, C, H, W) * (OC, C, KH, KW)", ("CONV_THREADS_FROM",),
           "mixed dtypes, a bias of another dtype"),
    Kernel("conv2d_backward", "conv",
           "g, x, w, stride, padding, dilation, need_x, need_w, need_b", "custom",
           "(dx, dw, db) of conv2d_forward", ("CONV_THREADS_FROM",), "mixed dtypes"),
    # -- pool.c ---------------------------------------------------------------------------
    Kernel("max_pool2d_forward", "pool", "x, kernel_size, stride, padding", "custom",
           "(y, int64 indices) of max pooling", _POOL, "x that is not 4-d"),
    Kernel("max_pool2d_backward", "pool", "g, indices, x_shape", "custom",
           "scatter g to the indices", _POOL, "indices that are not an array"),
    Kernel("avg_pool2d_forward", "pool", "x, kernel_size, stride, padding", "custom",
           "average pooling (padding counted)", _POOL, "x that is not 4-d"),
    Kernel("avg_pool2d_backward", "pool", "g, x_shape, kernel_size, stride, padding", "custom",
           "spread g over each window", _POOL),
    # -- loss.c ---------------------------------------------------------------------------
    Kernel("cross_entropy_forward", "loss", "logits, targets, label_smoothing", "custom",
           "(losses, probs) of softmax cross-entropy", _NORM,
           "targets that are not int64 (N,) in [0, C)"),
    Kernel("cross_entropy_backward", "loss", "g, probs, targets, label_smoothing", "custom",
           "dlogits of cross_entropy_forward", _NORM,
           "mixed dtypes, targets that are not int64 (N,) in [0, C)"),
    # -- norm.c ---------------------------------------------------------------------------
    Kernel("batch_norm_forward", "norm", "x, gamma, beta, eps", "custom",
           "(y, mean, invstd) over N and M of x (N, C, M)", _NORM,
           "x of fewer than 2 dims or no elements per channel, gamma/beta of another dtype"),
    Kernel("batch_norm_backward", "norm", "g, x, gamma, mean, invstd", "custom",
           "(dx, dgamma, dbeta) of batch_norm_forward", _NORM,
           "mixed dtypes or shapes, gamma of another dtype"),
    Kernel("layer_norm_forward", "norm", "x, gamma, beta, eps", "custom",
           "(y, mean, invstd) over D of x (B, D)", _LN,
           "x that is not (B, D) with B, D > 0, gamma/beta of another dtype"),
    Kernel("layer_norm_backward", "norm", "g, x, gamma, mean, invstd", "custom",
           "(dx, dgamma, dbeta) of layer_norm_forward", ("LN_CHUNK",) + _LN,
           "mixed dtypes or shapes, gamma of another dtype"),
    # -- attention.c ----------------------------------------------------------------------
    Kernel("attention_forward", "attention", "q, k, v, mask, is_causal, scale, drop=None",
           "custom", "(out, lse) of softmax attention, in tiles", (),
           "dropout, masks that do not broadcast to (B, L, S), mixed dtypes"),
    Kernel("attention_backward", "attention",
           "g, q, k, v, out, lse, mask, is_causal, scale, drop=None", "custom",
           "(dq, dk, dv) of attention_forward", (),
           "dropout, masks that do not broadcast to (B, L, S), mixed dtypes"),
    # -- optim.c (in place) ---------------------------------------------------------------
    Kernel("sgd_step", "optim",
           "param, grad, buf, lr, momentum, dampening, nesterov, weight_decay, first", "custom",
           "SGD update in place (momentum, Nesterov)", _OPT, _STEP),
    Kernel("adam_step", "optim",
           "param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps, "
           "weight_decay, decoupled, amsgrad", "custom", "Adam/AdamW update in place", _OPT4,
           _STEP),
    Kernel("rmsprop_step", "optim",
           "param, grad, square_avg, buf, lr, alpha, eps, momentum, weight_decay", "custom",
           "RMSprop update in place", _OPT4, _STEP),
    Kernel("rmsprop_centered_step", "optim",
           "param, grad, square_avg, grad_avg, buf, lr, alpha, eps, momentum, weight_decay",
           "custom", "centered RMSprop update in place", _OPT4, _STEP),
    Kernel("adagrad_step", "optim",
           "param, grad, sum_, step, lr, lr_decay, eps, weight_decay", "custom",
           "Adagrad update in place", _OPT4, _STEP),
)

#: C functions of the extension that are not kernels: (name, family, doc)
HELPERS: tuple[tuple[str, str, str], ...] = (
    ("gemm_blocked", "gemm", "gemm_blocked(a, b, trans_a, trans_b, threads=None): the C GEMM "
                             "on exactly `threads` threads"),
    ("_set_gemm_blocking", "gemm", "cache blocking (kc, mc, nc, is_double) of the C GEMM"),
    ("gemm_work", "gemm", "gemm_work(a, b, trans_a=False, trans_b=False): M*N*K, the work of "
                          "the size rule (0.0 for operands gemm rejects)"),
    ("matmul_work", "gemm", "matmul_work(a, b): M*N*K of one product, the work of the size "
                            "rule (0.0 for operands matmul rejects or declines)"),
)

#: C files besides the families: the module (method table, errors, threads)
CORE_SOURCES: tuple[str, ...] = ("module",)


def names() -> tuple[str, ...]:
    """Every kernel name, in manifest order."""
    return tuple(k.name for k in KERNELS)


def families() -> tuple[str, ...]:
    """The C files (without ``.c``) the extension is compiled from, families first."""
    fams = dict.fromkeys(k.family for k in KERNELS)
    fams.update(dict.fromkeys(f for _, f, _ in HELPERS))
    return tuple(fams) + CORE_SOURCES


def signature(k: Kernel) -> str:
    return f"{k.name}({k.args})"


def c_header() -> str:
    """The generated header ``kc_kernels.h``: prototypes, method-table rows, thresholds."""
    lines = ["/* Generated by hatch_build.py from mnp/kernels_c/manifest.py: do not edit. */",
             "#ifndef MNP_KC_KERNELS_H", "#define MNP_KC_KERNELS_H", ""]
    for k in KERNELS:
        lines.append(f"KC_DECL({k.name});")
    for name, _, _ in HELPERS:
        lines.append(f"KC_DECL({name});")
    lines += ["", "#define KC_KERNEL_METHODS \\"]
    for k in KERNELS:
        doc = f"{signature(k)}: {k.doc}".replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'    KC_FAST({k.name}, "{doc}"), \\')
    for name, _, doc in HELPERS:
        doc = doc.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'    KC_FAST({name}, "{doc}"), \\')
    lines += ["", "", "#define KC_THRESHOLD_ROWS \\"]
    for k in KERNELS:
        if k.limits:
            lines.append(f'    {{"{k.name}", {{{", ".join(k.limits)}}}}}, \\')
    lines += ["", "", "#endif", ""]
    return "\n".join(lines)


def markdown() -> str:
    """The kernel table of docs/kernels.md."""
    rows = ["| kernel | file | kind | what | also declines |", "|---|---|---|---|---|"]
    for k in KERNELS:
        declines = f"{k.declines}." if k.declines else "-"
        rule = " Large calls go to numpy's BLAS (size rule)." if k.size_rule else ""
        cells = (f"`{signature(k)}`", f"`{k.family}.c`", k.kind, k.doc, f"{declines}{rule}")
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


BEGIN = "<!-- c-kernels: generated by `python -m mnp.kernels_c --update-docs docs/kernels.md` -->"
END = "<!-- end of c-kernels -->"


def updated_docs(text: str) -> str:
    """``text`` (docs/kernels.md) with the table between `BEGIN` and `END` regenerated."""
    head, sep, rest = text.partition(BEGIN)
    if not sep:
        raise ValueError(f"docs/kernels.md has no line {BEGIN!r}")
    _, sep, tail = rest.partition(END)
    if not sep:
        raise ValueError(f"docs/kernels.md has no line {END!r} after {BEGIN!r}")
    return f"{head}{BEGIN}\n{markdown()}{END}{tail}"
