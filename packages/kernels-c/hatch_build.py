"""Build hook: compiles the C extension ``mnp.kernels_c._ext`` with this machine's compiler.

The extension is built at install time on the machine that runs it, so it uses
``-O3 -march=native`` (dropped if the compiler rejects it) and OpenMP (dropped if the
compiler or its runtime is missing). setuptools' ``build_ext`` drives the compiler.

- wheel (``pip install ./packages/kernels-c``, ``pip wheel``): the built module is added to
  the wheel, which is tagged for this interpreter and platform;
- editable (``pip install -e packages/kernels-c``): the built module is placed beside the
  sources, where the editable install imports it from.

The C sources and the method table come from ``src/mnp/kernels_c/manifest.py``: one
``csrc/<family>.c`` per kernel family it names, plus ``module.c``; the prototypes, the method
table rows and the thresholds table are generated into ``kc_kernels.h`` in the build
directory (never in the source tree, so it cannot go stale).

Environment: ``MNP_KERNELS_C_CFLAGS`` / ``MNP_KERNELS_C_LDFLAGS`` add flags (the
AddressSanitizer build in ``tools/asan.sh`` uses them), ``MNP_KERNELS_C_NATIVE=0`` drops
``-march=native``, ``MNP_KERNELS_C_OPENMP=0`` builds without threads.

Run ``python hatch_build.py`` to rebuild the module in place for an editable install, or
``python hatch_build.py --if-stale`` to rebuild it only when it is missing or older than its
sources (``hatch test`` does this first: an environment kept from an earlier clone at the same
path imports the sources of this one, but not a module compiled beside the old ones).
"""
from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PKG = ROOT / "src" / "mnp" / "kernels_c"
CSRC = PKG / "csrc"
MODULE = "mnp.kernels_c._ext"
MANIFEST = PKG / "manifest.py"

INSTALL_HINT = ("mnp-kernels-c compiles a C extension at install time and needs a C compiler "
                "and the Python development headers: on Debian/Ubuntu `apt-get install gcc "
                "python3-dev`, on Fedora `dnf install gcc python3-devel`, on macOS "
                "`xcode-select --install`. Every other mnp package works without this one.")


def _compiler() -> list[str]:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(cc)


def _try_flags(cc: list[str], flags: list[str], code: str, link: bool) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "probe.c")
        src.write_text(code)
        out = Path(tmp, "probe.out" if link else "probe.o")
        cmd = [*cc, *flags, str(src), "-o", str(out)] + ([] if link else ["-c"])
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0


def check_toolchain() -> list[str]:
    """The compiler command, or a RuntimeError saying what to install."""
    cc = _compiler()
    if shutil.which(cc[0]) is None:
        raise RuntimeError(f"no C compiler found (looked for {cc[0]!r}). {INSTALL_HINT}")
    include = sysconfig.get_paths()["include"]
    if not Path(include, "Python.h").exists():
        raise RuntimeError(f"Python.h not found in {include}. {INSTALL_HINT}")
    if not _try_flags(cc, [], "int main(void){return 0;}\n", link=False):
        raise RuntimeError(f"the C compiler {' '.join(cc)!r} cannot compile a trivial file. "
                           f"{INSTALL_HINT}")
    return cc


