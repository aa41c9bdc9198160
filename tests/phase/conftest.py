"""The phase tests use 32 x 32 arrays: one thread avoids thread overhead on a shared 2-core machine."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
