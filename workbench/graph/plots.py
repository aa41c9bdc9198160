"""HoloViews views of the graph family: label-rate curves, the embedding, harmonic functions, degradation."""

from __future__ import annotations

from collections.abc import Mapping

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers bokeh (dashboards), the current backend
import holoviews.plotting.mpl  # noqa: F401  registers matplotlib (export); bokeh stays current
import numpy as np
import xarray as xr

COLORS = {"gl": "#1f77b4", "wnll": "#d62728", "knn": "#2ca02c", "svm": "#9467bd", "softmax": "#8c564b",
          "linear": "#1f77b4"}
NAMES = {"gl": "GL", "wnll": "WNLL", "knn": "1-NN", "svm": "RBF SVM", "softmax": "softmax", "linear": "softmax output"}


def accuracy_curves(points: Mapping[str, Mapping[int, tuple[float, float]]], *, title: str = "") -> hv.Overlay:
    """Accuracy (mean ± std over draws) against labels per class, one curve per method.

    ``points[method][labels_per_class] = (mean, std)``; fills as values arrive.
    """
    layers = []
    for m, pts in points.items():
        if not pts:
            continue
        n = np.array(sorted(pts))
        mean = np.array([pts[v][0] for v in n]) * 100
        std = np.array([pts[v][1] for v in n]) * 100
        label = NAMES.get(m, m)
        layers.append(hv.Curve((n, mean), "labels per class", ("accuracy", "accuracy (%)"), label=label)
                      .opts(color=COLORS.get(m, "black"), line_width=2)
                      .opts(color=COLORS.get(m, "black"), backend="matplotlib"))
        layers.append(hv.ErrorBars((n, mean, std), "labels per class", [("accuracy", "accuracy (%)"), "std"],
                                   label=label).opts(color=COLORS.get(m, "black"))
                      .opts(edgecolor=COLORS.get(m, "black"), backend="matplotlib"))
        layers.append(hv.Scatter((n, mean), "labels per class", ("accuracy", "accuracy (%)"), label=label)
                      .opts(color=COLORS.get(m, "black"), size=6, tools=["hover"])
                      .opts(color=COLORS.get(m, "black"), backend="matplotlib"))
    if not layers:
        layers = [hv.Curve([], "labels per class", ("accuracy", "accuracy (%)"))]
    return hv.Overlay(layers).opts(title=title or "accuracy on unlabelled points (mean ± std over draws)",
                                   logx=True, legend_position="bottom_right", responsive=True, min_height=320,
                                   xlabel="labels per class", ylabel="accuracy (%)")


def embedding_view(emb: np.ndarray, prediction: np.ndarray, truth: np.ndarray, labelled: np.ndarray, *,
                   title: str = "") -> hv.Overlay:
    """The eigenmap coloured by predicted class; labelled points as stars, misclassified ones outlined."""
    wrong = (prediction != truth) & ~labelled
    data = {"x": emb[:, 0], "y": emb[:, 1], "predicted": prediction.astype(int), "true": truth.astype(int),
            "point": np.arange(len(truth))}
    kdims = [("x", "eigenmap coordinate 1"), ("y", "eigenmap coordinate 2")]
    vdims = [("predicted", "predicted class"), ("true", "true class"), "point"]
    base = hv.Points(data, kdims, vdims).opts(color="predicted", cmap="Category10", size=4, colorbar=True,
                                              clabel="predicted class", clim=(-0.5, 9.5), tools=["hover", "tap"],
                                              nonselection_alpha=0.9).opts(
        color="predicted", cmap="tab10", clim=(-0.5, 9.5), colorbar=True, clabel="predicted class", s=6,
        backend="matplotlib")
    sub = lambda m: {k: v[m] for k, v in data.items()}  # noqa: E731
    miss = hv.Points(sub(wrong), kdims, vdims, label="misclassified").opts(
        fill_alpha=0, line_color="black", size=8, line_width=1).opts(
        facecolors="none", edgecolors="black", s=20, linewidth=0.6, backend="matplotlib")
    lab = hv.Points(sub(labelled), kdims, vdims, label="labelled").opts(
        marker="star", size=13, color="white", line_color="black").opts(
        marker="*", s=90, color="white", edgecolors="black", backend="matplotlib")
    acc = 1 - wrong.sum() / max(1, (~labelled).sum())
    return (base * miss * lab).opts(title=title or f"Laplacian eigenmap, predicted class (accuracy {acc:.1%})",
                                    responsive=True, min_height=440, legend_position="top_left")


