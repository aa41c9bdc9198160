"""The sweep runner: grid layout, streaming, checkpoint/resume, dask, failures."""

import json
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

from sweep_fixtures import CALLS, counted_oscillator, oscillator
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
    stop_at = [2]  # the process is stopped during the third chunk of the first run

    def flaky(params, **kw):  # one function for both runs: a resume with another is refused
        if len(calls) == stop_at[0]:
            raise KeyboardInterrupt
        calls.append(len(params["gamma"]))
        return oscillator(params, **kw)

    ckpt = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(flaky, GRID, chunk_size=3, checkpoint=ckpt)
    assert len(list(ckpt.glob("chunk-*.nc"))) == 2

    calls.clear()
    stop_at[0] = -1
    ds = sweep.run_sweep(flaky, GRID, chunk_size=3, checkpoint=ckpt)
    assert sum(calls) == 12 - 6  # only the missing points are computed
    assert len(calls) == 2
    full = sweep.run_sweep(oscillator, GRID, chunk_size=3)
    xr.testing.assert_identical(values_only(ds).drop_vars("failed"), values_only(full).drop_vars("failed"))
    # a third run computes nothing at all
    calls.clear()
    sweep.run_sweep(flaky, GRID, chunk_size=3, checkpoint=ckpt)
    assert calls == []


