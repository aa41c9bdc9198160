"""The attention paper figure: selected heads as maps with token labels, and one head as a token diagram.

An attention map ``A = softmax(Q K^T / sqrt(d_h))`` (rows: queries, summing to 1
over the keys; Vaswani et al. 2017). Each selected (layer, head) is drawn as
a map with the WordPiece tokens on both axes (at the text size, thinned when
they would collide) and a labelled colour bar; the first is also drawn as a
head view (Vig 2019, bertviz): query tokens in the left column, key tokens in
the right, a line per weight above ``threshold`` whose width and opacity grow
with the weight. No numeric axes on the diagram; no per-cell numbers on maps.

:func:`figure_data` is the Dataset drawn (what the explorer's download holds);
it names the figure ``attention.heads``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from .. import validate
from ..export import panels
from ..export.paper import figure_dataset, register

FIGURE = "attention.heads"
MAX_HEADS = 4
LINE_PT = 10.0  # vertical room per token in the head view, points (8 pt text + leading)
MAX_LINES = int((9.5 - 1.5) * 72 / LINE_PT)  # token rows a 9.5 in page holds beside the map


def figure_data(maps: xr.DataArray, heads: Sequence[tuple[int, int]], *, threshold: float = 0.05) -> xr.Dataset:
    """The (query, key) maps of ``heads`` = [(layer, head), ...] of one text (:func:`.model_attention`)."""
    heads = [(int(a), int(b)) for a, b in validate.non_empty("heads", list(heads))]
    validate.integer("heads", len(heads), lo=1, hi=MAX_HEADS)
    for layer, head in heads:
        validate.integer("layer", layer, lo=0, hi=maps.sizes["layer"] - 1)
        validate.integer("head", head, lo=0, hi=maps.sizes["head"] - 1)
    validate.number("threshold", threshold, lo=0.0, hi=1.0)
    sel = [maps.isel(layer=layer, head=head, drop=True) for layer, head in heads]
    weight = xr.concat(sel, dim="panel").assign_coords(
        layer=("panel", [h[0] for h in heads]), head=("panel", [h[1] for h in heads]))
    weight.attrs = {"long_name": "attention weight", "units": "1"}
    data = xr.Dataset({"attention": weight})
    return figure_dataset(data, [maps.to_dataset(promote_attrs=True)], FIGURE, threshold=float(threshold))


def _n(ds: xr.Dataset) -> int:
    return ds.sizes["query"]


def _aspect(ds: xr.Dataset, width_in: float) -> float:
    view_h = max(1.6, _n(ds) * LINE_PT / 72 + 0.5)  # the head view's column of tokens
    if width_in >= 5:
        return max(view_h, 3.3) / width_in
    return (width_in * 0.8 + view_h) / width_in


def _tokens(ds: xr.Dataset, axis: str) -> list[str]:
    name = f"{axis}_token"
    return [str(t) for t in ds[name].values] if name in ds.coords else [str(i) for i in range(ds.sizes[axis])]


def _heatmap(fig, ax, ds: xr.Dataset, i: int) -> None:
    w = ds["attention"].isel(panel=i).transpose("query", "key").values
    n_q, n_k = w.shape
    im = panels.image(fig, ax, np.arange(n_k), np.arange(n_q), w, "attention weight (1)")
    ax.invert_yaxis()  # query 0 on top, as the text reads
    ax.set_xticks(np.arange(n_k), _tokens(ds, "key"), rotation=90)
    ax.set_yticks(np.arange(n_q), _tokens(ds, "query"))
    ax.tick_params(length=1.5)  # tokens at the preset's tick size (7 pt), every one while they fit
    ax.set_xlabel("key token")
    ax.set_ylabel("query token")
    layer, head = int(ds["layer"].values[i]), int(ds["head"].values[i])
    ax.set_title(f"layer {layer}, head {head}")
    im.set_clim(0.0, 1.0)


def _head_view(ax, ds: xr.Dataset, threshold: float) -> None:
    w = np.nan_to_num(ds["attention"].isel(panel=0).transpose("query", "key").values)
    q, k = _tokens(ds, "query"), _tokens(ds, "key")
    qi, kj = np.nonzero(w > threshold)
    for a, b in zip(qi, kj):
        ax.plot([0.0, 1.0], [a, b], color="#1f5f8b", linewidth=0.3 + 1.7 * w[a, b],
                alpha=float(0.15 + 0.85 * w[a, b]), solid_capstyle="butt")
    size = panels.text_size()
    every = -(-max(len(q), len(k)) // MAX_LINES)  # label every k-th token when the page cannot hold all
    for i, t in enumerate(q):
        if i % every == 0:
            ax.text(-0.04, i, t, ha="right", va="center", fontsize=size)
    for j, t in enumerate(k):
        if j % every == 0:
            ax.text(1.04, j, t, ha="left", va="center", fontsize=size)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(max(len(q), len(k)) - 0.5, -0.5)
    ax.axis("off")
    layer, head = int(ds["layer"].values[0]), int(ds["head"].values[0])
    ax.set_title(f"head view\nlayer {layer}, head {head}\nweight > {threshold:g}")


@register(FIGURE, aspect=_aspect)
def draw(ds: xr.Dataset, fig, *, width_in: float, threshold: float = 0.05) -> list:
    """The selected heads' maps, then the first head's token diagram."""
    n_maps = ds.sizes["panel"] if width_in >= 5 else 1
    if width_in >= 5:
        mosaic = [[f"m{i}" for i in range(n_maps)] + ["view"]]
        axes = fig.subplot_mosaic(mosaic, width_ratios=[1.0] * n_maps + [0.4])
    else:
        axes = fig.subplot_mosaic([["m0"], ["view"]], height_ratios=[width_in * 0.8, max(1.6, _n(ds) * LINE_PT / 72)])
    out = []
    for i in range(n_maps):
        _heatmap(fig, axes[f"m{i}"], ds, i)
        out.append(axes[f"m{i}"])
    _head_view(axes["view"], ds, threshold)
    out.append(axes["view"])
    return out
