"""HoloViews views of BinaryRelax training: curves over seeds, weight histograms, the 1-D relaxation, the slice.

Plain HoloViews elements with labelled, unit-carrying axes (accuracy in %, loss in
nats, weights in units of the layer's scale alpha); bokeh-only options set with
``backend="bokeh"`` so the same objects export through matplotlib.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers bokeh (dashboards), the current backend
import holoviews.plotting.mpl  # noqa: F401  registers matplotlib (export); bokeh stays current
import numpy as np
import torch
import xarray as xr

from .relax import relaxed_prox
from .sets import QuantSet, nearest

COLORS = {"float": "#444444", "binaryconnect": "#1f77b4", "binaryrelax": "#d62728"}
LABELS = {"float": "float", "binaryconnect": "BinaryConnect", "binaryrelax": "BinaryRelax"}
METRIC_AXES = {"test_accuracy": ("test accuracy (%)", 100.0), "train_accuracy": ("training accuracy (%)", 100.0),
               "test_loss": ("test cross-entropy (nats)", 1.0), "train_loss": ("training cross-entropy (nats)", 1.0),
               "on_grid_fraction": ("weights exactly on Q (fraction)", 1.0)}
EPOCH = hv.Dimension("epoch", label="epoch")


def _bokeh(obj, **opts):
    return obj.opts(backend="bokeh", **opts)


def curves(curves_by_method: dict[str, np.ndarray], metric: str = "test_accuracy") -> hv.Overlay:
    """Median over seeds (line) and the 10-90 % spread (band) per method; arrays (seeds, epochs), NaN = not yet."""
    label, scale = METRIC_AXES[metric]
    y = hv.Dimension(metric, label=label)
    items = []
    for method, arr in curves_by_method.items():
        arr = np.asarray(arr, dtype=float) * scale
        done = ~np.all(np.isnan(arr), axis=0)
        epochs = np.arange(1, arr.shape[1] + 1)[done]
        if not len(epochs):
            continue
        a = arr[:, done]
        lo, med, hi = np.nanpercentile(a, [10, 50, 90], axis=0)
        c = COLORS.get(method, "#2ca02c")
        items.append(hv.Area((epochs, lo, hi), EPOCH, [y, f"{metric}_hi"]).opts(color=c, alpha=0.2, line_alpha=0))
        items.append(hv.Curve((epochs, med), EPOCH, y, label=f"{LABELS.get(method, method)} (median)")
                     .opts(color=c))
    if not items:
        items = [hv.Curve([], EPOCH, y)]
    overlay = hv.Overlay(items).opts(title=f"{label}: median and 10-90 % over seeds")
    return _bokeh(overlay, legend_position="bottom_right", responsive=True, height=300)


def histogram_counts(x: np.ndarray, alpha: np.ndarray, q: QuantSet, bins: int = 81) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``x / alpha`` (pooled over seeds) on a fixed range around Q's levels; returns (edges, counts)."""
    top = 1.5 * max(q.magnitudes)
    edges = np.linspace(-top, top, bins + 1)
    a = np.where(alpha > 0, alpha, 1.0)[:, None]
    return edges, np.histogram(np.clip(x / a, -top, top), edges)[0]


def weight_histograms(hists: dict[str, tuple[np.ndarray, np.ndarray]], q: QuantSet, title: str) -> hv.Layout:
    """One histogram per quantized layer of ``w / alpha``, the levels of Q as vertical lines."""
    panels = []
    for layer, (edges, counts) in hists.items():
        h = hv.Histogram((edges, counts), kdims=[hv.Dimension("w", label="weight / layer scale α")],
                         vdims=[hv.Dimension("count", label="weights (count)")]).opts(color="#888888", line_alpha=0)
        lines = [hv.VLine(float(v)).opts(color="#d62728", line_dash="dashed", line_width=1) for v in q.levels()]
        panels.append(_bokeh(hv.Overlay([h, *lines]).opts(title=layer), width=260, height=220))
    return hv.Layout(panels).opts(title=title).cols(3) if panels else hv.Layout([])


def relaxation(q: QuantSet, lam: float, alpha: float = 1.0) -> hv.Layout:
    """The 1-D picture at scale alpha: levels, ``(lambda/2) dist(w, Q)^2`` and the relaxed prox as a map."""
    top = 1.5 * max(q.magnitudes) * alpha
    w = torch.linspace(-top, top, 1201, dtype=torch.float64)
    p = nearest(w[None], torch.tensor([alpha], dtype=torch.float64), q)[0]
    x = relaxed_prox(w, p, lam)
    wd = hv.Dimension("w", label="weight w (units of α)")
    levels = hv.Scatter((q.levels().numpy() * alpha, np.zeros(len(q.levels()))), wd, "penalty").opts(
        color="#d62728", size=8, marker="diamond")
    pen = hv.Curve((w, 0.5 * lam * (w - p) ** 2), wd, hv.Dimension("penalty", label="(λ/2)·dist(w, Q)²"),
                   label=f"λ = {lam:.3g}").opts(color="#1f77b4")
    left = _bokeh(hv.Overlay([pen, levels]).opts(title="Moreau envelope of Q's indicator"), responsive=True, height=260)
    yd = hv.Dimension("y", label="float weight y (units of α)")
    xd = hv.Dimension("x", label="relaxed weight x (units of α)")
    right = hv.Overlay([
        hv.Curve((w, w), yd, xd, label="identity (λ = 0)").opts(color="#bbbbbb", line_dash="dotted"),
        hv.Curve((w, p), yd, xd, label="proj_Q (λ → ∞)").opts(color="#444444", line_dash="dashed"),
        hv.Curve((w, x), yd, xd, label="(λ proj_Q(y) + y)/(λ + 1)").opts(color="#d62728"),
    ]).opts(title="relaxed prox as a map")
    return hv.Layout([left, _bokeh(right, legend_position="top_left", responsive=True, height=260)]).cols(2)


def loss_slice(ds: xr.Dataset) -> hv.Layout:
    """Loss and its Moreau envelope on the plane (a: float -> quantized, b: filter-normalised direction)."""
    ad = hv.Dimension("a", label="a (0 = float, 1 = quantized)")
    bd = hv.Dimension("b", label="b (filter-normalised direction)")
    marks = hv.Scatter(([0.0, 1.0], [0.0, 0.0]), ad, bd).opts(color="white", size=9, marker="x")
    panels = []
    for name, title in (("loss", "training loss on the slice"),
                        ("envelope", f"Moreau envelope, t = {ds.attrs.get('t', '') or _t(ds)}")):
        img = hv.Image((ds.a.values, ds.b.values, ds[name].values), [ad, bd],
                       hv.Dimension(name, label="cross-entropy (nats)")).opts(cmap="viridis", title=title)
        img = img.opts(backend="matplotlib", colorbar=True)
        panels.append(_bokeh(img, colorbar=True, width=340, height=290, tools=["hover"]) * marks)
    return hv.Layout(panels).cols(2)


def _t(ds: xr.Dataset) -> str:
    import json

    return f"{json.loads(ds.attrs.get('parameters', '{}')).get('t', '')}"
