import json
import subprocess
import sys

import numpy as np

from workbench import results
from workbench.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "workbench.cli", "hj", *args], capture_output=True,
                          text=True, timeout=120)


def test_envelope_json_and_netcdf(tmp_path, capsys):
    out = tmp_path / "env.nc"
    code = main(["hj", "envelope", "--formula", "abs(x)", "--dim", "1", "--n", "401", "--lo", "-2",
                 "--hi", "2", "--t", "0.5", "--beta", "50", "--json", "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["shape"] == [401] and abs(summary["min_u"][0]) < 1e-6  # min u = min f = 0
    ds = results.load(out)
    x = ds.x.values.astype(float)
    huber = np.where(np.abs(x) <= 0.5, x ** 2, np.abs(x) - 0.25)  # Moreau of |x| at t = 0.5
    h = x[1] - x[0]
    assert np.abs(ds.u.sel(t=0.5).values - huber).max() <= h ** 2 / 4 + 1e-6  # grid error h^2/(8t), float32
    assert results.parameters(ds)["formula"] == "abs(x)"
    # local entropy bracket on the grid: m + K - log(N)/beta <= u_beta <= m + K (float32 slack)
    beta, k = 50.0, -(np.log(h) - 0.5 * np.log(2 * np.pi * 0.5 / 50.0)) / 50.0
    ub, m = ds.u_beta.sel(t=0.5).values, ds.u.sel(t=0.5).values
    assert np.all(ub <= m + k + 1e-5) and np.all(ub >= m + k - np.log(401) / beta - 1e-5)


def test_optimize_json_summary(capsys):
    code = main(["hj", "optimize", "--landscape", "quadratic", "--dim", "2", "--t", "0.2,1",
                 "--n-starts", "50", "--n-steps", "5", "--methods", "gd,prox", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["basin_fraction"] == {"gd": [1.0, 1.0], "prox": [1.0, 1.0]}  # convex: one basin
    # prox point: |x_5| = |x_0| / (1 + t)^5, so the mean value drops with t
    assert summary["mean_final_value"]["prox"][1] < summary["mean_final_value"]["prox"][0]


def test_bad_input_is_one_line_exit_2(capsys):
    for args, fragment in [(["envelope", "--t", "0"], "t must be in"),
                           (["optimize", "--methods", "sgd"], "methods must be one of"),
                           (["envelope", "--landscape", "nope"], "landscape must be one of")]:
        assert main(["hj", *args]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], lines


def test_unsafe_formula_from_the_shell():
    proc = run("envelope", "--formula", "x + os.system(1)", "--dim", "1")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench hj envelope: error: formula:"), lines
