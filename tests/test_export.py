import xml.etree.ElementTree as ET

import holoviews as hv
import matplotlib.image as mpimg
import numpy as np
import pytest

from workbench import export, results


@pytest.fixture
def figure_and_data():
    hv.extension("bokeh", "matplotlib")  # as in the dashboards: bokeh options on the objects
    x = np.linspace(-2, 2, 50)
    ds = results.dataset({"f": (("x",), x**2, {"units": "1", "long_name": "f(x)"})}, coords={"x": x},
                         params={"what": "parabola"}, kind="test.parabola")
    img = hv.Image(np.outer(np.sin(x), np.cos(x)), kdims=["x", "y"], vdims=["u"])
    curve = hv.Curve((x, x**2), "x", "f(x)").opts(color="black")
    return curve + img, ds


def test_export_writes_valid_files(tmp_path, figure_and_data):
    obj, ds = figure_and_data
    paths = export.export_figure(obj, tmp_path / "fig", data=ds, width="double", preset="aps")
    assert set(paths) == {"pdf", "svg", "png", "nc"}
    assert paths["pdf"].read_bytes().startswith(b"%PDF-")
    assert paths["pdf"].read_bytes().rstrip().endswith(b"%%EOF")
    root = ET.parse(paths["svg"]).getroot()
    assert root.tag.endswith("svg")
    png = mpimg.imread(paths["png"])
    assert png.ndim == 3 and png.shape[1] == 2100  # 7 in at 300 dpi exactly: the page is never cropped
    assert png[..., :3].std() > 0.05  # not blank
    back = results.load(paths["nc"])
    assert back.attrs["kind"] == "test.parabola"
    assert results.parameters(back) == {"what": "parabola"}
    np.testing.assert_array_equal(back["f"].values, ds["f"].values)


def test_single_column_is_narrower(tmp_path, figure_and_data):
    obj, _ = figure_and_data
    single = mpimg.imread(export.export_figure(obj, tmp_path / "a.png", formats=("png",))["png"])
    double = mpimg.imread(export.export_figure(obj, tmp_path / "b", formats=("png",), width="double")["png"])
    assert (single.shape[1], double.shape[1]) == (1020, 2100)  # 3.4 in and 7.0 in at 300 dpi


def test_bad_options(tmp_path, figure_and_data):
    obj, _ = figure_and_data
    with pytest.raises(ValueError, match="format must be one of 'pdf', 'svg', 'png'"):
        export.export_figure(obj, tmp_path / "x", formats=("jpg",))
    with pytest.raises(ValueError, match="width must be one of 'single', 'double'"):
        export.export_figure(obj, tmp_path / "x", width="triple")
