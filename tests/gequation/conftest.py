import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """The unit-test grids are small: one thread avoids OpenMP hand-off costs on a busy 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
