"""The BinaryRelax explorer outside a server: a tiny training fills every view; bad settings are refused."""

import numpy as np
import pytest

from workbench.hj.quantize import widget
from workbench.hj.quantize.widget import BinaryRelaxExplorer


def test_tiny_training_fills_curves_histograms_and_slice():
    e = BinaryRelaxExplorer(epochs=2, phase_switch=1, seeds=2)
    e.__panel__()
    e.run()
    assert e.result is not None and e.result.sizes["seed"] == 2
    for method, arr in e.curves.items():  # every epoch of every seed reported live
        np.testing.assert_array_equal(arr, e.result.test_accuracy.sel({"method": method}).values)
    assert set(e.hists) == {(m, ep) for m in ("float", "binaryconnect", "binaryrelax") for ep in (1, 2)}
    assert e.lams[("binaryrelax", 1)] > 1.0 and np.isinf(e.lams[("binaryrelax", 2)])  # Phase I, then on Q
    edges, counts = e.hists[("binaryrelax", 2)]["fc1.weight"]
    assert counts.sum() == 2 * 32 * 64 and np.count_nonzero(counts) == 2  # Phase II: only the bins of ±α
    assert e._slice.object is not None and e.figure() is not None and e.data() is e.result
    assert "on Q 1.00" in e._table.object


@pytest.mark.parametrize("values,message", [
    (dict(quantizer="ternary", bits=1), "bits must be 2 for the ternary quantizer"),
    (dict(epochs=5, phase_switch=6), "phase_switch must be in [0, 5]"),
])
def test_inconsistent_settings_are_refused(values, message):
    e = BinaryRelaxExplorer()
    state = {n: getattr(e, n) for n in e.shared}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        e.check_state({**state, **values})
    e.param.update(**values)
    e.run()  # shown on the Status line, nothing trained
    assert e.result is None and e.curves == {}
    assert message in e.status.message and e.status.kind == "danger"


def test_a_long_redraw_spacing_leaves_one_drawing_of_the_finished_run(monkeypatch):
    """Live redraws are spaced (:class:`workbench.ui.throttle.Throttle`); the finished run is drawn whole."""
    monkeypatch.setattr(widget, "REDRAW_S", 1e9)
    e = BinaryRelaxExplorer(epochs=2, phase_switch=1, seeds=2)
    e.__panel__()
    drawn = []
    e._curves.param.watch(lambda event: drawn.append(event.new), "object")
    e.run()
    assert len(drawn) == 1  # no live redraw, then the finished run
    shown = {el.label for el in drawn[0] if el.label}
    assert shown == {"float (median)", "BinaryConnect (median)", "BinaryRelax (median)"}
    assert all(len(el) == 2 for el in drawn[0] if el.label)  # both epochs of each method
