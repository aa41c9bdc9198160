"""``torch.compile`` of a solver step (kept apart from :mod:`.compiled`, the numba kernels)."""

from __future__ import annotations

import torch


def compile_step(step, mode: str = "default", dynamic: bool | None = None):
    """``torch.compile(step, mode=mode)``. Under ``reduce-overhead`` (one CUDA graph per call) each
    call first marks a new iteration (:func:`torch.compiler.cudagraph_mark_step_begin`), so the
    graph may reuse its output buffers: the caller consumes a step's output before the next call."""
    step = torch.compile(step, mode=mode, dynamic=dynamic)
    if mode != "reduce-overhead":
        return step

    def marked(u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        torch.compiler.cudagraph_mark_step_begin()
        return step(u, t)

    return marked
