"""Phase-retrieval explorer: histograms of reconstruction errors over many random starts.

Built on :class:`workbench.ui.Explorer` (controls generated from the bounded parameters, Run and
Cancel, export, sharing, session lifecycle). "Run" computes the runs in chunks inside one heavy
job: the per-algorithm histograms fill as chunks finish, "Cancel" stops after the running chunk
and keeps the finished runs. Clicking a histogram bar shows the gallery of *that* algorithm's
reconstructions in that bin (the bar under the click: :func:`~workbench.phase.plots.clicked_algorithm`).
The data are a simulated phantom, an uploaded image, or an uploaded measured pattern
(.cxi/.npz/.npy/HDF5, previewed in the Data tab); the mask editor adds a beamstop and detector
gaps to any of them. Other tabs: convergence, the data with mask and support, the best
reconstruction beside the truth, the PRTF of the selected runs beside the FRC.
"""

from __future__ import annotations

import threading
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from ..ui.explorer import Explorer
from ..ui.text import TextView
from . import metrics, paper, plots, resolution, study
from .algorithms import ALGORITHMS, schedule
from .fidelity import LIKELIHOODS
from .data_sources import DATA, DATA_SUFFIXES, IMAGE, cached_measurement, data_measurement, image_object
from .phantoms import PHANTOMS
from .physics import FourierMagnitude, Measurement, simulate, with_mask

