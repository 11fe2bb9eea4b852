"""The ``mnp`` command (also ``python -m mnp.core``): inspect plugins and backends.

::

    mnp list-plugins [--json]     every plugin found, its status, error and what it provides
    mnp info [--json]             versions, backends, the selected backend, dtypes
    mnp check-backend NAME        run the conformance suite of NAME against numpy

``check-backend`` exits 1 when a kernel fails and 2 when the backend is unknown or
unavailable; the other commands exit 0 unless a plugin fails under ``MNP_STRICT_PLUGINS=1``.
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import sys
from collections import Counter
from typing import Any, Sequence

from . import dtypes as _dt
from .errors import BackendError, MnpError
from .plugins import BUILTIN_DISTRIBUTIONS, plugins


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _table(headers: Sequence[str], rows: list[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _short(text: str | None, width: int) -> str:
    if not text:
        return "-"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def summarize_provides(provides: dict[str, list[str]]) -> str:
    """One line: backends by name, kernels as a count per backend, other registries counted.

    >>> summarize_provides({"backends": ["c"], "kernels": ["c:add", "c:mul", "numpy:conv"]})
    'backends: c; kernels: 2 c, 1 numpy'
    """
    parts = []
    for kind, names in provides.items():
        if not names:
            continue
        if kind == "backends":
            parts.append(f"backends: {', '.join(names)}")
        elif kind == "kernels":
            per = Counter(n.split(":", 1)[0] for n in names)
            parts.append("kernels: " + ", ".join(f"{c} {b}" for b, c in sorted(per.items())))
        else:
            parts.append(f"{kind}: {len(names)}")
    return "; ".join(parts) or "-"


# -- commands ---------------------------------------------------------------------------------
def cmd_list_plugins(args: argparse.Namespace) -> int:
    rows = plugins()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(_table(["name", "version", "status", "error", "provides"],
                 [[p["name"], p["version"] or "-", p["status"], _short(p["error"], args.width),
                   summarize_provides(p["provides"])] for p in rows]))
    return 0


def _info() -> dict[str, Any]:
    from .dispatch import backends, get_backend
    try:
        selected, selection_error = get_backend(), None
    except BackendError as exc:
        selected, selection_error = None, str(exc)
    listed = plugins()
    return {
        "mnp": {d: _version(d) for d in BUILTIN_DISTRIBUTIONS},
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "numpy": _version("numpy"),
        "pluggy": _version("pluggy"),
        "platform": platform.platform(),
        "backends": [{"name": b["name"], "available": b["available"], "priority": b["priority"],
                      "provider": b["provider"], "kernels": len(b["kernels"]),
                      "description": b["description"]} for b in backends()],
        "selected_backend": selected,
        "selection_error": selection_error,
        "MNP_BACKEND": os.environ.get("MNP_BACKEND"),
        "dtypes": [d.name for d in _dt.SUPPORTED],
        "default_dtype": _dt.get_default_dtype().name,
        "plugins": dict(Counter(p["status"] for p in listed)),
    }


def cmd_info(args: argparse.Namespace) -> int:
    info = _info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    mnp = info["mnp"]
    print(f"mnp-core {mnp['mnp-core'] or '(not installed)'}; "
          + ", ".join(f"{d} {v or 'not installed'}" for d, v in mnp.items() if d != "mnp-core"))
    py = info["python"]
    print(f"python {py['version']} ({py['implementation']}, {py['executable']}); numpy {info['numpy']}; "
          f"pluggy {info['pluggy']}")
    print(f"platform {info['platform']}")
    print()
    print(_table(["backend", "available", "priority", "kernels", "provider"],
                 [[b["name"], "yes" if b["available"] else "no", b["priority"], b["kernels"], b["provider"]]
                  for b in info["backends"]]))
    for b in info["backends"]:
        if not b["available"]:
            print(f"backend {b['name']} is not available: {b['description'] or 'no reason given'}")
    print()
    env = info["MNP_BACKEND"]
    if info["selected_backend"]:
        how = f"MNP_BACKEND={env}" if env else "highest-priority available backend"
        print(f"selected backend: {info['selected_backend']} ({how})")
    else:
        print(f"selected backend: none: {info['selection_error']}")
    print(f"dtypes: {', '.join(info['dtypes'])}")
    print(f"default dtype: {info['default_dtype']}")
    print("plugins: " + ", ".join(f"{n} {s}" for s, n in sorted(info["plugins"].items())))
    return 0


def cmd_check_backend(args: argparse.Namespace) -> int:
    from .testing.conformance import format_results, run_conformance, summary
    try:
        results = run_conformance(args.name, kernels=args.kernel or None, dtypes=args.dtype or None)
    except BackendError as exc:
        print(f"mnp check-backend: {exc}", file=sys.stderr)
        return 2
    counts = summary(results)
    if args.json:
        print(json.dumps({"backend": args.name, "summary": counts,
                          "results": [r.as_dict() for r in results]}, indent=2))
    else:
        print(f"conformance of backend {args.name!r} against 'numpy'")
        print(format_results(results))
    return 1 if counts["failed"] or counts["error"] else 0


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog or "mnp", description="Inspect mnp's plugins and kernel backends.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list-plugins", help="every plugin found: status, error, what it provides")
    p.add_argument("--json", action="store_true", help="full details as JSON (every kernel listed)")
    p.add_argument("--width", type=int, default=60, help="truncate errors in the table to this width")
    p.set_defaults(func=cmd_list_plugins)

    p = sub.add_parser("info", help="versions, backends, the selected backend, dtypes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("check-backend", help="run the conformance suite of a backend against numpy")
    p.add_argument("name", help="backend name, as in `mnp info`")
    p.add_argument("--kernel", action="append", help="check only this kernel (repeatable)")
    p.add_argument("--dtype", action="append", choices=("float16", "float32", "float64"),
                   help="check only this dtype (repeatable; default: the dtypes each kernel is "
                        "registered for, float32 and float64 for a kernel that takes any)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check_backend)
    return parser


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser(prog).parse_args(argv)
    try:
        return args.func(args)
    except MnpError as exc:   # e.g. a failing plugin under MNP_STRICT_PLUGINS=1
        print(f"mnp {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:   # `mnp list-plugins | head`
        return 0
