"""The explorer outside a server: chunked runs fill the histograms, bins open galleries, cancel keeps runs."""

from __future__ import annotations

import numpy as np
import pytest

from workbench import export
from workbench.phase.widget import PhaseRetrievalExplorer


@pytest.fixture
def explorer():
    return PhaseRetrievalExplorer(size=32, runs=4, iterations=20, chunk=2, algorithms=["hio", "gps"], device="cpu")


def test_run_fills_histograms_and_a_bin_click_opens_its_gallery(explorer):
    explorer.run()
    ds = explorer.result
    assert ds.sizes["run"] == 4 and list(ds["algorithm"].values) == ["hio", "gps"]
    assert explorer.status.message == "done: 4 runs per algorithm"
    hist = explorer._hist_pane.object  # one histogram per algorithm + the threshold line
    counts = [el.dimension_values("count").sum() for el in hist if el.vdims and el.vdims[0].name == "count"]
    assert counts == [4, 4]
    # a click on a bar shows that algorithm's runs in that bin: the bar under the click is the
    # shortest one reaching the click's height (bars are drawn over each other from 0)
    checked = 0
    for name in ["gps", "hio"]:
        err = ds["error"].sel(algorithm=name).values
        x = float(err.min())
        i = int(np.searchsorted(explorer._edges, x, side="right")) - 1
        lo, hi = explorer._edges[i], explorer._edges[i + 1]
        expected = int(((err >= lo) & (err < hi)).sum())
        other = ds["error"].sel(algorithm="hio" if name == "gps" else "gps").values
        if int(((other >= lo) & (other < hi)).sum()) == expected:
            continue  # two bars of the same height: either is under the click
        explorer._on_tap(x=x, y=expected - 0.1)  # just below the top of this bar: no other bar ends there
        assert explorer.gallery_algorithm == name and explorer._bin == (lo, hi)
        assert expected >= 1 and len(explorer._gallery.object) == expected
        assert explorer._gallery_info.object.startswith(f"{name}, R_F in")
        checked += 1
    assert checked >= 1
    assert explorer.resolution is not None and explorer._prtf.object is not None
    assert explorer._conv.object is not None and explorer._frc.object is not None
    assert explorer._pattern.object is not None and explorer._best.object is not None
    assert export.figure_bytes(explorer.figure(), "png")[:4] == b"\x89PNG"


def test_cancel_keeps_finished_runs_and_errors_show_in_status(explorer):
    original = explorer._partial

    def cancel_after_first_chunk(*args):
        original(*args)
        explorer.cancel()

    explorer._partial = cancel_after_first_chunk
    explorer.run()
    assert explorer.result.sizes["run"] == 2  # first chunk of 2 runs for hio, kept
    assert explorer.status.message.startswith("cancelled: kept")
    explorer._partial = original
    explorer.algorithms = []
    explorer.run()
    assert "algorithms must name at least one" in explorer.status.message
    explorer.algorithms = ["er"]
    explorer.run()  # and the next valid run works
    assert explorer.status.message == "done: 4 runs per algorithm"
    assert np.isfinite(explorer.result["error"].values).all()


def test_uploaded_image_becomes_the_phantom(explorer):
    import io

    import matplotlib.pyplot as plt

    from .helpers import blobs

    explorer.phantom = "image file"  # nothing uploaded yet: a clear message, nothing breaks
    assert "upload a PNG/JPEG/TIFF image first" in explorer.status.message
    buf = io.BytesIO()
    plt.imsave(buf, blobs(16), cmap="gray", format="png")
    explorer._upload.filename = "blobs.png"
    explorer._upload.value = buf.getvalue()
    m = explorer.measurement()
    assert m.size == 32 and m.truth[m.support].max() > 0 and explorer.status.message == ""
    # the grey levels of the image are the object (up to the flux scale): brightest pixel where blobs peaks
    peak = np.unravel_index(np.argmax(m.truth), m.truth.shape)
    assert peak == (8 + 7, 8 + 10)  # blobs(16) peaks at (row 7, col 10); embedded at offset 8


def test_the_bar_under_a_click_is_the_shortest_reaching_it():
    import xarray as xr

    from workbench.phase import plots

    err = np.array([[0.1, 0.1, 0.1], [0.1, 0.5, np.nan]])
    ds = xr.Dataset({"error": (("algorithm", "run"), err)}, coords={"algorithm": ["hio", "gps"]})
    edges = np.array([0.0, 0.2, 0.4, 0.6])
    assert plots.clicked_algorithm(ds, edges, 0.1, 0.5) == ("gps", 0)   # inside both bars: the shorter
    assert plots.clicked_algorithm(ds, edges, 0.1, 2.0) == ("hio", 0)   # above gps's bar of 1
    assert plots.clicked_algorithm(ds, edges, 0.1, 3.5) is None         # above every bar
    assert plots.clicked_algorithm(ds, edges, 0.5, 0.5) == ("gps", 2)
    assert plots.clicked_algorithm(ds, edges, 0.3, 0.5) is None         # an empty bin
    assert plots.clicked_algorithm(ds, edges, 0.9, 0.5) is None         # outside the bins


def test_a_cxi_upload_is_previewed_and_the_mask_editor_adds_beamstop_and_gaps(explorer, tmp_path):
    from workbench.phase import cxi, study

    path = cxi.write(tmp_path / "p.cxi", study.simulated("vesicle", 32, 1e7))
    explorer._data_upload.filename = "p.cxi"
    explorer._data_upload.value = path.read_bytes()
    assert explorer.phantom == "data file" and explorer.status.message == ""
    assert explorer._data_info.object.startswith("32 x 32 pixels") and "0 masked" in explorer._data_info.object
    explorer.param.update(beamstop=2.0, gap_width=2)
    m = explorer.measurement()
    # radius 2: 13 pixels; gaps |k| <= 1 in each direction: 3 rows + 3 columns - 9 shared = 87 pixels;
    # 9 + 4 pixels of the disc lie in the gaps already: 87 + 13 - 9 = 91... counted exactly below
    from workbench.phase import physics

    expected = physics.beamstop_mask(32, 2.0) | physics.detector_gaps(32, 2)
    np.testing.assert_array_equal(m.missing, expected)
    assert f"{int(expected.sum())} masked" in explorer._data_info.object
    explorer.runs, explorer.iterations, explorer.algorithms = 2, 20, ["er"]
    explorer.run()
    assert explorer.status.message == "done: 2 runs per algorithm" and "truth" not in explorer.result
    explorer._data_upload.filename = "p.txt"
    explorer._data_upload.value = b"not a pattern"
    assert "data file must end in one of" in explorer.status.message
