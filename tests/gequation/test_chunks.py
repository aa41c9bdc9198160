"""Chunks of time steps (CUDA graphs on a GPU) advance the state exactly as one step at a time."""

import pytest
import torch

from workbench.gequation.chunks import KMAX, StepChunks


def toy_step(u, t):
    # a nonlinear step that depends on t, so that a wrong time or a wrong order shows
    return torch.sin(u) * 1.01 + t.reshape(-1, 1, 1) * torch.cos(u) + 0.1


def one_by_one(u, offset, dt, n_steps, failed, n):
    hist = []
    for k in range(1, n + 1):
        new = toy_step(u, (k - 1) * dt)
        mean = new.mean((-2, -1))
        run = (k <= n_steps) & ~failed
        u = torch.where(run.reshape(-1, 1, 1), new - mean.reshape(-1, 1, 1), u)
        offset = torch.where(run, offset + mean.to(torch.float64), offset)
        hist.append(offset)
    return u, offset, torch.stack(hist, 1)


def chunked(u, offset, dt, n_steps, failed, n, lengths, graphs):
    state = StepChunks(toy_step, u.clone(), offset.clone(), dt, n_steps, failed, graphs=graphs)
    hist, k = [], 1
    for K in lengths:
        hist.append(state.advance(k, K, all_running=k + K - 1 <= int(n_steps.min()) and not bool(failed.any())).clone())
        k += K
    assert k == n + 1
    return state.u, state.offset, torch.cat(hist, 1)


def setup(device):
    g = torch.Generator().manual_seed(0)
    u = torch.randn(4, 8, 8, generator=g, dtype=torch.float64).to(device)
    dt = torch.tensor([0.01, 0.02, 0.015, 0.03], dtype=torch.float64, device=device)
    n_steps = torch.tensor([40, 25, 7, 40], device=device)  # elements stop at different steps
    failed = torch.tensor([False, False, False, True], device=device)  # one failed: left as it is
    return u, torch.zeros(4, dtype=torch.float64, device=device), dt, n_steps, failed


@pytest.mark.parametrize("graphs", [False, True])
def test_chunks_equal_single_steps(graphs):
    u, offset, dt, n_steps, failed = setup("cpu")
    ref = one_by_one(u, offset, dt, n_steps, failed, 40)
    got = chunked(u, offset, dt, n_steps, failed, 40, [1, 5, KMAX, 2], graphs)
    for a, b in zip(ref, got):
        assert torch.equal(a, b)  # the same operations in the same order: bitwise
    assert torch.equal(got[0][3], u[3])  # the failed element never moved


def test_chunk_length_is_checked():
    state = StepChunks(toy_step, *setup("cpu"))
    with pytest.raises(ValueError, match="K=33"):
        state.advance(1, KMAX + 1, all_running=True)


@pytest.mark.gpu
def test_cuda_graph_chunks_equal_single_steps():
    u, offset, dt, n_steps, failed = setup("cuda")
    ref = one_by_one(u, offset, dt, n_steps, failed, 40)
    # the first chunk warms up, the next ones are captured, the repeated length is replayed
    got = chunked(u, offset, dt, n_steps, failed, 40, [3, 5, 5, 5, 22], graphs=True)
    for a, b in zip(ref, got):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-14)  # the same kernels; graphs only launch them
