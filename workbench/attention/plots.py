"""HoloViews views of attention results (render in bokeh and in matplotlib for export).

* :func:`grid_image`   all layers x heads of a model as one tiled image (rows: layers, columns: heads)
* :func:`head_heatmap` one map as one rasterised image, token labels on the axes; hover: position, weight
* :func:`head_view`    lines from the selected query tokens to the keys they attend to, width by weight
* :func:`head_pair`    both, from the same map and query rows (one pane: they never show different tokens)
* :func:`layer_images` the heads of one layer, one image each, drawn when that layer is chosen
* :func:`summary_heatmap`, :func:`rollout_plot`, :func:`effect_plot` head summaries, rollout/flow,
  the per-layer effect of a variant inside the model
* :func:`dispersion_plot` a dispersion metric against n, log-log, with the uniform reference
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers bokeh (dashboards), the current backend
import holoviews.plotting.mpl  # noqa: F401  registers matplotlib (export); bokeh stays current
import numpy as np
import xarray as xr

from .dispersion import METRICS

GAP = 1  # blank cells between tiles of the grid
GRID_CELLS = 64  # longest tile side of the grid before pooling
TICK_LABELS = 48  # maps up to this many tokens label every row and column
MAX_QUERIES = 32  # query rows in the head view
MAX_KEYS = 48  # keys in the head view
LAYER_CELLS = 128  # side of the per-layer head images after pooling


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
    if n % f == 0 and not np.isnan(maps).any():   # the common case: a plain block mean, no copy
        return maps.reshape(*maps.shape[:-2], n // f, f, n // f, f).mean(axis=(-3, -1))
    m = -(-n // f) * f
    padded = np.full(maps.shape[:-2] + (m, m), np.nan)
    padded[..., :n, :n] = maps
    blocks = padded.reshape(*maps.shape[:-2], m // f, f, m // f, f)
    with np.errstate(invalid="ignore"):
        return np.nanmean(blocks, axis=(-3, -1)) if np.isnan(blocks).any() else blocks.mean(axis=(-3, -1))


def grid_image(da: xr.DataArray, max_cells: int = GRID_CELLS, title: str = "", width: int = 760) -> hv.Image:
    """Tile the (layer, head, query, key) maps of one text into one image; NaN between tiles.

    Tiles longer than ``max_cells`` tokens are average-pooled to keep the page light.
    """
    title = title or "all heads (rows: layers, columns: heads); click a tile"
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
    yt = [(hgt - (li + 0.5) * step + GAP / 2, str(int(v))) for li, v in enumerate(da["layer"].values)]
    return img.opts(xticks=xt, yticks=yt, cmap="viridis", colorbar=True, colorbar_opts={"title": "attention weight"},
                    title=f"{title}{pooled}").opts(
        backend="bokeh", tools=["hover", "tap"], frame_width=width, frame_height=max(40, int(width * hgt / w)),
        clipping_colors={"NaN": "white"})


def named(name: str):
    """A HoloViews hook that sets the Bokeh figure's ``name`` (for exported documents; in a served
    Panel page the figures are found by their titles)."""
    def hook(plot, element):
        plot.state.name = name
    return hook


def _tokens(m: xr.DataArray, dim: str) -> list[str]:
    coord = f"{dim}_token"
    return [str(t) for t in (m[coord].values if coord in m.coords else np.arange(m.sizes[dim]))]


def query_span(queries: tuple[int, int] | None, n: int) -> tuple[int, int]:
    """The selected query rows (first, last), clipped to the n tokens and to ``MAX_QUERIES`` rows."""
    q0, q1 = (0, n - 1) if queries is None else (int(queries[0]), int(queries[1]))
    q0 = min(max(q0, 0), n - 1)
    q1 = min(max(q1, q0), n - 1, q0 + MAX_QUERIES - 1)
    return q0, q1


def head_heatmap(m: xr.DataArray, title: str = "", label: str = "weight", queries: tuple[int, int] | None = None,
                 keys: list[int] | None = None, name: str = "") -> hv.Overlay:
    """A (query, key) map as one rasterised image (not a glyph per cell), queries top to bottom.

    Rows are labelled "i token": the selected ``queries`` rows (marked by a band: the head view's
    rows) or, without a selection, every row up to ``TICK_LABELS`` tokens. Columns: every key up
    to ``TICK_LABELS`` tokens, else key positions (``keys``, the head view's, is kept for callers).
    """
    vals = m.transpose("query", "key").values
    n_q, n_k = vals.shape
    img = hv.Image(vals[::-1], bounds=(-0.5, -0.5, n_k - 0.5, n_q - 0.5),
                   kdims=[hv.Dimension("key", label="key position", unit="token"),
                          hv.Dimension("query", label="query position", unit="token")],
                   vdims=[hv.Dimension(label)])
    q_lab, k_lab = token_labels(_tokens(m, "query")), token_labels(_tokens(m, "key"))
    rows = (range(n_q) if n_q <= TICK_LABELS else []) if queries is None else range(queries[0], queries[1] + 1)
    opts = {}
    if len(rows):   # HoloViews needs at least one tick in a list of ticks
        opts["yticks"] = [(i, q_lab[i]) for i in rows]
    if n_k <= TICK_LABELS:   # longer maps: key positions (the head view names its keys)
        opts["xticks"] = [(j, k_lab[j]) for j in range(n_k)]
    hooks = [named(name)] if name else []
    img = img.opts(cmap="viridis", colorbar=True, colorbar_opts={"title": label}, invert_yaxis=True, title=title, xrotation=90,
                   **opts).opts(backend="bokeh", tools=["hover"], width=560, height=520, hooks=hooks).opts(
        backend="matplotlib", cmap="viridis", colorbar=True, invert_yaxis=True, xrotation=90, **opts)
    items = [img]
    if queries is not None:
        items.append(hv.HSpan(queries[0] - 0.5, queries[1] + 0.5).opts(color="white", alpha=0.15))
    return hv.Overlay(items).opts(title=title).opts(backend="matplotlib", title=title)


def head_view(m: xr.DataArray, queries: tuple[int, int] | None = None, threshold: float = 0.02,
              name: str = "") -> hv.Overlay:
    """bertviz-style head view of the selected query rows: their tokens left, keys right, a line per weight.

    Only the ``queries`` rows are drawn (at most ``MAX_QUERIES``); the keys shown are those
    receiving a weight above ``threshold`` from them (the ``MAX_KEYS`` heaviest), listed in order.
    The labels are "i token", the same strings as the heat map's axes.
    """
    vals = np.nan_to_num(m.transpose("query", "key").values)
    q0, q1 = query_span(queries, vals.shape[0])
    rows = vals[q0:q1 + 1]
    keys = head_view_keys(rows, threshold)
    q_lab, k_lab = token_labels(_tokens(m, "query")), token_labels(_tokens(m, "key"))
    r, nk = rows.shape[0], max(len(keys), 1)
    height = max(r, nk)
    yq = -np.arange(r) * (height - 1) / max(r - 1, 1)     # both columns span the same height
    yk = -np.arange(len(keys)) * (height - 1) / max(len(keys) - 1, 1)
    sub = rows[:, keys]
    qi, kj = np.nonzero(sub > threshold)
    w = sub[qi, kj]
    segs = hv.Segments((np.zeros(len(w)), yq[qi], np.ones(len(w)), yk[kj], w),
                       kdims=["x0", "y0", "x1", "y1"], vdims=["weight"])
    segs = segs.opts(color="weight", cmap="Blues", clim=(0, 1)).opts(
        backend="bokeh", line_width=hv.dim("weight") * 6 + 0.3, alpha=0.8, tools=["hover"]).opts(
        backend="matplotlib", color="weight", cmap="Blues", clim=(0, 1), linewidth=hv.dim("weight") * 3 + 0.2)
    left = hv.Labels((np.full(r, -0.02), yq, [q_lab[i] for i in range(q0, q1 + 1)]), vdims=["token"])
    right = hv.Labels((np.full(len(keys), 1.02), yk, [k_lab[j] for j in keys]), vdims=["token"])
    left = left.opts(backend="bokeh", text_align="right", text_font_size="9pt").opts(
        backend="matplotlib", horizontalalignment="right", fontsize=8)
    right = right.opts(backend="bokeh", text_align="left", text_font_size="9pt").opts(
        backend="matplotlib", horizontalalignment="left", fontsize=8)
    hooks = [named(name)] if name else []
    title = f"head view: queries {q0}-{q1} (lines: weight > {threshold})"
    return (segs * left * right).opts(title=title, xaxis=None, yaxis=None).opts(
        backend="bokeh", width=420, height=min(1600, max(320, 22 * height + 60)), xlim=(-0.8, 1.8),
        hooks=hooks).opts(backend="matplotlib", title=f"head view: queries {q0}-{q1}", xaxis=None, yaxis=None,
                          xlim=(-0.8, 1.8))


def head_view_keys(rows: np.ndarray, threshold: float = 0.02) -> list[int]:
    """Keys a head view of ``rows`` (r, n) shows: weight > threshold from some row, the ``MAX_KEYS`` heaviest."""
    hit = np.nonzero((rows > threshold).any(axis=0))[0]
    if len(hit) > MAX_KEYS:
        hit = np.sort(hit[np.argsort(-rows[:, hit].sum(axis=0), kind="stable")[:MAX_KEYS]])
    return [int(j) for j in hit]


def head_pair(m: xr.DataArray, title: str, queries: tuple[int, int],
              threshold: float = 0.02) -> tuple[hv.Overlay, hv.Overlay]:
    """The enlarged map and its head view from the same map and query rows: always the same tokens."""
    q0, q1 = query_span(queries, m.sizes["query"])
    vals = np.nan_to_num(m.transpose("query", "key").values)
    keys = head_view_keys(vals[q0:q1 + 1], threshold)
    return (head_heatmap(m, title, queries=(q0, q1), keys=keys, name="wb-attention-heatmap"),
            head_view(m, (q0, q1), threshold, name="wb-attention-headview"))


def layer_images(da: xr.DataArray, layer: int, max_cells: int = LAYER_CELLS) -> hv.Image:
    """The heads of one layer side by side, one rasterised image (pooled to ``max_cells`` per head)."""
    return grid_image(da.isel(layer=[layer]), max_cells, title=f"layer {layer}: every head (columns: heads)",
                      width=960)


def summary_heatmap(ds: xr.Dataset, metric: str) -> hv.HeatMap:
    """One head summary (layer x head) as a small heat map; a click on a cell selects that head."""
    long_name, units = ds[metric].attrs.get("long_name", metric), ds[metric].attrs.get("units", "")
    L, H = ds.sizes["layer"], ds.sizes["head"]
    hm = hv.HeatMap((np.tile(np.arange(H), L), np.repeat(np.arange(L), H), ds[metric].values.ravel()),
                    kdims=[hv.Dimension("head"), hv.Dimension("layer")],
                    vdims=[hv.Dimension(metric, label=long_name, unit=units if units != "1" else None)])
    return hm.opts(cmap="magma", colorbar=True, colorbar_opts={"title": f"{long_name} [{units}]"}, invert_yaxis=True,
                   title=f"{long_name} per head (click: open its map)", xticks=list(range(H)),
                   yticks=list(range(L))).opts(backend="bokeh", tools=["hover", "tap"], width=420, height=260)


def rollout_plot(r: xr.DataArray, flow: xr.DataArray | None = None) -> tuple[hv.Overlay, hv.Overlay]:
    """The last layer's rollout map and, for the [CLS] query, rollout and flow against key position."""
    last = r.isel(layer=-1)
    img = head_heatmap(last, f"attention rollout after layer {int(last['layer'])}", label="rollout")
    n = r.sizes["key"]
    curves = [hv.Curve((np.arange(n), last.isel(query=0).values), ("key", "key position [token]"),
                       ("share", "share of [CLS]"), label="rollout").opts(color="#1f77b4")]
    if flow is not None:
        curves.append(hv.Curve((np.arange(n), flow.isel(query=0).values), ("key", "key position [token]"),
                               ("share", "share of [CLS]"), label="flow (max-flow)").opts(color="#d62728"))
    over = hv.Overlay(curves).opts(title="[CLS]: rollout and flow from each input token",
                                   xlabel="key position [token]", ylabel="share of [CLS] [1]").opts(
        backend="bokeh", width=520, height=300, legend_position="top_right")
    return img, over


def effect_plot(ds: xr.Dataset) -> hv.Overlay:
    """Per layer: the relative hidden-state change and attention-output error (means over the texts)."""
    layer = ds["layer"].values
    mean = ds.mean("text")
    items = []
    for var, color in (("hidden_change", "#1f77b4"), ("attention_error", "#d62728")):
        label = ds[var].attrs["long_name"]
        c = hv.Curve((layer, mean[var].values), ("layer", "layer"), ("value", "relative difference"),
                     label=label).opts(color=color)
        items += [c, hv.Scatter(c).opts(color=color, size=6)]
    return hv.Overlay(items).opts(xlabel="layer", ylabel="relative difference [1]",
                                  title="the model with the variant: per layer").opts(
        backend="bokeh", width=620, height=320, legend_position="top_left", tools=["hover"])


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
