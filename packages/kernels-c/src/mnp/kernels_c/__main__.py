"""``python -m mnp.kernels_c --markdown | --header | --update-docs docs/kernels.md``: the
kernel table of docs/kernels.md, the generated C header, or docs/kernels.md brought up to date,
all from `mnp.kernels_c.manifest`."""
from __future__ import annotations

import sys

from . import manifest


def main(argv: list[str]) -> int:
    if argv[:1] == ["--markdown"]:
        sys.stdout.write(manifest.markdown())
        return 0
    if argv[:1] == ["--header"]:
        sys.stdout.write(manifest.c_header())
        return 0
    if argv[:1] == ["--update-docs"] and len(argv) == 2:
        with open(argv[1], encoding="utf-8") as f:
            text = f.read()
        new = manifest.updated_docs(text)
        if new != text:
            with open(argv[1], "w", encoding="utf-8") as f:
                f.write(new)
        return 0
    sys.stderr.write("usage: python -m mnp.kernels_c --markdown | --header | "
                     "--update-docs docs/kernels.md\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
