"""Attention explorer: real maps, one head enlarged with its head view, summaries, rollout, variants.

Built on :class:`workbench.ui.Explorer`. Typing text runs the model once (SDPA, the maps
recomputed from the captured Q and K; cached per text and device across sessions); layer,
head and query-row changes reuse that pass. Everything is drawn as rasterised images (one
``hv.Image`` per map, never one glyph per cell): the overview of all 72 maps (pooled), the
12 heads of the chosen layer (pooled to 128 cells, drawn when the layer is chosen), and the enlarged head
together with its head view, built from the same map and the same selected query rows in
the same callback, so the two never show different tokens. (Not inside ``pn.io.hold``:
held updates of image data leave Bokeh's images unpainted in the served page.) A new text replaces every view in one
callback. The head view draws only the selected query rows ("Head view: query tokens").

Tabs: model maps; summaries (entropy, k90, distance to the diagonal per head: a click opens
that head's map; rollout and flow); a variant against full attention on one layer's Q, K, V;
the variant inside the model (Run: per-layer hidden-state change and attention-output error
on this text, embedding cosine and similarity ranks on the built-in sentences); dispersion.
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
from ..ui.cache import ResultCache
from ..ui.explorer import Explorer
from . import paper, plots
from .aggregates import MAX_FLOW_TOKENS, attention_flow, head_summary, rollout
from .dispersion import DISPERSION_VARIANTS, SOURCES, dispersion
from .model import MAX_POSITIONS, N_HEADS, N_LAYERS, attention_maps, model_qkv
from .replace import replace_attention
from .texts import MAX_TEXT_CHARS, SENTENCES, check_text
from .variants import VARIANTS, compare_variants, max_window

DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."
N_CHOICES = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]
SUMMARY_METRICS = ("entropy", "k90", "diagonal_distance")

FORWARDS = ResultCache(max_items=6)      # a 512-token text holds ~90 MB of maps and Q/K/V
AGGREGATES = ResultCache(max_items=32)
DISPERSIONS = ResultCache(max_items=16)


def cached_forward(text: str, device: str | None) -> tuple[xr.DataArray, Any]:
    """Maps and Q/K/V of one text from one SDPA forward (shared by the server's sessions)."""
    key = (text, str(runtime.resolve_device(device)))
    hit = FORWARDS.get(key)
    if hit is None:
        qkv = model_qkv(check_text("text", text), device=device, implementation="sdpa")
        hit = (attention_maps(qkv, "sdpa"), qkv)
        FORWARDS.put(key, hit)
    return hit


def cached_aggregates(maps: xr.DataArray, key: tuple) -> tuple[xr.Dataset, xr.DataArray, xr.DataArray | None]:
    """Head summaries, rollout and (up to ``MAX_FLOW_TOKENS`` tokens) the [CLS] flow of one text's maps."""
    hit = AGGREGATES.get(key)
    if hit is None:
        flow = attention_flow(maps) if maps.sizes["query"] <= MAX_FLOW_TOKENS else None
        hit = (head_summary(maps), rollout(maps), flow)
        AGGREGATES.put(key, hit)
    return hit


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


def max_n(device: str | None) -> int:
    """Largest dispersion length offered: 4k on CPU, 32k on a GPU."""
    return 4096 if runtime.resolve_device(device).type == "cpu" else 32768


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

    widgets = {"text": {"type": pn.widgets.TextAreaInput, "height": 110},
               "queries": pn.widgets.IntRangeSlider,
               "replace_layers": pn.widgets.CheckButtonGroup,
               "window": pn.widgets.IntInput, "dispersion_window": pn.widgets.IntInput}

    def __init__(self, **params: Any):
        super().__init__(**params)
        self._maps: xr.DataArray | None = None
        self._qkv: Any = None
        self._summary: xr.Dataset | None = None
        self._rollout: xr.DataArray | None = None
        self._flow: xr.DataArray | None = None
        self._compare: xr.Dataset | None = None
        self._effect: xr.Dataset | None = None
        self._sentences: xr.Dataset | None = None
        self._dispersion: xr.Dataset | None = None
        self._grid = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="grid")
        self._layer_heads = pn.pane.HoloViews(None, name="layer_heads")
        self._heat = pn.pane.HoloViews(None, name="head")
        self._view = pn.pane.HoloViews(None, name="headview")
        self._summaries = [pn.pane.HoloViews(None, name=m) for m in SUMMARY_METRICS]
        self._rollout_panes = (pn.pane.HoloViews(None, name="rollout"), pn.pane.HoloViews(None, name="flow"))
        self._full = pn.pane.HoloViews(None, name="full")
        self._var = pn.pane.HoloViews(None, name="variant")
        self._effect_pane = pn.pane.HoloViews(None, name="effect")
        self._disp = pn.pane.HoloViews(None, name="dispersion")
        self._disp_info = pn.pane.Str("", css_classes=["wb-attention-dispersion-info"])
        self._compare_info = pn.pane.Str("", css_classes=["wb-attention-compare-info"])
        self._effect_info = pn.pane.Str("Press 'Run variant in the model'.", css_classes=["wb-attention-effect-info"])
        self._runner = self.runner(self._show_maps)
        self._aggregates_runner = self.runner(self._show_aggregates, pool="background", busy=False)
        self._effect_runner = self.runner(self._show_effect, pool="heavy")
        self._disp_runner = self.runner(self._show_dispersion, pool="heavy")
        self._run_disp = pn.widgets.Button(label="Run dispersion sweep", color="primary",
                                           css_classes=["wb-attention-run-dispersion"])
        self._run_disp.on_click(lambda _e: self.run_dispersion())
        self._set_n_choices()
        n_slider = pn.widgets.DiscreteSlider.from_param(self.param.n, name="n", css_classes=["wb-attention-n"])
        metric = pn.widgets.RadioButtonGroup.from_param(self.param.metric, name="metric")
        self._tabs = pn.Tabs(
            ("Model maps", pn.Column(self._grid, self._layer_heads, pn.Row(self._heat, self._view))),
            ("Summaries", pn.Column(pn.Row(*self._summaries), pn.Row(*self._rollout_panes))),
            ("Variant vs full", pn.Column(self._compare_info, pn.Row(self._full, self._var))),
            ("Variant in the model", pn.Column(self._effect_info, self._effect_pane)),
            ("Dispersion", pn.Column(pn.Row(n_slider, metric), self._disp, self._disp_info)),
            dynamic=False, sizing_mode="stretch_width")
        self.when_loaded(self.compute)

    # ---- compute ---------------------------------------------------------------------------------

    def _set_n_choices(self) -> None:
        choices = [c for c in N_CHOICES if c <= max_n(self.compute_device)]
        self.param.n_max.objects = choices
        self.param.n.objects = choices

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
        self._summary = self._rollout = self._flow = None
        grid = plots.grid_image(self._maps)
        tap = hv.streams.Tap(source=grid, x=None, y=None)
        tap.add_subscriber(self._on_tap)
        q0, q1 = plots.query_span(self.queries, n)
        # every view of the new text is replaced in this one callback, from the same forward
        self._grid.object = grid
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
        self._summary, self._rollout, self._flow = value
        for pane, metric in zip(self._summaries, SUMMARY_METRICS):
            hm = plots.summary_heatmap(self._summary, metric)
            hv.streams.Tap(source=hm, x=None, y=None).add_subscriber(self._on_summary_tap)
            pane.object = hm
        self._rollout_panes[0].object, self._rollout_panes[1].object = plots.rollout_plot(self._rollout, self._flow)

    def _on_tap(self, x: float | None = None, y: float | None = None) -> None:
        """A click on a tile of the grid enlarges that layer and head."""
        if self._maps is None or x is None or y is None:
            return
        step = plots.tile_cells(self._maps.sizes["query"]) + plots.GAP
        top = N_LAYERS * step - plots.GAP
        head, layer = int(x // step), int((top - y) // step)
        if 0 <= head < N_HEADS and 0 <= layer < N_LAYERS:
            self.param.update(layer=layer, head=head)

    def _on_summary_tap(self, x: float | None = None, y: float | None = None) -> None:
        """A click on a head of a summary opens its map in the Model maps tab."""
        if self._maps is None or x is None or y is None:
            return
        head, layer = int(round(x)), int(round(y))
        if 0 <= head < N_HEADS and 0 <= layer < N_LAYERS:
            self.param.update(layer=layer, head=head)
            self._tabs.active = 0

    @param.depends("layer", watch=True)
    def _show_layer(self) -> None:
        if self._maps is not None:
            self._layer_heads.object = plots.layer_images(self._maps, self.layer)

    @param.depends("layer", "head", "queries", watch=True)
    def _show_head(self) -> None:
        if self._maps is None:
            return
        m = self._maps.isel(layer=self.layer, head=self.head)
        heat, view = plots.head_pair(m, f"layer {self.layer}, head {self.head}", self.queries)
        # both from the same map and rows, in the same callback: never different tokens
        self._heat.object, self._view.object = heat, view
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
        label = "|F_n W| (FWin)" if self.variant == "fwin" else "weight"
        self._full.object = plots.head_heatmap(ds["map"].sel(variant="full"), "full softmax (same Q, K, V)")
        self._var.object = plots.head_heatmap(ds["map"].sel(variant=self.variant), f"{self.variant}", label)
        err = float(ds["relative_error"].sel(variant=self.variant))
        res = float(ds["map_residual"].sel(variant=self.variant))
        self._compare_info.object = (f"{self.variant} vs full, layer {self.layer} head {self.head}: "
                                     f"relative output difference {err:.3g}; max |map(V) - output| = {res:.1e}")

    def run(self) -> None:
        """The variant inside the model: on this text (per layer) and on the built-in sentences (ranks)."""
        text, variant, layers = self.text, self.variant, list(self.replace_layers)
        window = self.window if variant in ("sliding", "block", "fwin", "sema") else None
        mix = self.mix
        try:
            check_text("text", text)
            if not layers:
                raise ValueError("layers must not be empty: choose at least one layer to replace")
            device = self.compute_device
        except (ValueError, TypeError) as exc:
            self.status.error(exc)
            return

        def job(cancel: threading.Event):
            self.status.progress(None, f"running the model with {variant} in layers {layers} ...")
            on_text = replace_attention([text], variant, layers, window=window, mix=mix, device=device)
            sentences = None
            shortest = 9   # the shortest built-in sentence has 9 tokens with [CLS]/[SEP]
            if window is None or window <= max_window(variant, shortest):
                sentences = replace_attention(list(SENTENCES), variant, layers, window=window, mix=mix, device=device)
            return on_text, sentences

        self._effect_runner.submit(job)

    def _show_effect(self, value: tuple) -> None:
        self._effect, self._sentences = value
        self._effect_pane.object = plots.effect_plot(self._effect)
        p = self._effect.attrs
        line = (f"{self.variant} in layers {list(self._effect['layer'].values[self._effect['replaced'].values])}: "
                f"embedding cosine to the unmodified model {float(self._effect['embedding_cosine'][0]):.4f} "
                f"on this text")
        if self._sentences is not None:
            line += (f"; on the {self._sentences.sizes['text']} built-in sentences: mean cosine "
                     f"{float(self._sentences['embedding_cosine'].mean()):.4f}, Spearman rho of pairwise "
                     f"similarities {float(self._sentences['similarity_spearman']):.3f}")
        else:
            line += "; the window is wider than the built-in sentences, so no similarity check"
        self._effect_info.object = line
        self.status.info(f"variant in the model: {float(p['elapsed_s']):.2f} s")

    def run_dispersion(self) -> None:
        """Sweep n = 64 .. n_max for the dispersion curves (off the event loop, with progress)."""
        try:
            device = self.compute_device
        except ValueError as exc:
            self.status.error(exc)
            return
        ns = tuple(c for c in N_CHOICES if 64 <= c <= self.n_max)
        key = (ns, DISPERSION_VARIANTS, self.source, self.dispersion_window, self.mix, device)

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

    # ---- export ----------------------------------------------------------------------------------

    def figure(self) -> Any:
        """The figure of the open tab."""
        tab = self._tabs.active
        if tab == 0 and self._maps is not None:
            m = self._maps.isel(layer=self.layer, head=self.head)
            return hv.Layout(list(plots.head_pair(m, f"layer {self.layer}, head {self.head}", self.queries))).cols(2)
        if tab == 1 and self._rollout is not None:
            return hv.Layout(list(plots.rollout_plot(self._rollout, self._flow))).cols(2)
        if tab == 3 and self._effect is not None:
            return plots.effect_plot(self._effect)
        if tab == 4 and self._dispersion is not None:
            return plots.dispersion_plot(self._dispersion, self.metric, self.n)
        if tab == 2 and self._compare is not None:
            ds = self._compare.isel(head=self.head)
            return (plots.head_heatmap(ds["map"].sel(variant="full"), f"full, layer {self.layer} head {self.head}")
                    + plots.head_heatmap(ds["map"].sel(variant=self.variant), self.variant)).cols(2)
        return None

    def data(self) -> xr.Dataset | None:
        """The data of the open tab."""
        tab = self._tabs.active
        if tab == 0 and self._maps is not None:
            return paper.figure_data(self._maps, [(self.layer, self.head)])  # the paper figure's data
        if tab == 1 and self._summary is not None:
            ds = self._summary.copy()
            ds["rollout"] = self._rollout
            return ds
        if tab == 3:
            return self._effect
        if tab == 4:
            return self._dispersion
        return self._compare

    # ---- layout ----------------------------------------------------------------------------------

    def controls_extra(self) -> list[Any]:
        return [self._run_disp]

    def body(self) -> pn.viewable.Viewable:
        return self._tabs
