"""Attention explorer: real maps, one head enlarged, head view, variant vs full, dispersion.

Every setting is a bounded ``param`` parameter (the UI is derived from them).
Typing text runs the model once (cached per text across sessions); layer, head
and variant changes reuse that forward pass. Dispersion sweeps run off the
event loop with progress; errors go to the Status line and the app stays usable.
"""

from __future__ import annotations

import threading
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from .. import runtime
from ..ui import ExportButtons, LatestRunner, Status
from ..ui.cache import ResultCache
from . import plots
from .dispersion import DISPERSION_VARIANTS, SOURCES, dispersion
from .model import MAX_POSITIONS, N_HEADS, N_LAYERS, model_attention, model_qkv
from .variants import VARIANTS, compare_variants

DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."
N_CHOICES = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]


@pn.cache(max_items=32)
def cached_maps(text: str, device: str) -> tuple[xr.DataArray, Any]:
    """Model maps and Q/K/V for one text (shared by every session of the server)."""
    return model_attention(text, device=device), model_qkv(text, device=device)


DISPERSIONS = ResultCache(max_items=16)


def cached_dispersion(key: tuple, progress=None, should_stop=None) -> xr.Dataset:
    """Dispersion sweep for ``key = (ns, variants, source, window, mix, device)``, memoised across sessions
    (a stopped sweep is returned but not kept)."""
    ds = DISPERSIONS.get(key)
    if ds is None:
        ns, variants, source, window, mix, device = key
        ds = dispersion(list(ns), variants=list(variants), source=source, window=window, mix=mix, device=device,
                        callbacks=[progress] if progress else (), should_stop=should_stop)
        if not (should_stop and should_stop()):
            DISPERSIONS.put(key, ds)
    return ds


def max_n(device: str) -> int:
    """Largest dispersion length offered: 4k on CPU, 32k on a GPU."""
    return 4096 if runtime.resolve_device(device).type == "cpu" else 32768


