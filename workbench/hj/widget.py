"""Interactive HJ smoothing explorer: drag t and beta, compare optimizers, click to start.

:class:`HJExplorer` is an :class:`~workbench.ui.Explorer` whose bounded ``param`` parameters
drive everything (its controls are generated from them): the landscape (built in, or a typed formula parsed safely), the
grid, the HJ time ``t`` and inverse temperature ``beta``, and the optimizer study.
Changing ``t`` or ``beta`` recomputes the envelopes (linear-time Moreau envelope,
log-domain local entropy) off the event loop, newest request winning; "Run
optimizers" (or a click on the trajectory plot, which sets the tracked start)
runs every selected optimizer from the same random starts at the current ``t``.
Errors (a bad formula, out-of-range input) go to the Status line; the view stays
usable. Works in a JupyterLab cell and under ``panel serve``.
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
from ..ui import Explorer, in_server
from ..ui.live_curves import LiveCurves
from ..ui.live_image import LiveImage
from ..ui.text import TextView
from . import paper, plots
from .compare import compare_optimizers
from .envelope_cache import SmoothingKey, landscape_id
from .landscapes import LANDSCAPES, from_formula, get
from .optimizers import METHODS, Settings

NETWORK = "mlp_digits"
NETWORK_LIMITS = {"n": 64, "n_starts": 200}  # each network-loss evaluation is a forward pass
DEFAULT_FORMULA = "(x**2 - 1)**2 + (y**2 - 1)**2 + 0.3*sin(6*x)*sin(6*y)"
REST_MS = 500  # the local entropy is requested once the controls have rested this long


class HJExplorer(Explorer):
    """Landscape, Moreau envelope, local entropy, prox map, optimizer trajectories and histograms."""

    shared = ("landscape", "formula", "dim", "n", "t", "beta", "viscous", "methods", "n_starts", "n_steps", "lr",
              "delta", "seed")
    filename = "hj_landscape"
    run_label = "Run optimizers"
    css_prefix = "wb-hj"
    widgets = {
        "dim": pn.widgets.RadioButtonGroup,
        "n": {"step": 32},
        "beta": {"step": 0.1},
        "methods": {"type": pn.widgets.CheckBoxGroup, "inline": False},
        "n_starts": {"type": pn.widgets.IntInput, "css_classes": ["wb-hj-starts"]},
        "n_steps": {"type": pn.widgets.IntInput, "css_classes": ["wb-hj-steps"]},
        "lr": pn.widgets.FloatInput,
        "delta": pn.widgets.FloatInput,
        "seed": pn.widgets.IntInput,
    }

    landscape = param.Selector(default="rastrigin", objects=[*LANDSCAPES, NETWORK, "formula"], label="Landscape",
                               doc="test landscape (mlp_digits: loss of a small network on a 2-D slice)")
    formula = param.String(default=DEFAULT_FORMULA, label="Formula (x, y)",
                           doc="formula in x (1-D) or x, y (2-D), when landscape = formula")
    dim = param.Selector(default=2, objects=[1, 2], label="Dimension", doc="dimension of the landscape view")
    n = param.Integer(default=256, bounds=(32, 1024), label="Grid points per axis", doc="grid points per axis")
    t = param.Number(default=0.1, bounds=(0.001, 2.0), step=0.001, label="t", doc="HJ time t (smoothing scale)")
    beta = param.Number(default=10.0, bounds=(0.1, 1000.0), label="beta",
                        doc="inverse temperature beta (viscosity 1/(2 beta))")
    viscous = param.Boolean(default=True, label="Show local entropy (viscous)",
                            doc="also show the viscous solution (local entropy)")
    methods = param.ListSelector(default=list(METHODS), objects=list(METHODS), label="Optimizers",
                                 doc="optimizers compared")
    n_starts = param.Integer(default=1000, bounds=(1, 100_000), label="Starts", doc="random starts per optimizer")
    n_steps = param.Integer(default=30, bounds=(1, 1000), label="Steps", doc="steps per run")
    lr = param.Number(default=3e-3, bounds=(1e-5, 1.0), label="GD step size", doc="gradient-descent step size")
    delta = param.Number(default=0.1, bounds=(1e-3, 10.0), label="HJ-prox delta", doc="HJ-prox smoothing delta")
    start_x = param.Number(default=None, allow_None=True, doc="x of the tracked start (click the trajectory plot)")
    start_y = param.Number(default=None, allow_None=True, doc="y of the tracked start")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1), label="Seed", doc="seed of the random starts")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.smoothing: xr.Dataset | None = None
        self.optimization: xr.Dataset | None = None
        # the views that follow t are updated in place while it moves (LiveCurves, LiveImage)
        c = plots.COLORS
        self._env = LiveCurves("landscape and HJ envelopes", {
            "f": ("landscape f", c["f"]), "u": ("u, Moreau", c["u"]), "u_beta": ("u, local entropy", c["u_beta"])},
            "x", "f", css_classes=["wb-hj-envelopes"])
        self._prox = LiveCurves("prox map", {"prox": ("prox_tf(x)", c["u"]), "identity": ("identity", "#aaaaaa")},
                                "x", "prox_tf(x)", height=260, css_classes=["wb-hj-prox"])
        self._maps = {
            "f": LiveImage("landscape f", "f", css_classes=["wb-hj-map-f"]),
            "u": LiveImage("u, Moreau", "u", css_classes=["wb-hj-map-u"]),
            "u_beta": LiveImage("u, local entropy", "u_beta", css_classes=["wb-hj-map-u-beta"]),
            "prox": LiveImage("prox displacement", "|prox(x) - x|", palette="magma", levels=0,
                              css_classes=["wb-hj-map-prox"]),
        }
        self._maps_row = pn.Row(self._maps["f"], self._maps["u"], self._maps["u_beta"], visible=False,
                                sizing_mode="stretch_width")
        self._landscape_key: str | None = None
        self._rest_token = 0
        self._traj = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="trajectories",
                                       css_classes=["wb-hj-trajectories"])
        self._hist = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="histogram",
                                       css_classes=["wb-hj-histogram"])
        self._summary = TextView("", markdown=True, css_classes=["wb-hj-summary"])
        self._tap: hv.streams.Tap | None = None
        # the inviscid pass takes milliseconds: no busy bar (toggling it costs more than the pass)
        self._env_runner = self.runner(self._show_smoothing, busy=False)
        # the local entropy is O(n) per point: refinement passes share one low-priority worker
        self._visc_runner = self.runner(self._show_viscous, pool="background", busy=False)
        self._opt_runner = self.runner(self._show_optimization, pool="heavy")
        self._network_limits()
        self.when_loaded(self.recompute)

    def run(self) -> None:
        self.optimize()

    def check_state(self, values: dict[str, Any]) -> None:
        """A typed formula must parse in the chosen dimension before a link or file applies it."""
        if values["landscape"] == "formula":
            from_formula(values["formula"], int(values["dim"])).check_dim(int(values["dim"]))

    # ---- compute ---------------------------------------------------------------------------------

    def _landscape(self):
        if self.landscape == "formula":
            return from_formula(self.formula, int(self.dim))
        return get(self.landscape)

    def _key(self, beta: float | None) -> SmoothingKey:
        return SmoothingKey(self.landscape, self.formula, int(self.dim), int(self.n), float(self.t), beta,
                            self.compute_device or "")

    @param.depends("landscape", watch=True)
    def _network_limits(self) -> None:
        """The network loss is 2-D and costly: cap the grid and the starts when it is chosen."""
        if self.landscape != NETWORK:
            return
        self.param.update(dim=2, **{k: min(getattr(self, k), v) for k, v in NETWORK_LIMITS.items()})
        self.status.info(f"network loss: dim 2, at most {NETWORK_LIMITS['n']} grid points per axis and "
                         f"{NETWORK_LIMITS['n_starts']} starts")

    @param.depends("landscape", "formula", "dim", "n", "t", "beta", "viscous", "device", watch=True)
    def recompute(self) -> None:
        """Recompute the envelopes for the current settings (newest request wins).

        The Moreau envelope (linear time) comes first, so dragging t redraws at once; the
        local entropy (O(n) per point) follows in a second request that a newer drag
        event supersedes, so it is computed when the slider rests.
        """
        self._visc_runner.cancel()  # a local-entropy pass for older settings is stale now
        try:
            self._landscape().check_dim(int(self.dim))  # parse errors show before any work
            key = self._key(None)
        except (ValueError, TypeError) as exc:
            self._env_runner.cancel()  # an answer for older settings must not replace this message
            self.status.error(exc)
            return
        self.status.clear_error()  # a valid request: an older error no longer applies
        self._env_runner.submit(key.job)
        if self.viscous:
            self._request_viscous_at_rest()

    def _request_viscous(self) -> None:
        self._visc_runner.submit(self._key(float(self.beta)).job)

    def optimize(self) -> None:
        """Run the selected optimizers at the current t from the same starts."""
        try:
            land = self._landscape()
            dim = int(self.dim)
            land.check_dim(dim)
            if not self.methods:
                raise ValueError("methods must name at least one optimizer")
            settings = Settings(lr=self.lr, beta=self.beta, delta=self.delta).check()
        except (ValueError, TypeError) as exc:
            self.status.error(exc)
            return
        starts = None
        if self.start_x is not None:
            starts = [[self.start_x] if dim == 1 else [self.start_x, self.start_y or 0.0]]
        kwargs = dict(dim=dim, methods=list(self.methods), t=[float(self.t)], n_starts=int(self.n_starts),
                      n_steps=int(self.n_steps), seed=int(self.seed), settings=settings, starts=starts,
                      track=8, device=self.compute_device)
        runner = self._opt_runner

        def job(cancel: threading.Event) -> xr.Dataset:
            return compare_optimizers(land, cancel=cancel, **kwargs,
                                      progress=lambda *a: runner.post(self.status.progress, *a))

        self.status.progress(0.0, f"running {self.n_starts} starts x {len(self.methods)} optimizers ...")
        self._opt_runner.submit(job)

    # ---- views -----------------------------------------------------------------------------------

    def _show_smoothing(self, answer: tuple[SmoothingKey, xr.Dataset]) -> None:
        key, ds = answer
        if key != self._key(None):
            return  # a stale answer: the controls have moved on
        self.smoothing = ds
        key, self._landscape_key = self._landscape_key, landscape_id(ds)
        new_landscape = self._landscape_key != key
        self._draw_envelopes(ds, new_landscape)
        sel = ds.isel(t=-1)
        if ds.f.ndim == 1:
            x = ds.x.values
            self._prox.update({"prox": (x, sel.prox_x.values), "identity": (x, x)},
                              title=f"prox map (t={float(sel.t):.3g})")
        else:
            xx, yy = np.meshgrid(ds.x.values, ds.y.values)
            disp = np.hypot(sel.prox_x.values - xx, sel.prox_y.values - yy)
            self._maps["prox"].update(ds.x.values, ds.y.values, disp,
                                      title=f"prox displacement (t={float(sel.t):.3g})")
        self._show_layout(ds.f.ndim)
        if new_landscape:  # the landscape under the trajectories changed
            self._show_trajectories()
        self._report(ds, "Moreau envelope")

    def _draw_envelopes(self, ds: xr.Dataset, new_landscape: bool, viscous_only: bool = False) -> None:
        """1-D: the curves, re-rendered; 2-D: f, u (and u_beta) maps, updated in place."""
        sel = ds.isel(t=-1)
        x, t = ds.x.values, float(sel.t)
        if ds.f.ndim == 1:
            curves = {name: (x, sel[name].values) for name in ("f", "u", "u_beta") if name in sel}
            self._env.update(curves, title=f"landscape and HJ envelopes (t={t:.3g})")
            return
        y = ds.y.values
        if new_landscape:
            self._maps["f"].update(x, y, ds.f.values, title=f"landscape f ({results.parameters(ds)['landscape']})")
        if not viscous_only:
            self._maps["u"].update(x, y, sel.u.values, title=f"u, Moreau (t={t:.3g})")
        if "u_beta" in sel:
            beta = results.parameters(ds).get("beta")
            self._maps["u_beta"].update(x, y, sel.u_beta.values, title=f"u, local entropy (t={t:.3g}, beta={beta:g})")

    def _show_layout(self, ndim: int) -> None:
        self._env.view.visible = self._prox.view.visible = ndim == 1
        self._maps_row.visible = self._maps["prox"].view.visible = ndim == 2
        self._maps["u_beta"].view.visible = bool(self.viscous)

    def _request_viscous_at_rest(self) -> None:
        """Ask for the local entropy once the controls have rested REST_MS after the last change
        (at once outside a server, where the inviscid pass has already been shown)."""
        if not in_server():
            self._request_viscous()
            return
        self._rest_token += 1
        token, doc = self._rest_token, pn.state.curdoc

        def at_rest() -> None:
            if token != self._rest_token:  # a newer change came meanwhile
                return
            if self._env_runner.busy:  # the inviscid view is still being answered: wait for it
                doc.add_timeout_callback(at_rest, REST_MS)
            else:
                self._request_viscous()

        doc.add_timeout_callback(at_rest, REST_MS)

    def _show_viscous(self, answer: tuple[SmoothingKey, xr.Dataset]) -> None:
        key, ds = answer
        if key != self._key(float(self.beta)):
            return  # a stale answer: the slider has moved on
        self.smoothing = ds
        self._draw_envelopes(ds, new_landscape=False, viscous_only=True)
        self._report(ds, "envelopes", " (local entropy included)")

    def _report(self, ds: xr.Dataset, what: str, extra: str = "") -> None:
        """Say what was computed, unless a job's progress or an error holds the status line."""
        if self.status.value < 0 and self.status.kind != "danger":
            self.status.info(f"t = {float(ds.t[0]):.3g}: {what} on {' x '.join(map(str, ds.f.shape))} points in "
                             f"{float(ds.attrs['elapsed_s']) * 1e3:.0f} ms{extra}")

    def _show_optimization(self, ds: xr.Dataset) -> None:
        self.optimization = ds
        self._hist.object = plots.final_value_histograms(ds)
        self._show_trajectories()
        self._summary.object = plots.summary_table(ds)
        self.status.progress(None, f"optimizers done in {float(ds.attrs['elapsed_s']):.2f} s")

    def _show_trajectories(self) -> None:
        if self.smoothing is None:
            return
        opt = self.optimization
        if opt is not None and opt.sizes["dim"] != self.smoothing.f.ndim:
            opt = None
        view = plots.trajectories(self.smoothing, opt)
        self._tap = hv.streams.Tap(source=view, x=None, y=None)
        self._tap.add_subscriber(self._on_tap)
        self._traj.object = view

    def _on_tap(self, x: float | None = None, y: float | None = None) -> None:
        if x is None:
            return
        self.start_x, self.start_y = float(x), (None if int(self.dim) == 1 else float(y))
        self.optimize()

    # ---- export ----------------------------------------------------------------------------------

    def figure(self) -> hv.Layout | None:
        if self.smoothing is None:
            return None
        items = [plots.envelopes(self.smoothing)]
        if self.optimization is not None:
            items.append(plots.final_value_histograms(self.optimization))
        return hv.Layout(items).cols(1) if len(items) > 1 else items[0]

    def data(self) -> xr.Dataset | None:
        """The paper figure's data: the envelopes drawn and the optimizers' final values."""
        return paper.figure_data(self.smoothing, self.optimization) if self.smoothing is not None else None

    # ---- layout ----------------------------------------------------------------------------------

    def body(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.Row(self._env, sizing_mode="stretch_width"),
            self._maps_row,
            pn.Row(self._traj, self._prox, self._maps["prox"], sizing_mode="stretch_width"),
            pn.Row(self._hist, self._summary, sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
