"""Every dashboard as a product: figures and data downloaded from the served app, the data
carrying the app's parameters; shared links and parameter files that set the view; and a
long job in one session that leaves another responsive."""

import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from workbench import results

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n"


def download(page, locator, folder: Path) -> Path:
    """Click ``locator`` (a download button), wait for the browser's download and save it."""
    with page.expect_download(timeout=120_000) as info:
        locator.click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def check_figure(path: Path, fmt: str) -> None:
    data = path.read_bytes()
    assert path.suffix == f".{fmt}"
    if fmt == "pdf":
        assert data.startswith(b"%PDF")
    elif fmt == "png":
        assert data.startswith(PNG)
    else:
        assert ET.fromstring(data).tag.rsplit("}", 1)[-1] == "svg"


def export_and_check(page, tmp_path: Path, fmt: str, expected: dict) -> dict:
    """Download the figure as ``fmt`` and the data; the data's app_state includes ``expected``."""
    page.locator(".wb-export-format button", has_text=fmt).first.click()
    page.locator(".wb-export-format button.bk-active", has_text=fmt).first.wait_for(timeout=30_000)
    check_figure(download(page, page.locator(".wb-download-figure button").first, tmp_path), fmt)
    ds = results.load(download(page, page.locator(".wb-download-data button").first, tmp_path))
    assert len(ds.data_vars) >= 1
    state = json.loads(ds.attrs["app_state"])
    assert isinstance(state, dict)
    for key, value in expected.items():
        want = pytest.approx(value) if isinstance(value, float) else value
        assert state[key] == want, key
    return state


# ---- export from each app -----------------------------------------------------------------------

def test_hj_exports_figure_and_data_with_its_state(open_app, console_errors, tmp_path):
    page = open_app("hj_landscapes", "?landscape=ackley&dim=1&n=64&t=0.3&n_starts=20&n_steps=3")
    page.get_by_text(re.compile(r"t = 0\.3: envelopes on 64 points")).first.wait_for(timeout=90_000)
    page.locator(".wb-hj-run button").first.click()
    page.get_by_text("optimizers done").first.wait_for(timeout=90_000)
    export_and_check(page, tmp_path, "png", {"landscape": "ackley", "dim": 1, "n": 64, "t": 0.3, "n_starts": 20,
                                             "n_steps": 3})
    assert console_errors == []


def test_gequation_exports_figure_and_data_with_its_state(open_app, console_errors, tmp_path):
    page = open_app("gequation_sweeps", "?grid=16&crossings=2&n_A=2&A_max=2.0&d=0.25")
    page.get_by_text("Run a sweep, then click a point.").first.wait_for(timeout=60_000)
    page.locator(".wb-gq-run button").first.click()
    # on 16² every point is flagged under-resolved: the sweep ends saying so instead of "sweep done"
    page.get_by_text(re.compile("sweep done|hollow points are not results")).first.wait_for(timeout=180_000)
    export_and_check(page, tmp_path, "pdf", {"grid": 16, "crossings": 2.0, "n_A": 2, "A_max": 2.0, "d": 0.25})
    assert console_errors == []


def test_phase_exports_figure_and_data_with_its_state(open_app, console_errors, tmp_path):
    page = open_app("phase_retrieval", "?size=32&runs=4&iterations=20&chunk=2&seed=3")
    page.locator(".wb-phase-run button").first.click()
    page.get_by_text("done: 4 runs per algorithm").first.wait_for(timeout=120_000)
    export_and_check(page, tmp_path, "svg", {"size": 32, "runs": 4, "iterations": 20, "chunk": 2, "seed": 3})
    assert console_errors == []


def test_attention_exports_figure_and_data_with_its_state(open_app, console_errors, tmp_path):
    text = "The cat sat on the mat."
    page = open_app("attention_maps", "?text=The+cat+sat+on+the+mat.&layer=1&head=5")
    page.get_by_text("sliding vs full, layer 1 head 5").first.wait_for(state="attached", timeout=120_000)
    export_and_check(page, tmp_path, "pdf", {"text": text, "layer": 1, "head": 5})
    assert console_errors == []


# ---- shared links -------------------------------------------------------------------------------

