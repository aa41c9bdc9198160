"""Compare the HJ optimizers on one landscape over many starts and several times ``t``.

:func:`compare_optimizers` runs every method of :mod:`.optimizers` from the same
random starts (uniform in the landscape's box, seeded; explicit ``starts`` come
first and are tracked) for each ``t`` and returns an :class:`xarray.Dataset`:

=================  ========================  =============================================
variable           dims                      meaning
=================  ========================  =============================================
final_x            optimizer, t, run, dim    final iterate
final_value        optimizer, t, run         ``f`` at the final iterate (NaN if diverged)
in_basin           optimizer, t, run         final point in the global minimum's basin
basin_fraction     optimizer, t              fraction of starts that reach that basin
diverged_fraction  optimizer, t              fraction of runs whose iterate is not finite
trajectory         optimizer, t, track,      iterates of the first ``track`` runs
                   dim
gamma              t, outer_step             Entropy-SGD coupling per outer step (scoping)
=================  ========================  =============================================

(The dimension is called ``optimizer``, not ``method``, because ``method`` is a keyword
of xarray's ``sel``.) The basin is the exact grid basin of :mod:`.basins` (NaN where it is not defined).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from .. import results, runtime, validate
from .basins import global_basin_mask
from .landscapes import Landscape
from .optimizers import (METHODS, GridProx, Settings, entropy_sgd, gradient_descent, hj_prox_descent,
                         proximal_point)

MAX_STARTS = 1_000_000


def random_starts(landscape: Landscape, n: int, dim: int, seed: int, device=None,
                  dtype=torch.float32) -> torch.Tensor:
    """``n`` points uniform in the landscape's box ``[lo, hi]^dim``."""
    gen = runtime.generator(seed, device)
    u = torch.rand(n, dim, generator=gen, device=runtime.resolve_device(device), dtype=dtype)
    return landscape.lo + (landscape.hi - landscape.lo) * u


def _check_methods(methods: Sequence[str]) -> list[str]:
    methods = list(validate.non_empty("methods", list(methods)))
    for m in methods:
        validate.choice("methods", m, METHODS)
    return methods


