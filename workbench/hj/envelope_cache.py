"""The explorer's envelopes as a pure function of its settings, cached across sessions.

A :class:`SmoothingKey` names everything a smoothing result depends on (the landscape or
its formula, dimension, grid, ``t``, ``beta`` and device); :data:`SMOOTHINGS` keeps the
latest finished results, so a second session asking for the same settings is answered
from memory and a cancelled computation stores nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import xarray as xr

from .. import results
from ..cache import ResultCache
from .landscapes import from_formula, get
from .smoothing import smooth_landscape

SMOOTHINGS = ResultCache(max_items=32)  # finished envelopes, shared by the server's sessions


@dataclass(frozen=True)
class SmoothingKey:
    """What a smoothing result is a pure function of (``beta`` None: the inviscid pass only)."""

    landscape: str
    formula: str
    dim: int
    n: int
    t: float
    beta: float | None
    device: str

    def compute(self, cancel: threading.Event | None = None) -> xr.Dataset:
        """The envelopes for these settings, from the shared cache when another session asked first
        (a cancelled computation raises and stores nothing)."""
        ds = SMOOTHINGS.get(self)
        if ds is None:
            land = from_formula(self.formula, self.dim) if self.landscape == "formula" else get(self.landscape)
            ds = smooth_landscape(land, self.dim, self.n, [self.t], self.beta, device=self.device or None,
                                  cancel=cancel)
            SMOOTHINGS.put(self, ds)
        return ds

    def job(self, cancel: threading.Event) -> tuple[SmoothingKey, xr.Dataset]:
        """A runner job: the result with the key it answers (a stale answer is then recognised)."""
        return self, self.compute(cancel)


def landscape_id(ds: xr.Dataset) -> str:
    """What identifies the sampled landscape of a smoothing result (its parameters but t and beta)."""
    params = {k: v for k, v in results.parameters(ds).items() if k not in ("t", "beta")}
    return repr(sorted(params.items())) + str(ds.attrs.get("device"))
