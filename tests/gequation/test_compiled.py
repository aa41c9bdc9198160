"""The fused numba step against the torch step it replaces on the CPU.

Both evaluate the same formulas (WENO5 weights, numerical Hamiltonian,
central second differences, SSP-RK3 combination); they differ only in the
order of floating-point operations and in the WENO weights' tiny guard
(10⁻⁶·10⁻³⁰ against 10⁻¹⁹ for an all-zero stencil), so one step agrees to a
few ulps: 1e-12 in float64 and 2e-6 in float32 on values of order one.
"""

import numpy as np
import pytest
import torch

from workbench.gequation import flame_speed
from workbench.gequation.compiled import available
from workbench.gequation.flows import get_flow
from workbench.gequation.grid import Grid
from workbench.gequation.models import MODELS, get_model
from workbench.gequation.solver import Problem, make_step

pytestmark = pytest.mark.skipif(not available(), reason="numba is not installed")

CASES = [(m, f, s) for m in MODELS for f in ("cellular", "oscillating", "modulated", "shear")
         for s in (("lax-friedrichs", "godunov") if MODELS[m].convex else ("lax-friedrichs",))]


def _steps(model, flow, scheme, dtype, diffusion="explicit"):
    A = torch.tensor([0.5, 3.0, 7.0], dtype=torch.float64)
    problem = Problem(get_model(model), get_flow(flow), Grid(24, dtype), (0.8, 0.6), 1.0, A,
                      torch.tensor([0.05, 0.1, 0.2], dtype=torch.float64), A * 0 + 1.3, A * 0 + 0.7,
                      scheme, diffusion)
    steady = problem.flow.period(problem.omega) is None
    field = problem.field(torch.zeros(3, dtype=torch.float64)) if steady else None
    dt = problem.cfl_dt(0.5).double()
    return make_step(problem, field, dt, None), make_step(problem, field, dt, None, fused=True)


@pytest.mark.parametrize("model,flow,scheme", CASES)
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 2e-6)])
def test_fused_step_equals_torch_step(model, flow, scheme, dtype, tol):
    reference, fused = _steps(model, flow, scheme, dtype)
    g = torch.Generator().manual_seed(1)
    x = torch.arange(24, dtype=torch.float64) * (2 * np.pi / 24)
    u = (0.3 * torch.sin(x)[None, :, None] * torch.cos(2 * x)[None, None, :]
         + 0.05 * torch.randn(3, 24, 24, dtype=torch.float64, generator=g)).to(dtype)
    t = torch.tensor([0.0, 0.4, 1.1], dtype=torch.float64)
    for _ in range(3):  # a few steps, so later stages see rough and smooth data alike
        a, b = reference(u, t), fused(u, t)
        assert a.dtype == b.dtype == dtype
        assert float((a - b).abs().max()) <= tol
        u = a


def test_zero_field_gives_zero_weights_no_nan():
    # an all-zero stencil: the weights fall back to the linear ones, never 0/0
    reference, fused = _steps("inviscid", "shear", "lax-friedrichs", torch.float32)
    u = torch.zeros(3, 24, 24)
    t = torch.zeros(3, dtype=torch.float64)
    assert torch.equal(torch.isfinite(fused(u, t)), torch.ones(3, 24, 24, dtype=torch.bool))
    assert float((reference(u, t) - fused(u, t)).abs().max()) <= 2e-6


@pytest.mark.parametrize("model", ["inviscid", "viscous", "strain"])
def test_flame_speed_same_with_either_method(model):
    kw = dict(model=model, A=[1.0, 4.0], grid=32, crossings=3, max_crossings=3, dtype="float64")
    a = flame_speed(method="torch", compile=False, **kw)
    b = flame_speed(method="numba", **kw)
    np.testing.assert_allclose(a.s_T.values, b.s_T.values, rtol=1e-10)
    assert '"method": "numba"' in b.attrs["parameters"]


def test_method_is_checked():
    with pytest.raises(ValueError, match="method"):
        flame_speed(A=1.0, grid=16, method="fortran")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA|cuda"):
            flame_speed(A=1.0, grid=16, method="numba", device="cuda")


def test_compiled_torch_step_matches_eager():
    # torch.compile (here the CUDA-graph mode, which on the CPU compiles without graphs) against the
    # eager torch step, float64: only reordered rounding. A second call with a smaller batch (what the
    # adaptive reruns do) recompiles with a dynamic batch and must agree too.
    kw = dict(model="inviscid", grid=16, crossings=2, max_crossings=2, dtype="float64", method="torch")
    for A in ([1.0, 2.0, 3.0], [2.5]):
        eager = flame_speed(A=A, compile=False, **kw)
        compiled = flame_speed(A=A, compile="reduce-overhead", **kw)
        np.testing.assert_allclose(compiled.s_T.values, eager.s_T.values, rtol=1e-10)
        np.testing.assert_allclose(compiled.mean_u.values, eager.mean_u.values, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="compile"):
        flame_speed(A=1.0, grid=16, compile="max-speed")
