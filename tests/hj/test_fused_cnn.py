"""The fused CPU pass of the digits CNN (:mod:`workbench.hj.quantize.fused_cnn`) against torch.nn.functional.

The reference is each seed's network in float64 through ``conv2d``/``max_pool2d`` and autograd;
the fused pass runs in float32. Its loss and gradients are sums of at most ~10^4 float32 terms of
size O(1), so their rounding error is below ~10^4 * 6e-8 ~ 6e-4 relative in the worst case and a
few 1e-6 in practice (random signs); the tolerance is 1e-5 of the largest entry (measured: 2e-7 to 5e-7).
"""

import numba
import numpy as np
import pytest
import torch

from workbench.hj.quantize import fused_cnn, nets
from workbench.hj.quantize.train import evaluate, loss_gradient, train

from .helpers import cnn_reference

S = 3


def _reference(params, x, labels):
    """Per-seed mean cross-entropy of the torch.nn CNN (float64) and its gradients."""
    losses, grads = [], []
    for s in range(len(params[0])):
        mine = [p[s].double().requires_grad_() for p in params]
        logits = cnn_reference(*mine, x[s].double() if x.ndim == 3 else x.double())
        loss = torch.nn.functional.cross_entropy(logits, labels[s] if labels.ndim == 2 else labels)
        losses.append(loss.detach())
        grads.append(torch.autograd.grad(loss, mine))
    return torch.stack(losses), [torch.stack(g) for g in zip(*grads)]


def _params(seed=0, scale=1.0, integer=False):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.stack(ps) for ps in zip(*[nets.init("cnn", torch.Generator().manual_seed(seed + i),
                                                        torch.float32) for i in range(S)])]
    params = [p * scale + 0.1 * torch.randn(p.shape, generator=gen) for p in params]  # non-zero biases
    return [p.round() for p in params] if integer else params


def _close(mine, ref, dtype=torch.float32):
    for a, b in zip(mine, ref):
        assert a.shape == b.shape and a.dtype == dtype
        np.testing.assert_allclose(a.double(), b, rtol=0, atol=1e-5 * float(b.abs().max()))


@pytest.mark.parametrize("batch", [64, 37, 150])  # one full block, a partial block, two blocks and a part
def test_loss_and_gradients_are_those_of_torch_nn(batch):
    x, y, _, _ = nets.data(torch.float32, torch.device("cpu"))
    params = _params()
    idx = torch.stack([torch.randperm(len(x), generator=torch.Generator().manual_seed(s))[:batch] for s in range(S)])
    loss, grads = fused_cnn.loss_and_grad(params, x, idx, y)
    ref_loss, ref_grads = _reference(params, x[idx], y[idx])
    _close([loss], [ref_loss])
    _close(grads, ref_grads)
    # the trainer's gradient is the same, and the torch path (float64) agrees
    _close(loss_gradient("cnn", params, x, idx, y), ref_grads)
    _close(loss_gradient("cnn", [p.double() for p in params], x.double(), idx, y), ref_grads, torch.float64)


def test_pool_ties_send_the_gradient_to_the_first_maximum():
    """Integer images and weights make every value exact, so most pooling windows hold ties (zero pixels and
    equal sums); a different choice of maximum would move a gradient entry to another weight."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randint(0, 3, (200, 64), generator=gen).float()
    x[:, :20] = 0  # blank rows, as in the digits
    y = torch.randint(0, 10, (200,), generator=gen)
    params = _params(seed=4, scale=2.0, integer=True)
    idx = torch.arange(120).reshape(S, 40)
    loss, grads = fused_cnn.loss_and_grad(params, x, idx, y)
    ref_loss, ref_grads = _reference(params, x[idx], y[idx])
    _close([loss], [ref_loss])
    _close(grads, ref_grads)
    # ties really occur: in the first layer's windows of the reference network
    z = torch.nn.functional.conv2d(x.reshape(-1, 1, 8, 8), params[0][0], params[1][0], padding=1)
    windows = z.reshape(200, -1, 4, 2, 4, 2)
    assert ((windows == windows.amax((3, 5), keepdim=True)).sum((3, 5)) > 1).float().mean() > 0.2


def test_evaluation_is_torch_nn_on_every_image():
    x, y, _, _ = nets.data(torch.float32, torch.device("cpu"))
    x, y = x[:333], y[:333]  # five blocks and a part
    params = _params(seed=7)
    loss, acc = evaluate("cnn", params, x, y)
    ref_loss, _ = _reference(params, x, y)
    _close([loss], [ref_loss])
    with torch.no_grad():
        logits = nets.logits("cnn", [p.double() for p in params], x.double())
    np.testing.assert_array_equal(acc.numpy(), (logits.argmax(-1) == y).double().mean(1).float().numpy())


def test_threads_and_seed_batches_do_not_change_the_result():
    """Each seed runs alone on its thread: a batch of seeds on all threads equals each seed on one, bitwise."""
    kw = dict(network="cnn", quantizer="binary", bits=1, methods=["binaryrelax"], epochs=2, phase_switch=1,
              device="cpu", dtype="float32")
    batch = train(seeds=[0, 3, 8], **kw)
    numba.set_num_threads(1)
    try:
        for s in (0, 3, 8):
            one = train(seeds=[s], **kw).sel(seed=s)
            for var in ("weights", "train_loss", "test_accuracy"):
                np.testing.assert_array_equal(batch[var].sel(seed=s).values, one[var].values)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def test_the_fused_pass_serves_the_cnn_on_the_cpu_in_float32_only():
    cpu = torch.device("cpu")
    assert fused_cnn.applies("cnn", cpu, torch.float32)
    assert not fused_cnn.applies("cnn", cpu, torch.float64)
    assert not fused_cnn.applies("mlp", cpu, torch.float32)
    assert not fused_cnn.applies("cnn", torch.device("cuda"), torch.float32)


def test_two_sessions_may_run_the_pass_at_once():
    """A served dashboard trains in several threads: concurrent calls give each caller its own result."""
    from concurrent.futures import ThreadPoolExecutor
    x, y, _, _ = nets.data(torch.float32, torch.device("cpu"))
    jobs = [(_params(seed=s), torch.randint(0, len(x), (S, 64), generator=torch.Generator().manual_seed(s)))
            for s in range(4)]
    alone = [fused_cnn.loss_and_grad(p, x, i, y) for p, i in jobs]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda job: fused_cnn.loss_and_grad(job[0], x, job[1], y), jobs * 5))
    for k, (loss, grads) in enumerate(together):
        ref_loss, ref_grads = alone[k % len(jobs)]
        assert torch.equal(loss, ref_loss) and all(torch.equal(g, r) for g, r in zip(grads, ref_grads))
