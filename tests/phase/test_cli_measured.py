"""``workbench phase reconstruct`` and the measured-data options of ``workbench phase compare`` (in process)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench import cli
from workbench.phase import cxi, physics, study
from workbench.phase.expression import parse_schedule


@pytest.fixture(scope="module")
def pattern(tmp_path_factory):
    path = tmp_path_factory.mktemp("cxi") / "vesicle.cxi"
    return cxi.write(path, study.simulated("vesicle", 32, 1e7, beamstop=1.5))


def test_reconstruct_writes_a_cxi_file_with_every_run(pattern, tmp_path, capsys):
    out = tmp_path / "rec.cxi"
    rc = cli.main(["phase", "reconstruct", "--data", str(pattern), "--runs", "4", "--free-pixels", "0.05",
                   "--algorithm", "(ER()**10 * ShrinkWrap(threshold=0.15) * HIO()**40)**2", "--json",
                   "--out", str(out)])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["iterations"] == 100 and summary["runs"] == 4 and len(summary["selected_runs"]) == 2
    assert 0 < summary["prtf_mean"] <= 1 + 1e-12
    images, errors = cxi.read_images(out)
    assert images.shape == (4, 32, 32)
    np.testing.assert_allclose(errors["fourier_error"].min(), summary["best_error"])
    back = physics.load(out)  # the output is itself a valid input
    np.testing.assert_array_equal(back.missing, physics.load(pattern).missing)


def test_compare_takes_a_cxi_file_with_shrinkwrap_poisson_and_free_pixels(pattern, capsys):
    rc = cli.main(["phase", "compare", "--data", str(pattern), "--runs", "2", "--iterations", "40",
                   "--algorithms", "hio,gps", "--shrinkwrap", "--likelihood", "poisson", "--free-pixels", "0.05",
                   "--json"])
    assert rc == 0
    table = json.loads(capsys.readouterr().out)
    assert set(table) == {"hio", "gps"} and all(0 < row["mean"] < 1 for row in table.values())


@pytest.mark.parametrize("argv,message", [
    (["compare", "--free-pixels", "0.3"], "free-pixels must be in (0, 0.2]"),
    (["compare", "--free-pixels", "0"], "free-pixels must be in (0, 0.2]"),
    (["compare", "--shrinkwrap", "--shrinkwrap-threshold", "1"], "shrinkwrap-threshold must be in (0, 1)"),
    (["reconstruct", "--data", "{data}", "--algorithm", "__import__('os').system('true')"], "algorithm: expected operators"),
    (["reconstruct", "--data", "{data}", "--algorithm", "exec('1')"], "algorithm: unknown operator 'exec'"),
    (["reconstruct", "--data", "{data}", "--algorithm", "ER()**(10**9)"], "a power must be a whole number"),
    (["reconstruct", "--data", "{data}", "--select", "11"], "select must be in [1, 10]"),
])
def test_bad_options_are_one_line_errors(pattern, capsys, argv, message):
    argv = [a.replace("{data}", str(pattern)) for a in argv]
    assert cli.main(["phase", *argv, "--size", "32", "--runs", "1", "--iterations", "2"] if argv[0] == "compare"
                    else ["phase", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_schedule_text_is_the_operator_algebra():
    op = parse_schedule("(ER()**20 * HIO(beta=0.9)**100)**5")
    assert repr(op) == "(ER()**20 * HIO(beta=0.9)**100)**5" and op.iterations == 600
    assert parse_schedule('gps(300, sigma=(0.001, 0.1), likelihood="poisson")').iterations == 300
    for bad in ["ER().apply", "1 + 2", "ER()**-1", "HIO(beta=2)", "ER(**{'a': 1})", "ER()**10000000 * ER()**10000000"]:
        with pytest.raises(ValueError, match="algorithm|beta|power"):
            parse_schedule(bad)
