"""The graph-Laplacian explorer: accuracy against labels, the embedding, GL beside WNLL, neighbours.

Built on :class:`workbench.ui.Explorer`. Changing labels per class, k, σ's
neighbour, the class shown or the seed recomputes the *snapshot* (kNN graph
and Laplacian eigenmap of digits, cached per (k, σ) across sessions; GL and
WNLL for one label draw): the eigenmap coloured by WNLL's predicted class with
the labelled points as stars and misclassified points outlined, and the
harmonic function u_c of one class over the eigenmap, GL beside WNLL (GL's
spikes at low label rates: a flat u_c with peaks at the labels). A click on
the eigenmap shows that digit and its nearest neighbours in the graph. "Run
study" computes accuracy against labels per class for the chosen methods over
``draws`` label draws; the curves fill in as each label count finishes.
"""

from __future__ import annotations

import threading
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from .. import results
from ..cache import ResultCache
from ..ui.explorer import Explorer
from ..ui.text import TextView
from . import data as gdata
from . import plots
from .classify import METHODS, label_draws, one_hot
from .embedding import laplacian_eigenmap
from .knn import knn_graph
from .laplace import harmonic_extension
from .study import accuracy_vs_labels
from .weights import weight_matrix

GRAPHS = ResultCache(max_items=8)  # (k, sigma_neighbor) -> (graph, W, eigenmap), shared by sessions
STUDY_LABELS = (1, 2, 3, 5, 10, 20, 30, 50)


def digits_graph(k: int, sigma_neighbor: int) -> tuple[Any, Any, np.ndarray]:
    """The digits kNN graph, its weights and 2-D Laplacian eigenmap (cached)."""
    key = (int(k), int(sigma_neighbor))
    hit = GRAPHS.get(key)
    if hit is None:
        X, _ = gdata.load("digits")
        graph = knn_graph(X, int(k), method="exact")
        W = weight_matrix(graph, int(sigma_neighbor))
        hit = (graph, W, laplacian_eigenmap(W, 2).embedding.values)
        GRAPHS.put(key, hit)
    return hit