def test_killed_process_resumes_from_checkpoint(tmp_path):
    """A real SIGKILL halfway through; the restart computes only the missing points."""
    ckpt = tmp_path / "ckpt"
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})
        from sweep_fixtures import counted_oscillator
        from workbench import sweep
        sweep.run_sweep(counted_oscillator, {GRID!r}, fixed={{"delay": 0.4}}, chunk_size=2, checkpoint={str(ckpt)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while len(list(ckpt.glob("chunk-*.nc"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(ckpt.glob("chunk-*.nc")))
    assert 2 <= finished < 6
    CALLS.clear()
    ds = sweep.run_sweep(counted_oscillator, GRID, fixed={"delay": 0.4}, chunk_size=2, checkpoint=ckpt)
    assert sum(CALLS) == 12 - 2 * finished
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


# --- losing nothing, mixing nothing ---------------------------------------------------------------

def test_only_the_failing_points_are_marked_failed():
    # chunk 1 holds points 5..9, of which only point 9 has gamma = 2: the chunk raises as a whole,
    # its points are retried alone, and only point 9 (and chunk 2's points 10, 11) fail
    ds = sweep.run_sweep(oscillator, GRID, fixed={"fail_above": 1.5}, chunk_size=5)
    failed = ds["failed"] != ""
    assert failed.sel(gamma=2.0).all() and int(failed.sum()) == 3
    np.testing.assert_allclose(ds["energy"].sel(gamma=[0.0, 0.5, 1.0]).values, exact()[:3], rtol=1e-15)
    assert np.isnan(ds["energy"].sel(gamma=2.0)).all()


def typed(params):
    """Variables of every kind; the point a = 3 raises."""
    a = np.asarray(params["a"])
    if (a == 3).any():
        raise ArithmeticError("a = 3 is not allowed")
    return xr.Dataset({"x": ("point", a * 0.5), "n": ("point", a.astype(np.int64) * 10),
                       "ok": ("point", a > 1), "label": ("point", np.array([f"a{v}" for v in a]))})


def test_failed_points_hold_documented_missing_values_not_sentinels():
    ds = sweep.run_sweep(typed, {"a": [1, 2, 3, 4]}, chunk_size=4)
    bad = ds.sel(a=3)
    assert "ArithmeticError: a = 3 is not allowed" == str(bad["failed"].values)
    assert np.isnan(bad["x"]) and int(bad["n"]) == 0 and not bool(bad["ok"]) and str(bad["label"].values) == ""
    assert ds["n"].sel(a=[1, 2, 4]).values.tolist() == [10, 20, 40]
    assert ds["ok"].sel(a=[1, 2, 4]).values.tolist() == [False, True, True]
    # a chunk that fails entirely (never computed) is filled the same way
    ds = sweep.run_sweep(typed, {"a": [1, 2, 3, 4]}, chunk_size=1)
    assert int(ds["n"].sel(a=3)) == 0 and str(ds["label"].sel(a=3).values) == "" and not bool(ds["ok"].sel(a=3))


def test_merged_provenance_describes_the_whole_sweep():
    ds = sweep.run_sweep(oscillator, GRID, fixed={"delay": 0.01}, chunk_size=5)
    params = json.loads(ds.attrs["parameters"])
    assert params == {**GRID, "delay": 0.01, "sweep": "sweep", "sweep_function": "sweep_fixtures.oscillator"}
    # three chunks slept 0.01 s each: the sweep's elapsed time covers all of them, not the first chunk's
    assert ds.attrs["elapsed_s"] >= 0.03 and ds.attrs["elapsed_s"] == ds.attrs["sweep_elapsed_s"]


def test_resume_with_a_changed_function_or_parameters_is_refused(tmp_path):
    sweep.run_sweep(oscillator, GRID, checkpoint=tmp_path / "c")
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["function"]["name"] == "sweep_fixtures.oscillator" and manifest["function"]["sha256"]
    assert manifest["workbench"] and manifest["grid"] == GRID and manifest["fixed"] == {}

    def oscillator_v2(params, **kw):
        return oscillator(params, **kw) * 2
    with pytest.raises(ValueError, match="the chunk function differs .*sweep_fixtures.oscillator"):
        sweep.run_sweep(oscillator_v2, GRID, checkpoint=tmp_path / "c")
    with pytest.raises(ValueError, match="the fixed parameters differ in 'delay'"):
        sweep.run_sweep(oscillator, GRID, fixed={"delay": 0.0}, checkpoint=tmp_path / "c")
    manifest["workbench"] = "0.0.0-old"
    (tmp_path / "c" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="the workbench version differs"):
        sweep.run_sweep(oscillator, GRID, checkpoint=tmp_path / "c")


def test_function_identity_tracks_the_source():
    def f(params):
        return params
    first = sweep.function_identity(f)

    def f(params):  # noqa: F811 - same name, other body
        return params, 1
    assert sweep.function_identity(f)["name"] == first["name"]
    assert sweep.function_identity(f)["sha256"] != first["sha256"]


def test_corrupt_manifest_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "manifest.json").write_text('{"name": "sweep", "grid": ')
    with pytest.raises(ValueError, match=r"checkpoint manifest '.*manifest.json' is corrupt") as info:
        sweep.run_sweep(oscillator, GRID, checkpoint=tmp_path / "c")
    assert "\n" not in str(info.value)


def test_corrupt_or_foreign_chunk_files_are_set_aside_and_recomputed(tmp_path):
    from workbench import results

    ckpt = tmp_path / "c"
    sweep.run_sweep(oscillator, GRID, chunk_size=3, checkpoint=ckpt)
    chunk0, chunk1, chunk2 = ckpt / "chunk-00000.nc", ckpt / "chunk-00001.nc", ckpt / "chunk-00002.nc"
    chunk0.write_bytes(chunk0.read_bytes()[:200])                     # truncated
    other = results.load(chunk1).rename({"energy": "power"})           # another variable
    results.save(other, chunk1)
    data = bytearray(chunk2.read_bytes())                              # one flipped bit in the data
    values = results.load(chunk2)["energy"].values
    at = bytes(data).find(values.astype("<f8").tobytes()[8:16])
    assert at > 0
    data[at + 3] ^= 0x10
    chunk2.write_bytes(bytes(data))
    with pytest.warns(sweep.SweepWarning) as caught:
        ds = sweep.run_sweep(oscillator, GRID, chunk_size=3, checkpoint=ckpt)
    text = " ".join(str(w.message) for w in caught)
    for name in ("chunk-00000.nc", "chunk-00001.nc", "chunk-00002.nc"):
        assert name in text
        assert (ckpt / f"{name}.rejected").exists() and (ckpt / name).exists()  # set aside, recomputed
    assert "other variables" in text
    np.testing.assert_allclose(ds["energy"].values, exact(), rtol=1e-15)
    assert (ds["failed"] == "").all()
