"""Install PyTorch, the oracle of the parity tests, into the test environment where it can.

Run by ``hatch test`` before pytest; it does nothing when torch is already there. Set
``MNP_TEST_TORCH=0`` to skip it; without torch the parity tests are skipped (the summary
line says how many).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

VERSION = "2.13.0"


def main() -> int:
    if os.environ.get("MNP_TEST_TORCH", "1") == "0":
        print("MNP_TEST_TORCH=0: not installing torch; parity tests will be skipped")
        return 0
    if importlib.util.find_spec("torch") is not None:
        return 0
    print(f"installing torch=={VERSION} for the parity tests (MNP_TEST_TORCH=0 skips this)")
    # pip, not the uv hatch syncs with: pip honours the machine's pip configuration (a local
    # CPU build, an index mirror); environments made by uv have no pip until ensurepip
    has_pip = subprocess.call([sys.executable, "-m", "pip", "--version"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0
    if not has_pip:
        subprocess.call([sys.executable, "-m", "ensurepip", "--default-pip"],
                        stdout=subprocess.DEVNULL)
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
           f"torch=={VERSION}"]
    if subprocess.call(cmd) != 0:
        print(f"torch=={VERSION} could not be installed: parity tests will be skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
