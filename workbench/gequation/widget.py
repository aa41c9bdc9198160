"""The flame-speed sweep explorer (Panel): s_T(A) curves filled point by point.

Pick models, flow, A range, d, ω, B and grid; "Run sweep" runs
:func:`workbench.gequation.sweep` for each model through the spine's sweep
runner inside a job of the :class:`~workbench.ui.Explorer` base's heavy pool, so each finished
point appears at once with the progress bar moving; a newer run or "Cancel"
stops the current one between points. Click a point to see that run's
front (G = 0, unfolded over the streamlines, a player over its snapshots)
and ⟨u⟩(t) with the fitted slope. Views: s_T against A, log-log, or against
A/log A (the inviscid law); the strain models' quenching amplitude A* is
marked. Errors (bad ranges, blow-ups) go to the Status line; the view stays
usable. Finished sweeps are memoised per parameter set across sessions.
"""

from __future__ import annotations

import threading
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from ..cache import ResultCache
from ..sweep import ChunkEvent
from ..ui import Explorer
from ..ui.text import TextView
from . import paper, plots
from .flows import FLOWS
from .models import MODELS
from .speed_points import SpeedPoints
from .sweep import sweep

SWEEPS = ResultCache(max_items=32)  # finished sweeps, shared by the server's sessions


