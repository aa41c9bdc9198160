"""The explorer outside a server: computes synchronously, shows errors in Status, stays usable."""

import holoviews as hv
import numpy as np
import pytest

from workbench import export
from workbench.attention.widget import AttentionExplorer


@pytest.fixture(scope="module")
def explorer():
    return AttentionExplorer(text="Attention maps of a small model.", device="cpu")


def test_maps_and_views(explorer):
    assert explorer._maps is not None and explorer._maps.sizes["layer"] == 6
    assert isinstance(explorer._grid.object, hv.Image)
    assert isinstance(explorer._head.object, hv.HeatMap)
    explorer.head = 5
    hm = explorer._head.object
    expected = explorer._maps.isel(layer=explorer.layer, head=5).values.ravel()
    np.testing.assert_allclose(np.sort(hm.dimension_values("weight")), np.sort(expected))
    assert "layer 2, head 5" in hm.opts.get().kwargs["title"]
    # a click on the grid tile of layer 4, head 7 enlarges it (tiles are n + 1 cells apart)
    step = explorer._maps.sizes["query"] + 1
    explorer._on_tap(x=7 * step + 0.5, y=(6 - 4) * step - 1.5)
    assert (explorer.layer, explorer.head) == (4, 7)


def test_variant_comparison_and_errors(explorer):
    explorer.param.update(variant="block", window=3)
    assert "block" in explorer._compare_info.object
    assert float(explorer._compare["map_residual"].max()) < 1e-5
    explorer.window = 500  # longer than the text: error in Status, nothing crashes
    assert explorer.status.message.startswith("ValueError: window must be in [1,")
    explorer.window = 2    # and the next valid setting works again
    assert explorer._compare is not None and explorer.status.message == ""


def test_bad_text_shows_in_status(explorer):
    explorer.text = "   "
    assert "text must not be empty" in explorer.status.message
    explorer.text = "Back to a fine sentence."
    assert list(explorer._maps["query_token"].values)[1:3] == ["back", "to"]


def test_dispersion_sweep_and_slider(explorer):
    explorer.param.update(n_max=128, dispersion_window=8, source="sphere")
    explorer.run_dispersion()
    ds = explorer._dispersion
    assert list(ds["n"].values) == [64, 128]
    explorer.n = 128
    assert "at n = 128" in explorer._disp_info.object
    explorer.metric = "entropy"
    assert isinstance(explorer._disp.object, hv.Overlay)


@pytest.mark.parametrize("tab, variable", [(0, "attention"), (1, "map"), (2, "max_weight")])
def test_export_of_each_tab_renders_in_matplotlib(explorer, tab, variable):
    if explorer._dispersion is None:
        explorer.param.update(n_max=128, dispersion_window=8)
        explorer.run_dispersion()
    explorer._tabs.active = tab
    assert export.figure_bytes(explorer.figure(), "png")[:4] == b"\x89PNG"
    assert variable in explorer.data()
