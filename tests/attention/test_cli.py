"""``workbench attention ...`` end to end (JSON summaries, netCDF output, one-line errors)."""

import json

import numpy as np
import pytest

from workbench import results
from workbench.cli import main

TEXT = "The cat sat on the mat."


def run(capsys, *argv):
    code = main(["attention", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_maps_json_and_netcdf(capsys, tmp_path):
    path = tmp_path / "maps.nc"
    code, out, _ = run(capsys, "maps", "--text", TEXT, "--json", "--out", str(path), "--layer", "1", "--head", "2",
                       "--window", "3")
    assert code == 0
    summary = json.loads(out)
    assert summary["tokens"] == ["[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]"]
    assert summary["max_row_sum_error"] < 1e-5
    assert 0 <= summary["bdi_fraction_heads"] <= 1
    ds = results.load(path)
    assert ds["attention"].dims == ("layer", "head", "query", "key")
    np.testing.assert_allclose(np.asarray(summary["map"]), ds["attention"].isel(layer=1, head=2).values, atol=1e-4)


def test_variants_json(capsys):
    code, out, _ = run(capsys, "variants", "--text", TEXT, "--window", "3", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["relative_error_to_full"]["full"] == 0.0
    assert summary["max_map_residual"] < 1e-5


def test_dispersion_json(capsys, tmp_path):
    code, out, _ = run(capsys, "dispersion", "--n", "64:256:3", "--log-spaced", "--variants", "full,sliding",
                       "--heads", "1", "--max-rows", "16", "--window", "8", "--json", "--out", str(tmp_path / "d.nc"))
    summary = json.loads(out)
    assert code == 0 and summary["n"] == [64, 128, 256]
    assert all(w >= 1 / 8 - 1e-6 for w in summary["max_weight"]["sliding"])
    assert results.load(tmp_path / "d.nc")["max_weight"].dims == ("variant", "n")


@pytest.mark.parametrize("argv, words", [
    (["maps", "--text", "  "], "text must not be empty"),
    (["maps", "--text", "a " * 600], "at most 512 positions"),
    (["maps", "--text", TEXT, "--layer", "9", "--head", "0"], "layer must be in [0, 5]"),
    (["variants", "--text", TEXT, "--window", "50"], "window must be in [1, 17]"),
    (["variants", "--text", TEXT, "--variants", "full,magic"], "variant must be one of"),
    (["dispersion", "--n", "64,128", "--window", "100"], "window must be in [1, 64]"),
])
def test_errors_are_one_line_exit_2(capsys, argv, words):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1
