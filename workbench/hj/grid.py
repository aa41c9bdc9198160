"""Uniform grids for the grid envelopes: checking values, spacing and times.

A landscape sampled on a uniform grid is an array ``values`` of 1, 2 or 3
axes with one spacing ``h_k`` per axis; grid point ``i`` on axis ``k`` sits at
``origin_k + i * h_k``. Points outside the grid do not exist for the envelopes:
they are treated as ``f = +inf`` (the minimum or the heat integral runs over
grid points only). ``values`` may hold ``+inf`` to exclude points (an indicator
function), but no NaN or ``-inf``, and at least one finite value.

Inputs may be NumPy arrays or torch tensors; :class:`ArrayKind` remembers which
so that the result comes back as the same kind (and, for tensors, on the same
device).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import runtime, validate

MIN_POINTS = 3
MAX_AXES = 3
UNIFORM_RTOL = 1e-4  # float32 coordinates from linspace differ by ~1e-5 relative


@dataclass(frozen=True)
class ArrayKind:
    """Whether the caller passed NumPy or torch, and the dtype/device to return."""

    numpy: bool
    dtype: torch.dtype
    device: torch.device

    def back(self, tensor: torch.Tensor) -> Any:
        if self.numpy:
            return tensor.detach().cpu().numpy()
        return tensor.to(self.device)


def as_values(values: Any, device: Any = None, name: str = "values") -> tuple[torch.Tensor, ArrayKind]:
    """``values`` as a floating tensor on the compute device, plus how to return results.

    Tensors compute on their own device unless ``device`` is given; NumPy arrays on
    :func:`workbench.runtime.resolve_device`. Float32/float64 inputs keep their dtype.
    """
    is_numpy = not isinstance(values, torch.Tensor)
    if is_numpy:
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
        tensor = torch.from_numpy(np.ascontiguousarray(arr))
        home = torch.device("cpu")
        dev = runtime.resolve_device(device)
    else:
        tensor = values.detach()
        home = tensor.device
        dev = runtime.resolve_device(device) if device is not None else tensor.device
    dtype = tensor.dtype if tensor.dtype in (torch.float32, torch.float64) else runtime.resolve_dtype()
    if not 1 <= tensor.ndim <= MAX_AXES:
        raise ValueError(f"{name} must have 1 to {MAX_AXES} axes, got shape {tuple(tensor.shape)}")
    small = [n for n in tensor.shape if n < MIN_POINTS]
    if small:
        raise ValueError(f"{name} must have at least {MIN_POINTS} grid points per axis, got shape "
                         f"{tuple(tensor.shape)}")
    tensor = tensor.to(device=dev, dtype=dtype)
    # one reduction: the minimum is NaN if any value is, -inf if any is, +inf if all are
    low = float(tensor.min())
    if math.isnan(low) or low == -math.inf:
        raise ValueError(f"{name} must not contain NaN or -inf (+inf marks excluded points)")
    if low == math.inf:
        raise ValueError(f"{name} must contain at least one finite value")
    return tensor, ArrayKind(is_numpy, dtype, home)


def coordinate_spacing(name: str, coords: Any) -> float:
    """The step of a uniform 1-D coordinate array; a clear error when it is not uniform."""
    c = np.asarray(coords, dtype=float)
    if c.ndim != 1 or c.size < MIN_POINTS:
        raise ValueError(f"{name} must be a 1-D coordinate array of at least {MIN_POINTS} points")
    validate.finite_array(name, c)
    steps = np.diff(c)
    h = float(steps.mean())
    if h <= 0 or not np.allclose(steps, h, rtol=UNIFORM_RTOL, atol=0):
        raise ValueError(f"{name} must be uniformly increasing (a uniform grid); steps range over "
                         f"[{steps.min():.6g}, {steps.max():.6g}]")
    return h


def spacings(spacing: Any, shape: Sequence[int], name: str = "spacing") -> tuple[float, ...]:
    """One positive spacing per axis from a number, a per-axis list, or coordinate arrays.

    ``spacing`` may be a number (all axes), a sequence with one entry per axis,
    each a number or the axis' coordinate array (checked for uniformity), or,
    for 1-D values, the coordinate array itself.
    """
    ndim = len(shape)
    if np.ndim(spacing) == 0 and not isinstance(spacing, (list, tuple)):
        return (float(validate.positive(name, spacing)),) * ndim
    if ndim == 1 and np.ndim(spacing) == 1 and len(spacing) == shape[0]:
        return (coordinate_spacing(name, spacing),)
    items = list(spacing)
    if len(items) != ndim:
        raise ValueError(f"{name} must be a number or have one entry per axis ({ndim}), got {len(items)}")
    out = []
    for k, (item, n) in enumerate(zip(items, shape)):
        label = f"{name}[{k}]"
        if np.ndim(item) == 0:
            out.append(float(validate.positive(label, item)))
        else:
            if len(item) != n:
                raise ValueError(f"{label} has {len(item)} coordinates but axis {k} has {n} points")
            out.append(coordinate_spacing(label, item))
    return tuple(out)


def times(t: Any, name: str = "t") -> tuple[list[float], bool]:
    """``t`` as a list of positive times and whether it adds a leading t dimension."""
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    if np.ndim(t) == 0:
        return [float(validate.positive(name, t))], False
    if np.ndim(t) != 1:
        raise ValueError(f"{name} must be a number or a 1-D sequence of numbers")
    ts = [float(validate.positive(f"{name}[{i}]", v)) for i, v in enumerate(t)]
    validate.non_empty(name, ts)
    return ts, True
