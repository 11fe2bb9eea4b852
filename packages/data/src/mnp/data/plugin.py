"""The mnp plugin of mnp-data: registers its parts through core's hooks."""
from __future__ import annotations

from mnp.core import hookimpl  # noqa: F401
