"""The explorer in-process (its runners run synchronously outside a server)."""

from __future__ import annotations

import numpy as np
import pytest

from workbench import export
from workbench.graph.widget import GraphExplorer


@pytest.fixture
def explorer():
    return GraphExplorer(draws=2, max_labels=2, methods=["gl", "wnll", "knn"])


def test_snapshot_follows_labels_and_class(explorer):
    snap = explorer.snapshot
    assert snap["mask"].sum() == 10 and "1 label(s) per class" in explorer.status.message
    before = explorer._gl.object
    explorer.labels_per_class = 4
    assert explorer.snapshot["mask"].sum() == 40 and "4 label(s) per class" in explorer.status.message
    # u = g on S: every labelled point's own class has u = 1 under both methods
    lab = explorer.snapshot["mask"]
    for u in explorer.snapshot["u"].values():
        np.testing.assert_array_equal(u[lab].argmax(1), explorer.y[lab])
    explorer.cls = 3
    assert explorer._gl.object is not before and "u_3" in explorer._gl.object.opts.get().kwargs["title"]


def test_click_shows_the_digit_and_its_neighbours(explorer):
    emb = explorer.snapshot["emb"]
    explorer._on_tap(x=float(emb[42, 0]), y=float(emb[42, 1]))
    i = explorer.point
    assert np.allclose(emb[i], emb[42])  # the nearest point of the eigenmap to the click
    assert f"digit #{i}: class {explorer.y[i]}" in explorer._neighbours_text.object
    assert len(explorer._neighbours.object) == 6  # the digit and its 5 nearest neighbours


def test_study_fills_curves_and_exports(explorer):
    explorer.run()
    assert explorer.study is not None and "study done" in explorer.status.message
    assert set(explorer.points) == {"gl", "wnll", "knn"} and set(explorer.points["gl"]) == {1, 2}
    assert len(export.figure_bytes(explorer.figure(), "png")) > 1000
    assert explorer.data().attrs["kind"] == "graph.accuracy_vs_labels"


def test_sigma_above_k_goes_to_status(explorer):
    snap = explorer.snapshot
    explorer.param.update(k=8)  # sigma_neighbor = 10 > k
    assert explorer.status.message.startswith("ValueError: sigma_neighbor must be in [1, k = 8]")
    assert explorer.snapshot is snap
