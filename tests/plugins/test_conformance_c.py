"""The conformance suite on the real ``c`` backend, one kernel at a time: no expected failures."""
from __future__ import annotations

import pytest

from mnp.core.testing import assert_backend_conforms

kc = pytest.importorskip("mnp.kernels_c")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not kc.available(), reason=f"mnp.kernels_c is not built: {kc.import_error()}")]


@pytest.mark.parametrize("name", kc.KERNEL_NAMES)
def test_c_kernel_conforms(name):
    results = assert_backend_conforms("c", kernels=[name])
    assert results and all(r.status == "passed" for r in results), [r.message for r in results]
