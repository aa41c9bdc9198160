"""The sweep runner: grid layout, streaming, checkpoint/resume, dask, failures."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sweep_fixtures import oscillator
from workbench import sweep

GRID = {"gamma": [0.0, 0.5, 1.0, 2.0], "e0": [1.0, 3.0, 5.0]}


def exact(grid=GRID):
    g = np.asarray(grid["gamma"])[:, None, None]
    e0 = np.asarray(grid["e0"])[None, :, None]
    t = np.linspace(0.0, 2.0, 5)[None, None, :]
    return e0 * np.exp(-g * t)


def values_only(ds):
    return ds.drop_attrs() if hasattr(ds, "drop_attrs") else ds.copy().assign_attrs({})


def test_grid_is_the_cartesian_product_in_c_order():
    ds = sweep.run_sweep(oscillator, GRID, chunk_size=5)
    assert ds["energy"].dims == ("gamma", "e0", "time")
    np.testing.assert_allclose(ds["energy"].values, exact(), rtol=1e-15)
    assert (ds["failed"] == "").all()
    assert ds["energy"].attrs["units"] == "J"
    assert ds.attrs["kind"] == "test.oscillator" and ds.attrs["sweep_engine"] == "local"


def test_callbacks_stream_every_chunk():
    events = []
    sweep.run_sweep(oscillator, GRID, chunk_size=5, callbacks=[events.append])
    assert [e.chunk for e in events] == [0, 1, 2]
    assert [e.done_points for e in events] == [5, 10, 12]
    assert events[-1].fraction == 1.0
    assert all(e.result.sizes["point"] == len(e.params["gamma"]) for e in events)


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    calls = []

    def dying(params, **kw):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process is stopped during the third chunk
        calls.append(len(params["gamma"]))
        return oscillator(params, **kw)

    ckpt = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(dying, GRID, chunk_size=3, checkpoint=ckpt)
    assert len(list(ckpt.glob("chunk-*.nc"))) == 2

    resumed = []

    def counting(params, **kw):
        resumed.append(len(params["gamma"]))
        return oscillator(params, **kw)

    ds = sweep.run_sweep(counting, GRID, chunk_size=3, checkpoint=ckpt)
    assert sum(resumed) == 12 - 6  # only the missing points are computed
    assert len(resumed) == 2
    full = sweep.run_sweep(oscillator, GRID, chunk_size=3)
    xr.testing.assert_identical(values_only(ds).drop_vars("failed"), values_only(full).drop_vars("failed"))
    # a third run computes nothing at all
    again = []
    sweep.run_sweep(lambda p, **k: again.append(1) or oscillator(p, **k), GRID, chunk_size=3, checkpoint=ckpt)
    assert again == []


def test_killed_process_resumes_from_checkpoint(tmp_path):
    """A real SIGKILL halfway through; the restart computes only the missing points."""
    ckpt = tmp_path / "ckpt"
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})
        from sweep_fixtures import oscillator
        from workbench import sweep
        sweep.run_sweep(oscillator, {GRID!r}, fixed={{"delay": 0.4}}, chunk_size=2, checkpoint={str(ckpt)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while len(list(ckpt.glob("chunk-*.nc"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(ckpt.glob("chunk-*.nc")))
    assert 2 <= finished < 6
    counted = []

    def counting(params, **kw):
        counted.append(len(params["gamma"]))
        return oscillator(params, **kw)

    ds = sweep.run_sweep(counting, GRID, fixed={"delay": 0.4}, chunk_size=2, checkpoint=ckpt)
    assert sum(counted) == 12 - 2 * finished
    np.testing.assert_allclose(ds["energy"].values, exact(), rtol=1e-15)


def test_failing_chunk_is_recorded_and_the_rest_completes():
    ds = sweep.run_sweep(oscillator, GRID, fixed={"fail_above": 1.5}, chunk_size=3)
    bad = ds["failed"].sel(gamma=2.0)
    assert (bad.str.contains("FloatingPointError")).all()
    assert np.isnan(ds["energy"].sel(gamma=2.0)).all()
    np.testing.assert_allclose(ds["energy"].sel(gamma=[0.0, 0.5, 1.0]).values, exact()[:3], rtol=1e-15)
    assert ds.attrs["sweep_failed_points"] == 3


def test_failure_merges_with_per_point_coords():
    def with_coords(params, **kw):
        ds = oscillator(params, **kw)
        return ds.assign_coords(gamma_echo=("point", params["gamma"]))
    ds = sweep.run_sweep(with_coords, GRID, fixed={"fail_above": 1.5}, chunk_size=3)
    assert "gamma_echo" not in ds.coords  # replaced by the grid's own coords
    np.testing.assert_allclose(ds["energy"].sel(gamma=[0.0, 0.5, 1.0]).values, exact()[:3], rtol=1e-15)
    assert np.isnan(ds["energy"].sel(gamma=2.0)).all()


def test_every_chunk_failing_raises():
    with pytest.raises(RuntimeError, match="every chunk of the sweep failed: FloatingPointError"):
        sweep.run_sweep(oscillator, GRID, fixed={"fail_above": -1.0})


def test_should_stop_keeps_what_finished():
    seen = []
    ds = sweep.run_sweep(oscillator, GRID, chunk_size=3, callbacks=[seen.append],
                         should_stop=lambda: len(seen) >= 2)
    assert ((ds["failed"] == "cancelled").sum()) == 6
    np.testing.assert_allclose(ds["energy"].sel(gamma=[0.0, 0.5]).values, exact()[:2], rtol=1e-15)


@pytest.mark.parametrize("grid, match", [
    ({"gamma": [], "e0": [1.0]}, "sweep axis 'gamma' must not be empty"),
    ({}, "grid must name at least one coordinate"),
    ({"gamma": [1.0, 1.0], "e0": [1.0]}, "sweep axis 'gamma' has repeated values"),
    ({"gamma": [[1.0]], "e0": [1.0]}, "sweep axis 'gamma' must be 1-D"),
])
def test_bad_grid_is_refused_before_work(grid, match):
    calls = []
    with pytest.raises(ValueError, match=match):
        sweep.run_sweep(lambda p: calls.append(1), grid)
    assert calls == []


def test_unwritable_checkpoint_is_refused_before_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    calls = []
    with pytest.raises(ValueError, match="checkpoint path .* is not writable"):
        sweep.run_sweep(lambda p: calls.append(1), GRID, checkpoint=blocker / "ckpt")
    assert calls == []


def test_checkpoint_of_another_sweep_is_refused(tmp_path):
    sweep.run_sweep(oscillator, GRID, checkpoint=tmp_path / "c")
    with pytest.raises(ValueError, match="holds a different sweep"):
        sweep.run_sweep(oscillator, {**GRID, "e0": [2.0]}, checkpoint=tmp_path / "c")


def test_chunk_with_wrong_shape_is_reported():
    def wrong(params):
        return xr.Dataset({"y": ("point", np.zeros(1))})
    with pytest.raises(RuntimeError, match="leading dim 'point' of length 2"):
        sweep.run_sweep(wrong, {"a": [1, 2, 3, 4]}, chunk_size=2)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    cl = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cl)
    yield client
    client.close()
    cl.close()


def test_dask_path_equals_local_path(cluster):
    local = sweep.run_sweep(oscillator, GRID, chunk_size=2)
    events = []
    remote = sweep.run_sweep(oscillator, GRID, chunk_size=2, client=cluster, callbacks=[events.append])
    assert remote.attrs["sweep_engine"] == "dask"
    xr.testing.assert_identical(values_only(remote), values_only(local))
    assert sorted(e.chunk for e in events) == list(range(6))


def test_dask_sweep_survives_a_lost_worker(cluster, tmp_path):
    pids = cluster.run(os.getpid)
    victim = next(iter(pids.values()))
    killed = []

    def kill_once(event):
        if not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(event.chunk)

    ds = sweep.run_sweep(oscillator, GRID, fixed={"delay": 0.3}, chunk_size=1, client=cluster,
                         callbacks=[kill_once], checkpoint=tmp_path / "c")
    assert killed
    assert (ds["failed"] == "").all()
    np.testing.assert_allclose(ds["energy"].values, exact(), rtol=1e-15)
    assert len(list((tmp_path / "c").glob("chunk-*.nc"))) == 12
