import asyncio
import threading

import holoviews as hv
import numpy as np
import pytest

from workbench import results
from workbench.ui import ExportButtons, LatestRunner, Status, app_template


def test_runner_sync_delivers_results_and_errors():
    got, errs = [], []
    runner = LatestRunner(got.append, errs.append)
    runner.submit(lambda cancel: 41 + 1)
    runner.submit(lambda cancel: 1 / 0)
    assert got == [42]
    assert isinstance(errs[0], ZeroDivisionError)


def test_newer_request_supersedes_stale_one():
    """Requests arriving while a job runs replace each other; only the latest runs next."""
    got, ran, first_cancelled = [], [], []
    runner = LatestRunner(got.append)

    def first(cancel: threading.Event):
        runner.submit(lambda c: ran.append("stale") or "stale")
        runner.submit(lambda c: ran.append("latest") or "latest")
        first_cancelled.append(cancel.is_set())
        return "first"

    runner._busy = True  # as in a served session: submit() only queues while a job runs
    runner._pending = first
    # in its own thread: the browser tests may leave an event loop running in this one
    worker = threading.Thread(target=lambda: asyncio.run(runner._drain()))
    worker.start()
    worker.join(30)
    assert got == ["first", "latest"]
    assert ran == ["latest"]
    assert first_cancelled == [True]  # the running job was told to stop
    assert runner.superseded == 1 and not runner.busy


def test_submit_while_busy_only_queues():
    runner = LatestRunner(lambda v: None)
    runner._busy = True
    runner.submit(lambda c: 1)
    runner.submit(lambda c: 2)
    assert runner.superseded == 1
    assert runner._pending(threading.Event()) == 2


def test_status_shows_errors():
    status = Status()
    status.error(ValueError("t must be in (0, inf], got -1"))
    assert "t must be in" in status.message
    status.progress(0.5, "half")
    assert status.value == 50 and status.message == "half"


def test_export_buttons_produce_files():
    x = np.linspace(0, 1, 20)
    ds = results.dataset({"y": (("x",), x)}, coords={"x": x})
    buttons = ExportButtons(lambda: hv.Curve((x, x), "x", "y"), lambda: ds, filename="line")
    assert buttons._figure_file().getvalue().startswith(b"%PDF")
    buttons.fmt = "svg"
    assert buttons._fig_btn.filename == "line.svg"
    assert b"<svg" in buttons._figure_file().getvalue()[:500]
    assert buttons._data_file().getvalue()[:4] == b"\x89HDF"
    empty = ExportButtons(lambda: None, lambda: None)
    with pytest.raises(ValueError, match="nothing to export yet"):
        empty._figure_file()


def test_template_builds():
    import panel as pn

    tmpl = app_template("T", pn.pane.Markdown("x"), pn.pane.Markdown("side"))
    assert tmpl.title == "T"


class _View(__import__("param").Parameterized):
    t = __import__("param").Number(default=0.5, bounds=(0, 10))
    kind = __import__("param").Selector(default="a", objects=["a", "b"])


def test_share_state_round_trips_and_validates():
    from workbench.ui import ShareState

    view = _View()
    share = ShareState(view, ["t", "kind"])
    data = share._dump().getvalue()
    view.t, view.kind = 3.0, "b"
    share.load_bytes(data)
    assert (view.t, view.kind) == (0.5, "a")
    with pytest.raises(ValueError, match="unknown keys"):
        share.load_bytes(b'{"x": 1}')
    with pytest.raises(ValueError, match="not valid JSON"):
        share.load_bytes(b"{nope")
    with pytest.raises(ValueError, match="at most 64 KiB"):
        share.load_bytes(b" " * (65 * 1024))
    with pytest.raises(ValueError, match="parameters file:.*t"):
        share.load_bytes(b'{"t": 99, "kind": "b"}')
    assert (view.t, view.kind) == (0.5, "a")  # a bad file changes nothing


def _line_buttons(**kwargs):
    x = np.linspace(0, 1, 20)
    ds = results.dataset({"y": (("x",), x)}, coords={"x": x}, params={"n": 20})
    return ds, ExportButtons(lambda: hv.Curve((x, x), "x", "y"), lambda: ds, filename="line", **kwargs)