class AttentionExplorer(pn.viewable.Viewer):
    """Type text -> layer x head maps, an enlarged head, a head view, a variant against full attention."""

    # the view's parameters: in the URL, in the parameters JSON and in exported data
    shared = ["text", "layer", "head", "variant", "window", "mix", "source", "dispersion_window", "n_max", "n",
              "metric"]
    filename = "attention_maps"

    text = param.String(default=DEFAULT_TEXT, doc="input text (at most 512 tokens with [CLS] and [SEP])")
    layer = param.Integer(default=2, bounds=(0, N_LAYERS - 1), doc="layer shown enlarged (0..5)")
    head = param.Integer(default=0, bounds=(0, N_HEADS - 1), doc="head shown enlarged (0..11)")
    variant = param.Selector(default="sliding", objects=[v for v in VARIANTS if v != "full"],
                             doc="attention variant compared with full attention on the same Q/K/V")
    window = param.Integer(default=4, bounds=(1, MAX_POSITIONS), doc="window size w (1..n)")
    mix = param.Number(default=0.5, bounds=(0.0, 1.0), doc="SEMA: weight of the global average")
    source = param.Selector(default="gaussian", objects=list(SOURCES), doc="dispersion inputs")
    dispersion_window = param.Integer(default=32, bounds=(1, 64), doc="window of the dispersion variants")
    n_max = param.Selector(default=1024, objects=N_CHOICES[:7], doc="largest n of the dispersion sweep")
    n = param.Selector(default=256, objects=N_CHOICES[:7], doc="n marked on the dispersion curves")
    metric = param.Selector(default="max_weight", objects=["max_weight", "entropy", "k90"],
                            doc="dispersion metric plotted")
    device = param.String(default="", doc="compute device ('' = WORKBENCH_DEVICE or auto)")

    def __init__(self, **params: Any):
        super().__init__(**params)
        dev = str(runtime.resolve_device(self.device or None))
        self._device = dev
        choices = [c for c in N_CHOICES if c <= max_n(dev)]
        self.param.n_max.objects = choices
        self.param.n.objects = choices
        self.status = Status()
        self._maps: xr.DataArray | None = None
        self._qkv: Any = None
        self._compare: xr.Dataset | None = None
        self._dispersion: xr.Dataset | None = None
        self._grid = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="grid")
        self._head = pn.pane.HoloViews(None, name="head")
        self._headview = pn.pane.HoloViews(None, name="headview")
        self._full = pn.pane.HoloViews(None, name="full")
        self._var = pn.pane.HoloViews(None, name="variant")
        self._disp = pn.pane.HoloViews(None, name="dispersion")
        self._disp_info = pn.pane.Markdown("", css_classes=["wb-attention-dispersion-info"])
        self._compare_info = pn.pane.Markdown("", css_classes=["wb-attention-compare-info"])
        self._runner = LatestRunner(self._show_maps, self._on_error, self.status.busy)
        self._disp_runner = LatestRunner(self._show_dispersion, self._on_error, self.status.busy)
        self._run_disp = pn.widgets.Button(label="Run dispersion sweep", color="primary",
                                           css_classes=["wb-attention-run-dispersion"])
        self._run_disp.on_click(lambda _e: self.run_dispersion())
        n_slider = pn.widgets.DiscreteSlider.from_param(self.param.n, name="n", css_classes=["wb-attention-n"])
        metric = pn.widgets.RadioButtonGroup.from_param(self.param.metric, name="metric")
        self._tabs = pn.Tabs(
            ("Model maps", pn.Column(self._grid, pn.Row(self._head, self._headview))),
            ("Variant vs full", pn.Column(self._compare_info, pn.Row(self._full, self._var))),
            ("Dispersion", pn.Column(pn.Row(n_slider, metric), self._disp, self._disp_info)),
            dynamic=False, sizing_mode="stretch_width")
        self.export = ExportButtons(figure=self.figure, data=self.data, filename="attention")
        self.compute()

    # ---- compute ---------------------------------------------------------------------------------

    @param.depends("text", watch=True)
    def compute(self) -> None:
        """Run the model on the text (off the event loop in a served app)."""
        text = self.text

        def job(cancel: threading.Event):
            self.status.progress(None, "running all-MiniLM-L6-v2 ...")
            return cached_maps(text, self._device)

        self._runner.submit(job)

    def _show_maps(self, value: tuple[xr.DataArray, Any]) -> None:
        self._maps, self._qkv = value
        grid = plots.grid_image(self._maps)
        tap = hv.streams.Tap(source=grid, x=None, y=None)
        tap.add_subscriber(self._on_tap)
        self._grid.object = grid
        self.status.info(f"{self._maps.sizes['query']} tokens, {N_LAYERS} layers x {N_HEADS} heads "
                         f"({self._maps.attrs['elapsed_s']:.3f} s)")
        self._show_head()
        self._show_variant()

    def _on_tap(self, x: float | None = None, y: float | None = None) -> None:
        """A click on a tile of the grid enlarges that layer and head."""
        if self._maps is None or x is None or y is None:
            return
        step = plots.tile_cells(self._maps.sizes["query"]) + plots.GAP
        top = N_LAYERS * step - plots.GAP
        head, layer = int(x // step), int((top - y) // step)
        if 0 <= head < N_HEADS and 0 <= layer < N_LAYERS:
            self.param.update(layer=layer, head=head)

    @param.depends("layer", "head", watch=True)
    def _show_head(self) -> None:
        if self._maps is None:
            return
        m = self._maps.isel(layer=self.layer, head=self.head)
        self._head.object = plots.head_heatmap(m, f"layer {self.layer}, head {self.head}")
        self._headview.object = plots.head_view(m)
        self._show_variant_plots()

    @param.depends("layer", "variant", "window", "mix", watch=True)
    def _show_variant(self) -> None:
        if self._qkv is None:
            return
        try:
            q, k, v = (x[self.layer, 0] for x in (self._qkv.q, self._qkv.k, self._qkv.v))
            self._compare = compare_variants(q, k, v, ["full", self.variant], window=self.window, mix=self.mix,
                                             tokens=self._qkv.tokens[0],
                                             params={"text": self.text, "layer": self.layer})
        except (ValueError, TypeError, MemoryError) as exc:
            self._compare = None
            self._var.object = None
            self._compare_info.object = ""
            self.status.error(exc)
            return
        self.status.clear_error()
        self._show_variant_plots()

    def _show_variant_plots(self) -> None:
        if self._compare is None:
            return
        ds = self._compare.isel(head=self.head)
        self._full.object = plots.head_heatmap(ds["map"].sel(variant="full"), "full softmax (same Q, K, V)")
        label = "|F_n W| (FWin)" if self.variant == "fwin" else "weight"
        self._var.object = plots.head_heatmap(ds["map"].sel(variant=self.variant), f"{self.variant}", label)
        err = float(ds["relative_error"].sel(variant=self.variant))
        res = float(ds["map_residual"].sel(variant=self.variant))
        self._compare_info.object = (f"**{self.variant}** vs full, layer {self.layer} head {self.head}: "
                                     f"relative output difference {err:.3g}; max |map(V) - output| = {res:.1e}")

    def run_dispersion(self) -> None:
        """Sweep n = 64 .. n_max for the dispersion curves (off the event loop, with progress)."""
        ns = tuple(c for c in N_CHOICES if 64 <= c <= self.n_max)
        key = (ns, DISPERSION_VARIANTS, self.source, self.dispersion_window, self.mix, self._device)

        def job(cancel: threading.Event):
            self.status.progress(0.0, f"dispersion sweep up to n = {self.n_max} ...")
            return cached_dispersion(key, lambda ev: self.status.progress(ev.fraction, "dispersion sweep ..."),
                                     cancel.is_set)

        self._disp_runner.submit(job)

    def _show_dispersion(self, ds: xr.Dataset) -> None:
        self._dispersion = ds
        self.status.progress(None, f"dispersion sweep done ({ds.attrs['elapsed_s']:.1f} s)")
        self._show_dispersion_plot()

    @param.depends("n", "metric", watch=True)
    def _show_dispersion_plot(self) -> None:
        ds = self._dispersion
        if ds is None:
            return
        self._disp.object = plots.dispersion_plot(ds, self.metric, self.n)
        near = int(ds["n"].values[np.argmin(np.abs(np.log(ds["n"].values / self.n)))])
        at = ds[self.metric].sel(n=near)
        rows = " | ".join(f"{v}: {float(at.sel(variant=v)):.4g}" for v in ds["variant"].values)
        self._disp_info.object = f"at n = {near}: {rows} | uniform: {float(ds[self.metric + '_ref'].sel(n=near)):.4g}"

    def _on_error(self, exc: BaseException) -> None:
        self.status.error(exc)

    # ---- export ----------------------------------------------------------------------------------

    def figure(self) -> Any:
        """The figure of the open tab: enlarged head + head view, variant vs full, or dispersion."""
        tab = self._tabs.active
        if tab == 0 and self._maps is not None:
            m = self._maps.isel(layer=self.layer, head=self.head)
            return (plots.head_heatmap(m, f"layer {self.layer}, head {self.head}") + plots.head_view(m)).cols(2)
        if tab == 2 and self._dispersion is not None:
            return plots.dispersion_plot(self._dispersion, self.metric, self.n)
        if self._compare is None:
            return None
        ds = self._compare.isel(head=self.head)
        return (plots.head_heatmap(ds["map"].sel(variant="full"), f"full, layer {self.layer} head {self.head}")
                + plots.head_heatmap(ds["map"].sel(variant=self.variant), self.variant)).cols(2)

    def data(self) -> xr.Dataset | None:
        """The data of the open tab (all maps of the text, the comparison, or the dispersion sweep)."""
        tab = self._tabs.active
        if tab == 0 and self._maps is not None:
            return self._maps.to_dataset()
        if tab == 2 and self._dispersion is not None:
            return self._dispersion
        return self._compare

    # ---- layout ----------------------------------------------------------------------------------

    def controls(self) -> pn.Column:
        w = pn.widgets
        return pn.Column(
            w.TextAreaInput.from_param(self.param.text, height=110, name="Text",
                                       css_classes=["wb-attention-text"]),
            w.IntSlider.from_param(self.param.layer, name="Layer", css_classes=["wb-attention-layer"]),
            w.IntSlider.from_param(self.param.head, name="Head", css_classes=["wb-attention-head"]),
            w.Select.from_param(self.param.variant, name="Variant", css_classes=["wb-attention-variant"]),
            w.IntInput.from_param(self.param.window, name="Window w", css_classes=["wb-attention-window"]),
            w.FloatSlider.from_param(self.param.mix, name="SEMA mix"),
            pn.layout.Divider(),
            w.Select.from_param(self.param.source, name="Dispersion inputs"),
            w.IntInput.from_param(self.param.dispersion_window, name="Dispersion window"),
            w.Select.from_param(self.param.n_max, name="Largest n"),
            self._run_disp,
            self.export, sizing_mode="stretch_width")

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.status, self._tabs, sizing_mode="stretch_width")
