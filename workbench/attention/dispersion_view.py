"""The dispersion tab: a metric of attention rows against n for each variant, with the uniform reference,
a slider marking one n and a one-line readout at that n (see :mod:`.dispersion`)."""

from __future__ import annotations

import numpy as np
import panel as pn
import xarray as xr

from .. import runtime
from ..ui.text import TextView
from . import plots
from .dashboard_cache import cached_dispersion
from .dispersion import DISPERSION_VARIANTS

N_CHOICES = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]


def max_n(device: str | None) -> int:
    """Largest dispersion length offered: 4k on CPU, 32k on a GPU."""
    return 4096 if runtime.resolve_device(device).type == "cpu" else 32768


def n_choices(device: str | None) -> list[int]:
    return [c for c in N_CHOICES if c <= max_n(device)]


def sweep_job(status, n_max: int, source: str, window: int, mix: float, device):
    """The job of a sweep n = 64 .. ``n_max`` of every dispersion variant (memoised), progress to ``status``."""
    key = (tuple(c for c in N_CHOICES if 64 <= c <= n_max), DISPERSION_VARIANTS, source, window, mix, device)

    def job(cancel):
        status.progress(0.0, f"dispersion sweep up to n = {n_max} ...")
        return cached_dispersion(key, lambda ev: status.progress(ev.fraction, "dispersion sweep ..."), cancel.is_set)

    return job


class DispersionView:
    """The curves of one metric and the readout at the marked n; ``n`` and ``metric`` are the explorer's,
    its Run button (among the explorer's controls) calls ``explorer.run_dispersion``."""

    def __init__(self, explorer) -> None:
        self.ds: xr.Dataset | None = None
        self.run_button = pn.widgets.Button(label="Run dispersion sweep", color="primary",
                                            css_classes=["wb-attention-run-dispersion"])
        self.run_button.on_click(lambda _e: explorer.run_dispersion())
        self.pane = pn.pane.HoloViews(None, name="dispersion")
        self.info = TextView("", pre=True, css_classes=["wb-attention-dispersion-info"])
        n_slider = pn.widgets.DiscreteSlider.from_param(explorer.param.n, name="n", css_classes=["wb-attention-n"])
        metric = pn.widgets.RadioButtonGroup.from_param(explorer.param.metric, name="metric")
        self.panel = pn.Column(pn.Row(n_slider, metric), self.pane, self.info)

    def show(self, metric: str, n: int, ds: xr.Dataset | None = None) -> None:
        """Draw ``metric`` with ``n`` marked, for ``ds`` (a new sweep) or the last one."""
        self.ds = ds = self.ds if ds is None else ds
        if ds is None:
            return
        self.pane.object = plots.dispersion_plot(ds, metric, n)
        near = int(ds["n"].values[np.argmin(np.abs(np.log(ds["n"].values / n)))])
        at = ds[metric].sel(n=near)
        rows = " | ".join(f"{v}: {float(at.sel(variant=v)):.4g}" for v in ds["variant"].values)
        self.info.object = f"at n = {near}: {rows} | uniform: {float(ds[metric + '_ref'].sel(n=near)):.4g}"

    def figure(self, metric: str, n: int):
        return None if self.ds is None else plots.dispersion_plot(self.ds, metric, n)
