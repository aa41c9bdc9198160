"""The compiled envelope kernels on the edges of what the docstrings allow.

Rows or columns entirely ``+inf`` (every indicator of a small set has them), a single
finite point, extreme but finite values (1e300) and spacings whose square underflows.
Each case is computed by the numba kernels in a subprocess (a regression that crashes
fails the test instead of ending pytest) and compared with closed forms and with
``method="torch"``; parameters the kernels cannot represent are refused, naming them.
"""

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from workbench.hj import local_entropy, moreau_envelope
from workbench.runtime import have_numba

pytestmark = pytest.mark.skipif(not have_numba(), reason="the compiled kernels need numba")

H, TS, BETA = 0.1, [0.05, 0.5], 3.0


def indicator(shape, point):
    """0 at one grid point, +inf elsewhere: all but one row and one column are entirely +inf."""
    f = np.full(shape, np.inf)
    f[point] = 0.0
    return f


def dist2(shape, point):
    grids = np.meshgrid(*[np.arange(n) * H for n in shape], indexing="ij")
    return sum((g - p * H) ** 2 for g, p in zip(grids, point))


CASES = {
    "1d_point": (indicator((41,), (7,)), (7,)),
    "2d_point": (indicator((64, 64), (10, 20)), (10, 20)),
    "2d_corner": (indicator((33, 17), (0, 16)), (0, 16)),
    "3d_point": (indicator((9, 11, 13), (4, 0, 12)), (4, 0, 12)),
}


@pytest.fixture(scope="module")
def numba_results(tmp_path_factory):
    """Every case through the numba kernels, in a child process; results as an .npz."""
    folder = tmp_path_factory.mktemp("kernels")
    inputs = folder / "in.npz"
    np.savez(inputs, **{k: f for k, (f, _) in CASES.items()},
             big=np.array([1e300, 0, 0, 0, 0]), huge=np.array([1.7e308, -1.7e308, 3.0, 1e300, -1e300, 0.0]))
    script = textwrap.dedent(f"""
        import numpy as np
        from workbench.hj import local_entropy, moreau_envelope
        data = dict(np.load({str(inputs)!r}))
        out = {{}}
        for name in {list(CASES)!r}:
            f = data[name]
            out[name + "_u"], out[name + "_i"] = moreau_envelope(f, {H}, {TS}, return_argmin=True, method="numba")
            out[name + "_le"] = local_entropy(f, {H}, {TS}, beta={BETA}, method="numba")
            out[name + "_u1"] = moreau_envelope(f, {H}, {TS[0]}, method="numba")  # no leading t
        out["big_u"] = moreau_envelope(data["big"], 1e-5, 1.0, method="numba")
        out["huge_u"], out["huge_i"] = moreau_envelope(data["huge"], 1.0, 0.5, return_argmin=True, method="numba")
        out["huge_le"] = local_entropy(data["huge"], 1.0, 0.5, beta=2.0, method="numba")
        np.savez({str(folder / "out.npz")!r}, **out)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"the numba kernels crashed (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return dict(np.load(folder / "out.npz"))


@pytest.mark.parametrize("case", list(CASES))
def test_single_point_indicator_has_the_closed_form(numba_results, case):
    f, point = CASES[case]
    d2 = dist2(f.shape, point)
    norm = sum(math.log(H) for _ in f.shape)
    for k, t in enumerate(TS):
        # Moreau envelope of the indicator of {x0}: |x - x0|^2 / (2t), attained at x0 (exact on the grid)
        np.testing.assert_allclose(numba_results[case + "_u"][k], d2 / (2 * t), rtol=1e-14, atol=0)
        assert (numba_results[case + "_i"][k] == np.array(point)).all()
        # local entropy of a single point: -(1/beta) log(h^d G_{t/beta}(x - x0)), Gaussian in closed form
        expected = d2 / (2 * t) - (norm - 0.5 * len(f.shape) * math.log(2 * math.pi * t / BETA)) / BETA
        np.testing.assert_allclose(numba_results[case + "_le"][k], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(numba_results[case + "_u1"], numba_results[case + "_u"][0])


@pytest.mark.parametrize("case", list(CASES))
def test_numba_equals_torch_on_infinite_rows(numba_results, case):
    f, _ = CASES[case]
    u, idx = moreau_envelope(f, H, TS, return_argmin=True, method="torch")
    np.testing.assert_allclose(numba_results[case + "_u"], u, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(numba_results[case + "_i"], idx)
    le = local_entropy(f, H, TS, beta=BETA, method="torch")
    np.testing.assert_allclose(numba_results[case + "_le"], le, rtol=1e-12, atol=1e-12)


def test_extreme_finite_values_are_exact(numba_results):
    # c = h^2/(2t) = 5e-11: the point 1e300 is beaten by its neighbour's parabola, 0 + c * 1^2
    np.testing.assert_allclose(numba_results["big_u"], [5e-11, 0, 0, 0, 0], rtol=1e-15, atol=0)  # c rounded once
    f = np.array([1.7e308, -1.7e308, 3.0, 1e300, -1e300, 0.0])
    u, idx = moreau_envelope(f, 1.0, 0.5, return_argmin=True, method="torch")
    # every point's minimiser is x = 1 (value -1.7e308): parabolas of size <= 16 do not show at this scale
    assert (numba_results["huge_i"][:, 0] == 1).all()
    np.testing.assert_array_equal(numba_results["huge_u"], u)
    np.testing.assert_array_equal(numba_results["huge_u"], np.full(6, -1.7e308))
    le = local_entropy(f, 1.0, 0.5, beta=2.0, method="torch")
    np.testing.assert_allclose(numba_results["huge_le"], le, rtol=1e-12)


@pytest.mark.parametrize("fn", [moreau_envelope, lambda f, h, t, **kw: local_entropy(f, h, t, beta=2.0, **kw)])
@pytest.mark.parametrize("method", ["numba", "torch"])
@pytest.mark.parametrize("spacing, t", [(1e-300, 1.0), (1e300, 1.0), (1.0, 1e-320), (1e-170, [1.0, 2.0])])
def test_unrepresentable_kernels_are_refused_naming_spacing_and_t(fn, method, spacing, t):
    with pytest.raises(ValueError, match=r"spacing(\[\d\])? and t give spacing\*\*2/\(2 t\)"):
        fn(np.zeros((5, 5)), spacing, t, method=method)
