"""Which distribution brings each optional part of mnp, and the import hook that says so.

``from mnp import nn`` without mnp-nn installed fails with ``pip install mnp-nn`` in the
message instead of numpy-style silence. The hook is a finder placed last on
``sys.meta_path``: it is asked only about modules no other finder found, answers only for
the names below, and costs nothing otherwise. mnp-core's wheel installs it at start-up
through ``mnp-core-hints.pth`` (one ``import``); ``import mnp.core`` installs it too.

This module sits beside ``mnp.core`` rather than in it so that start-up never imports
``mnp.core`` (numpy and the rest) just to install the hook.
"""
from __future__ import annotations

import sys

# mnp.<name> -> the distribution that provides it
SUBPACKAGES = {"nn": "mnp-nn", "optim": "mnp-optim", "data": "mnp-data",
               "kernels_c": "mnp-kernels-c", "distributed": "mnp-distributed"}
# kernel backend name -> the distribution that registers it
BACKENDS = {"c": "mnp-kernels-c"}


def installed(dist: str) -> bool:
    """Whether distribution ``dist`` is installed."""
    import importlib.metadata as _md    # not at start-up: it costs more than all the rest
    try:
        _md.distribution(dist)
    except _md.PackageNotFoundError:
        return False
    return True


class MissingPartFinder:
    """Raises ModuleNotFoundError naming the distribution to install for ``mnp.<part>``."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        parts = fullname.split(".")
        if len(parts) != 2 or parts[0] != "mnp" or parts[1] not in SUBPACKAGES:
            return None
        finders = sys.meta_path
        later = finders[finders.index(cls) + 1:] if cls in finders else []
        for finder in later:                   # anything added after us still gets its turn
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                return spec
        # only an import answers with the error: a probe such as importlib.util.find_spec
        # (frame 2, above importlib's _find_spec) gets the usual None
        if sys._getframe(2).f_code.co_name != "_find_and_load_unlocked":
            return None
        dist = SUBPACKAGES[parts[1]]
        # ``name`` is left unset: with name == fullname, ``from mnp import nn`` would swallow
        # this error and report "cannot import name 'nn'" instead
        raise ModuleNotFoundError(f"No module named {fullname!r}: it comes with the {dist} "
                                  f"distribution; install it with `pip install {dist}`")

    @classmethod
    def invalidate_caches(cls) -> None:
        pass


def install() -> None:
    """Put the finder last on ``sys.meta_path`` (once)."""
    if MissingPartFinder not in sys.meta_path:
        sys.meta_path.append(MissingPartFinder)


install()
