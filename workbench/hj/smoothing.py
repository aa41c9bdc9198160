"""A landscape and its HJ smoothings on one grid, as a labelled Dataset.

:func:`smooth_landscape` samples a landscape on an ``n`` or ``n x n`` grid and
returns ``f``, the inviscid envelope ``u`` (Moreau / Hopf-Lax) with its prox map,
and, when ``beta`` is given, the viscous solution ``u_beta`` (local entropy), for
one or several times ``t``. It is what the CLI, the widget and the notebook show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from .. import results, runtime, validate
from .landscapes import Landscape, sample
from .local_entropy import local_entropy
from .moreau import moreau_envelope

MAX_POINTS = 4096 * 4096


def smooth_landscape(landscape: Landscape, dim: int = 2, n: int = 256, t: Sequence[float] | float = 0.1,
                     beta: float | None = None, lo: float | None = None, hi: float | None = None,
                     device: Any = None, dtype: Any = None, cancel: Any = None) -> xr.Dataset:
    """``f``, ``u`` (Moreau), ``prox`` and optionally ``u_beta`` (local entropy) on a grid.

    A set ``cancel`` event stops the local-entropy pass early with ``InterruptedError``.
    """
    dim = validate.integer("dim", dim, lo=1, hi=2)
    landscape.check_dim(dim)
    n = validate.integer("n", n, lo=3, hi=8192)
    if n ** dim > MAX_POINTS:
        raise ValueError(f"n must satisfy n**dim <= {MAX_POINTS}, got n = {n} in dim {dim}")
    ts = [float(validate.positive("t", v)) for v in np.atleast_1d(np.asarray(t, dtype=float))]
    validate.non_empty("t", ts)
    if beta is not None:
        beta = float(validate.positive("beta", beta))
    dev = runtime.resolve_device(device)
    dt = runtime.resolve_dtype(dtype)
    with results.timer() as clock:
        grid = sample(landscape, n, dim, lo, hi, device=dev, dtype=dt)
        u, idx = moreau_envelope(grid.values, grid.spacing, ts, return_argmin=True)
        ub = local_entropy(grid.values, grid.spacing, ts, beta, cancel=cancel) if beta is not None else None
    spatial = ("x",) if dim == 1 else ("y", "x")
    axis_attrs = {"long_name": "x", "units": ""}
    coords: dict[str, Any] = {"t": (("t",), np.array(ts), {"long_name": "HJ time t"}),
                              "x": (("x",), grid.coords[-1], axis_attrs)}
    if dim == 2:
        coords["y"] = (("y",), grid.coords[0], {"long_name": "y", "units": ""})
    axis = grid.coords[0]
    data = {
        "f": (spatial, grid.values, {"long_name": f"f ({landscape.name})"}),
        "u": (("t", *spatial), u, {"long_name": "Moreau envelope u(x, t)"}),
    }
    if dim == 1:
        data["prox_x"] = (("t", "x"), axis[idx[..., 0]], {"long_name": "prox_tf(x)"})
    else:
        data["prox_x"] = (("t", "y", "x"), axis[idx[..., 1]], {"long_name": "prox_tf(x), x component"})
        data["prox_y"] = (("t", "y", "x"), axis[idx[..., 0]], {"long_name": "prox_tf(x), y component"})
    if ub is not None:
        data["u_beta"] = (("t", *spatial), ub, {"long_name": f"local entropy u (beta = {beta:g})"})
    params = {"landscape": landscape.name, "dim": dim, "n": n, "t": ts, "beta": beta,
              "lo": float(axis[0]), "hi": float(axis[-1]), **landscape.meta}
    return results.dataset(data, coords, params=params, kind="hj.smooth_landscape", device=dev,
                           elapsed=clock["elapsed"])


def summary(ds: xr.Dataset) -> dict[str, Any]:
    """Numbers that characterise a smoothing result (for ``--json``)."""
    spatial = [d for d in ds.f.dims]
    out = {"landscape": results.parameters(ds)["landscape"], "shape": list(ds.f.shape),
           "t": ds.t.values.tolist(), "min_f": float(ds.f.min()),
           "min_u": ds.u.min(spatial).values.tolist(), "mean_f": float(ds.f.mean()),
           "mean_u": ds.u.mean(spatial).values.tolist(),
           "elapsed_s": round(float(ds.attrs["elapsed_s"]), 4), "device": ds.attrs["device"]}
    if "u_beta" in ds:
        out["mean_u_beta"] = ds.u_beta.mean(spatial).values.tolist()
    return out