def choose_flags(cc: list[str]) -> tuple[list[str], list[str]]:
    """Compile and link flags this compiler accepts: -O3, -march=native, OpenMP."""
    if os.name == "nt":
        return ["/O2", "/openmp"], []
    cflags = ["-O3", "-g0", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wno-unused-function"]
    ldflags: list[str] = []
    if os.environ.get("MNP_KERNELS_C_NATIVE", "1") != "0":
        for native in (["-march=native"], ["-mcpu=native"]):
            if _try_flags(cc, native, "int main(void){return 0;}\n", link=False):
                cflags += native
                break
    if os.environ.get("MNP_KERNELS_C_OPENMP", "1") != "0":
        omp = ("#include <omp.h>\nint main(void){int n=0;\n#pragma omp parallel reduction(+:n)\n"
               "n+=1;\nreturn omp_get_max_threads() > 0 ? 0 : n;}\n")
        if _try_flags(cc, ["-fopenmp"], omp, link=True):
            cflags.append("-fopenmp")
            ldflags.append("-fopenmp")
    cflags += shlex.split(os.environ.get("MNP_KERNELS_C_CFLAGS", ""))
    ldflags += shlex.split(os.environ.get("MNP_KERNELS_C_LDFLAGS", ""))
    return cflags, ldflags


def load_manifest():
    """``mnp/kernels_c/manifest.py`` as a module, without importing mnp (plain data)."""
    spec = importlib.util.spec_from_file_location("_mnp_kernels_c_manifest", MANIFEST)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module     # NamedTuple classes look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def sources(manifest) -> list[str]:
    """The C files to compile (relative to this directory): one per family, then module.c;
    a RuntimeError names a family without its file."""
    files = [CSRC / f"{family}.c" for family in manifest.families()]
    missing = [str(p.relative_to(ROOT)) for p in files if not p.exists()]
    if missing:
        raise RuntimeError(f"manifest.py names C files that do not exist: {', '.join(missing)}")
    return [str(p.relative_to(ROOT)) for p in files]


def write_header(manifest, directory: Path) -> Path:
    """Generate ``kc_kernels.h`` (prototypes, method table rows, thresholds) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "kc_kernels.h"
    path.write_text(manifest.c_header())
    return path


def build_extension(build_dir: Path) -> Path:
    """Compile the extension into ``build_dir``; the path of the built module."""
    import numpy
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    cc = check_toolchain()
    cflags, ldflags = choose_flags(cc)
    manifest = load_manifest()
    header = write_header(manifest, build_dir / "generated")
    ext = Extension(MODULE, sources=sources(manifest),
                    include_dirs=[numpy.get_include(), str(CSRC), str(header.parent)],
                    depends=[str(p) for p in CSRC.glob("*.h")] + [str(header)],
                    extra_compile_args=cflags, extra_link_args=ldflags)
    dist = Distribution({"name": "mnp-kernels-c", "ext_modules": [ext],
                         "script_name": "hatch_build.py"})
    cmd = build_ext(dist)
    cmd.build_lib = str(build_dir / "lib")
    cmd.build_temp = str(build_dir / "temp")
    cmd.force = True
    cmd.parallel = os.cpu_count() or 1
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        cmd.ensure_finalized()
        cmd.run()
    except Exception as exc:
        raise RuntimeError(f"compiling the mnp-kernels-c extension failed: {exc}. "
                           f"{INSTALL_HINT}") from exc
    finally:
        os.chdir(cwd)
    built = Path(cmd.get_ext_fullpath(ext.name))
    if not built.is_absolute():
        built = ROOT / built
    print(f"mnp-kernels-c: built {built.name} with {' '.join(cflags)}", file=sys.stderr)
    return built


def stale() -> str | None:
    """Why the module beside the sources (an editable install's) must be rebuilt, or None:
    it is missing, or older than a C source, the manifest or this file."""
    built = sorted(PKG.glob("_ext.*"))
    if not built:
        return f"no compiled module beside {PKG}"
    age = min(p.stat().st_mtime for p in built)
    inputs = [*CSRC.iterdir(), MANIFEST, Path(__file__).resolve()]
    newer = [p.name for p in inputs if p.stat().st_mtime > age]
    return f"{', '.join(sorted(newer))} changed since {built[0].name} was built" if newer else None


def build_inplace() -> Path:
    """Rebuild the module beside the sources (what an editable install imports)."""
    for old in PKG.glob("_ext.*"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        built = build_extension(Path(tmp))
        target = PKG / built.name
        shutil.copy2(built, target)
    return target


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # used as a script without hatchling
    BuildHookInterface = object  # type: ignore[assignment,misc]


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version == "editable":
            build_inplace()
            return
        self._tmp = tempfile.TemporaryDirectory()
        built = build_extension(Path(self._tmp.name))
        build_data["force_include"][str(built)] = f"mnp/kernels_c/{built.name}"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    if sys.argv[1:] == ["--if-stale"]:
        why = stale()
        if why is None:
            sys.exit(0)
        print(f"mnp-kernels-c: rebuilding in place: {why}", file=sys.stderr)
    elif sys.argv[1:]:
        sys.exit("usage: python hatch_build.py [--if-stale]")
    print(build_inplace())
