#!/usr/bin/env bash
# Run the C kernel tests under AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   bash packages/kernels-c/tools/asan.sh [pytest args]     (from anywhere in the repository)
#
# Rebuilds the extension in place (editable install) with -fsanitize=address,undefined,
# runs tests/kernels_c with the ASan runtime preloaded into the (uninstrumented) Python,
# then rebuilds the normal optimised extension, whatever the outcome.
# Under valgrind instead (slower, no rebuild needed):
#   PYTHONMALLOC=malloc valgrind --error-exitcode=1 --suppressions=<python's valgrind-python.supp> \
#       python -m pytest tests/kernels_c -q -x
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"          # packages/kernels-c
repo="$(cd "$here/../.." && pwd)"
py="${PYTHON:-python}"
cc="${CC:-gcc}"

restore() {
    echo "asan.sh: restoring the optimised build" >&2
    (cd "$here" && env -u MNP_KERNELS_C_CFLAGS -u MNP_KERNELS_C_LDFLAGS "$py" hatch_build.py >/dev/null)
}
trap restore EXIT

(cd "$here" && MNP_KERNELS_C_CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
    MNP_KERNELS_C_LDFLAGS="-fsanitize=address,undefined" "$py" hatch_build.py)

asan="$($cc -print-file-name=libasan.so)"
cd "$repo"
# leaks: CPython keeps interned objects alive at exit; huge requests must fail as MemoryError
LD_PRELOAD="$asan" \
ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=1:halt_on_error=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
PYTHONMALLOC=malloc \
    "$py" -m pytest tests/kernels_c -q -p no:cacheprovider "$@"
