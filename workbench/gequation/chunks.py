"""Advance the batched periodic solution several time steps at a time (CUDA graphs on a GPU).

Between two host-side events (an identity sample, a front snapshot, a blow-up or
reinitialisation check) the solver of :mod:`.solver` only steps, removes the
spatial mean and accumulates it, for every element b still running
(k ≤ n_steps[b] and not failed):

    w = S(u, t_{k-1}),   u ← w − ⟨w⟩,   offset ← offset + ⟨w⟩,   history[k] = offset,

with S one (Strang-split SSP-RK3) time step and t_{k-1} = (k − 1) dt. The
other elements keep their state. On a GPU a chunk of K such steps is captured
once per K as a CUDA graph (:class:`torch.cuda.CUDAGraph`) and replayed: at
128² an RK step is a few dozen small kernels, whose launches, not their
arithmetic, bound the step, and a replay launches all K steps at once. The
captured chunk reads its first step index from device memory, so one graph
serves every chunk of that length.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

KMAX = 32  # longest chunk (and at most this many graphs, one per length)


class StepChunks:
    """The state (u, offset) of a batched run and the chunks of steps that advance it.

    ``step(u, t)`` is one time step; ``dt``, ``n_steps`` (per element) and
    ``failed`` (updated in place by the caller) live on ``u``'s device.
    ``graphs``: keep u and offset in fixed storage and, on CUDA, capture the
    chunks as CUDA graphs; a capture that fails turns them off with a warning,
    and the chunks then run as launched.
    """

    def __init__(self, step: Callable, u: torch.Tensor, offset: torch.Tensor, dt: torch.Tensor,
                 n_steps: torch.Tensor, failed: torch.Tensor, *, graphs: bool = False):
        self.step, self.u, self.offset = step, u, offset
        self.dt, self.n_steps, self.failed = dt, n_steps, failed
        self.k0 = torch.zeros((), dtype=torch.float64, device=u.device)  # first step of the chunk
        self.hist = torch.zeros(len(offset), KMAX, dtype=torch.float64, device=u.device)
        self.static = graphs  # u and offset keep their storage (a captured graph reads and writes it)
        self.graphs: dict[int, torch.cuda.CUDAGraph] | None = {} if graphs and u.is_cuda else None
        self._pool = None
        self._warm = False

    def assign(self, u: torch.Tensor, offset: torch.Tensor) -> None:
        """Replace the state (after a blow-up check or a reinitialisation)."""
        if self.static:
            self.u.copy_(u)
            self.offset.copy_(offset)
        else:
            self.u, self.offset = u, offset

    def advance(self, k: int, K: int, all_running: bool) -> torch.Tensor:
        """Steps k .. k + K − 1; returns the offsets after each, (batch, K), valid until the next call.

        ``all_running``: the caller knows every element runs through the chunk (no masking needed)."""
        if not 1 <= K <= KMAX:
            raise ValueError(f"chunk length K={K} outside [1, {KMAX}]")
        self.k0.fill_(k)
        if self.graphs is None:
            self._run(K, masked=not all_running)
        elif not self._warm:  # the first chunk runs as launched, on a side stream: compiles, plans FFTs
            side = torch.cuda.Stream(self.u.device)
            side.wait_stream(torch.cuda.current_stream(self.u.device))
            with torch.cuda.stream(side):
                self._run(K, masked=True)
            torch.cuda.current_stream(self.u.device).wait_stream(side)
            self._warm = True
        else:
            graph = self.graphs.get(K) or self._capture(K)
            if graph is None:
                self._run(K, masked=not all_running)
            else:
                graph.replay()
        return self.hist[:, :K]

    def _run(self, K: int, masked: bool) -> None:
        for j in range(K):
            k = self.k0 + j
            new = self.step(self.u, (k - 1) * self.dt)
            mean = new.mean((-2, -1))
            u, offset = new - mean.reshape(-1, 1, 1), self.offset + mean.to(torch.float64)
            if masked:
                running = (k <= self.n_steps) & ~self.failed
                u = torch.where(running.reshape(-1, 1, 1), u, self.u)
                offset = torch.where(running, offset, self.offset)
            self.assign(u, offset)
            self.hist[:, j] = self.offset

    def _capture(self, K: int) -> torch.cuda.CUDAGraph | None:
        try:
            if self._pool is None:
                self._pool = torch.cuda.graph_pool_handle()
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=self._pool):
                self._run(K, masked=True)
        except RuntimeError as exc:
            warnings.warn(f"CUDA graph capture failed ({exc}); the steps run without graphs", RuntimeWarning,
                          stacklevel=3)
            self.graphs = None  # the state keeps its fixed storage: the chunks run as launched
            return None
        self.graphs[K] = graph
        return graph
