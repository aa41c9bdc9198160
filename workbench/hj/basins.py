"""Basins of attraction of the global minimum, on a grid, for the optimizer statistics.

A start "reaches the global basin" when its final point lies in the set of points
that steepest descent carries to the global minimiser. On a grid this set is exact
and cheap: every grid point points to its lowest neighbour (itself when it is a
local minimum: strict descent only, so there are no cycles), pointer jumping
follows the chains to their sinks in O(log n) sweeps, and the global basin is the
set of points whose sink is the grid's global minimiser.

Separable landscapes ``f(x) = sum_i g(x_i)`` descend coordinate by coordinate,
so their basin is the product of the 1-D basins of ``g`` (any dimension). For
other landscapes the grid is 2-D (8 neighbours) or 1-D; in higher dimension the
basin is not computed (NaN fractions).
"""

from __future__ import annotations

import torch

from .. import validate
from .landscapes import Landscape, sample


def _sinks(values: torch.Tensor) -> torch.Tensor:
    """Flat index of the local minimum each grid point drains to (1-D or 2-D grid)."""
    shape = values.shape
    flat_idx = torch.arange(values.numel(), device=values.device).view(shape)
    pad = torch.nn.functional.pad(values[None, None], [1, 1] * values.ndim, value=float("inf"))[0, 0]
    pad_idx = torch.nn.functional.pad(flat_idx[None, None].double(), [1, 1] * values.ndim, value=-1)[0, 0].long()
    best_val, best_idx = values.clone(), flat_idx.clone()
    offsets = [(d,) for d in (-1, 1)] if values.ndim == 1 else \
        [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0)]
    for off in offsets:
        sl = tuple(slice(1 + o, 1 + o + n) for o, n in zip(off, shape))
        cand, cand_idx = pad[sl], pad_idx[sl]
        better = cand < best_val  # strict: a point never points to an equal neighbour
        best_val = torch.where(better, cand, best_val)
        best_idx = torch.where(better, cand_idx, best_idx)
    nxt = best_idx.flatten()
    while True:
        jumped = nxt[nxt]
        if torch.equal(jumped, nxt):
            return nxt.view(shape)
        nxt = jumped


def _nearest(coords: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    h = coords[1] - coords[0]
    return ((x - coords[0]) / h).round().clamp(0, len(coords) - 1).long()


def global_basin_mask(landscape: Landscape, dim: int, n: int = 2001):
    """A function ``x (..., dim) -> bool (...)``: is ``x`` in the global minimum's basin?

    Returns None when the basin cannot be computed (non-separable, dim > 2).
    """
    n = validate.integer("basin grid", n, lo=3, hi=100_000)
    if landscape.separable:
        grid = sample(_one_d(landscape), n, 1)
        sinks = _sinks(grid.values)
        mask = sinks == int(torch.argmin(grid.values))
        coords = grid.coords[0]

        def inside(x: torch.Tensor) -> torch.Tensor:
            idx = _nearest(coords.to(x.device, x.dtype), x.detach())
            return mask.to(x.device)[idx].all(dim=-1)
        return inside
    if dim > 2:
        return None
    n2 = min(n, 513, landscape.max_grid) if dim == 2 else min(n, landscape.max_grid)
    grid = sample(landscape, n2, dim)
    sinks = _sinks(grid.values)
    mask = sinks == int(torch.argmin(grid.values))
    coords = grid.coords[0]

    def inside_grid(x: torch.Tensor) -> torch.Tensor:
        idx = _nearest(coords.to(x.device, x.dtype), x.detach())  # (..., dim) in (x, y) order
        m = mask.to(x.device)
        return m[idx[..., 0]] if dim == 1 else m[idx[..., 1], idx[..., 0]]
    return inside_grid


def _one_d(landscape: Landscape) -> Landscape:
    term = landscape.term
    return Landscape(landscape.name, lambda x: term(x[..., 0]), landscape.lo, landscape.hi, term)