def test_exported_data_carries_the_app_state(tmp_path):
    import json

    state = {"t": 0.25, "kind": "b", "methods": ["gd", "hj_prox"], "n": 64}
    ds, buttons = _line_buttons(state=lambda: state)
    path = tmp_path / "line.nc"
    path.write_bytes(buttons._data_file().getvalue())
    back = results.load(path)
    assert json.loads(back.attrs["app_state"]) == state
    assert results.parameters(back) == {"n": 20}  # the result's own provenance is kept
    np.testing.assert_array_equal(back.y.values, ds.y.values)
    assert "app_state" not in ds.attrs  # the widget's result is not touched
    _, plain = _line_buttons()
    path.write_bytes(plain._data_file().getvalue())
    assert "app_state" not in results.load(path).attrs


def test_share_state_feeds_the_export_buttons(tmp_path):
    import json

    from workbench.ui import ShareState

    view = _View()
    _, buttons = _line_buttons()
    ShareState(view, ["t", "kind"], export=buttons)
    view.t, view.kind = 2.5, "b"  # the state is read at download time
    path = tmp_path / "line.nc"
    path.write_bytes(buttons._data_file().getvalue())
    assert json.loads(results.load(path).attrs["app_state"]) == {"t": 2.5, "kind": "b"}
    with pytest.raises(ValueError, match="not parameters of _View"):
        ShareState(view, ["t", "nope"])


def test_cancelled_job_is_silent_and_posts_run_at_once_outside_a_server():
    seen, errors = [], []
    runner = LatestRunner(seen.append, errors.append)

    def job(cancel):
        runner.post(seen.append, "partial")  # no server: runs at once
        raise InterruptedError("superseded")

    runner.submit(job)
    assert seen == ["partial"] and errors == []  # an interrupted job is not an error


def test_live_image_updates_in_place_with_iso_lines_on_the_level_set():
    from workbench.ui.live_image import LiveImage, contour_lines

    x = np.linspace(-1.0, 1.0, 101)
    y = np.linspace(-1.0, 1.0, 81)
    z = x[None, :] ** 2 + y[:, None] ** 2
    lines = contour_lines(x, y, z, levels=1)  # one interior level: (0 + 2) / 2 = 1, the unit circle
    pts = np.column_stack([np.concatenate(lines["xs"]), np.concatenate(lines["ys"])])
    # linear interpolation of x^2 + y^2 across a cell edge errs by at most h^2 / 4
    assert np.nanmax(np.abs((pts ** 2).sum(1) - 1.0)) < (2 / 80) ** 2 / 4 + 1e-12  # NaN separates pieces
    img = LiveImage("test", "z")
    source = img.image
    img.update(x, y, z, title="z = x^2 + y^2")
    assert img.image is source and source.data["image"][0].dtype == np.float32  # same source, new data
    assert (img.mapper.low, img.mapper.high) == (0.0, 2.0) and img.figure.title.text == "z = x^2 + y^2"
    assert source.data["dw"][0] == pytest.approx(2.0 + 0.02)  # pixel-centred extent


def test_local_entropy_stops_on_its_cancel_event():
    from workbench.hj import local_entropy

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(InterruptedError):
        local_entropy(np.zeros((64, 64)), 0.1, 0.5, beta=2.0, cancel=cancel)


def test_late_delivery_of_a_superseded_job_keeps_the_newer_jobs_partial_views():
    """Served, results are delivered on a later tick: by then the next job may have posted views."""
    ticks, shown = [], []

    class Doc:  # the session's next-tick queue, run by hand below
        def add_next_tick_callback(self, fn):
            ticks.append(fn)

    runner = LatestRunner(lambda v: shown.append(("result", v)))

    def first(cancel):
        runner.submit(second)  # arrives while the first job runs
        return "first"

    def second(cancel):
        runner.post(lambda: shown.append(("partial", "second")))
        return "second"

    runner._doc, runner._busy, runner._pending = Doc(), True, first
    worker = threading.Thread(target=lambda: asyncio.run(runner._drain()))
    worker.start()
    worker.join(30)
    for fn in ticks:
        fn()
    assert shown == [("result", "first"), ("partial", "second"), ("result", "second")]


def test_result_cache_is_lru_and_bounded():
    from workbench.cache import ResultCache

    cache = ResultCache(max_items=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent: "b" goes first
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3 and len(cache) == 2
    with pytest.raises(ValueError, match="max_items"):
        ResultCache(max_items=0)


def test_idle_write_check_answers_for_a_document_without_a_session():
    from bokeh.document import Document

    from workbench.ui.internals import writes_idle

    # no session, nothing queued: idle (and no exception from the internals it reads)
    assert writes_idle(Document()) is True
