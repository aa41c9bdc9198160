"""The graph CLI (exit codes, JSON keyed by method) and the WNLL output activation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench import results
from workbench.cli import main


def test_classify_json_keyed_by_method(capsys, tmp_path):
    out = tmp_path / "c.nc"
    rc = main(["graph", "classify", "--data", "digits", "--labels-per-class", "3", "--methods", "wnll,knn",
               "--draws", "2", "--json", "--out", str(out)])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) >= {"wnll", "knn"} and set(summary["wnll"]) == {"mean", "std"}
    assert 0.5 < summary["wnll"]["mean"] < 1.0
    ds = results.load(out)
    assert ds.attrs["kind"] == "graph.classify"
    np.testing.assert_allclose(ds.accuracy.sel(classifier="wnll").mean(), summary["wnll"]["mean"])


def test_classify_study_over_label_counts(capsys):
    rc = main(["graph", "classify", "--labels-per-class", "1,4", "--methods", "gl", "--draws", "2", "--json"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    assert s["gl"]["labels_per_class"] == [1, 4] and len(s["gl"]["mean"]) == 2
    assert s["gl"]["mean"][1] > s["gl"]["mean"][0]  # more labels, better (measured 0.80 -> 0.93)


@pytest.mark.parametrize("argv, needle", [
    (["--labels-per-class", "0"], "labels-per-class must be in [1,"),
    (["--k", "1797"], "k must be in [1, 1796]"),
    (["--draws", "0"], "draws must be in [1, 1000]"),
    (["--methods", "gl,nope"], "methods must be one of"),
    (["--n", "500"], "only for --data synthetic"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, needle):
    rc = main(["graph", "classify", *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and needle in err and "\n" not in err


def test_wnll_activation_helps_with_few_training_samples(one_torch_thread):
    from workbench.graph.activation import degradation_study

    ds = degradation_study([50], seeds=2, epochs=150, wnll_steps=10)
    err = ds.error.sel(train_size=50)
    # measured on digits (797 test images): vanilla 0.15-0.21, WNLL 0.11-0.13 test error at 50 samples;
    # the claim tested is the paper's direction, seed by seed, and both far below chance (0.9)
    assert (err.sel(activation="wnll") < err.sel(activation="linear")).all()
    assert (err < 0.4).all()
    assert ds.attrs["kind"] == "graph.activation"


def test_activation_bad_sizes_exit_2(capsys):
    rc = main(["graph", "activation", "--train-sizes", "5"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "train_sizes must be in [20, 1000]" in err
