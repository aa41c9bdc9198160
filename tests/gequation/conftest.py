import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """The unit-test grids are small (see ``one_torch_thread``)."""