class GraphExplorer(Explorer):
    """Semi-supervised digits by GL and WNLL: label-rate curves, eigenmap, harmonic functions, neighbours."""

    shared = ["labels_per_class", "k", "sigma_neighbor", "methods", "draws", "max_labels", "cls", "seed", "point"]
    filename = "graph_laplacian"
    run_label = "Run study"
    css_prefix = "wb-graph"
    widgets = {"methods": {"type": pn.widgets.CheckButtonGroup}}

    labels_per_class = param.Integer(default=1, bounds=(1, 50), doc="labelled points per class in the pictures")
    k = param.Integer(default=20, bounds=(5, 50), label="k (neighbours)", doc="nearest neighbours of the graph")
    sigma_neighbor = param.Integer(default=10, bounds=(1, 50), label="σ: neighbour index",
                                   doc="σ(x) = distance to this neighbour (≤ k)")
    methods = param.ListSelector(default=["gl", "wnll", "knn", "svm", "softmax"], objects=list(METHODS),
                                 doc="methods of the study")
    draws = param.Integer(default=10, bounds=(1, 50), doc="random label draws per label count in the study")
    max_labels = param.Selector(default=50, objects=list(STUDY_LABELS), doc="largest labels per class of the study")
    cls = param.Integer(default=0, bounds=(0, 9), label="class shown", doc="class whose harmonic function u_c is drawn")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1), doc="seed of label draw 0 (draw r: seed + r)")
    point = param.Integer(default=-1, bounds=(-1, 1796), precedence=-1,
                          doc="clicked digit (-1: none); set by a click, kept in the URL")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.X, self.y = gdata.load("digits")
        self.snapshot: dict[str, Any] | None = None
        self.study: xr.Dataset | None = None
        self.points: dict[str, dict[int, tuple[float, float]]] = {}
        self._curves = pn.pane.HoloViews(plots.accuracy_curves({}), sizing_mode="stretch_width",
                                         css_classes=["wb-graph-curves"])
        self._embedding = pn.pane.HoloViews(None, sizing_mode="stretch_width", css_classes=["wb-graph-embedding"])
        self._gl = pn.pane.HoloViews(None, sizing_mode="stretch_width", css_classes=["wb-graph-gl"])
        self._wnll = pn.pane.HoloViews(None, sizing_mode="stretch_width", css_classes=["wb-graph-wnll"])
        self._neighbours = pn.pane.HoloViews(None, css_classes=["wb-graph-neighbours"], width=820, height=160)
        self._neighbours_text = TextView("Click a point of the eigenmap to see its digit and neighbours.",
                                         markdown=True, css_classes=["wb-graph-neighbours-text"])
        self._snap_runner = self.runner(self._show_snapshot)
        self._study_runner = self.runner(self._study_done, pool="heavy")
        self.when_loaded(self.refresh)

    def check_state(self, values: dict[str, Any]) -> None:
        if int(values["sigma_neighbor"]) > int(values["k"]):
            raise ValueError(f"sigma_neighbor must be in [1, k = {values['k']}], got {values['sigma_neighbor']}")

    # ---- the snapshot (one draw) -----------------------------------------------------------------

    @param.depends("labels_per_class", "k", "sigma_neighbor", "seed", watch=True)
    def refresh(self) -> None:
        """Recompute graph (cached), eigenmap and GL/WNLL for label draw ``seed``."""
        try:
            self.check_state({"k": self.k, "sigma_neighbor": self.sigma_neighbor})
        except ValueError as exc:
            self.status.error(exc)
            return
        k, s, n_labels, seed = int(self.k), int(self.sigma_neighbor), int(self.labels_per_class), int(self.seed)
        X, y = self.X, self.y

        def job(cancel: threading.Event) -> dict[str, Any]:
            graph, W, emb = digits_graph(k, s)
            mask = label_draws(y, n_labels, 1, seed)
            g = one_hot(y, np.arange(10))
            ext = {m: harmonic_extension(W, mask, g, m) for m in ("gl", "wnll")}
            acc = {m: float((e.u[0].argmax(1) == y)[~mask[0]].mean()) for m, e in ext.items()}
            return {"key": (k, s, n_labels, seed), "graph": graph, "emb": emb, "mask": mask[0],
                    "u": {m: e.u[0] for m, e in ext.items()}, "accuracy": acc,
                    "residual": max(float(e.residual.max()) for e in ext.values())}

        self.status.progress(None, f"graph and harmonic extensions for {n_labels} label(s) per class, k = {k} ...")
        self._snap_runner.submit(job)

    def _show_snapshot(self, snap: dict[str, Any]) -> None:
        self.snapshot = snap
        self._draw_snapshot()
        k, s, n_labels, seed = snap["key"]
        a = snap["accuracy"]
        self.status.info(f"{n_labels} label(s) per class, k = {k}, σ = neighbour {s}, draw {seed}: "
                         f"WNLL {a['wnll']:.1%}, GL {a['gl']:.1%} on the unlabelled points "
                         f"(residual ≤ {snap['residual']:.0e})")

    @param.depends("cls", watch=True)
    def _draw_snapshot(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        emb, mask, u = snap["emb"], snap["mask"], snap["u"]
        pred = u["wnll"].argmax(1)
        view = plots.embedding_view(emb, pred, self.y, mask,
                                    title=f"WNLL prediction on the eigenmap ({snap['accuracy']['wnll']:.1%})")
        tap = hv.streams.Tap(source=view, x=None, y=None)
        tap.add_subscriber(self._on_tap)
        self._embedding.object = view
        c = int(self.cls)
        self._gl.object = plots.harmonic_view(emb, u["gl"][:, c], mask, method="gl", cls=c)
        self._wnll.object = plots.harmonic_view(emb, u["wnll"][:, c], mask, method="wnll", cls=c)
        self._draw_neighbours()

    def _on_tap(self, x: float | None = None, y: float | None = None) -> None:
        if x is None or y is None or self.snapshot is None:
            return
        emb = self.snapshot["emb"]
        self.point = int(np.argmin((emb[:, 0] - x) ** 2 + (emb[:, 1] - y) ** 2))

    @param.depends("point", watch=True)
    def _draw_neighbours(self) -> None:
        if self.point < 0 or self.snapshot is None:
            return
        i = int(self.point)
        graph = self.snapshot["graph"]
        nbrs = np.r_[i, graph.indices[i, :5]]
        self._neighbours.object = plots.neighbours_view(self.X, nbrs, self.y)
        pred = int(self.snapshot["u"]["wnll"][i].argmax())
        self._neighbours_text.object = (f"digit #{i}: class {int(self.y[i])}, WNLL predicts {pred}; "
                                        f"its 5 nearest neighbours in the graph "
                                        f"(distances {', '.join(f'{d:.2f}' for d in graph.distances[i, :5])})")

    # ---- the study -------------------------------------------------------------------------------

    def run(self) -> None:
        """Accuracy against labels per class for the chosen methods (curves fill per label count)."""
        if not self.methods:
            self.status.error("methods must name at least one method")
            return
        try:
            self.check_state({"k": self.k, "sigma_neighbor": self.sigma_neighbor})
        except ValueError as exc:
            self.status.error(exc)
            return
        labels = [n for n in STUDY_LABELS if n <= int(self.max_labels)]
        methods, draws, k, s, seed = list(self.methods), int(self.draws), int(self.k), int(self.sigma_neighbor), \
            int(self.seed)
        self.points = {m: {} for m in methods}
        self.study = None
        self._curves.object = plots.accuracy_curves(self.points)

        def job(cancel: threading.Event) -> xr.Dataset:
            def partial(n: int, ds: xr.Dataset, fraction: float) -> None:
                self._study_runner.post(self._study_partial, n, ds, fraction)
            return accuracy_vs_labels(self.X, self.y, labels, methods=methods, draws=draws, k=k,
                                      sigma_neighbor=s, seed=seed, data_name="digits", callback=partial,
                                      cancel=cancel)

        self.status.progress(0.0, f"study: {len(labels)} label counts x {draws} draws x {len(methods)} methods ...")
        self._study_runner.submit(job)

    def _study_partial(self, n: int, ds: xr.Dataset, fraction: float) -> None:
        ddof = 1 if ds.sizes["draw"] > 1 else 0
        for m in ds.classifier.values:
            acc = ds.accuracy.sel(classifier=m).values
            self.points.setdefault(str(m), {})[int(n)] = (float(acc.mean()), float(acc.std(ddof=ddof)))
        self._curves.object = plots.accuracy_curves(self.points)
        self.status.progress(fraction, f"study: {n} label(s) per class done")

    def _study_done(self, ds: xr.Dataset) -> None:
        self.study = ds
        self.points = plots.study_points(ds)
        self._curves.object = plots.accuracy_curves(self.points)
        self.status.progress(1.0, f"study done in {ds.attrs['elapsed_s']:.1f} s: "
                                  f"{ds.sizes['labels_per_class']} label counts x {ds.sizes['draw']} draws")

    # ---- export and layout -----------------------------------------------------------------------

    def figure(self) -> Any:
        if self.points:
            return plots.accuracy_curves(self.points)
        return self._embedding.object

    def data(self) -> xr.Dataset | None:
        if self.study is not None:
            return self.study
        snap = self.snapshot
        if snap is None:
            return None
        k, s, n_labels, seed = snap["key"]
        return results.dataset(
            {"embedding": (("point", "component"), snap["emb"], {"long_name": "Laplacian eigenmap coordinate"}),
             "u": (("method", "point", "class"), np.stack([snap["u"]["gl"], snap["u"]["wnll"]]),
                   {"long_name": "harmonic extension of the one-hot labels"}),
             "labelled": (("point",), snap["mask"].astype(np.int8)), "label": (("point",), self.y)},
            {"method": ("method", np.array(["gl", "wnll"])), "point": ("point", np.arange(len(self.y))),
             "class": ("class", np.arange(10)), "component": ("component", [1, 2])},
            params={"k": k, "sigma_neighbor": s, "labels_per_class": n_labels}, kind="graph.snapshot", seed=seed)

    def body(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._curves,
            self._embedding,
            self._neighbours_text,
            self._neighbours,
            pn.Row(self._gl, self._wnll, sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