def harmonic_view(emb: np.ndarray, u: np.ndarray, labelled: np.ndarray, *, method: str, cls: int) -> hv.Overlay:
    """One class's harmonic function u_c over the eigenmap (GL's spikes: u ≈ flat, peaks only at S)."""
    kdims = [("x", "eigenmap coordinate 1"), ("y", "eigenmap coordinate 2")]
    order = np.argsort(u)
    pts = hv.Points({"x": emb[order, 0], "y": emb[order, 1], "u": u[order]}, kdims, [("u", f"u_{cls}")]).opts(
        color="u", cmap="viridis", size=4, colorbar=True, clabel=f"u_{cls}(x)", clim=(0.0, 1.0), tools=["hover"]
    ).opts(color="u", cmap="viridis", s=6, colorbar=True, clabel=f"u_{cls}(x)", clim=(0.0, 1.0),
           backend="matplotlib")
    lab = hv.Points({"x": emb[labelled, 0], "y": emb[labelled, 1]}, kdims).opts(
        marker="star", size=12, color="white", line_color="black").opts(
        marker="*", s=90, color="white", edgecolors="black", backend="matplotlib")
    return (pts * lab).opts(title=f"{NAMES.get(method, method)}: u_{cls} (labels: stars)", responsive=True,
                            min_height=320)


def harmonic_profile(u_gl: np.ndarray, u_wnll: np.ndarray, labelled: np.ndarray, cls: int) -> hv.Overlay:
    """u_c at the unlabelled points, sorted, GL beside WNLL: a flat GL curve is the spike phenomenon."""
    free = ~labelled
    rank = np.arange(free.sum())
    curves = [hv.Curve((rank, np.sort(u[free])), ("rank", "unlabelled points, sorted by u"),
                       ("u", f"u_{cls}(x)"), label=NAMES[m]).opts(color=COLORS[m], line_width=2)
              for m, u in (("gl", u_gl), ("wnll", u_wnll))]
    return hv.Overlay(curves).opts(title=f"u_{cls} on unlabelled points, sorted", responsive=True, min_height=280,
                                   legend_position="top_left")


def degradation_curves(ds: xr.Dataset) -> hv.Overlay:
    """Test error (mean ± std over seeds) against training samples: linear vs WNLL activation."""
    layers = []
    for a in ds.activation.values:
        n = ds.train_size.values
        mean = ds.error_mean.sel(activation=a).values * 100
        std = ds.error_std.sel(activation=a).values * 100
        label = NAMES.get(str(a), str(a)) + (" activation" if a == "wnll" else "")
        layers.append(hv.Curve((n, mean), "training samples", ("error", "test error (%)"), label=label)
                      .opts(color=COLORS[str(a)], line_width=2))
        layers.append(hv.ErrorBars((n, mean, std), "training samples", [("error", "test error (%)"), "std"])
                      .opts(color=COLORS[str(a)]).opts(edgecolor=COLORS[str(a)], backend="matplotlib"))
    return hv.Overlay(layers).opts(title="digits MLP: test error against training samples", logx=True,
                                   responsive=True, min_height=320, legend_position="top_right")


def study_points(ds: xr.Dataset) -> dict[str, dict[int, tuple[float, float]]]:
    """``{method: {N: (mean, std)}}`` from a label-rate study (for :func:`accuracy_curves`)."""
    return {str(m): {int(n): (float(ds.accuracy_mean.sel(labels_per_class=n, classifier=m)),
                              float(ds.accuracy_std.sel(labels_per_class=n, classifier=m)))
                     for n in ds.labels_per_class.values} for m in ds.classifier.values}


def neighbours_view(images: np.ndarray, indices: np.ndarray, labels: np.ndarray) -> hv.Layout:
    """A digit and its nearest neighbours as 8x8 images (``images[indices]``; the first is the clicked point).

    Tile titles: "clicked #index: class", "nbr j #index: class"."""
    tiles = []
    for j, i in enumerate(indices):
        img = images[i].reshape(8, 8)
        name = "clicked" if j == 0 else f"nbr {j}"
        tiles.append(hv.Image(np.flipud(img), bounds=(0, 0, 8, 8), kdims=["column (pixel)", "row (pixel)"],
                              vdims=[("intensity", "intensity")]).opts(
            cmap="gray_r", title=f"{name} #{i}: {labels[i]}", xaxis=None, yaxis=None, width=125,
            height=125, toolbar=None, clim=(0, 1), fontsize={"title": 9}))
    return hv.Layout(tiles).cols(6)
