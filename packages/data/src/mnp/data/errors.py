"""The errors mnp.data raises on bad input (all `mnp.core.MnpError` subclasses)."""
from __future__ import annotations

from mnp.core import MnpError


class DataError(MnpError, ValueError):
    """A bad argument to a mnp.data function; the message names the function and the value."""


class DataFormatError(DataError):
    """A file that is not what its loader expects (wrong magic number, truncated data,
    sizes that do not add up, an unknown dtype code, ...); the message names the file."""


class DataFileNotFoundError(MnpError, FileNotFoundError):
    """An expected data file is missing; the message names where it was looked for."""


class WorkerError(MnpError, RuntimeError):
    """A `DataLoader` worker process died, or no batch arrived within ``timeout``; the
    message names the worker and the batch."""
