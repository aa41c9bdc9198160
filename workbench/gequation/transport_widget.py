"""The transport explorer (Panel): effective diffusivity, particle clouds and stochastic fronts.

Built on :class:`workbench.ui.Explorer`. "Run" computes D_eff of the chosen
flow (:func:`.diffusivity.effective_diffusivity`, Euler–Maruyama or the
structure-preserving splitting) point by point over A or D₀ in a job of the
heavy pool; each finished point is posted to the page, so the log-log curve
with its 95% error bars fills while the sweep runs. The selected point (the
last finished, or a click on the curve) shows its mean-square displacement
with the fitted slope 2·D_eff and a particle cloud over the streamlines
(:mod:`.particle_cloud`), whose snapshot the time slider picks. "Run fronts"
computes the inviscid G-equation's s_T over A in the periodically and the
stochastically oscillating cellular flows (:mod:`.realisations`): the
realisation mean with its error bar and each realisation as a dot, beside
the periodic flow's locked plateau s_T = 1.5ω (Liu, Xin & Yu 2013).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from .. import budget
from ..ui import Explorer
from ..ui.text import TextView
from . import transport_plots as tp
from .diffusivity import effective_diffusivity
from .particle_cloud import particle_cloud
from .particle_flows import PARTICLE_FLOWS
from .sde import INTEGRATORS
from .solver import flame_speed

SWEEP_AXES = ("d0", "A")
CLOUD_FRAMES = 41
CLOUD_PARTICLES = 1500
MAX_SECONDS = 600.0  # the longest Run or Run fronts this view starts (estimated before)
PARTICLE_RATE = 1.0e7  # particle-steps per second, float32 splitting, one thread (benchmarks/bench_transport.py)


class TransportExplorer(Explorer):
    """D_eff against A or D₀ (live), MSD and particle clouds of a point, stochastic-flow fronts."""

    shared = ("flow", "integrator", "axis", "lo", "hi", "n_points", "A", "d0", "B", "omega", "particles",
              "t_final", "time", "front_A_min", "front_A_max", "front_n_A", "realisations", "front_grid",
              "periods")
    filename = "gequation_transport"
    run_label = "Run"
    css_prefix = "wb-tr"
    widgets = {
        "lo": pn.widgets.FloatInput, "hi": pn.widgets.FloatInput, "A": pn.widgets.FloatInput,
        "d0": pn.widgets.FloatInput, "B": pn.widgets.FloatInput, "omega": pn.widgets.FloatInput,
        "particles": pn.widgets.IntInput, "front_A_min": pn.widgets.FloatInput,
        "front_A_max": pn.widgets.FloatInput, "axis": pn.widgets.RadioButtonGroup,
    }

    flow = param.Selector(default="chaotic", objects=list(PARTICLE_FLOWS), label="Flow",
                          doc="particle flow (shear, cellular, time-periodic, stochastic or chaotic cells)")
    integrator = param.Selector(default="splitting", objects=list(INTEGRATORS), label="Integrator",
                                doc="structure-preserving splitting or Euler-Maruyama")
    axis = param.Selector(default="d0", objects=list(SWEEP_AXES), label="Sweep",
                          doc="vary the molecular diffusivity D0 or the amplitude A")
    lo = param.Number(default=0.01, bounds=(1e-4, 64.0), label="from", doc="first value of the swept parameter")
    hi = param.Number(default=1.0, bounds=(1e-4, 64.0), label="to", doc="last value of the swept parameter")
    n_points = param.Integer(default=5, bounds=(2, 16), label="Points", doc="values of the sweep (log-spaced)")
    A = param.Number(default=1.0, bounds=(0.0, 16.0), label="A", doc="flow amplitude A (when D0 is swept)")
    d0 = param.Number(default=0.1, bounds=(1e-4, 10.0), label="D0", doc="molecular diffusivity D0 (when A is swept)")
    B = param.Number(default=1.0, bounds=(-5.0, 5.0), label="B", doc="oscillation B of the time-dependent flows")
    omega = param.Number(default=1.0, bounds=(0.05, 20.0), label="omega", doc="frequency of the time-dependent flows")
    particles = param.Integer(default=20_000, bounds=(200, 400_000), label="Particles",
                              doc="particles per point (10 independent batches)")
    t_final = param.Number(default=60.0, bounds=(2.0, 1000.0), label="Horizon t", doc="time of the particle run")
    time = param.Integer(default=CLOUD_FRAMES - 1, bounds=(0, CLOUD_FRAMES - 1), label="Cloud snapshot",
                         doc="snapshot of the particle cloud (0: the start, 40: the horizon)")
    front_A_min = param.Number(default=1.0, bounds=(0.0, 16.0), label="Front A min",
                               doc="smallest amplitude of the front sweep")
    front_A_max = param.Number(default=2.0, bounds=(0.0, 16.0), label="Front A max",
                               doc="largest amplitude of the front sweep")
    front_n_A = param.Integer(default=5, bounds=(2, 12), label="Front amplitudes", doc="amplitudes of the front sweep")
    realisations = param.Integer(default=8, bounds=(2, 32), label="Realisations",
                                 doc="realisations of the random phase per amplitude")
    front_grid = param.Selector(default=32, objects=[16, 24, 32, 48, 64], label="Front grid N",
                                doc="grid points per side of the G-equation")
    periods = param.Integer(default=8, bounds=(2, 24), label="Front periods",
                            doc="horizon of the fronts in periods 2π/ω")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.points: list[xr.Dataset] = []
        self.selected = -1
        self.cloud: xr.Dataset | None = None
        self.fronts: dict[str, xr.Dataset] = {}
        self._curve = pn.pane.HoloViews(self._curve_view(), sizing_mode="stretch_width", css_classes=["wb-tr-deff"])
        self._msd = pn.pane.HoloViews(None, sizing_mode="stretch_width", css_classes=["wb-tr-msd"])
        self._cloud = pn.pane.HoloViews(None, sizing_mode="stretch_width", css_classes=["wb-tr-cloud"])
        self._front = pn.pane.HoloViews(tp.realisation_speeds_view(None, None), sizing_mode="stretch_width",
                                        css_classes=["wb-tr-front"])
        self._summary = TextView("Press Run: D_eff fills point by point.", markdown=True, css_classes=["wb-tr-summary"])
        self._sweep_runner = self.runner(self._sweep_done, pool="heavy")
        self._cloud_runner = self.runner(self._cloud_done)
        self._front_runner = self.runner(self._fronts_done, pool="heavy")
        self._front_button = pn.widgets.Button(label="Run fronts", css_classes=["wb-tr-run-fronts"])
        self._front_button.on_click(lambda _e: self.run_fronts())

    def check_state(self, values: dict[str, Any]) -> None:
        if not values["hi"] > values["lo"]:
            raise ValueError(f"hi must be larger than lo; got lo={values['lo']}, hi={values['hi']}")
        if not values["front_A_max"] > values["front_A_min"]:
            raise ValueError(f"front_A_max must be larger than front_A_min; got {values['front_A_min']}, "
                             f"{values['front_A_max']}")
        # particle-steps at the default step 0.05 (smaller for fast flows: the estimate errs short there)
        sweep_s = values["n_points"] * values["particles"] * values["t_final"] / 0.05 / PARTICLE_RATE
        if sweep_s > MAX_SECONDS:
            raise ValueError(f"particles × t_final × n_points would take about {sweep_s / 60:.0f} minutes "
                             f"(at most {MAX_SECONDS / 60:.0f}); lower particles, t_final or n_points")
        # G-equation point-steps: N² per run, (1 + realisations) runs per amplitude, CFL 0.5 steps
        # dt = 0.5 (2π/N) / (1 + A) over periods · 2π/ω
        N, A = int(values["front_grid"]), float(values["front_A_max"])
        steps = values["periods"] * 2 * math.pi / values["omega"] / (0.5 * 2 * math.pi / N / (1 + A))
        front_s = N * N * (1 + values["realisations"]) * values["front_n_A"] * steps * 1.125 / budget.GEQUATION_RATE
        if front_s > MAX_SECONDS:
            raise ValueError(f"front_grid² × realisations × periods × front_n_A would take about "
                             f"{front_s / 60:.0f} minutes (at most {MAX_SECONDS / 60:.0f}); lower one of them")

    def _state(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self.shared}

    # ---- D_eff sweep -----------------------------------------------------------------------------

    def values(self) -> np.ndarray:
        """The swept parameter's values: ``n_points`` log-spaced from ``lo`` to ``hi``."""
        self.check_state(self._state())
        return np.geomspace(float(self.lo), float(self.hi), int(self.n_points))

    def _options(self) -> dict[str, Any]:
        return dict(flow=self.flow, B=float(self.B), omega=float(self.omega), integrator=self.integrator,
                    t_final=float(self.t_final), device=self.compute_device)

    def run(self) -> None:
        """D_eff at each value of the swept parameter, one point after another (posted as it finishes)."""
        try:
            xs = self.values()
        except (ValueError, TypeError) as exc:
            self.status.error(exc)
            return
        axis, fixed = self.axis, {"A": float(self.A), "d0": float(self.d0)}
        options, particles = self._options(), int(self.particles)
        self.points, self.selected = [], -1
        self._curve.object = self._curve_view()
        runner = self._sweep_runner

        def job(cancel: threading.Event) -> list[xr.Dataset]:
            done = []
            for i, x in enumerate(xs):
                if cancel.is_set():
                    break
                ds = effective_diffusivity(A=x if axis == "A" else fixed["A"], d0=x if axis == "d0" else fixed["d0"],
                                           particles=particles, **options)
                done.append(ds)
                runner.post(self._point_done, ds, (i + 1) / len(xs))
            return done

        self.status.progress(0.0, f"D_eff of the {self.flow} flow at {len(xs)} values of {axis} ...")
        runner.submit(job)

    def _point_done(self, ds: xr.Dataset, fraction: float) -> None:
        self.points.append(ds)
        self._curve.object = self._curve_view()
        self.status.progress(fraction, f"D_eff: {len(self.points)} point(s) done")
        self.select(len(self.points) - 1)

    def _sweep_done(self, done: list[xr.Dataset]) -> None:
        self.points = list(done)
        self._curve.object = self._curve_view()
        if not done:
            self.status.info("sweep stopped before its first point")
            return
        unconverged = sum(int((ds.converged == 0).any()) for ds in done)
        note = f"; {unconverged} point(s) still drifting (lengthen the horizon)" if unconverged else ""
        self.status.progress(1.0, f"sweep done: {len(done)} point(s), {sum(float(d.attrs['elapsed_s']) for d in done):.1f} s"
                                  + note)

    def sweep_data(self) -> xr.Dataset | None:
        """The finished points as one Dataset along ``point`` (coords A, d0 per point)."""
        if not self.points:
            return None
        pts = [ds.expand_dims("point").assign_coords({k: ("point", [float(ds[k])]) for k in ("A", "d0", "B", "omega")})
               for ds in self.points]
        return xr.concat(pts, dim="point", combine_attrs="drop_conflicts")

    def _curve_view(self) -> hv.Overlay:
        ds = self.sweep_data()
        if ds is None:
            name, unit = tp.LABELS[self.axis]
            return hv.Curve([], hv.Dimension(self.axis, label=name, unit=unit),
                            hv.Dimension("D_eff", unit="length²/time")).opts(
                title="effective diffusivity (press Run)", min_height=300, responsive=True)
        view = tp.diffusivity_curve(ds.swap_dims({"point": self.axis}), x=self.axis)
        tap = hv.streams.Tap(source=view, x=None, y=None)
        tap.add_subscriber(self._on_tap)
        return view

    def _on_tap(self, x: float | None = None, y: float | None = None) -> None:
        if x is None or not self.points or x <= 0:
            return
        xs = np.array([float(ds[self.axis]) for ds in self.points])
        self.select(int(np.argmin(np.abs(np.log(xs) - math.log(x)))))

    # ---- the selected point: MSD and particle cloud ----------------------------------------------

    def select(self, i: int) -> None:
        """Show point ``i``: its MSD at once, its particle cloud when computed."""
        self.selected = i
        ds = self.points[i]
        self._msd.object = tp.msd_view(ds)
        d = ds.D_eff.values
        e = ds.D_eff_error.values
        self._summary.object = (f"{self.flow} flow, A = {float(ds.A):.4g}, D0 = {float(ds.d0):.4g} "
                                f"({self.integrator}): D_eff,xx = {d[0]:.4g} ± {e[0]:.2g}, "
                                f"D_eff,yy = {d[1]:.4g} ± {e[1]:.2g} (95%)")
        A, d0, options = float(ds.A), float(ds.d0), self._options()

        def job(cancel: threading.Event) -> xr.Dataset:
            return particle_cloud(A=A, d0=d0, particles=CLOUD_PARTICLES, n_frames=CLOUD_FRAMES, **options)

        self._cloud_runner.submit(job)

    def _cloud_done(self, cloud: xr.Dataset) -> None:
        self.cloud = cloud
        self._draw_cloud()

    @param.depends("time", watch=True)
    def _draw_cloud(self) -> None:
        if self.cloud is not None:
            self._cloud.object = tp.cloud_view(self.cloud, int(self.time))

    # ---- stochastic fronts -----------------------------------------------------------------------

    def run_fronts(self) -> None:
        """s_T over A in the periodic and the stochastic oscillating flow (inviscid model)."""
        try:
            self.check_state(self._state())
        except ValueError as exc:
            self.status.error(exc)
            return
        A = np.linspace(float(self.front_A_min), float(self.front_A_max), int(self.front_n_A))
        omega, R = float(self.omega), int(self.realisations)
        kw = dict(omega=omega, B=float(self.B), grid=int(self.front_grid), t_final=int(self.periods) * 2 * math.pi / omega,
                  n_frames=2, device=self.compute_device, on_blowup="record", dim="point")
        self.fronts = {}
        runner = self._front_runner

        def job(cancel: threading.Event) -> dict[str, xr.Dataset]:
            parts: dict[str, list[xr.Dataset]] = {"periodic": [], "stochastic": []}
            for i, a in enumerate(A):
                if cancel.is_set():
                    break
                parts["periodic"].append(flame_speed("inviscid", "oscillating", [a], **kw))
                parts["stochastic"].append(flame_speed("inviscid", "stochastic", [a], realisations=R, **kw))
                out = {k: xr.concat(v, dim="point", combine_attrs="drop_conflicts") for k, v in parts.items()}
                runner.post(self._fronts_partial, out, (i + 1) / len(A))
            return {k: xr.concat(v, dim="point", combine_attrs="drop_conflicts") for k, v in parts.items() if v}

        self.status.progress(0.0, f"fronts: {len(A)} amplitudes × (1 periodic + {R} stochastic) runs ...")
        runner.submit(job)

    def _fronts_partial(self, fronts: dict[str, xr.Dataset], fraction: float) -> None:
        self.fronts = fronts
        self._front.object = self._front_view()
        self.status.progress(fraction, f"fronts: {fronts['periodic'].sizes['point']} amplitude(s) done")

    def _fronts_done(self, fronts: dict[str, xr.Dataset]) -> None:
        self.fronts = fronts
        self._front.object = self._front_view()
        if not fronts:
            self.status.info("fronts stopped before their first amplitude")
            return
        sto = fronts["stochastic"]
        flagged = int(sum(bool(f) for k in fronts for f in fronts[k].flag.values))
        note = f"; {flagged} point(s) flagged (hollow): see the data's 'flag'" if flagged else ""
        self.status.progress(1.0, f"fronts done: {sto.sizes['point']} amplitudes, {int(sto.attrs['realisations'])} "
                                  f"realisations, spread up to {float(sto.s_T_spread.max()):.3g}" + note)

    def _front_view(self) -> hv.Overlay:
        return tp.realisation_speeds_view(self.fronts.get("periodic"), self.fronts.get("stochastic"),
                                          locked=1.5 * float(self.omega))

    # ---- export and layout -----------------------------------------------------------------------

    def figure(self) -> Any:
        return self._curve_view() if self.points else (self._front_view() if self.fronts else None)

    def data(self) -> xr.Dataset | None:
        if self.points:
            return self.sweep_data()
        return self.fronts.get("stochastic")

    def controls_extra(self) -> list[Any]:
        return [self._front_button]

    def body(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.Row(self._curve, self._msd, sizing_mode="stretch_width"),
            self._summary,
            pn.Row(self._cloud, self._front, sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
