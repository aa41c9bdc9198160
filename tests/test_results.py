import json

import numpy as np
import pytest
import torch
import xarray as xr

import workbench
from workbench import results


def make():
    x = torch.linspace(-1, 1, 7)
    t = torch.tensor([0.1, 0.2])
    u = x[None, :] ** 2 / (1 + 2 * t[:, None])
    return results.dataset({"u": (("t", "x"), u, {"units": "1", "long_name": "value"})},
                           coords={"t": t, "x": x},
                           params={"t": t, "n": 7, "flag": True, "name": "quad", "nested": {"a": 1}},
                           kind="test.quadratic", seed=3, device=torch.device("cpu"), elapsed=0.25)


def test_provenance_attrs():
    ds = make()
    assert ds.attrs["kind"] == "test.quadratic"
    assert ds.attrs["workbench"] == workbench.__version__
    assert ds.attrs["torch"] == torch.__version__
    assert ds.attrs["device"] == "cpu"
    assert ds.attrs["seed"] == 3
    assert ds.attrs["elapsed_s"] == 0.25
    assert ds.attrs["created"].endswith("+00:00")
    params = results.parameters(ds)
    assert params["n"] == 7 and params["flag"] is True and params["nested"] == {"a": 1}
    np.testing.assert_allclose(params["t"], [0.1, 0.2], rtol=1e-7)
    assert ds["u"].dims == ("t", "x") and ds["u"].attrs["units"] == "1"


def test_netcdf_round_trip_is_exact(tmp_path):
    ds = make()
    ds = ds.assign_coords(token=("x", [f"tok{i}" for i in range(7)]))
    ds.attrs["ok"] = True  # stamped later on save
    path = results.save(ds, tmp_path / "sub" / "r.nc")
    back = results.load(path)
    ds.attrs["ok"] = 1
    assert back.identical(ds)
    assert back.attrs == ds.attrs
    assert json.loads(back.attrs["parameters"]) == json.loads(ds.attrs["parameters"])


def test_stamp_keeps_existing_attrs_and_cleans_types():
    da = xr.DataArray(np.arange(3.0), dims="x", attrs={"units": "m", "flag": False, "none": None})
    out = results.stamp(da, {"a": np.float32(1.5)}, kind="k")
    assert out.attrs["units"] == "m" and out.attrs["flag"] == 0 and out.attrs["none"] == ""
    assert results.parameters(out) == {"a": 1.5}
    assert "kind" not in da.attrs  # the input is not modified


def test_unsupported_parameter_is_refused():
    with pytest.raises(TypeError, match="cannot store object"):
        results.dumps({"bad": object()})


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        results.load(tmp_path / "nope.nc")


def test_to_bytes_is_netcdf():
    data = results.to_bytes(make())
    assert data[:8] == b"\x89HDF\r\n\x1a\n"


def test_timer_measures():
    with results.timer() as t:
        sum(range(10000))
    assert 0 < t["elapsed"] < 5
