"""HoloViews views of attention results (render in bokeh and in matplotlib for export).

* :func:`grid_image`   all layers x heads of a model as one tiled image (rows: layers, columns: heads)
* :func:`head_heatmap` one map with token labels; hover shows query, key and weight
* :func:`head_view`    lines from each query token to the keys it attends to, width by weight
* :func:`dispersion_plot` a dispersion metric against n, log-log, with the uniform reference
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers bokeh (dashboards), the current backend
import holoviews.plotting.mpl  # noqa: F401  registers matplotlib (export); bokeh stays current
import numpy as np
import pandas as pd
import xarray as xr

from .dispersion import METRICS

GAP = 1  # blank cells between tiles of the grid
GRID_CELLS = 64  # longest tile side of the grid before pooling
LABELLED = 128  # longest map drawn with token labels; longer maps are images over positions


def token_labels(tokens) -> list[str]:
    """Unique axis labels ``"3 cat"`` (tokens repeat, categorical axes need unique values)."""
    return [f"{i} {t}" for i, t in enumerate(tokens)]


def tile_cells(n: int, size: int = GRID_CELLS) -> int:
    """Side of an n x n map's tile after :func:`pool` to at most ``size`` cells."""
    f = -(-n // size)
    return -(-n // f)


def pool(maps: np.ndarray, size: int) -> np.ndarray:
    """Average-pool the last two axes of (..., n, n) maps to at most ``size`` x ``size`` cells."""
    n = maps.shape[-1]
    f = -(-n // size)
    if f == 1:
        return maps
    m = -(-n // f) * f
    padded = np.full(maps.shape[:-2] + (m, m), np.nan)
    padded[..., :n, :n] = maps
    blocks = padded.reshape(*maps.shape[:-2], m // f, f, m // f, f)
    with np.errstate(invalid="ignore"):
        return np.nanmean(blocks, axis=(-3, -1)) if np.isnan(blocks).any() else blocks.mean(axis=(-3, -1))


def grid_image(da: xr.DataArray, max_cells: int = GRID_CELLS) -> hv.Image:
    """Tile the (layer, head, query, key) maps of one text into one image; NaN between tiles.

    Tiles longer than ``max_cells`` tokens are average-pooled to keep the page light.
    """
    vals = pool(da.transpose("layer", "head", "query", "key").values, max_cells)
    L, H, n, _ = vals.shape
    step = n + GAP
    mosaic = np.full((L * step - GAP, H * step - GAP), np.nan)
    for li in range(L):
        for h in range(H):
            mosaic[li * step: li * step + n, h * step: h * step + n] = vals[li, h]
    w, hgt = mosaic.shape[1], mosaic.shape[0]
    pooled = "" if n == da.sizes["query"] else f", tiles pooled to {n} x {n}"
    img = hv.Image(mosaic[::-1], bounds=(0, 0, w, hgt), kdims=["head", "layer"], vdims=["weight"])
    xt = [((h + 0.5) * step - GAP / 2, str(h)) for h in range(H)]
    yt = [(hgt - (li + 0.5) * step + GAP / 2, str(li)) for li in range(L)]
    return img.opts(xticks=xt, yticks=yt, cmap="viridis", colorbar=True,
                    title=f"all heads (rows: layers, columns: heads{pooled}); click a tile").opts(
        backend="bokeh", tools=["hover", "tap"], width=900, height=max(300, int(900 * hgt / w)) + 40,
        clipping_colors={"NaN": "white"})


def head_heatmap(m: xr.DataArray, title: str = "", label: str = "weight") -> hv.HeatMap:
    """A (query, key) map as a heatmap with token labels (rows: queries, top to bottom)."""
    vals = m.transpose("query", "key").values
    if vals.shape[0] > LABELLED:  # too many tokens to label: an image over positions (hover: position, weight)
        n_q, n_k = vals.shape
        img = hv.Image(vals[::-1], bounds=(0, 0, n_k, n_q), kdims=["key", "query"], vdims=[label])
        return img.opts(cmap="viridis", colorbar=True, title=title).opts(
            backend="bokeh", tools=["hover"], width=520, height=480)
    q_tokens = m["query_token"].values if "query_token" in m.coords else np.arange(m.sizes["query"])
    k_tokens = m["key_token"].values if "key_token" in m.coords else np.arange(m.sizes["key"])
    ql, kl = token_labels(q_tokens), token_labels(k_tokens)
    df = pd.DataFrame({"key": np.tile(kl, len(ql)), "query": np.repeat(ql, len(kl)),
                       label: vals.ravel()})
    hm = hv.HeatMap(df, kdims=["key", "query"], vdims=[label])
    return hm.opts(cmap="viridis", colorbar=True, invert_yaxis=True, xrotation=90, title=title).opts(
        backend="bokeh", tools=["hover"], width=520, height=480)


def head_view(m: xr.DataArray, threshold: float = 0.02) -> hv.Overlay:
    """bertviz-style head view: query tokens left, key tokens right, a line per weight > threshold."""
    q_tokens = list(m["query_token"].values)
    k_tokens = list(m["key_token"].values)
    vals = m.transpose("query", "key").values
    n_q, n_k = vals.shape
    qi, kj = np.nonzero(np.nan_to_num(vals) > threshold)
    w = vals[qi, kj]
    segs = hv.Segments((np.zeros(len(w)), -qi.astype(float), np.ones(len(w)), -kj.astype(float), w),
                       kdims=["x0", "y0", "x1", "y1"], vdims=["weight"])
    segs = segs.opts(color="weight", cmap="Blues", clim=(0, 1)).opts(
        backend="bokeh", line_width=hv.dim("weight") * 6 + 0.3, alpha=0.8, tools=["hover"]).opts(
        backend="matplotlib", linewidth=hv.dim("weight") * 3 + 0.2)
    left = hv.Labels((np.full(n_q, -0.02), -np.arange(n_q, dtype=float), q_tokens), vdims=["token"])
    right = hv.Labels((np.full(n_k, 1.02), -np.arange(n_k, dtype=float), k_tokens), vdims=["token"])
    left = left.opts(backend="bokeh", text_align="right", text_font_size="9pt")
    right = right.opts(backend="bokeh", text_align="left", text_font_size="9pt")
    view = segs * left * right if max(n_q, n_k) <= LABELLED else segs  # labels only while readable
    return view.opts(
        title=f"head view (lines: weight > {threshold})", xaxis=None, yaxis=None).opts(
        backend="bokeh", width=360, height=min(2400, max(300, 24 * max(n_q, n_k) + 60)), xlim=(-0.6, 1.6))


def dispersion_plot(ds: xr.Dataset, metric: str = "max_weight", n: int | None = None) -> hv.Overlay:
    """``metric`` against n for each variant (log-log) with the uniform reference and a marker at ``n``."""
    long_name, units = METRICS[metric]
    curves = [hv.Curve((ds["n"].values, ds[metric].sel(variant=v).values), "n", (metric, long_name),
                       label=str(v)).opts(logx=True, logy=True)
              for v in ds["variant"].values]
    ref_name = {"max_weight": "1/n", "entropy": "log n", "k90": "0.9 n"}[metric]
    ref = hv.Curve((ds["n"].values, ds[f"{metric}_ref"].values), "n", (metric, long_name),
                   label=f"uniform ({ref_name})").opts(color="black").opts(
        backend="bokeh", line_dash="dashed").opts(backend="matplotlib", linestyle="dashed")
    items = [*curves, ref]
    if n is not None:
        items.append(hv.VLine(float(n)).opts(color="gray"))
    ylabel = f"{long_name} [{units}]" if units != "1" else long_name
    return hv.Overlay(items).opts(logx=True, logy=True, xlabel="sequence length n", ylabel=ylabel,
                                  title=f"dispersion: {long_name}").opts(
        backend="bokeh", width=640, height=380, legend_position="right", tools=["hover"])
