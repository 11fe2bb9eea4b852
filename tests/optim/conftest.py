import pytest


@pytest.fixture(autouse=True)
def _every_backend(backend):
    """Every test here runs once per installed backend."""
    return backend
