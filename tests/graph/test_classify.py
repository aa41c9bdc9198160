"""Classification on digits: WNLL against GL at one label per class, baselines, bad input before the graph."""

from __future__ import annotations

import numpy as np
import pytest

import workbench.graph.classify as classify_mod
from workbench import results
from workbench.graph.classify import classify, summary


@pytest.fixture(scope="module")
def one_label(digits, digits_graph):
    X, y = digits
    return classify(X, y, 1, methods="gl,wnll", draws=20, graph=digits_graph[0], data_name="digits")


def test_wnll_beats_gl_at_one_label_per_class(one_label):
    acc = one_label.accuracy
    gl, wnll = acc.sel(classifier="gl").values, acc.sel(classifier="wnll").values
    diff = wnll - gl
    # paired over the same 20 draws: the mean gain exceeds two standard errors of the mean
    # (measured: +0.047 ± 0.064 std, 2 SE = 0.029) and WNLL wins most draws (16 of 20)
    assert diff.mean() > 2 * diff.std(ddof=1) / np.sqrt(len(diff))
    assert (diff > 0).mean() >= 0.7
    assert one_label.residual.max() <= 1e-6  # DEFAULT_TOL


@pytest.mark.xfail(strict=True, reason="measured on digits, k=20: WNLL - GL = +0.047 but the spread across "
                   "draws is 0.064 (GL) / 0.063 (WNLL); the papers' margin holds at k=50 (+0.113 vs 0.082)")
def test_wnll_beats_gl_by_more_than_the_spread(one_label):
    s = summary(one_label)
    assert s["wnll"]["mean"] - s["gl"]["mean"] > max(s["gl"]["std"], s["wnll"]["std"])


def test_dataset_shape_and_provenance(digits, digits_graph, tmp_path):
    X, y = digits
    ds = classify(X, y, 3, methods=["wnll", "knn", "svm", "softmax"], draws=2, graph=digits_graph[0])
    assert ds.accuracy.dims == ("classifier", "draw") and ds.sizes["point"] == len(y)
    assert (ds.labelled.sum("point") == 30).all()
    # the labelled points keep their labels; accuracy counts only the others
    pred = ds.prediction.values
    lab = ds.labelled.values.astype(bool)
    for i in range(ds.sizes["classifier"]):
        assert (pred[i][lab] == np.tile(y, (2, 1))[lab]).all()
    # 3 labels per class on digits: every method is far above chance (0.1) and below perfect
    assert ((ds.accuracy > 0.5) & (ds.accuracy < 1.0)).all()
    assert np.isnan(ds.residual.sel(classifier="svm")).all()
    assert results.parameters(ds)["labels_per_class"] == 3
    back = results.load(results.save(ds, tmp_path / "c.nc"))
    np.testing.assert_array_equal(back.accuracy.values, ds.accuracy.values)


def test_reproducible_draws(digits, digits_graph):
    X, y = digits
    a = classify(X, y, 1, methods="wnll", draws=2, seed=3, graph=digits_graph[0])
    b = classify(X, y, 1, methods="wnll", draws=2, seed=3, graph=digits_graph[0])
    np.testing.assert_array_equal(a.labelled.values, b.labelled.values)
    np.testing.assert_array_equal(a.accuracy.values, b.accuracy.values)


@pytest.fixture
def no_graph(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("the graph was built before the input was checked")
    monkeypatch.setattr(classify_mod, "knn_graph", forbidden)


@pytest.mark.parametrize("change, message", [
    (dict(labels_per_class=0), r"^labels_per_class must be in \[1, "),
    (dict(labels_per_class=200), r"^labels_per_class must be in \[1, 173\]"),  # more labels than a class has
    (dict(labels_per_class=5000), r"^labels_per_class must be in"),  # more labels than points
    (dict(k=1797), r"^k must be in \[1, 1796\]"),
    (dict(k=0), r"^k must be in \[1, 1796\]"),
    (dict(sigma_neighbor=30), r"^sigma_neighbor must be in \[1, 20\]"),
    (dict(draws=0), r"^draws must be in \[1, 1000\]"),
    (dict(methods="gl,lasso"), r"^methods must be one of"),
    (dict(methods=""), r"^methods must not be empty"),
])
def test_bad_input_is_refused_before_the_graph(digits, no_graph, change, message):
    X, y = digits
    kw = dict(labels_per_class=1, k=20, sigma_neighbor=10, draws=2, methods="gl,wnll")
    kw.update(change)
    with pytest.raises(ValueError, match=message):
        classify(X, y, **kw)


def test_bad_points_are_refused_before_the_graph(digits, no_graph):
    X, y = digits
    dup = X.copy()
    dup[7] = dup[3]
    with pytest.raises(ValueError, match=r"^points must be distinct .* points 3 and 7 are equal"):
        classify(dup, y, 1)
    nan = X.copy()
    nan[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"^points must hold only finite values"):
        classify(nan, y, 1)
    alone = y.copy()
    alone[np.flatnonzero(y == 9)[1:]] = 8  # class 9 keeps one point: nothing left to predict
    with pytest.raises(ValueError, match=r"^labels_per_class must be in \[1, 0\] \(class 9 has 1 points"):
        classify(X, alone, 1)
    with pytest.raises(ValueError, match=r"^labels must have one entry per point"):
        classify(X, y[:-1], 1)
