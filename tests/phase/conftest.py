"""The phase tests use 32 x 32 arrays: one torch thread (see ``one_torch_thread``)."""

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    pass
