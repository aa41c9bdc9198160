"""Moreau envelope (inviscid Hamilton-Jacobi, Hopf-Lax) of a landscape sampled on a grid.

The viscosity solution of ``u_t + |grad u|^2 / 2 = 0``, ``u(x, 0) = f(x)`` is given by
the Hopf-Lax formula, which is the Moreau envelope of ``f`` with parameter ``t``::

    u(x, t) = min_y  f(y) + |x - y|^2 / (2 t),      prox_{t f}(x) = argmin_y (...)

On a uniform grid the minimum runs over grid points ``y`` (points outside the grid
count as ``f = +inf``), which makes this the *exact discrete* Hopf-Lax envelope.
Because ``|x - y|^2`` is a sum over axes, the minimum factorises into one 1-D
min-plus transform per axis (see :mod:`.lower_envelope`), each computed in linear
time by the Felzenszwalb-Huttenlocher lower envelope of parabolas, so the whole
envelope costs O(grid points) per ``t``.

Invariants (exact on the grid): ``u <= f``; ``u`` is non-increasing in ``t``;
``min u = min f``; ``u(x, t) -> f(x)`` as ``t -> 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import budget, validate
from .grid import as_values, spacings, times
from ..runtime import COMPUTE_METHODS as METHODS
from ..runtime import uses_numba
from .lower_envelope import along_axis, kernel_coefficients, min_plus_numba, pairwise_rows


def _passes_numba(f: torch.Tensor, cs: list[list[float]], want_argmin: bool):
    f64 = f.cpu().numpy().astype(np.float64, copy=False)
    dtype = np.float32 if f.dtype == torch.float32 else np.float64
    results = [min_plus_numba(f64, c, want_argmin) for c in cs]
    u = np.stack([r[0].astype(dtype, copy=False) for r in results]) if len(cs) > 1 \
        else results[0][0].astype(dtype, copy=False)[None]
    args = [(axis, torch.from_numpy(np.stack([r[1][k][1] for r in results])))
            for k, (axis, _) in enumerate(results[0][1])]
    return torch.from_numpy(u), args


def _passes_torch(f: torch.Tensor, cs: list[list[float]], want_argmin: bool):
    u = f.expand(len(cs), *f.shape)
    args = []
    for axis in reversed(range(f.ndim)):
        c_t = torch.tensor([c[axis] for c in cs], dtype=f.dtype, device=f.device)

        def rows_fn(rows: torch.Tensor, c_t=c_t):
            c = c_t.repeat_interleave(rows.shape[0] // len(c_t))
            out, arg = pairwise_rows(rows, c, want_argmin=want_argmin)
            return (out, arg) if want_argmin else out

        res = along_axis(u, axis + 1, rows_fn)
        if want_argmin:
            u, arg = res
            args.append((axis, arg))
        else:
            u = res
    return u, args


def _compose_argmin(args: list[tuple[int, torch.Tensor]], shape: tuple[int, ...], n_t: int) -> torch.Tensor:
    """Grid indices of the minimiser, by back-tracking the per-axis argmins (last pass first)."""
    device = args[0][1].device
    tix = torch.arange(n_t, device=device).view(-1, *([1] * len(shape))).expand(n_t, *shape)
    idx = list(torch.meshgrid(*[torch.arange(n, device=device) for n in shape], indexing="ij"))
    idx = [i.expand(n_t, *shape) for i in idx]
    for axis, arg in reversed(args):
        idx[axis] = arg[(tix, *idx)]
    return torch.stack(idx, dim=-1)


def moreau_envelope(values: Any, spacing: Any, t: Any, *, return_argmin: bool = False,
                    method: str = "auto", device: Any = None):
    """Exact discrete Hopf-Lax / Moreau envelope ``min_y f(y) + |x - y|^2 / (2t)`` on a grid.

    Parameters
    ----------
    values : array or tensor, 1 to 3 axes
        ``f`` sampled on a uniform grid (``+inf`` excludes a point; no NaN).
    spacing : number, per-axis sequence, or coordinate arrays
        Grid step(s); coordinate arrays are checked for uniformity.
    t : positive number or 1-D sequence of them
        Time; a sequence adds a leading ``t`` dimension to the result.
    return_argmin : bool
        Also return the prox map: integer grid indices of the minimiser, shape
        ``(..., ndim)`` (last axis = grid axis).
    method : ``"auto"``, ``"numba"`` or ``"torch"``
        ``auto`` uses the linear-time compiled scan on the CPU and the vectorised
        torch path on a GPU (or without numba).
    device : optional
        Compute device; tensors default to their own, arrays to the workbench device.

    Returns the envelope as the input's kind (array or tensor) and dtype, and the
    argmin indices when asked.
    """
    f, kind = as_values(values, device)
    h = spacings(spacing, f.shape)
    ts, lead = times(t)
    cs = kernel_coefficients(h, ts, f.dtype)
    budget.fits("t", len(ts) * f.numel() * 8 * (3 + f.ndim), len(ts) * f.numel() * f.ndim, budget.MOREAU_RATE, f.device)
    if uses_numba(method, f.device):
        u, args = _passes_numba(f, cs, return_argmin)
        u = u.to(device=f.device, dtype=kind.dtype)
        args = [(a, arg.to(f.device)) for a, arg in args]
    else:
        u, args = _passes_torch(f, cs, return_argmin)
        u = u.to(kind.dtype)
    if not lead:
        u = u[0]
    if not return_argmin:
        return kind.back(u)
    idx = _compose_argmin(args, tuple(f.shape), len(ts))
    if not lead:
        idx = idx[0]
    return kind.back(u), kind.back(idx)
