"""workbench hj quantize: the JSON summary, the netCDF result, one-line refusals before training."""

import json

import numpy as np
import pytest

from workbench import results
from workbench.cli import main


def test_quantize_json_and_netcdf(tmp_path, capsys):
    out = tmp_path / "q.nc"
    code = main(["hj", "quantize", "--network", "mlp", "--bits", "2", "--quantizer", "ternary", "--seeds", "2",
                 "--epochs", "2", "--batch-size", "256", "--json", "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    ds = results.load(out)
    acc = ds.test_accuracy.isel(epoch=-1)
    for method in ("float", "binaryconnect", "binaryrelax"):
        assert summary[method]["mean"] == pytest.approx(float(acc.sel({"method": method}).mean()), abs=1e-12)
        assert summary[method]["std"] == pytest.approx(float(acc.sel({"method": method}).std(ddof=1)), abs=1e-12)
    # epoch 2 is Phase II (switch = round(2 * 2 / 3) = 1): both quantized methods end exactly on Q
    assert summary["binaryconnect"]["on_grid_fraction"] == 1.0 == summary["binaryrelax"]["on_grid_fraction"]
    assert summary["float"]["on_grid_fraction"] < 0.01
    assert results.parameters(ds)["quantizer"] == "ternary" and ds.sizes == {
        "method": 3, "seed": 2, "epoch": 2, "param": 2410, "qlayer": 2}
    assert np.all(np.isfinite(ds.train_loss.values))


@pytest.mark.parametrize("args,message", [
    (["--bits", "3"], "bits must be one of 1, 2, 4"),
    (["--quantizer", "ternary", "--bits", "1"], "bits must be 2 for the ternary quantizer"),
    (["--lambda0", "0"], "lambda0 must be in (0"),
    (["--lambda0", "nan"], "lambda0 must be finite"),
    (["--rho", "0.9"], "rho must be in [1.0, 10.0]"),
    (["--epochs", "3", "--phase-switch", "4"], "phase_switch must be in [0, 3]"),
    (["--seeds", "0"], "seeds must be in [1, 256]"),
    (["--methods", "float,adam"], "methods must be one of"),
    (["--network", "vgg"], "network must be one of"),
])
def test_bad_input_exits_2_with_one_line(args, message, capsys):
    assert main(["hj", "quantize", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("workbench hj quantize: error:") and message in err and "\n" not in err
