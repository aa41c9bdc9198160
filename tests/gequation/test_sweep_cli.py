"""The sweep through the spine's runner, and the command line."""

import json

import numpy as np
import pytest

from workbench import results
from workbench.cli import main
from workbench.gequation import flame_speed, sweep

KW = dict(grid=16, crossings=2, dtype="float64", n_frames=2)


def test_sweep_equals_direct_batch_and_does_not_depend_on_chunking():
    A = [0.5, 1.5, 3.0]
    direct = flame_speed("viscous", "cellular", A, d=0.2, **KW)
    events = []
    one = sweep("viscous", "cellular", A=A, d=0.2, chunk_size=1, callbacks=[events.append], **KW)
    three = sweep("viscous", "cellular", A=A, d=0.2, chunk_size=3, **KW)
    # every element keeps its own time step: chunking cannot change a result
    np.testing.assert_allclose(one.s_T.values, direct.s_T.values, rtol=1e-12)
    np.testing.assert_allclose(three.s_T.values, direct.s_T.values, rtol=1e-12)
    assert [round(e.fraction, 3) for e in events] == [0.333, 0.667, 1.0]
    assert one.mean_u.dims == ("A", "sample") and one.front.dims == ("A", "frame", "y", "x")


def test_two_axis_sweep_and_checkpoint_resume(tmp_path):
    grid = dict(A=[0.5, 2.0], d=[0.1, 0.3])
    first = sweep("curvature", "cellular", chunk_size=2, checkpoint=tmp_path / "ck", **grid, **KW)
    assert first.s_T.dims == ("A", "d")
    calls = []
    again = sweep("curvature", "cellular", chunk_size=2, checkpoint=tmp_path / "ck",
                  callbacks=[lambda ev: calls.append(ev.from_checkpoint)], **grid, **KW)
    assert calls == [True, True]  # nothing recomputed
    np.testing.assert_array_equal(again.s_T.values, first.s_T.values)


def test_cli_speed_json(capsys):
    rc = main(["gequation", "speed", "--model", "inviscid", "--flow", "shear", "--amplitude", "1.5",
               "--grid", "16", "--crossings", "3", "--dtype", "float64", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert {"s_T", "s_T_error", "model", "flow", "amplitude", "grid", "t_final"} <= set(out)
    # closed form s_l + A (16² is coarse: 1%)
    assert out["s_T"] == pytest.approx(2.5, rel=1e-2)
    assert out["model"] == "inviscid" and out["grid"] == 16 and out["amplitude"] == 1.5


def test_cli_sweep_writes_netcdf(tmp_path, capsys):
    out = tmp_path / "s.nc"
    rc = main(["gequation", "sweep", "--model", "strain", "--amplitude", "0.5:1.5:3", "--d", "0.5",
               "--grid", "16", "--crossings", "2", "--out", str(out), "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["points"] == 3 and summary["failed"] == 0 and "A_star" in summary
    ds = results.load(out)
    np.testing.assert_allclose(ds.A.values, [0.5, 1.0, 1.5])
    assert results.parameters(ds)["model"] == "strain"


@pytest.mark.parametrize("argv,match", [
    (["speed", "--grid", "0"], "grid must be in"),
    (["speed", "--amplitude", "-2"], "A must be in"),
    (["speed", "--direction", "1"], "direction must be 'px,py'"),
    (["sweep", "--amplitude", "1:2:x"], "amplitude must be START:STOP:NUM"),
    (["speed", "--flow", "oscillating", "--omega", "0"], "omega must be in"),
    (["speed", "--crossings", "8", "--max-crossings", "4"], "max_crossings must be in"),
])
def test_cli_bad_input_exits_2(argv, match, capsys):
    assert main(["gequation", *argv]) == 2
    assert match in capsys.readouterr().err
