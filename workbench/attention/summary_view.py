"""The summaries tab: per-head entropy, k90 and distance to the diagonal (a click opens that head's
map), attention rollout and the [CLS] attention flow (see :mod:`.aggregates`)."""

from __future__ import annotations

from collections.abc import Callable

import holoviews as hv
import panel as pn
import xarray as xr

from . import plots
from .model import N_HEADS, N_LAYERS

SUMMARY_METRICS = ("entropy", "k90", "diagonal_distance")


class SummaryView:
    """Panes of the summaries tab, filled once a text's aggregates are computed."""

    def __init__(self) -> None:
        self.summary: xr.Dataset | None = None
        self.rollout: xr.DataArray | None = None
        self.flow: xr.DataArray | None = None
        self.summaries = [pn.pane.HoloViews(None, name=m) for m in SUMMARY_METRICS]
        self.rollout_panes = (pn.pane.HoloViews(None, name="rollout"), pn.pane.HoloViews(None, name="flow"))
        self.panel = pn.Column(pn.Row(*self.summaries), pn.Row(*self.rollout_panes))

    def clear(self) -> None:
        self.summary = self.rollout = self.flow = None

    def show(self, value: tuple, on_tap: Callable) -> None:
        """Draw ``(summary, rollout, flow)``; a click on a head calls ``on_tap(x=, y=)``."""
        self.summary, self.rollout, self.flow = value
        for pane, metric in zip(self.summaries, SUMMARY_METRICS):
            hm = plots.summary_heatmap(self.summary, metric)
            hv.streams.Tap(source=hm, x=None, y=None).add_subscriber(on_tap)
            pane.object = hm
        self.rollout_panes[0].object, self.rollout_panes[1].object = plots.rollout_plot(self.rollout, self.flow)

    @staticmethod
    def head_at(x: float, y: float) -> tuple[int, int] | None:
        """(layer, head) of the summary cell under a click at (x, y), or None outside."""
        head, layer = int(round(x)), int(round(y))
        return (layer, head) if 0 <= head < N_HEADS and 0 <= layer < N_LAYERS else None

    def figure(self) -> hv.Layout | None:
        return None if self.rollout is None else hv.Layout(list(plots.rollout_plot(self.rollout, self.flow))).cols(2)

    def data(self) -> xr.Dataset | None:
        if self.summary is None:
            return None
        ds = self.summary.copy()
        ds["rollout"] = self.rollout
        return ds