def compare_optimizers(landscape: Landscape, dim: int = 2, methods: Sequence[str] = METHODS,
                       t: Sequence[float] | float = (0.05, 0.2), n_starts: int = 1000, n_steps: int = 50,
                       seed: int = 0, settings: Settings | None = None, starts: Any = None,
                       track: int = 16, device: Any = None, dtype: Any = None,
                       cancel: threading.Event | None = None,
                       progress: Callable[[float, str], None] | None = None) -> xr.Dataset:
    """Run ``methods`` from the same starts for each ``t``; see the module docstring."""
    dim = landscape.check_dim(dim)
    methods = _check_methods(methods)
    ts = [float(validate.positive("t", v)) for v in np.atleast_1d(np.asarray(t, dtype=float))]
    validate.non_empty("t", ts)
    n_starts = validate.integer("n_starts", n_starts, lo=1, hi=MAX_STARTS)
    n_steps = validate.integer("n_steps", n_steps, lo=1, hi=100_000)
    track = validate.integer("track", track, lo=0, hi=1000)
    settings = (settings or Settings()).check()
    if "prox" in methods and not landscape.separable and dim > 2:
        raise ValueError(f"methods: 'prox' (exact grid prox) needs dim <= 2 or a separable landscape; "
                         f"{landscape.name!r} in dim {dim} is neither")
    dev = runtime.resolve_device(device)
    dt = runtime.resolve_dtype(dtype)
    work = n_starts * dim * (settings.n_samples if "hj_prox" in methods else 1)
    validate.memory_fits("n_starts", work * torch.finfo(dt).bits // 8 * 4, dev)

    x0 = random_starts(landscape, n_starts, dim, seed, dev, dt)
    if starts is not None:
        given = torch.as_tensor(np.asarray(starts, dtype=float), dtype=dt, device=dev).reshape(-1, dim)
        validate.finite_array("starts", given)
        x0 = torch.cat([given, x0])[:n_starts] if len(given) < n_starts else given[:n_starts]
    track = min(track, n_starts)
    in_basin_fn = global_basin_mask(landscape, dim)
    gen = runtime.generator(seed + 1, dev)

    shape = (len(methods), len(ts))
    final = torch.full((*shape, n_starts, dim), float("nan"), dtype=dt)
    trajectory = torch.full((*shape, track, n_steps + 1, dim), float("nan"), dtype=dt)
    gammas = np.full((len(ts), n_steps), np.nan)
    total, done = len(methods) * len(ts), 0
    with results.timer() as clock:
        for j, tj in enumerate(ts):
            for i, method in enumerate(methods):
                if cancel is not None and cancel.is_set():
                    break
                if method == "gd" and j > 0:  # t plays no role in gradient descent
                    final[i, j], trajectory[i, j] = final[i, 0], trajectory[i, 0]
                    continue
                if method == "gd":
                    tr = gradient_descent(landscape, x0, n_steps, settings.lr, track, cancel)
                elif method == "prox":
                    prox = GridProx(landscape, dim, tj, settings.grid_n, device=dev, dtype=dt)
                    tr = proximal_point(prox, x0, n_steps, track, cancel)
                elif method == "entropy_sgd":
                    tr = entropy_sgd(landscape, x0, n_steps, tj, settings, gen, track, cancel)
                    gammas[j] = tr.gamma.numpy()
                else:
                    tr = hj_prox_descent(landscape, x0, n_steps, tj, settings, seed, track, cancel)
                final[i, j], trajectory[i, j] = tr.final.detach().cpu(), tr.trajectory.detach().cpu()
                done += 1
                if progress is not None:
                    progress(done / total, f"{method}, t = {tj:g}")
    with torch.no_grad():
        finite = torch.isfinite(final).all(dim=-1)
        values = landscape(torch.where(finite[..., None], final, torch.zeros(())))
        values = torch.where(finite, values, torch.full((), float("nan"), dtype=values.dtype))
        if in_basin_fn is not None:
            inside = in_basin_fn(torch.where(finite[..., None], final, torch.full((), 1e30, dtype=dt))) & finite
            basin = inside.double().mean(dim=-1).numpy()
        else:
            inside = torch.zeros_like(finite)
            basin = np.full(shape, np.nan)
    params = {"landscape": landscape.name, "dim": dim, "methods": methods, "t": ts, "n_starts": n_starts,
              "n_steps": n_steps, "track": track, **{k: v for k, v in vars(settings).items()},
              **landscape.meta}
    ds = results.dataset(
        {
            "final_x": (("optimizer", "t", "run", "dim"), final, {"long_name": "final iterate"}),
            "final_value": (("optimizer", "t", "run"), values, {"long_name": "final value f(x)"}),
            "in_basin": (("optimizer", "t", "run"), inside.to(torch.int8),
                         {"long_name": "final point in the global minimum's basin"}),
            "basin_fraction": (("optimizer", "t"), basin,
                               {"long_name": "fraction of starts in the global basin"}),
            "diverged_fraction": (("optimizer", "t"), (~finite).double().mean(dim=-1),
                                  {"long_name": "fraction of diverged runs"}),
            "trajectory": (("optimizer", "t", "track", "step", "dim"), trajectory, {"long_name": "iterate"}),
            "gamma": (("t", "outer_step"), gammas, {"long_name": "Entropy-SGD coupling gamma"}),
        },
        coords={"optimizer": np.array(methods), "t": (("t",), np.array(ts), {"long_name": "HJ time t"}),
                "run": np.arange(n_starts), "dim": np.arange(dim), "track": np.arange(track),
                "step": np.arange(n_steps + 1), "outer_step": np.arange(n_steps)},
        params=params, kind="hj.compare_optimizers", seed=seed, device=dev, elapsed=clock["elapsed"])
    return ds