class PhaseRetrievalExplorer(Explorer):
    """Histogram study of ER / HIO / RAAR / OSS / GPS on a simulated or measured diffraction pattern."""

    shared = ["phantom", "size", "log_flux", "support", "beamstop", "gap_width", "algorithms", "runs",
              "iterations", "chunk", "beta", "gps_s", "gps_sigma", "likelihood", "shrinkwrap", "free_pixels",
              "seed"]
    filename = "phase_retrieval"
    run_label = "Run"
    css_prefix = "wb-phase"
    widgets = {"algorithms": {"type": pn.widgets.CheckBoxGroup, "inline": True},
               "support": pn.widgets.RadioButtonGroup, "runs": pn.widgets.IntInput,
               "iterations": pn.widgets.IntInput, "chunk": pn.widgets.IntInput, "seed": pn.widgets.IntInput,
               "likelihood": pn.widgets.RadioButtonGroup}

    phantom = param.Selector(default="vesicle", objects=[*PHANTOMS, IMAGE, DATA], label="Phantom",
                             doc="simulated object, an uploaded image file, or an uploaded measured pattern")
    size = param.Selector(default=64, objects=[32, 64, 128, 256], label="Array size N",
                          doc="array size N of a simulation (object N/2: oversampling 2)")
    log_flux = param.Number(default=8.0, bounds=(5.0, 10.0), step=0.5, label="log10 flux",
                            doc="log10 of the total photon count of a simulation")
    support = param.Selector(default="object", objects=["object", "box"], label="Support",
                             doc="known support of a simulation: the object's footprint or its bounding box")
    beamstop = param.Number(default=0.0, bounds=(0.0, 8.0), step=0.5, label="Beamstop radius (px)",
                            doc="mask editor: radius of the missing centre, in pixels")
    gap_width = param.Integer(default=0, bounds=(0, 8), label="Detector gap width (px)",
                              doc="mask editor: width of the horizontal and vertical gaps through k = 0")
    algorithms = param.ListSelector(default=["oss", "gps"], objects=list(ALGORITHMS), label="Algorithms",
                                    doc="algorithms compared from the same random starts")
    runs = param.Integer(default=20, bounds=(1, 1000), label="Runs", doc="random starts per algorithm")
    iterations = param.Integer(default=300, bounds=(10, 5000), label="Iterations", doc="iterations per run")
    chunk = param.Integer(default=5, bounds=(1, 200), label="Runs per chunk",
                          doc="runs computed together (histograms update per chunk)")
    beta = param.Number(default=0.9, bounds=(0.5, 1.0), label="beta (HIO, OSS)", doc="feedback beta of HIO and OSS")
    gps_s = param.Number(default=0.9, bounds=(0.1, 1.0), label="GPS s", doc="GPS dual step s")
    gps_sigma = param.Number(default=0.1, bounds=(0.0, 1.0), label="GPS largest sigma",
                             doc="largest GPS sigma (stepped up from sigma/100)")
    likelihood = param.Selector(default="gaussian", objects=list(LIKELIHOODS), label="GPS fidelity",
                                doc="GPS's data fidelity: least squares or Poisson")
    shrinkwrap = param.Boolean(default=False, label="Shrink-wrap",
                               doc="update every run's support by shrink-wrap every 20 iterations")
    free_pixels = param.Number(default=0.0, bounds=(0.0, 0.2), step=0.01, label="Free pixels",
                               doc="fraction of pixels left out of the fit (0: off); runs ranked by free LLK")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1), label="Seed",
                         doc="seed of the noise and of run 0 (run r: seed + r)")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.result: xr.Dataset | None = None
        self.resolution: xr.Dataset | None = None
        self._edges = np.linspace(0, 1, 31)
        self._bin: tuple[float, float] | None = None
        self.gallery_algorithm: str | None = None
        self._hist_pane = pn.pane.HoloViews(self._hist_view(None), sizing_mode="stretch_width",
                                            name="histograms", css_classes=["wb-phase-histograms"])
        self._tap: hv.streams.Tap | None = None
        self._gallery = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="gallery")
        self._gallery_info = TextView("Click a histogram bar to see that algorithm's reconstructions in its bin.",
                                      pre=True, css_classes=["wb-phase-gallery-info"])
        self._conv = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="convergence")
        self._pattern = pn.pane.HoloViews(None, name="pattern")
        self._data_info = TextView("", pre=True, css_classes=["wb-phase-data-info"])
        self._best = pn.pane.HoloViews(None, name="best")
        self._frc = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="frc")
        self._prtf = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="prtf")
        self._table = TextView("", markdown=True, css_classes=["wb-phase-table"])
        self._runner = self.runner(self._finished, pool="heavy")
        self._upload = pn.widgets.FileInput(accept=".png,.jpg,.jpeg,.tif,.tiff,.bmp", multiple=False,
                                            css_classes=["wb-phase-upload"], sizing_mode="stretch_width")
        self._upload.param.watch(lambda _e: self._uploaded(IMAGE), "value")
        self._data_upload = pn.widgets.FileInput(accept=",".join(DATA_SUFFIXES), multiple=False,
                                                 css_classes=["wb-phase-data-upload"], sizing_mode="stretch_width")
        self._data_upload.param.watch(lambda _e: self._uploaded(DATA), "value")
        self._loaded: Measurement | None = None
        self.when_loaded(self.show_pattern)

    def _uploaded(self, kind: str) -> None:
        if kind == DATA:
            self._loaded = None  # decoded again on the next use
        if self.phantom == kind:
            self.show_pattern()
        else:
            self.phantom = kind

    # ---- compute ---------------------------------------------------------------------------------

    def _params(self) -> dict[str, dict[str, Any]]:
        sigma = (self.gps_sigma / 100, self.gps_sigma) if self.gps_sigma > 0 else 0.0
        gps = {"s": self.gps_s, "sigma": sigma, "likelihood": self.likelihood}
        return {"hio": {"beta": self.beta}, "oss": {"beta": self.beta}, "gps": gps, "gps-r": gps,
                "gps-f": gps, "gps-rf": gps}

    def measurement(self) -> Measurement:
        """The pattern to reconstruct, with the mask editor's beamstop and gaps added."""
        if self.phantom == DATA:
            if not self._data_upload.value:
                raise ValueError("phantom 'data file': upload a .cxi/.npz/.npy/HDF5 pattern first")
            if self._loaded is None:
                self._loaded = data_measurement(self._data_upload.value, self._data_upload.filename)
            return with_mask(self._loaded, self.beamstop, self.gap_width)
        if self.phantom == IMAGE:
            if not self._upload.value:
                raise ValueError("phantom 'image file': upload a PNG/JPEG/TIFF image first")
            obj = image_object(self._upload.value, self._upload.filename, int(self.size) // 2)
            m = simulate(obj, int(self.size), flux=10.0**self.log_flux, seed=self.seed + 1_000_003,
                         support=self.support)
        else:
            m = cached_measurement(self.phantom, int(self.size), float(self.log_flux), 0.0, int(self.seed),
                                   self.support)
        return with_mask(m, self.beamstop, self.gap_width)

    @param.depends("phantom", "size", "log_flux", "beamstop", "gap_width", "seed", "support", watch=True)
    def show_pattern(self) -> None:
        try:
            m = self.measurement()
        except (ValueError, TypeError, OSError) as exc:
            self.status.error(exc)
            return
        self.status.clear()
        self._pattern.object = plots.pattern(study.measurement_dataset(m))
        self._data_info.object = (f"{m.size} x {m.size} pixels, {float(m.intensity.sum()):.4g} photons, "
                                  f"{int(m.missing.sum())} masked, support {int(m.support.sum())} pixels"
                                  + ("" if m.truth is None else " (simulated: truth known)"))

    def run(self) -> None:
        """Compute ``runs`` starts of every selected algorithm in chunks (off the event loop)."""
        try:
            names = list(self.algorithms)
            if not names:
                raise ValueError("algorithms must name at least one algorithm")
            m = self.measurement()
            device = self.compute_device
            free = None
            if self.free_pixels > 0:
                from .crossvalidation import free_pixel_mask

                free = free_pixel_mask(m, self.free_pixels, self.seed)
            physics = FourierMagnitude(m, device=device, fft=study.fft_for(names[0], m), free=free)
            threshold = metrics.default_threshold(physics)
            params = {n: self._params().get(n, {}) for n in names}
            for n in names:  # build every schedule once so that bad parameters fail before any work
                schedule(n, self.iterations, **params[n])
        except (ValueError, TypeError, MemoryError, OSError) as exc:
            self.status.error(exc)
            return
        seed = self.seed
        kwargs = dict(runs=self.runs, iterations=self.iterations, seed=seed, device=device, chunk=self.chunk,
                      threshold=threshold, params=params, record_every=max(1, self.iterations // 50),
                      free_pixels=self.free_pixels or None, likelihood=self.likelihood,
                      shrinkwrap={"threshold": 0.2, "every": 20} if self.shrinkwrap else None)

        def job(cancel: threading.Event) -> tuple[xr.Dataset, xr.Dataset] | None:
            """:func:`study.compare`, each finished chunk shown at once; a cancel keeps the finished ones."""
            pieces: dict[str, list[xr.Dataset]] = {n: [] for n in names}

            def on_chunk(name: str, ds: xr.Dataset, fraction: float) -> None:
                pieces[name].append(ds)
                self._partial(pieces, m, physics, threshold, seed, fraction)

            self._runner.post(self.status.progress, 0.0, f"running {self.runs} starts of {', '.join(names)} ...")
            try:
                ds = study.compare(m, names, callback=on_chunk, cancel=cancel, **kwargs)
            except InterruptedError:  # cancelled before any chunk finished
                return None
            return ds, resolution.study_prtf(ds)  # aligned runs: computed here, off the session's loop

        self._runner.submit(job)

    def _partial(self, pieces, m, physics, threshold, seed, fraction) -> None:
        ds = study.assemble({k: list(v) for k, v in pieces.items()}, m, physics, threshold=threshold,
                            seed=seed, elapsed=float("nan"), params={})
        self._runner.post(self._show_partial, ds, resolution.study_prtf(ds), fraction)

    def _show_partial(self, ds: xr.Dataset, res: xr.Dataset, fraction: float) -> None:
        self._show(ds, res)
        self.status.progress(fraction, f"{int(round(fraction * 100))} % of runs finished")

    def _finished(self, out: tuple[xr.Dataset, xr.Dataset] | None) -> None:
        if out is None:
            self.status.progress(None, "cancelled before any run finished")
            return
        ds = out[0]
        self._show(*out)
        n = ds.sizes["run"]
        self.status.progress(None, f"done: {n} runs per algorithm" if n == self.runs
                             else f"cancelled: kept {n} finished runs per algorithm")

    # ---- views -----------------------------------------------------------------------------------

    def _show(self, ds: xr.Dataset, res: xr.Dataset) -> None:
        """Show a (partial) study and its PRTF (both computed off the session's loop)."""
        self.result = ds
        self._edges = plots.bin_edges(ds)
        # a new figure per update (with its own Tap stream): legends change as algorithms fill in
        hist = self._hist_view(ds)
        self._tap = hv.streams.Tap(source=hist, x=None, y=None)
        self._tap.add_subscriber(self._on_tap)
        self._hist_pane.object = hist
        self._conv.object = plots.convergence(ds)
        self._frc.object = plots.frc_curves(ds)
        self.resolution = res
        self._prtf.object = plots.prtf_curves(self.resolution, ds)
        if self.gallery_algorithm not in ds["algorithm"].values:
            self.gallery_algorithm = str(ds["algorithm"].values[0])
        self._best.object = plots.best_vs_truth(ds, self.gallery_algorithm)
        if self._bin is not None:
            self._show_gallery()
        rows = study.summary(ds)
        lines = ["| algorithm | runs | mean R_F | std | min | good fraction | s/run |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {k} | {r['runs']} | {r['mean']:.4f} | {r['std']:.4f} | {r['min']:.4f} | "
                  f"{r['good_fraction']:.2f} | {r['seconds_per_run']:.3g} |" for k, r in rows.items()]
        self._table.object = "\n".join(lines) + f"\n\nGood minimum: R_F < {float(ds['threshold']):.4f}"

    def _hist_view(self, data: xr.Dataset | None) -> hv.Overlay:
        if data is None:
            return hv.Overlay([hv.Histogram(([0, 1], [0]), kdims=[plots.RF], vdims=["count"])]).opts(
                title="Press Run to fill the histograms").opts(responsive=True, height=300, backend="bokeh")
        return plots.histograms(data, self._edges)

    def _on_tap(self, x: float | None = None, y: float | None = None) -> None:
        if x is None or self.result is None:
            return
        hit = plots.clicked_algorithm(self.result, self._edges, x, y)
        if hit is None:
            return
        self.gallery_algorithm, i = hit
        self._bin = (float(self._edges[i]), float(self._edges[i + 1]))
        self._show_gallery()
        self._best.object = plots.best_vs_truth(self.result, self.gallery_algorithm)

    def _show_gallery(self) -> None:
        ds, b, name = self.result, self._bin, self.gallery_algorithm
        if ds is None or b is None or name not in ds["algorithm"].values:
            return
        view = plots.gallery(ds, name, *b)
        self._gallery.object = view
        count = 0 if view is None else len(view)
        self._gallery_info.object = f"{name}, R_F in [{b[0]:.4f}, {b[1]:.4f}): {count} reconstruction(s) shown"

    # ---- export ----------------------------------------------------------------------------------

    def figure(self) -> hv.Layout | None:
        if self.result is None:
            return None
        return (plots.histograms(self.result, self._edges) + plots.convergence(self.result)).cols(2)

    def data(self) -> xr.Dataset | None:
        """The paper figure's data: final R_F, histories and the threshold."""
        return paper.figure_data(self.result) if self.result is not None else None

    # ---- layout ----------------------------------------------------------------------------------

    def controls_extra(self) -> list[Any]:
        return [pn.pane.Str("Image file (grey levels become the object):", margin=(0, 10)), self._upload,
                pn.pane.Str("Measured pattern (.cxi, .npz, .npy, HDF5; centred):", margin=(0, 10)),
                self._data_upload]

    def body(self) -> pn.viewable.Viewable:
        return pn.Tabs(
            ("Histograms", pn.Column(self._hist_pane, self._table, self._gallery_info, self._gallery,
                                     sizing_mode="stretch_width")),
            ("Convergence", self._conv),
            ("Data", pn.Column(self._data_info, self._pattern)),
            ("Best vs truth", self._best),
            ("FRC", self._frc),
            ("PRTF", self._prtf),
            dynamic=False, sizing_mode="stretch_width")
