"""The BinaryRelax explorer: quantized training, live curves, weight histograms, the relaxation, the slice.

Pick the network, the quantization set (type and bits), lambda0, rho, the Phase-II
epoch, the learning rate, epochs and seeds; "Train" runs float, BinaryConnect and
BinaryRelax (:func:`.train.train`, all seeds as one batch) in a background job. The
curves fill in as each epoch finishes (median and 10-90 % band over seeds); the
histograms show each quantized layer's weights (in units of the layer's scale alpha)
at the chosen epoch, moving onto Q's levels as lambda grows; the 1-D picture shows
Q's levels, ``(lambda/2) dist(w, Q)^2`` and the relaxed prox at that epoch's lambda;
after training, the loss on the plane through the float and the BinaryRelax network
(seed 0) and its Moreau envelope. Errors go to the Status line.
"""

from __future__ import annotations

import threading
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from ...ui.explorer import Explorer
from ...ui.text import TextView
from ...ui.throttle import Throttle
from . import plots
from .landscape import loss_slice
from .nets import NETWORKS
from .relax import Continuation
from .sets import BITS, QUANTIZERS, quant_set
from .train import METHODS, EpochReport, check, train

REDRAW_S = 0.5  # s: the shortest time between live redraws of the curves and histograms


class BinaryRelaxExplorer(Explorer):
    """Float, BinaryConnect and BinaryRelax on the digits networks, many seeds at once."""

    network = param.Selector(default="mlp", objects=list(NETWORKS), doc="network: the 64-32-10 MLP or the small CNN")
    quantizer = param.Selector(default="binary", objects=list(QUANTIZERS), doc="quantization set Q")
    bits = param.Selector(default=1, objects=list(BITS), doc="bits per weight (binary: 1, ternary: 2)")
    lambda0 = param.Number(default=1.0, label="λ0", bounds=(1e-3, 1e3), softbounds=(0.01, 100.0), doc="initial lambda λ0 > 0")
    rho = param.Number(default=1.02, label="ρ", bounds=(1.0, 1.5), step=0.005, doc="lambda growth per step ρ ≥ 1")
    phase_switch = param.Integer(default=20, bounds=(0, 200), doc="first Phase-II epoch (x = proj_Q(y))")
    epochs = param.Integer(default=30, bounds=(1, 200), doc="training epochs")
    lr = param.Number(default=0.01, label="learning rate", bounds=(1e-4, 0.1), step=1e-3, doc="Adam learning rate")
    seeds = param.Integer(default=8, bounds=(1, 32), doc="seeds trained together as one batch")
    show_method = param.Selector(default="binaryrelax", label="histograms of", objects=list(METHODS), doc="method of the histograms")
    show_epoch = param.Integer(default=0, label="epoch shown (0: last)", bounds=(0, 200), doc="epoch of the histograms and λ (0: the last)")

    shared = ("network", "quantizer", "bits", "lambda0", "rho", "phase_switch", "epochs", "lr", "seeds",
              "show_method", "show_epoch")
    filename = "binary_relax"
    run_label = "Train"
    css_prefix = "wb-br"
    widgets = {"lambda0": {"type": pn.widgets.FloatInput}, "show_method": {"type": pn.widgets.RadioButtonGroup}}

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.result: xr.Dataset | None = None
        self.slice: xr.Dataset | None = None
        self.curves: dict[str, np.ndarray] = {}
        self.hists: dict[tuple[str, int], dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        self.lams: dict[tuple[str, int], float] = {}
        self._redraw = Throttle(REDRAW_S)  # live redraws during a run (reset when it starts)
        self._q = quant_set("binary", 1)  # the set of the run shown
        self._runner = self.runner(self._finished, pool="heavy")
        self._curves = pn.pane.HoloViews(plots.curves({}), sizing_mode="stretch_width", css_classes=["wb-br-curves"])
        self._hist = pn.pane.HoloViews(None, sizing_mode="stretch_width", css_classes=["wb-br-hist"])
        self._relax = pn.pane.HoloViews(None, sizing_mode="stretch_width", css_classes=["wb-br-relax"])
        self._slice = pn.pane.HoloViews(None, sizing_mode="stretch_width", css_classes=["wb-br-slice"])
        self._table = TextView("", pre=True, css_classes=["wb-br-table"])
        self._draw_relaxation()
        self.status.info("Set Q and the continuation, then Train.")

    # ---- work ----------------------------------------------------------------------------------

    def check_state(self, values: dict[str, Any]) -> None:
        quant_set(values["quantizer"], values["bits"])
        Continuation.checked(values["lambda0"], values["rho"], values["phase_switch"], values["epochs"])

    def settings(self) -> dict[str, Any]:
        return dict(network=self.network, quantizer=self.quantizer, bits=int(self.bits), methods=list(METHODS),
                    seeds=int(self.seeds), epochs=int(self.epochs), lr=float(self.lr), lambda0=float(self.lambda0),
                    rho=float(self.rho), phase_switch=int(self.phase_switch))

    def run(self) -> None:
        try:
            cfg = check(**self.settings())
            device = self.compute_device
        except (ValueError, TypeError) as exc:
            self.status.error(exc)
            return
        self.curves = {m: np.full((len(cfg.seeds), cfg.epochs), np.nan) for m in cfg.methods}
        self.hists, self.lams, self.result, self.slice = {}, {}, None, None
        self._redraw = Throttle(REDRAW_S)
        self._q, epochs = cfg.qset, cfg.epochs
        self._slice.object = None
        settings = self.settings()
        runner, q = self._runner, cfg.qset

        def digest(rep: EpochReport) -> dict[str, tuple[np.ndarray, np.ndarray]]:
            """Per-layer histograms of one epoch's iterate (computed in the job, small to keep)."""
            return {name: plots.histogram_counts(x, rep.scale[name], q) for name, x in rep.iterate.items()}

        def job(cancel: threading.Event) -> tuple[xr.Dataset, xr.Dataset]:
            ds = train(**settings, device=device, cancel=cancel,
                       on_epoch=lambda rep: runner.post(self._on_epoch, rep, digest(rep), epochs))
            w = ds.weights
            sl = loss_slice(settings["network"], w.sel({"method": "float"}).values[0],
                            w.sel({"method": "binaryrelax"}).values[0])
            return ds, sl

        self.status.info(f"training {cfg.epochs} epochs × {len(cfg.seeds)} seeds × {len(cfg.methods)} methods ...")
        runner.submit(job)

    def _on_epoch(self, rep: EpochReport, hist: dict[str, tuple[np.ndarray, np.ndarray]], epochs: int) -> None:
        """Keep the epoch's results; redraw the curves and histograms unless the last redraw was too recent.

        A redraw builds new plots on the session's loop (~0.2-1 s), holding the GIL the training job
        needs between its steps, so redrawing every epoch made training ~25x slower than the computation.
        Redraws come at least :data:`REDRAW_S` after the run started and after the last redraw, and at least
        twice the last one's cost after it (:class:`~workbench.ui.throttle.Throttle`: drawing takes at most
        a third of the time); the finished run is always drawn."""
        if rep.method not in self.curves:
            return
        self.curves[rep.method][:, rep.epoch] = rep.metrics["test_accuracy"]
        self.hists[(rep.method, rep.epoch + 1)] = hist
        self.lams[(rep.method, rep.epoch + 1)] = float(rep.metrics["lam"][0])
        med = float(np.median(rep.metrics["test_accuracy"])) * 100
        self.status.info(f"{plots.LABELS[rep.method]}: epoch {rep.epoch + 1}/{epochs}, "
                         f"median test accuracy {med:.1f} %")
        if not self._redraw.due():
            return
        start = self._redraw.clock()
        self._curves.object = plots.curves(self.curves)
        if rep.method == self.show_method:
            self._draw_epoch()
        self._redraw.drawn(start)

    def _finished(self, out: tuple[xr.Dataset, xr.Dataset]) -> None:
        self.result, self.slice = out
        last = self.result.isel(epoch=-1)
        lines = []
        for m in self.result.method.values:
            acc = last.test_accuracy.sel({"method": m}).values * 100
            frac = float(last.on_grid_fraction.sel({"method": m}).mean())
            lines.append(f"{plots.LABELS[str(m)]:>14}: {acc.mean():6.2f} ± {acc.std(ddof=1) if acc.size > 1 else 0:5.2f} %"
                         f"   on Q {frac:.2f}")
        self._table.object = "final test accuracy, mean ± std over seeds\n" + "\n".join(lines)
        self._curves.object = plots.curves(self.curves)
        self._slice.object = plots.loss_slice(self.slice)
        self._draw_epoch()
        self.status.info(f"trained {self.result.sizes['seed']} seeds × {self.result.sizes['method']} methods in "
                         f"{self.result.attrs['elapsed_s']:.1f} s; BinaryRelax "
                         f"{float(last.test_accuracy.sel({'method': 'binaryrelax'}).mean()) * 100:.1f} %")

    # ---- views ---------------------------------------------------------------------------------

    def _shown_epoch(self) -> int:
        done = [e for (m, e) in self.hists if m == self.show_method]
        if not done:
            return 0
        return min(self.show_epoch, max(done)) if self.show_epoch > 0 else max(done)

    @param.depends("show_method", "show_epoch", watch=True)
    def _draw_epoch(self) -> None:
        e = self._shown_epoch()
        hist = self.hists.get((self.show_method, e))
        if hist is not None:
            lam = self.lams[(self.show_method, e)]
            lam_text = "λ = ∞ (on Q)" if np.isinf(lam) else ("float (λ = 0)" if lam == 0 else f"λ = {lam:.3g}")
            self._hist.object = plots.weight_histograms(
                hist, self._q, f"{plots.LABELS[self.show_method]}, epoch {e}: weights / α, {lam_text}")
        self._draw_relaxation()

    def _valid_set(self) -> bool:
        try:
            quant_set(self.quantizer, int(self.bits))
        except ValueError:
            return False
        return True

    @param.depends("quantizer", "bits", "lambda0", watch=True)
    def _draw_relaxation(self) -> None:
        if not self._valid_set():
            self.status.error(ValueError(
                f"bits must be {1 if self.quantizer == 'binary' else 2} for the {self.quantizer} quantizer"))
            return
        lam = self.lams.get(("binaryrelax", self._shown_epoch()), float(self.lambda0))
        lam = float(self.lambda0) if not np.isfinite(lam) or lam == 0 else lam
        self._relax.object = plots.relaxation(quant_set(self.quantizer, int(self.bits)), lam)

    def figure(self) -> hv.Layout | None:
        if self.result is None:
            return None
        return (plots.curves(self.curves) + plots.loss_slice(self.slice)).cols(1)

    def data(self) -> xr.Dataset | None:
        return self.result

    def body(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Markdown("#### Training curves (test accuracy over epochs)"), self._curves, self._table,
            pn.pane.Markdown("#### Weight histograms per layer"), self._hist,
            pn.pane.Markdown("#### The relaxation in 1-D"), self._relax,
            pn.pane.Markdown("#### Loss on the plane through the float and the BinaryRelax network (seed 0)"),
            self._slice, sizing_mode="stretch_width")
