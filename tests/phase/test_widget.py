"""The explorer outside a server: chunked runs fill the histograms, bins open galleries, cancel keeps runs."""

from __future__ import annotations

import numpy as np
import pytest

from workbench import export
from workbench.phase.widget import PhaseRetrievalExplorer


@pytest.fixture
def explorer():
    return PhaseRetrievalExplorer(size=32, runs=4, iterations=20, chunk=2, algorithms=["hio", "gps"],
                                  gallery_algorithm="gps", device="cpu")


def test_run_fills_histograms_and_a_bin_click_opens_its_gallery(explorer):
    explorer.run()
    ds = explorer.result
    assert ds.sizes["run"] == 4 and list(ds["algorithm"].values) == ["hio", "gps"]
    assert explorer.status.message == "done: 4 runs per algorithm"
    hist = explorer._hist_pane.object  # one histogram per algorithm + the threshold line
    counts = [el.dimension_values("count").sum() for el in hist if el.vdims and el.vdims[0].name == "count"]
    assert counts == [4, 4]
    err = ds["error"].sel(algorithm="gps").values
    explorer._on_tap(x=float(err.min()))
    lo, hi = explorer._bin
    expected = int(((err >= lo) & (err < hi)).sum())
    assert expected >= 1 and len(explorer._gallery.object) == expected
    assert "gps" in explorer._gallery_info.object
    assert explorer._conv.object is not None and explorer._frc.object is not None
    assert explorer._pattern.object is not None and explorer._best.object is not None
    assert export.figure_bytes(explorer.figure(), "png")[:4] == b"\x89PNG"


def test_cancel_keeps_finished_runs_and_errors_show_in_status(explorer):
    original = explorer._partial

    def cancel_after_first_chunk(*args):
        original(*args)
        explorer._runner._cancel.set()

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