def test_gequation_shared_link_sets_the_widgets(open_app, console_errors, widget_values):
    page = open_app("gequation_sweeps", "?flow=shear&d=0.25&n_A=3")
    values = widget_values(page)
    assert (values["Flow"], values["d"], values["Amplitudes"]) == ("shear", pytest.approx(0.25), 3)
    assert console_errors == []


def test_phase_shared_link_sets_the_widgets(open_app, console_errors, widget_values):
    page = open_app("phase_retrieval", "?phantom=nanorice&log_flux=6.5&runs=7")
    values = widget_values(page)
    assert (values["Phantom"], values["log10 flux"], values["Runs"]) == ("nanorice", pytest.approx(6.5), 7)
    assert console_errors == []


def test_attention_shared_link_sets_the_widgets(open_app, console_errors, widget_values):
    page = open_app("attention_maps", "?text=The+cat+sat+on+the+mat.&layer=4&head=3&variant=block")
    values = widget_values(page)
    assert (values["Layer"], values["Head"], values["Variant"]) == (4, 3, "block")
    # the comparison is computed for the linked layer, head and variant
    page.get_by_text("block vs full, layer 4 head 3").first.wait_for(state="attached", timeout=120_000)
    assert console_errors == []


# ---- parameters as a file -----------------------------------------------------------------------

def open_share_card(page):
    page.locator(".card-header", has_text="Share").first.click()
    page.locator(".wb-download-params button").first.wait_for(timeout=30_000)


def test_parameters_file_round_trips_and_bad_files_change_nothing(open_app, open_other, console_errors,
                                                                  widget_values, tmp_path):
    page = open_app("gequation_sweeps", "?flow=shear&d=0.25&n_A=3")
    open_share_card(page)
    path = download(page, page.locator(".wb-download-params button").first, tmp_path)
    state = json.loads(path.read_text())
    assert (state["flow"], state["d"], state["n_A"]) == ("shear", 0.25, 3)

    fresh = open_other("gequation_sweeps")
    assert widget_values(fresh)["Flow"] == "cellular"
    fresh.locator(".wb-upload-params input[type=file]").first.set_input_files(path)
    fresh.get_by_text("parameters loaded").first.wait_for(timeout=30_000)
    values = widget_values(fresh)
    assert (values["Flow"], values["d"], values["Amplitudes"]) == ("shear", pytest.approx(0.25), 3)
    fresh.wait_for_function("() => document.location.search.includes('flow=shear')", timeout=30_000)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**state, "flow": "cellular", "n_A": 99}))
    fresh.locator(".wb-upload-params input[type=file]").first.set_input_files(bad)
    fresh.locator(".alert-danger", has_text="n_A").first.wait_for(timeout=30_000)
    values = widget_values(fresh)
    assert (values["Flow"], values["d"], values["Amplitudes"]) == ("shear", pytest.approx(0.25), 3)
    fresh.close()
    assert console_errors == []


# ---- sessions ------------------------------------------------------------------------------------

def test_long_job_in_one_session_leaves_another_responsive(open_app, open_other, console_errors):
    other = open_other("hj_landscapes", "?dim=1&n=64&t=0.1")
    other.get_by_text(re.compile(r"t = 0\.1: envelopes on 64 points .*local entropy")).first.wait_for(
        timeout=90_000)
    page = open_app("phase_retrieval", "?size=128&runs=40&chunk=40&iterations=5000")
    page.locator(".wb-phase-run button").first.click()
    page.get_by_text("running 40 starts").first.wait_for(timeout=30_000)

    handle = other.locator(".wb-hj-t .noUi-handle").first
    handle.focus()
    for _ in range(20):  # keyboard steps of 0.001
        handle.press("ArrowRight")
    start = time.monotonic()
    other.get_by_text(re.compile(r"t = 0\.1[0-9]*[1-9]: envelopes on 64 points")).first.wait_for(timeout=20_000)
    waited = time.monotonic() - start
    # the long job was still running while the other session answered
    running = page.get_by_text(re.compile(r"running 40 starts|% of runs finished"))
    assert running.count() >= 1, "the long job finished before the check"
    assert waited < 20

    page.locator(".wb-phase-cancel button").first.click()
    page.get_by_text(re.compile("cancelled")).first.wait_for(timeout=60_000)
    other.close()
    assert console_errors == []
