"""``python -m mnp.core COMMAND``: the `mnp` command line (see `mnp.core.cli`)."""
from .cli import main

raise SystemExit(main(prog="python -m mnp.core"))
