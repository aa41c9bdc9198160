"""The G-equation solver on CUDA (skipped without it): the same speeds as on the CPU."""

import numpy as np
import pytest

from workbench.gequation import flame_speed

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("model", ["inviscid", "viscous", "curvature", "strain"])
def test_cuda_speeds_equal_the_cpu_speeds(model):
    # float64, the same schedule: the torch step on the GPU against the fused CPU kernel,
    # which a CPU test holds to the torch step within 1e-12 per step
    kw = dict(model=model, A=[1.0, 4.0], d=0.1, grid=32, crossings=3, max_crossings=3,
              dtype="float64", n_frames=2)
    cpu = flame_speed(device="cpu", **kw)
    gpu = flame_speed(device="cuda", **kw)
    assert gpu.attrs["device"].startswith("cuda")
    np.testing.assert_allclose(gpu.s_T.values, cpu.s_T.values, rtol=1e-8)


@pytest.fixture(scope="module")
def cpu_sweep():
    return flame_speed("inviscid", "cellular", np.linspace(0.5, 8.0, 16), grid=128, device="cpu")


@pytest.mark.parametrize("mode", [True, "reduce-overhead"])
def test_cuda_compiled_batch_converges(mode, cpu_sweep):
    ds = flame_speed("inviscid", "cellular", np.linspace(0.5, 8.0, 16), grid=128, device="cuda",
                     compile=mode)
    assert int(ds.converged.sum()) == 16
    # s_l <= s_T <= s_l + A (inviscid, cellular)
    assert np.all(ds.s_T.values >= 1 - 1e-3) and np.all(ds.s_T.values <= 1 + ds.A.values)
    # both sweeps converged to rtol = 1% of the same limit (float32, different kernels and rounding)
    np.testing.assert_allclose(ds.s_T.values, cpu_sweep.s_T.values, rtol=1e-2)


def test_cuda_stochastic_flow_equals_the_cpu():
    # the phase paths are drawn on the host (numpy streams per realisation) and moved to the device:
    # every realisation's s_T agrees with the fused CPU kernel's, float64
    kw = dict(model="inviscid", flow="stochastic", A=[1.2, 1.5], grid=32, t_final=4 * 2 * np.pi,
              realisations=3, dtype="float64", n_frames=2, resolution_check=False)
    cpu = flame_speed(device="cpu", **kw)
    gpu = flame_speed(device="cuda", **kw)
    np.testing.assert_allclose(gpu.s_T_realisation.values, cpu.s_T_realisation.values, rtol=1e-8)
    np.testing.assert_allclose(gpu.frame_phase.values, cpu.frame_phase.values, rtol=1e-12)
