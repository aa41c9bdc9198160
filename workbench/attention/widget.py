"""Attention explorer: real maps, one head enlarged with its head view, summaries, rollout, variants.

Built on :class:`workbench.ui.Explorer`. Typing text runs the model once (SDPA, the maps
recomputed from the captured Q and K; cached per text and device across sessions, see
:mod:`.dashboard_cache`); layer, head and query-row changes reuse that pass, and a new text
replaces every view in one callback. Each tab's panes live in its view: model maps
(:mod:`.maps_view`: all 72 maps, the chosen layer's heads, the enlarged head with its head view),
summaries (:mod:`.summary_view`: per-head summaries, a click opens that head; rollout, flow), a
variant against full attention and the variant inside the model (:mod:`.variant_views`; Run),
dispersion (:mod:`.dispersion_view`).
"""

from __future__ import annotations

import threading
from typing import Any

import holoviews as hv
import panel as pn
import param
import xarray as xr

from .. import runtime
from ..ui.explorer import Explorer
from . import paper, plots
from .dashboard_cache import cached_aggregates, cached_forward
from .dispersion import SOURCES
from .dispersion_view import N_CHOICES, DispersionView, n_choices, sweep_job
from .maps_view import MapsView
from .model import MAX_POSITIONS, N_HEADS, N_LAYERS
from .summary_view import SummaryView
from .texts import MAX_TEXT_CHARS, check_text
from .variant_views import ComparisonView, EffectView, effect_job, effect_window
from .variants import VARIANTS

DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."


