"""Phase-retrieval explorer: histograms of reconstruction errors over many random starts.

Every setting is a bounded ``param`` parameter. "Run" computes the runs in
chunks inside one :class:`~workbench.ui.LatestRunner` job: the per-algorithm
histograms fill as chunks finish, "Cancel" stops after the running chunk and
keeps the finished runs. Clicking a histogram bin shows the gallery of that
bin's reconstructions; the other tabs show the convergence (median and
spread), the diffraction pattern with mask and support, the best
reconstruction beside the truth, and the FRC. Errors go to the Status line.
"""

from __future__ import annotations

import threading
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param
import xarray as xr

from ..ui import ExportButtons, LatestRunner, Status
from . import metrics, plots, study
from .algorithms import ALGORITHMS, schedule
from .phantoms import PHANTOMS, from_image
from .physics import FourierMagnitude, simulate


IMAGE = "image file"
MAX_IMAGE_BYTES = 8 * 2**20


@pn.cache(max_items=16)
def cached_measurement(name: str, size: int, log_flux: float, beamstop: float, seed: int, support: str):
    """The simulated pattern for these settings (shared by every session of the server)."""
    return study.simulated(name, size, flux=10.0**log_flux, beamstop=beamstop, data_seed=seed + 1_000_003,
                           support=support)


def image_object(data: bytes, filename: str, n: int) -> np.ndarray:
    """An uploaded image file as an ``n x n`` object (via :func:`~workbench.phase.phantoms.from_image`)."""
    import tempfile
    from pathlib import Path

    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"image file must be at most {MAX_IMAGE_BYTES // 2**20} MiB, got {len(data)} bytes")
    suffix = Path(filename or "image.png").suffix.lower() or ".png"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        return from_image(path, n)


