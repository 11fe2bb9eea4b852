"""W6: start-up: ``import mnp.core, mnp.nn, mnp.optim`` vs ``import torch`` in fresh interpreters;
the import time inside the process, the whole ``python -c`` wall time, and RSS after import."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ID = "W6"
TITLE = "start-up"
FIGURES = {"import_s": ("s", False), "process_s": ("s", False), "rss_mb": ("MiB", False)}
PER_BACKEND = False
THREADED = False
IMPORTS = {"mnp": "import mnp.core, mnp.nn, mnp.optim", "torch": "import torch"}
PROBE = """
import time
t0 = time.perf_counter()
{stmt}
t1 = time.perf_counter()
rss = 0.0
with open("/proc/self/status") as f:
    for line in f:
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
import json
print(json.dumps({{"import_s": t1 - t0, "rss_mb": rss}}))
"""


def cases(opts: dict) -> list[dict]:
    return [{"import": "default"}]


def measure(framework: str, case: dict, repeat: int, opts: dict) -> dict[str, list[float]]:
    code = PROBE.format(stmt=IMPORTS[framework])
    # as installed packages run: bytecode caches written on the warm-up run and used after
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MNP_") and k != "PYTHONDONTWRITEBYTECODE"}
    out: dict[str, list[float]] = {"import_s": [], "process_s": [], "rss_mb": []}
    for i in range(repeat + 1):                # the first run warms the file and bytecode caches
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                              check=True)
        wall = time.perf_counter() - t0
        if i == 0:
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        out["import_s"].append(row["import_s"])
        out["process_s"].append(wall)
        out["rss_mb"].append(row["rss_mb"])
    return out
