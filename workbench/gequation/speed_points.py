"""The points of a flame-speed sweep as they arrive: s_T(A) per model, its error and its flag.

A sweep's chunks finish one after another; :class:`SpeedPoints` collects each finished
point (model, A) → (s_T, s_T_error, flag), gives them as one Dataset (model, A) for the
plots, the quenching amplitude A* of the strain models, the flagged points (not results:
outside their bounds or under-resolved) and the point nearest a click on the s_T plot.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import plots
from .sweep import quenching_amplitude

STRAIN_MODELS = ("strain", "curvature-strain")


class SpeedPoints(dict):
    """``points[model][A] = (s_T, s_T_error, flag)``; touched on the session's loop only."""

    def __init__(self, models: list[str] | None = None):
        super().__init__({m: {} for m in models or ()})

    def __bool__(self) -> bool:
        """Whether any point has arrived."""
        return any(self.values())

    def add(self, model: str, ds: xr.Dataset, A=None) -> None:
        """Take the finite points of a sweep of ``model``, or of one of its chunks (``A``: the
        chunk's amplitudes, in the order of its points)."""
        A = np.atleast_1d(ds.A.values if A is None else A)
        flags = ds.flag.values if "flag" in ds else [""] * len(A)
        pts = self.setdefault(model, {})
        for a, s, e, f in zip(A, np.atleast_1d(ds.s_T.values),
                              np.atleast_1d(ds.s_T_error.values), np.atleast_1d(flags)):
            if np.isfinite(s):
                pts[float(a)] = (float(s), float(e), str(f))

    def a_star(self) -> dict[str, float]:
        """The quenching amplitude of each strain model swept (s_T within 0.05 of 0)."""
        out = {}
        for model, pts in self.items():
            if model in STRAIN_MODELS and pts:
                A = sorted(pts)
                out[model] = quenching_amplitude(A, [pts[a][0] for a in A], tol=0.05)
        return out

    def dataset(self) -> xr.Dataset:
        """The points so far as a Dataset (model, A) of s_T, s_T_error and flag."""
        models = [m for m, pts in self.items() if pts]
        A = sorted({a for m in models for a in self[m]})
        shape = (len(models), len(A))
        s, e = np.full(shape, np.nan), np.full(shape, np.nan)
        flag = np.full(shape, "", dtype=object)
        for i, m in enumerate(models):
            for j, a in enumerate(A):
                if a in self[m]:
                    s[i, j], e[i, j], flag[i, j] = self[m][a]
        return xr.Dataset({"s_T": (("model", "A"), s), "s_T_error": (("model", "A"), e),
                           "flag": (("model", "A"), flag.astype(str))}, coords={"model": models, "A": A})

    def flagged(self) -> list[str]:
        return [f"{model} A={a:g}: {flag}" for model, pts in self.items()
                for a, (_s, _e, flag) in sorted(pts.items()) if flag]

    def nearest(self, x: float, y: float, view: str, A_max: float) -> tuple[str, float] | None:
        """The (model, A) drawn nearest to the click (x, y) in the axes of ``view``."""
        best, dist = None, np.inf
        for model, pts in self.items():
            for a, (s, _e, _flag) in pts.items():
                xa = plots.view_x(np.array([a]), view)[0]
                if not np.isfinite(xa):
                    continue
                if view == "log-log" and s > 0 and xa > 0 and x > 0 and y > 0:
                    dd = np.hypot(np.log(xa / x), np.log(s / y))
                else:
                    dd = np.hypot((xa - x) / max(A_max, 1e-9), (s - y) / 4)
                if dd < dist:
                    best, dist = (model, a), dd
        return best
