"""The network-loss slice: filter normalisation, centre value, batching, gradients."""

import pytest
import torch

from workbench.hj.network import mlp_digits


@pytest.fixture(scope="module")
def land():
    return mlp_digits()


def test_trained_network_fits_digits_and_slice_is_centred_on_it(land):
    net = land.fn
    assert net.train_accuracy > 0.95  # a 64-32-10 MLP fits the 1797 digits
    w1, b1, w2, b2 = net.params
    with torch.no_grad():
        direct = torch.nn.functional.cross_entropy(torch.relu(net.x @ w1.T + b1) @ w2.T + b2, net.y)
    # the slice at (0, 0) is the trained network's loss on the evaluation subset
    torch.testing.assert_close(land(torch.zeros(1, 2)), direct[None], rtol=1e-5, atol=1e-6)
    far = land(torch.tensor([[1.0, 1.0], [-1.0, 0.5]]))
    assert torch.all(far > direct)


def test_filter_normalisation(land):
    net = land.fn
    for p, d1, d2 in zip(net.params, net.d1, net.d2):
        if p.ndim == 1:
            assert torch.all(d1 == 0) and torch.all(d2 == 0)  # bias directions are zeroed
        else:
            torch.testing.assert_close(d1.norm(dim=1), p.norm(dim=1), rtol=1e-5, atol=0)
            torch.testing.assert_close(d2.norm(dim=1), p.norm(dim=1), rtol=1e-5, atol=0)


def test_batched_evaluation_and_autograd_gradient(land):
    ab = torch.tensor([[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]], dtype=torch.float64, requires_grad=True)
    batched = land(ab)
    single = torch.stack([land(ab[i:i + 1])[0] for i in range(3)])
    torch.testing.assert_close(batched, single, rtol=1e-12, atol=0)
    (grad,) = torch.autograd.grad(batched.sum(), ab)
    eps = 1e-6
    for k in range(2):
        e = torch.zeros(2, dtype=torch.float64)
        e[k] = eps
        fd = (land(ab.detach() + e) - land(ab.detach() - e)) / (2 * eps)
        torch.testing.assert_close(grad[:, k], fd, rtol=1e-5, atol=1e-7)  # central difference O(eps^2)