class AttentionExplorer(Explorer):
    """Type text -> all maps, an enlarged head with its head view, summaries, variants in and on the model."""

    # the view's parameters: in the URL, in the parameters JSON and in exported data
    shared = ["text", "layer", "head", "queries", "variant", "window", "mix", "replace_layers", "source",
              "dispersion_window", "n_max", "n", "metric"]
    filename = "attention_maps"
    css_prefix = "wb-attention"
    run_label = "Run variant in the model"

    text = param.String(default=DEFAULT_TEXT,
                        doc=f"input text (at most {MAX_TEXT_CHARS} characters and 512 tokens with [CLS] and [SEP])")
    layer = param.Integer(default=2, bounds=(0, N_LAYERS - 1), doc="layer shown enlarged (0..5)")
    head = param.Integer(default=0, bounds=(0, N_HEADS - 1), doc="head shown enlarged (0..11)")
    queries = param.Range(default=(0, 15), bounds=(0, MAX_POSITIONS - 1), step=1, label="Head view: query tokens",
                          doc=f"query token positions drawn in the head view (at most {plots.MAX_QUERIES})")
    variant = param.Selector(default="sliding", objects=[v for v in VARIANTS if v != "full"],
                             doc="attention variant compared with full attention, and run inside the model")
    window = param.Integer(default=4, bounds=(1, 2 * MAX_POSITIONS - 1),
                           doc="window size w (block/FWin: 1..n; sliding/SEMA: 1..2n-1)")
    mix = param.Number(default=0.5, bounds=(0.0, 1.0), label="SEMA mix", doc="SEMA: weight of the global average")
    replace_layers = param.ListSelector(default=list(range(N_LAYERS)), objects=list(range(N_LAYERS)),
                                        label="Layers replaced", doc="layers whose attention the variant replaces")
    source = param.Selector(default="gaussian", objects=list(SOURCES), label="Dispersion inputs",
                            doc="dispersion inputs")
    dispersion_window = param.Integer(default=32, bounds=(1, 64), doc="window of the dispersion variants")
    n_max = param.Selector(default=1024, objects=N_CHOICES[:7], label="Largest n",
                           doc="largest n of the dispersion sweep")
    n = param.Selector(default=256, objects=N_CHOICES[:7], precedence=-1, doc="n marked on the dispersion curves")
    metric = param.Selector(default="max_weight", objects=["max_weight", "entropy", "k90"], precedence=-1,
                            doc="dispersion metric plotted")

    widgets = {"text": {"type": pn.widgets.TextAreaInput, "height": 110}, "queries": pn.widgets.IntRangeSlider,
               "replace_layers": pn.widgets.CheckButtonGroup, "window": pn.widgets.IntInput,
               "dispersion_window": pn.widgets.IntInput}

    def __init__(self, **params: Any):
        super().__init__(**params)
        self._maps: xr.DataArray | None = None
        self._qkv: Any = None
        self.maps_view, self.summary_view = MapsView(), SummaryView()
        self.comparison_view, self.effect_view = ComparisonView(), EffectView()
        self._runner = self.runner(self._show_maps)
        self._aggregates_runner = self.runner(self._show_aggregates, pool="background", busy=False)
        self._effect_runner = self.runner(self._show_effect, pool="heavy")
        self._disp_runner = self.runner(self._show_dispersion, pool="heavy")
        self._set_n_choices()
        self.dispersion_view = DispersionView(self)
        self._tabs = pn.Tabs(
            ("Model maps", self.maps_view.panel), ("Summaries", self.summary_view.panel),
            ("Variant vs full", self.comparison_view.panel), ("Variant in the model", self.effect_view.panel),
            ("Dispersion", self.dispersion_view.panel), dynamic=False, sizing_mode="stretch_width")
        self.when_loaded(self.compute)

    def _set_n_choices(self) -> None:
        self.param.n_max.objects = self.param.n.objects = n_choices(self.compute_device)

    @param.depends("device", watch=True)
    def _device_changed(self) -> None:
        try:
            self._set_n_choices()
        except ValueError as exc:
            self.status.error(exc)
            return
        self.compute()

    @param.depends("text", watch=True)
    def compute(self) -> None:
        """Run the model on the text (off the event loop in a served app)."""
        text = self.text
        try:
            check_text("text", text)
            device = self.compute_device
        except (ValueError, TypeError) as exc:
            self.status.error(exc)
            return

        def job(cancel: threading.Event):
            self.status.progress(None, "running all-MiniLM-L6-v2 ...")
            return cached_forward(text, device)

        self._runner.submit(job)

    def _show_maps(self, value: tuple) -> None:
        self._maps, self._qkv = value
        n = self._maps.sizes["query"]
        self.summary_view.clear()
        q0, q1 = plots.query_span(self.queries, n)
        # every view of the new text is replaced in this one callback, from the same forward
        self.maps_view.show_grid(self._maps, self._on_tap)
        if (q0, q1) != tuple(self.queries):
            self.queries = (q0, q1)        # redraws the enlarged head through its watcher
        else:
            self._show_head()
        self._show_layer()
        self._show_variant()
        self.status.info(f"{n} tokens, {N_LAYERS} layers x {N_HEADS} heads "
                         f"({self._maps.attrs['elapsed_s']:.3f} s)")
        maps, key = self._maps, (self.text, str(runtime.resolve_device(self.compute_device)))
        self._aggregates_runner.submit(lambda cancel: cached_aggregates(maps, key))  # after the maps are shown

    def _show_aggregates(self, value: tuple) -> None:
        """Head summaries (click a head: its map) and rollout/flow, computed after the maps are on screen."""
        self.summary_view.show(value, self._on_summary_tap)

    def _on_tap(self, x: float | None = None, y: float | None = None) -> None:
        """A click on a tile of the grid enlarges that layer and head."""
        if self._maps is not None and x is not None and y is not None:
            self._select(self.maps_view.tile_at(self._maps, x, y))

    def _on_summary_tap(self, x: float | None = None, y: float | None = None) -> None:
        """A click on a head of a summary opens its map in the Model maps tab."""
        if self._maps is not None and x is not None and y is not None and self._select(SummaryView.head_at(x, y)):
            self._tabs.active = 0

    def _select(self, hit: tuple[int, int] | None) -> bool:
        if hit is not None:
            self.param.update(layer=hit[0], head=hit[1])
        return hit is not None

    @param.depends("layer", watch=True)
    def _show_layer(self) -> None:
        if self._maps is not None:
            self.maps_view.show_layer(self._maps, self.layer)

    @param.depends("layer", "head", "queries", watch=True)
    def _show_head(self) -> None:
        if self._maps is None:
            return
        self.maps_view.show_head(self._maps, self.layer, self.head, self.queries)
        self.comparison_view.show(self.variant, self.layer, self.head)

    @param.depends("layer", "variant", "window", "mix", watch=True)
    def _show_variant(self) -> None:
        if self._qkv is None:
            return
        try:
            self.comparison_view.compare(self._qkv, self.text, self.layer, self.variant, self.window, self.mix)
        except (ValueError, TypeError, MemoryError) as exc:
            self.status.error(exc)
            return
        self.status.clear_error()
        self.comparison_view.show(self.variant, self.layer, self.head)

    def run(self) -> None:
        """The variant inside the model: on this text (per layer) and on the built-in sentences (ranks)."""
        text, variant, layers = self.text, self.variant, list(self.replace_layers)
        window, mix = effect_window(variant, self.window), self.mix
        try:
            check_text("text", text)
            if not layers:
                raise ValueError("layers must not be empty: choose at least one layer to replace")
            device = self.compute_device
        except (ValueError, TypeError) as exc:
            self.status.error(exc)
            return

        self._effect_runner.submit(effect_job(self.status, text, variant, layers, window, mix, device))

    def _show_effect(self, value: tuple) -> None:
        self.effect_view.show(value, self.variant)
        self.status.info(f"variant in the model: {float(self.effect_view.effect.attrs['elapsed_s']):.2f} s")

    def run_dispersion(self) -> None:
        """Sweep n = 64 .. n_max for the dispersion curves (off the event loop, with progress)."""
        try:
            device = self.compute_device
        except ValueError as exc:
            self.status.error(exc)
            return
        self._disp_runner.submit(sweep_job(self.status, self.n_max, self.source, self.dispersion_window, self.mix,
                                           device))

    def _show_dispersion(self, ds: xr.Dataset) -> None:
        self.status.progress(None, f"dispersion sweep done ({ds.attrs['elapsed_s']:.1f} s)")
        self._show_dispersion_plot(ds)

    @param.depends("n", "metric", watch=True)
    def _show_dispersion_plot(self, ds: xr.Dataset | None = None) -> None:
        self.dispersion_view.show(self.metric, self.n, ds)

    def figure(self) -> Any:
        """The figure of the open tab."""
        tab = self._tabs.active
        if tab == 0:
            return None if self._maps is None else hv.Layout(list(MapsView.head_pair(
                self._maps, self.layer, self.head, self.queries))).cols(2)
        return {1: self.summary_view.figure, 2: lambda: self.comparison_view.figure(self.variant, self.layer, self.head),
                3: self.effect_view.figure, 4: lambda: self.dispersion_view.figure(self.metric, self.n)}[tab]()

    def data(self) -> xr.Dataset | None:
        """The data of the open tab."""
        tab = self._tabs.active
        if tab == 0 and self._maps is not None:
            return paper.figure_data(self._maps, [(self.layer, self.head)])  # the paper figure's data
        if tab == 1 and self.summary_view.summary is not None:
            return self.summary_view.data()
        return {3: self.effect_view.effect, 4: self.dispersion_view.ds}.get(tab, self.comparison_view.result)

    def controls_extra(self) -> list[Any]:
        return [self.dispersion_view.run_button]

    def body(self) -> pn.viewable.Viewable:
        return self._tabs
