"""The histogram study, its chunking invariance, netCDF output and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench import results
from workbench.cli import main
from workbench.phase import study

from .helpers import noiseless


@pytest.fixture(scope="module")
def data():
    return noiseless(margin=1)


def test_compare_does_not_depend_on_chunking_and_keeps_runs_when_cancelled(data, tmp_path):
    kw = dict(runs=4, iterations=30, seed=3, dtype="float64", record_every=10)
    whole = study.compare(data, ["hio", "gps"], **kw)
    chunked = study.compare(data, ["hio", "gps"], chunk=3, **kw)
    np.testing.assert_allclose(whole["error"].values, chunked["error"].values, rtol=1e-9)
    assert whole["error"].dims == ("algorithm", "run")
    assert whole["history"].sizes["iteration"] == 4 and whole["frc"].sizes["frequency"] == 16
    table = study.summary(whole)
    assert set(table) == {"hio", "gps"}
    err = whole["error"].sel(algorithm="gps").values
    assert table["gps"]["mean"] == pytest.approx(err.mean()) and table["gps"]["max"] == pytest.approx(err.max())
    # round trip through netCDF keeps every run's error and the provenance
    back = results.load(results.save(whole, tmp_path / "s.nc"))
    np.testing.assert_array_equal(back["error"].values, whole["error"].values)
    assert results.parameters(back)["runs"] == 4
    # a cancel after the first chunk keeps the finished runs
    import threading

    stop = threading.Event()
    partial = study.compare(data, ["hio"], chunk=2, cancel=stop,
                            callback=lambda name, ds, frac: stop.set(), **kw)
    assert partial.sizes["run"] == 2
    np.testing.assert_allclose(partial["error"].values[0], whole["error"].sel(algorithm="hio").values[:2],
                               rtol=1e-9)


def test_cli_compare_json(capsys, tmp_path):
    out = tmp_path / "r.nc"
    code = main(["phase", "compare", "--phantom", "nanorice", "--flux", "1e8", "--runs", "3",
                 "--algorithms", "oss,gps,er", "--size", "32", "--iterations", "20", "--json",
                 "--out", str(out), "--device", "cpu"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert {"oss", "gps", "er"} <= set(summary)
    for row in (summary[k] for k in ("oss", "gps", "er")):
        assert row["min"] <= row["mean"] <= row["max"] and 0 <= row["good_fraction"] <= 1
    ds = results.load(out)
    assert ds["reconstruction"].sizes["run"] == 3 and "history" in ds


@pytest.mark.parametrize("argv, message", [
    (["--flux", "0"], "flux"),
    (["--size", "33"], "size must be even"),
    (["--oversampling", "1.5"], "oversampling"),
    (["--algorithms", "oss,magic"], "algorithms must be one of"),
    (["--runs", "0"], "runs"),
])
def test_cli_bad_input_exits_2_with_the_parameter_named(capsys, argv, message):
    code = main(["phase", "compare", "--size", "32", "--runs", "2", "--iterations", "5", *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_compare_through_the_sweep_runner_matches_compare():
    spec = {"phantom_name": "vesicle", "size": 32, "flux": 1e8, "data_seed": 2}
    swept = study.compare_sweep(spec, ["hio", "gps"], runs=3, iterations=20, seed=1, chunk=2, dtype="float64")
    direct = study.compare(study.simulated(**spec), ["hio", "gps"], runs=3, iterations=20, seed=1,
                           dtype="float64")
    assert swept["error"].dims == ("algorithm", "run")
    assert (swept["failed"] == "").all()
    # same seeds per run, batches of different composition: equal up to float64 FFT rounding
    np.testing.assert_allclose(swept["error"].values, direct["error"].values, rtol=1e-9)


def test_cli_resumable_study_with_checkpoint(capsys, tmp_path):
    argv = ["phase", "compare", "--size", "32", "--runs", "3", "--iterations", "10", "--algorithms", "hio,gps",
            "--chunk", "2", "--checkpoint", str(tmp_path / "ckpt"), "--json", "--device", "cpu"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(list((tmp_path / "ckpt").glob("chunk-*.nc"))) == 3  # 6 points in chunks of 2
    assert main(argv) == 0  # the rerun loads every chunk instead of recomputing
    again = json.loads(capsys.readouterr().out)
    assert again["hio"]["mean"] == first["hio"]["mean"] and again["gps"]["max"] == first["gps"]["max"]