class PhaseRetrievalExplorer(pn.viewable.Viewer):
    """Histogram study of ER / HIO / RAAR / OSS / GPS on a simulated diffraction pattern."""

    # the view's parameters: in the URL, in the parameters JSON and in exported data
    shared = ["phantom", "size", "log_flux", "support", "beamstop", "algorithms", "runs", "iterations", "chunk",
              "beta", "gps_s", "gps_sigma", "seed", "gallery_algorithm"]
    filename = "phase_retrieval"

    phantom = param.Selector(default="vesicle", objects=[*PHANTOMS, IMAGE],
                             doc="simulated object (or an uploaded image file)")
    size = param.Selector(default=64, objects=[32, 64, 128, 256], doc="array size N (object N/2: oversampling 2)")
    log_flux = param.Number(default=8.0, bounds=(5.0, 10.0), step=0.5, doc="log10 of the total photon count")
    support = param.Selector(default="object", objects=["object", "box"],
                             doc="known support: the object's footprint or its bounding rectangle (looser)")
    beamstop = param.Number(default=0.0, bounds=(0.0, 8.0), step=0.5, doc="radius of the missing centre (pixels)")
    algorithms = param.ListSelector(default=["oss", "gps"], objects=list(ALGORITHMS),
                                    doc="algorithms compared from the same random starts")
    runs = param.Integer(default=20, bounds=(1, 1000), doc="random starts per algorithm")
    iterations = param.Integer(default=300, bounds=(10, 5000), doc="iterations per run")
    chunk = param.Integer(default=5, bounds=(1, 200), doc="runs computed together (histograms update per chunk)")
    beta = param.Number(default=0.9, bounds=(0.5, 1.0), doc="feedback beta of HIO and OSS")
    gps_s = param.Number(default=0.9, bounds=(0.1, 1.0), doc="GPS dual step s")
    gps_sigma = param.Number(default=0.1, bounds=(0.0, 1.0), doc="largest GPS sigma (stepped up from sigma/100)")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1), doc="seed of the noise and of run 0 (run r: seed + r)")
    gallery_algorithm = param.Selector(default="oss", objects=list(ALGORITHMS),
                                       doc="algorithm whose reconstructions the gallery shows")
    device = param.String(default="", doc="compute device ('' = WORKBENCH_DEVICE or auto)")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.status = Status()
        self.result: xr.Dataset | None = None
        self._pieces: dict[str, list[xr.Dataset]] = {}
        self._edges = np.linspace(0, 1, 31)
        self._bin: tuple[float, float] | None = None
        self._hist_pane = pn.pane.HoloViews(self._hist_view(None), sizing_mode="stretch_width",
                                            name="histograms", css_classes=["wb-phase-histograms"])
        self._tap: hv.streams.Tap | None = None
        self._gallery = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="gallery")
        self._gallery_info = pn.pane.Markdown("Click a histogram bin to see its reconstructions.",
                                              css_classes=["wb-phase-gallery-info"])
        self._conv = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="convergence")
        self._pattern = pn.pane.HoloViews(None, name="pattern")
        self._best = pn.pane.HoloViews(None, name="best")
        self._frc = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="frc")
        self._table = pn.pane.Markdown("", css_classes=["wb-phase-table"])
        self._runner = LatestRunner(self._finished, self._on_error, self.status.busy)
        self._run_btn = pn.widgets.Button(label="Run", color="primary", css_classes=["wb-phase-run"])
        self._run_btn.on_click(lambda _e: self.run())
        self._cancel_btn = pn.widgets.Button(label="Cancel", css_classes=["wb-phase-cancel"])
        self._cancel_btn.on_click(lambda _e: self._runner.cancel())
        self._upload = pn.widgets.FileInput(accept=".png,.jpg,.jpeg,.tif,.tiff,.bmp", multiple=False,
                                            css_classes=["wb-phase-upload"], sizing_mode="stretch_width")
        self._upload.param.watch(self._uploaded, "value")
        self.export = ExportButtons(figure=self.figure, data=self.data, filename="phase_retrieval")
        self.show_pattern()

    def _uploaded(self, _event: Any) -> None:
        if self.phantom == IMAGE:
            self.show_pattern()
        else:
            self.phantom = IMAGE

    # ---- compute ---------------------------------------------------------------------------------

    def _params(self) -> dict[str, dict[str, Any]]:
        sigma = (self.gps_sigma / 100, self.gps_sigma) if self.gps_sigma > 0 else 0.0
        gps = {"s": self.gps_s, "sigma": sigma}
        return {"hio": {"beta": self.beta}, "oss": {"beta": self.beta}, "gps": gps, "gps-r": gps,
                "gps-f": gps, "gps-rf": gps}

    def measurement(self):
        if self.phantom != IMAGE:
            return cached_measurement(self.phantom, int(self.size), float(self.log_flux), float(self.beamstop),
                                      int(self.seed), self.support)
        if not self._upload.value:
            raise ValueError("phantom 'image file': upload a PNG/JPEG/TIFF image first")
        obj = image_object(self._upload.value, self._upload.filename, int(self.size) // 2)
        return simulate(obj, int(self.size), flux=10.0**self.log_flux, beamstop=self.beamstop,
                        seed=self.seed + 1_000_003, support=self.support)

    @param.depends("phantom", "size", "log_flux", "beamstop", "seed", "support", watch=True)
    def show_pattern(self) -> None:
        try:
            m = self.measurement()
        except (ValueError, TypeError) as exc:
            self.status.error(exc)
            return
        self.status.clear()
        self._pattern.object = plots.pattern(study.measurement_dataset(m))

    def run(self) -> None:
        """Compute ``runs`` starts of every selected algorithm in chunks (off the event loop)."""
        try:
            names = list(self.algorithms)
            if not names:
                raise ValueError("algorithms must name at least one algorithm")
            m = self.measurement()
            physics = FourierMagnitude(m, device=self.device or None)
            threshold = metrics.default_threshold(physics)
            params = {n: self._params().get(n, {}) for n in names}
            for n in names:  # build every schedule once so that bad parameters fail before any work
                schedule(n, self.iterations, **params[n])
        except (ValueError, TypeError, MemoryError) as exc:
            self.status.error(exc)
            return
        runs, iterations, chunk, seed = self.runs, self.iterations, self.chunk, self.seed
        if self.gallery_algorithm not in names:
            self.gallery_algorithm = names[0]

        def job(cancel: threading.Event) -> xr.Dataset | None:
            pieces: dict[str, list[xr.Dataset]] = {n: [] for n in names}
            total, done = len(names) * runs, 0
            self.status.progress(0.0, f"running {runs} starts of {', '.join(names)} ...")
            for piece in study.chunks(runs, chunk):
                for name in names:
                    if cancel.is_set():
                        break
                    try:
                        ds = study.reconstruct(physics, name, piece, iterations=iterations, seed=seed,
                                               record_every=max(1, iterations // 50), cancel=cancel,
                                               **params[name])
                    except InterruptedError:
                        break
                    pieces[name].append(ds)
                    done += len(piece)
                    self._partial(pieces, m, physics, threshold, seed, done / total)
                if cancel.is_set():
                    break
            if not any(pieces.values()):
                return None
            return study.assemble(pieces, m, physics, threshold=threshold, seed=seed, elapsed=float("nan"),
                                  params={"algorithms": names, "runs": runs, "iterations": iterations,
                                          "seed": seed, "flux": m.flux, "size": m.size,
                                          "phantom": self.phantom, "algorithm_params": params})

        self._runner.submit(job)

    def _partial(self, pieces, m, physics, threshold, seed, fraction) -> None:
        ds = study.assemble({k: list(v) for k, v in pieces.items()}, m, physics, threshold=threshold,
                            seed=seed, elapsed=float("nan"), params={})
        self._runner.post(self._show_partial, ds, fraction)

    def _show_partial(self, ds: xr.Dataset, fraction: float) -> None:
        self._show(ds)
        self.status.progress(fraction, f"{int(round(fraction * 100))} % of runs finished")

    def _finished(self, ds: xr.Dataset | None) -> None:
        if ds is None:
            self.status.progress(None, "cancelled before any run finished")
            return
        self._show(ds)
        n = ds.sizes["run"]
        self.status.progress(None, f"done: {n} runs per algorithm" if n == self.runs
                             else f"cancelled: kept {n} finished runs per algorithm")

    def _on_error(self, exc: BaseException) -> None:
        self.status.error(exc)

    # ---- views -----------------------------------------------------------------------------------

    def _show(self, ds: xr.Dataset) -> None:
        self.result = ds
        self._edges = plots.bin_edges(ds)
        # a new figure per update (with its own Tap stream): legends change as algorithms fill in
        hist = self._hist_view(ds)
        self._tap = hv.streams.Tap(source=hist, x=None, y=None)
        self._tap.add_subscriber(self._on_tap)
        self._hist_pane.object = hist
        self._conv.object = plots.convergence(ds)
        self._frc.object = plots.frc_curves(ds)
        self._show_best()
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
        i = int(np.searchsorted(self._edges, x, side="right")) - 1
        i = min(max(i, 0), len(self._edges) - 2)
        self._bin = (float(self._edges[i]), float(self._edges[i + 1]))
        self._show_gallery()

    @param.depends("gallery_algorithm", watch=True)
    def _show_gallery(self) -> None:
        ds, b = self.result, self._bin
        if ds is None or b is None or self.gallery_algorithm not in ds["algorithm"].values:
            return
        view = plots.gallery(ds, self.gallery_algorithm, *b)
        self._gallery.object = view
        count = 0 if view is None else len(view)
        self._gallery_info.object = (f"**{self.gallery_algorithm}**, R_F in [{b[0]:.4f}, {b[1]:.4f}): "
                                     f"{count} reconstruction(s) shown")
        self._show_best()

    def _show_best(self) -> None:
        ds = self.result
        if ds is None:
            return
        name = self.gallery_algorithm if self.gallery_algorithm in ds["algorithm"].values else ds["algorithm"].values[0]
        self._best.object = plots.best_vs_truth(ds, str(name))

    # ---- export ----------------------------------------------------------------------------------

    def figure(self) -> hv.Layout | None:
        if self.result is None:
            return None
        return (plots.histograms(self.result, self._edges) + plots.convergence(self.result)).cols(2)

    def data(self) -> xr.Dataset | None:
        return self.result

    # ---- layout ----------------------------------------------------------------------------------

    def controls(self) -> pn.Column:
        w = pn.widgets
        return pn.Column(
            w.Select.from_param(self.param.phantom, name="Phantom", css_classes=["wb-phase-phantom"]),
            pn.pane.Markdown("Image file (grey levels become the object):", margin=(0, 10)),
            self._upload,
            w.Select.from_param(self.param.size, name="Array size N", css_classes=["wb-phase-size"]),
            w.FloatSlider.from_param(self.param.log_flux, name="log10 flux", css_classes=["wb-phase-flux"]),
            w.RadioButtonGroup.from_param(self.param.support, name="Support", css_classes=["wb-phase-support"]),
            w.FloatSlider.from_param(self.param.beamstop, name="Beamstop radius (px)",
                                     css_classes=["wb-phase-beamstop"]),
            w.CheckBoxGroup.from_param(self.param.algorithms, name="Algorithms", inline=True,
                                       css_classes=["wb-phase-algorithms"]),
            w.IntInput.from_param(self.param.runs, name="Runs", css_classes=["wb-phase-runs"]),
            w.IntInput.from_param(self.param.iterations, name="Iterations", css_classes=["wb-phase-iterations"]),
            w.IntInput.from_param(self.param.chunk, name="Runs per chunk"),
            w.FloatSlider.from_param(self.param.beta, name="beta (HIO, OSS)"),
            w.FloatSlider.from_param(self.param.gps_s, name="GPS s"),
            w.FloatSlider.from_param(self.param.gps_sigma, name="GPS largest sigma"),
            w.IntInput.from_param(self.param.seed, name="Seed"),
            pn.Row(self._run_btn, self._cancel_btn),
            self.export, sizing_mode="stretch_width")

    def __panel__(self) -> pn.viewable.Viewable:
        def pick() -> pn.widgets.Select:
            return pn.widgets.Select.from_param(self.param.gallery_algorithm, name="Gallery algorithm",
                                                css_classes=["wb-phase-gallery-algorithm"], width=200)

        tabs = pn.Tabs(
            ("Histograms", pn.Column(self._hist_pane, self._table, pick(), self._gallery_info, self._gallery,
                                     sizing_mode="stretch_width")),
            ("Convergence", self._conv),
            ("Data", self._pattern),
            ("Best vs truth", pn.Column(pick(), self._best)),
            ("FRC", self._frc),
            dynamic=False, sizing_mode="stretch_width")
        return pn.Column(self.status, tabs, sizing_mode="stretch_width")
