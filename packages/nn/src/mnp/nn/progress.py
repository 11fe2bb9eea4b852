"""A per-epoch progress bar on tqdm that shows the running loss and metrics.

tqdm is imported only when a visible bar is made, so importing mnp.nn stays fast.

>>> bar = ProgressBar(total=2, desc="Epoch 1/1", enabled=False)
>>> bar.update(1, loss=0.5); bar.update(1, loss=0.25); bar.close(loss=0.375)
"""
from __future__ import annotations

from typing import Any, IO


def format_value(value: Any) -> str:
    """Numbers with 4 significant digits, anything else as ``str``."""
    if isinstance(value, float) or hasattr(value, "dtype"):
        try:
            return f"{float(value):.4g}"
        except (TypeError, ValueError):
            return str(value)
    return str(value)


class ProgressBar:
    """One bar over ``total`` steps (None: unknown); ``enabled=False`` makes it silent.

    ``update(n, **values)`` advances and shows ``values`` beside the bar; ``close(**values)``
    shows the final values and ends the line.
    """

    def __init__(self, total: int | None, desc: str = "", enabled: bool = True,
                 file: IO[str] | None = None, leave: bool = True):
        self._bar = None
        if enabled:
            from tqdm import tqdm
            self._bar = tqdm(total=total, desc=desc, file=file, leave=leave, unit="batch",
                             dynamic_ncols=True)

    @property
    def enabled(self) -> bool:
        return self._bar is not None

    def _postfix(self, values: dict[str, Any], refresh: bool) -> None:
        shown = {k: format_value(v) for k, v in values.items()
                 if not hasattr(v, "__len__") or isinstance(v, str)}
        self._bar.set_postfix(shown, refresh=refresh)

    def update(self, n: int = 1, **values: Any) -> None:
        if self._bar is None:
            return
        if values:
            self._postfix(values, refresh=False)
        self._bar.update(n)

    def close(self, **values: Any) -> None:
        if self._bar is None:
            return
        if values:
            self._postfix(values, refresh=True)
        self._bar.close()
        self._bar = None

    def write(self, text: str) -> None:
        """Print a line without breaking the bar."""
        if self._bar is not None:
            self._bar.write(text)

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