class FlameSpeedExplorer(Explorer):
    """s_T(A) sweeps of G-equation models with per-point fronts and histories."""

    shared = ("models", "flow", "A_min", "A_max", "n_A", "d", "omega", "B", "grid", "crossings", "batch", "view")
    filename = "gequation_sweeps"
    run_label = "Run sweep"
    css_prefix = "wb-gq"
    widgets = {
        "models": {"type": pn.widgets.CheckBoxGroup, "inline": False},
        "A_min": {"type": pn.widgets.FloatInput, "css_classes": ["wb-gq-amin"]},
        "A_max": {"type": pn.widgets.FloatInput, "css_classes": ["wb-gq-amax"]},
        "n_A": {"css_classes": ["wb-gq-na"]},
        "d": pn.widgets.FloatInput,
        "omega": pn.widgets.FloatInput,
        "B": pn.widgets.FloatInput,
        "crossings": {"step": 1.0},
        "batch": pn.widgets.IntInput,
        "view": pn.widgets.RadioButtonGroup,
    }

    models = param.ListSelector(default=["inviscid", "strain"], objects=list(MODELS), label="Models",
                                doc="G-equation models to sweep")
    flow = param.Selector(default="cellular", objects=list(FLOWS), label="Flow", doc="periodic flow")
    A_min = param.Number(default=0.5, bounds=(0.0, 64.0), label="A min", doc="smallest flow amplitude A")
    A_max = param.Number(default=4.0, bounds=(0.0, 64.0), label="A max", doc="largest flow amplitude A")
    n_A = param.Integer(default=6, bounds=(2, 32), label="Amplitudes", doc="amplitudes in the sweep (evenly spaced)")
    d = param.Number(default=1.0, bounds=(0.0, 5.0), label="d",
                     doc="model coefficient d (diffusivity / Markstein length)")
    omega = param.Number(default=1.0, bounds=(0.05, 50.0), label="omega", doc="frequency ω of the time-periodic flows")
    B = param.Number(default=1.0, bounds=(-5.0, 5.0), label="B", doc="oscillation / modulation depth B")
    grid = param.Selector(default=64, objects=[16, 24, 32, 48, 64, 96, 128, 256], label="Grid N",
                          doc="grid points per side (the strain model past A* needs 64 or more)")
    crossings = param.Number(default=6.0, bounds=(1.0, 40.0), label="Cell crossings",
                             doc="horizon in cell-crossing times")
    batch = param.Integer(default=1, bounds=(1, 32), label="Points per batch", doc="points computed together (one chunk)")
    view = param.Selector(default=plots.VIEWS[0], objects=list(plots.VIEWS), label="View", doc="axes of the s_T plot")
    frame = param.Integer(default=-1, bounds=(-1, 100), doc="front snapshot shown (-1: the last)")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.results: dict[str, xr.Dataset] = {}
        self.points = SpeedPoints()  # touched on the loop only
        self.selected: tuple[str, float] | None = None
        self._speeds = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="speeds",
                                         css_classes=["wb-gq-speeds"])
        self._front = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="front",
                                        css_classes=["wb-gq-front"])
        self._history = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="history",
                                          css_classes=["wb-gq-history"])
        self._summary = TextView("Run a sweep, then click a point.", markdown=True, css_classes=["wb-gq-summary"])
        self._runner = self.runner(self._finished, pool="heavy", on_error=self._failed)
        self._player = pn.widgets.Player(start=0, end=1, value=0, loop_policy="once",
                                         interval=400, css_classes=["wb-gq-player"], visible=False)
        self._player.param.watch(lambda e: setattr(self, "frame", int(e.new)), "value")
        self._draw_speeds()

    def check_state(self, values: dict[str, Any]) -> None:
        if not values["A_max"] > values["A_min"]:
            raise ValueError(f"A_max must be larger than A_min; got A_min={values['A_min']}, A_max={values['A_max']}")

    # ---- compute ---------------------------------------------------------------------------------

    def amplitudes(self) -> np.ndarray:
        if not self.A_max > self.A_min:
            raise ValueError(f"A_max must be larger than A_min; got A_min={self.A_min}, A_max={self.A_max}")
        return np.linspace(self.A_min, self.A_max, int(self.n_A))

    def _key(self, model: str, A: np.ndarray) -> tuple:
        return (model, self.flow, tuple(np.round(A, 12)), self.d, self.omega, self.B, int(self.grid),
                float(self.crossings), self.compute_device)

    def run(self) -> None:
        """Sweep every chosen model over the A range (newest request wins)."""
        try:
            if not self.models:
                raise ValueError("models must name at least one G-equation model")
            A = self.amplitudes()
        except (ValueError, TypeError) as exc:
            self.status.error(exc)
            return
        models = list(self.models)
        kwargs = dict(flow=self.flow, A=list(A), d=float(self.d), omega=float(self.omega), B=float(self.B),
                      grid=int(self.grid), crossings=float(self.crossings), chunk_size=int(self.batch),
                      max_crossings=max(32.0, float(self.crossings)),
                      n_frames=9, frame_grid=min(int(self.grid), 64), device=self.compute_device)
        self.points = SpeedPoints(models)
        self.results = {}
        self.selected = None
        total = len(models) * len(A)
        runner = self._runner

        def job(cancel: threading.Event) -> dict[str, xr.Dataset]:
            out: dict[str, xr.Dataset] = {}
            for i, model in enumerate(models):
                key = self._key(model, A)
                ds = SWEEPS.get(key)
                if ds is None:
                    def on_chunk(ev: ChunkEvent, i=i, model=model) -> None:
                        runner.post(self._on_chunk, model, ev, (i * len(A) + ev.done_points) / total)
                    ds = sweep(model, callbacks=[on_chunk], should_stop=cancel.is_set, **kwargs)
                    if not cancel.is_set() and not (ds.failed != "").any():
                        SWEEPS.put(key, ds)
                out[model] = ds
                runner.post(self.status.progress, (i + 1) * len(A) / total, f"{model}: {len(A)} points done")
                if cancel.is_set():
                    break
            return out

        self.status.progress(0.0, f"sweeping {len(models)} model(s) x {len(A)} amplitudes on "
                                  f"{self.grid}² ...")
        self._runner.submit(job)

    def _on_chunk(self, model: str, ev: ChunkEvent, fraction: float) -> None:
        if ev.result is not None:
            self.points.add(model, ev.result, ev.params["A"])
        text = f"{model}: A = {', '.join(f'{a:.3g}' for a in ev.params['A'])}"
        if ev.error:
            text += f" failed: {ev.error}"
        self.status.progress(fraction, text)
        self._draw_speeds()

    def _finished(self, out: dict[str, xr.Dataset]) -> None:
        self.results.update(out)
        for model, ds in out.items():  # the finished sweep replaces its chunks' points
            self.points[model] = {}
            self.points.add(model, ds)
        problems = []
        for model, ds in out.items():
            for a, why, err in zip(ds.A.values, ds.failed.values, ds.error.values):
                if why or err:
                    problems.append(f"{model} A={a:g}: {why or err}")
        self._draw_speeds()
        flagged = self.points.flagged()
        if flagged:
            problems.append("hollow points are not results: " + "; ".join(flagged[:2])
                            + (" ..." if len(flagged) > 2 else ""))
        if problems:
            self.status.error("; ".join(problems[:3]) + (" ..." if len(problems) > 3 else ""))
        else:
            self.status.progress(1.0, "sweep done: click a point to see its front and <u>(t)")
        if out and self.selected is None:
            model = next(iter(out))
            self.select(model, float(out[model].A.values[-1]))

    def _failed(self, exc: BaseException) -> None:
        self.status.error(exc)
        self._draw_speeds()

    # ---- views -----------------------------------------------------------------------------------

    @param.depends("view", watch=True)
    def _draw_speeds(self) -> None:
        view = plots.speed_curves(self.points.dataset(), self.view, self.points.a_star())
        tap = hv.streams.Tap(source=view, x=None, y=None)
        tap.add_subscriber(self._on_tap)
        self._speeds.object = view

    def _on_tap(self, x: float | None = None, y: float | None = None) -> None:
        if x is None or y is None:
            return
        best = self.points.nearest(x, y, self.view, self.A_max)
        if best is not None:
            self.select(*best)

    def select(self, model: str, A: float) -> None:
        """Show the run (model, A): its front snapshots and its ⟨u⟩(t)."""
        if model not in self.results:
            return
        ds = self.results[model].sel(A=A, method="nearest")
        for extra in ("d", "omega", "B"):
            if extra in ds.dims:
                ds = ds.isel({extra: 0})
        self.selected = (model, float(ds.A))
        n = int(ds.sizes["frame"])
        self._player.param.update(end=n - 1, value=n - 1, visible=n > 1)
        self.frame = n - 1
        self._draw_run()

    @param.depends("frame", watch=True)
    def _draw_run(self) -> None:
        if self.selected is None:
            return
        model, A = self.selected
        ds = self.results[model].sel(A=A)
        if not np.isfinite(float(ds.s_T)):
            self.status.error(f"{model} at A={A:g} has no result: {str(ds.error.values) or 'failed'}")
            return
        frame = min(max(self.frame, -1), int(ds.sizes["frame"]) - 1)
        ds = ds.assign_coords(A=A)
        ds.attrs = self.results[model].attrs
        self._front.object = plots.front_view(ds, frame, self.flow)
        self._history.object = plots.history_view(ds)
        flag = str(ds.flag.values) if "flag" in ds else ""
        self._summary.object = (f"**{model}**, {self.flow} flow, A = {A:.4g}: s_T = {float(ds.s_T):.4f} ± "
                                f"{float(ds.s_T_error):.2g} (converged: {bool(ds.converged)}), "
                                f"t_final = {float(ds.t_final):.3g}, {int(ds.n_steps)} steps"
                                + (f"; **not a plain result**: {flag}" if flag else ""))

    # ---- export ----------------------------------------------------------------------------------

    def figure(self) -> hv.Overlay | hv.Layout | None:
        if not self.points:
            return None
        return plots.speed_curves(self.points.dataset(), self.view, self.points.a_star())

    def data(self) -> xr.Dataset | None:
        """The paper figure's data: s_T(A) per model with its error and A* of the strain models."""
        return paper.figure_data(self.results, loglog=self.view == "log-log") if self.results else None

    # ---- layout ----------------------------------------------------------------------------------

    def body(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.Row(self._speeds, sizing_mode="stretch_width"),
            self._summary,
            pn.Row(pn.Column(self._front, self._player, sizing_mode="stretch_width"), self._history,
                   sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
