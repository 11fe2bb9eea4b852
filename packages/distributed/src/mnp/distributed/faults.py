"""Ending every rank when one fails.

While a process group of several ranks is up, an uncaught exception on any rank (main
thread or another thread) prints ``rank R of W failed`` with its traceback and calls MPI
Abort, which makes mpiexec end every rank instead of leaving them waiting in a collective.
A rank killed by a signal is seen by mpiexec itself, which then ends the others.
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any

_saved: tuple[Any, Any] | None = None
#: seconds between the report and the abort: mpiexec forwards a rank's output through a pipe,
#: and an abort that comes at once can end the forwarding before the report is through
REPORT_GRACE_S = 0.5


def _report_and_abort(exc_type: type, exc: BaseException, tb: Any) -> None:
    from . import _mpi
    MPI = _mpi.load()
    world = MPI.COMM_WORLD
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    try:
        sys.stderr.write(f"mnp.distributed: rank {world.Get_rank()} of {world.Get_size()} failed; "
                         f"ending every rank.\n{text}")
        sys.stderr.flush()
        sys.stdout.flush()
        time.sleep(REPORT_GRACE_S)
    finally:
        world.Abort(1)


def _excepthook(exc_type: type, exc: BaseException, tb: Any) -> None:
    if _saved is None:
        sys.__excepthook__(exc_type, exc, tb)
        return
    _report_and_abort(exc_type, exc, tb)


def _thread_excepthook(args: Any) -> None:
    if args.exc_type is SystemExit or _saved is None:
        threading.__excepthook__(args)
        return
    _report_and_abort(args.exc_type, args.exc_value, args.exc_traceback)


def install() -> None:
    """Abort the whole job on an uncaught exception (only when there is more than one rank)."""
    global _saved
    from . import _mpi
    if _saved is not None or _mpi.load().COMM_WORLD.Get_size() == 1:
        return
    _saved = (sys.excepthook, threading.excepthook)
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook


def uninstall() -> None:
    """Restore the exception hooks that were there before `install`."""
    global _saved
    if _saved is None:
        return
    if sys.excepthook is _excepthook:
        sys.excepthook = _saved[0]
    if threading.excepthook is _thread_excepthook:
        threading.excepthook = _saved[1]
    _saved = None
