"""The explorer outside a server: computes synchronously, shows errors in Status, stays usable."""

import holoviews as hv
import numpy as np
import pytest

from workbench import export
from workbench.attention import plots
from workbench.attention.widget import AttentionExplorer


@pytest.fixture(scope="module")
def explorer():
    return AttentionExplorer(text="Attention maps of a small model.", device="cpu")


def pair_tokens(explorer):
    """The head view's query labels and the heat map's labelled rows, as drawn."""
    heat, view = explorer.maps_view.heat.object, explorer.maps_view.view.object
    img = list(heat)[0]
    rows = [label for _, label in img.opts.get().kwargs["yticks"]]
    labels = [ov for ov in view if isinstance(ov, hv.Labels)][0]
    return rows, list(labels.dimension_values("token"))


def test_maps_and_views(explorer):
    assert explorer._maps is not None and explorer._maps.sizes["layer"] == 6
    assert isinstance(explorer.maps_view.grid.object, hv.Image)
    assert isinstance(explorer.maps_view.heat.object, hv.Overlay) and isinstance(explorer.maps_view.view.object, hv.Overlay)
    explorer.head = 5
    img = list(explorer.maps_view.heat.object)[0]
    assert isinstance(img, hv.Image)   # rasterised: one image, not a glyph per cell
    expected = explorer._maps.isel(layer=explorer.layer, head=5).values
    # the value at (key j, query i) is the weight of query i on key j (y axis inverted: query 0 on top)
    for i, j in [(0, 0), (0, 3), (4, 1), (8, 8)]:
        assert img[j, i] == expected[i, j]
    assert isinstance(explorer.maps_view.layer_heads.object, hv.Image)
    # a click on the grid tile of layer 4, head 7 enlarges it (tiles are n + 1 cells apart)
    step = explorer._maps.sizes["query"] + 1
    explorer._on_tap(x=7 * step + 0.5, y=(6 - 4) * step - 1.5)
    assert (explorer.layer, explorer.head) == (4, 7)


def test_summary_click_opens_the_head(explorer):
    explorer._tabs.active = 1
    explorer._on_summary_tap(x=3.2, y=1.9)
    assert (explorer.layer, explorer.head) == (2, 3) and explorer._tabs.active == 0


def test_head_view_and_heatmap_show_the_same_tokens_after_a_text_change(explorer):
    explorer.queries = (2, 5)
    rows, left = pair_tokens(explorer)
    assert rows == left == [f"{i} {t}" for i, t in enumerate(explorer._maps["query_token"].values)][2:6]
    long = "word " * 100 + "end."
    explorer.text = long
    n = explorer._maps.sizes["query"]
    assert n == 104   # [CLS], 100 x "word", "end", ".", [SEP]
    rows, left = pair_tokens(explorer)
    assert rows == left and left[0] == "2 word"
    for pane in (explorer.maps_view.heat, explorer.maps_view.view, explorer.comparison_view.full, explorer.comparison_view.var, explorer.maps_view.layer_heads):
        hv.render(pane.object, backend="bokeh")   # a long map with no rows selected renders too
    explorer.queries = (90, 140)   # clipped to the text and to MAX_QUERIES rows
    rows, left = pair_tokens(explorer)
    assert rows == left and left[-1] == f"{n - 1} [SEP]" and len(left) == n - 90
    explorer.text = "Short again."
    rows, left = pair_tokens(explorer)
    assert rows == left and all(r.split(" ", 1)[1] in explorer._maps["query_token"].values for r in rows)


def test_variant_comparison_and_errors(explorer):
    explorer.text = "Attention maps of a small model."
    explorer.param.update(variant="block", window=3)
    assert "block" in explorer.comparison_view.info.object
    assert float(explorer.comparison_view.result["map_residual"].max()) < 1e-5
    explorer.window = 500  # longer than the text: error in Status, nothing crashes
    assert explorer.status.message.startswith("ValueError: window must be in [1,")
    explorer.window = 2    # and the next valid setting works again
    assert explorer.comparison_view.result is not None and explorer.status.message == ""


def test_variant_in_the_model(explorer):
    explorer.param.update(variant="sliding", window=3, replace_layers=[0, 1])
    explorer.run()
    ds = explorer.effect_view.effect
    assert ds is not None and list(ds["layer"].values[ds["replaced"].values]) == [0, 1]
    assert float(ds["attention_error"].sel(layer=3, text=0)) == 0.0 and float(ds["attention_error"].sel(layer=0, text=0)) > 0
    assert "Spearman rho" in explorer.effect_view.info.object
    assert isinstance(explorer.effect_view.pane.object, hv.Overlay)


def test_bad_text_shows_in_status(explorer):
    explorer.text = "   "
    assert "text must not be empty" in explorer.status.message
    explorer.text = "x" * 20_001
    assert "20001 characters" in explorer.status.message
    explorer.text = "Back to a fine sentence."
    assert list(explorer._maps["query_token"].values)[1:3] == ["back", "to"]


def test_device_is_live(explorer):
    explorer.device = "cuda:7"   # no such device here: the next work is refused, nothing crashes
    assert "cuda" in explorer.status.message.lower()
    explorer.device = "cpu"
    assert explorer._maps is not None and "tokens" in explorer.status.message


def test_dispersion_sweep_and_slider(explorer):
    explorer.param.update(n_max=128, dispersion_window=8, source="sphere")
    explorer.run_dispersion()
    ds = explorer.dispersion_view.ds
    assert list(ds["n"].values) == [64, 128]
    explorer.n = 128
    assert "at n = 128" in explorer.dispersion_view.info.object
    explorer.metric = "entropy"
    assert isinstance(explorer.dispersion_view.pane.object, hv.Overlay)


@pytest.mark.parametrize("tab, variable", [(0, "attention"), (1, "rollout"), (2, "map"), (3, "hidden_change"),
                                           (4, "max_weight")])
def test_export_of_each_tab_renders_in_matplotlib(explorer, tab, variable):
    if explorer.dispersion_view.ds is None:
        explorer.param.update(n_max=128, dispersion_window=8)
        explorer.run_dispersion()
    if explorer.effect_view.effect is None:
        explorer.param.update(variant="linear")
        explorer.run()
    explorer._tabs.active = tab
    assert export.figure_bytes(explorer.figure(), "png")[:4] == b"\x89PNG"
    assert variable in explorer.data()


def test_head_view_keys_bounded():
    rows = np.full((3, 200), 1 / 200)
    rows[:, :60] = 0.9 / 60 + 0.1 / 200
    keys = plots.head_view_keys(rows, threshold=0.005)
    assert len(keys) == plots.MAX_KEYS and keys == sorted(keys) and max(keys) < 60
