"""Winograd's F(2x2, 3x3) convolution (:mod:`workbench.hj.quantize.winograd`) against torch's conv2d and autograd.

The transforms are an exact identity in exact arithmetic, so with small integer inputs and kernels
(every transformed value a multiple of 1/4 below 2^20, exact in float32) the forward output and all
three gradients must equal the direct convolution's bit for bit; a wrong entry in B, G or A, or a
patch added at the wrong place, breaks that. Random float inputs bound the rounding: each output is
a sum of 72 products, through transforms with entries 0, +-1, +-1/2, so its error is a few float32
ulps of the largest term (tolerance 1e-5 of the largest entry; measured 1e-7 to 1e-6).
"""

import numpy as np
import pytest
import torch
from numba import njit

from workbench.hj.quantize import winograd

C, O, NB = 8, 16, 32  # input channels, output channels, images (the vectorised axis)


@njit
def _conv(h, k, dz):
    """Forward ``z`` and, for the output gradient ``dz``, the kernels' and inputs' gradients."""
    u, ut = np.empty((16, O, C), np.float32), np.empty((16, C, O), np.float32)
    winograd.kernels(k, u, ut)
    v, m = winograd.transformed(C, NB), winograd.transformed(O, NB)
    winograd.inputs(h, v)
    winograd.products(u, v, m)
    z = np.empty((O, 4, 4, NB), np.float32)
    for o in range(O):
        winograd.outputs(m, o, z[o])
    for o in range(O):
        winograd.output_gradient(dz[o], o, m)
    du = np.empty((16, O, C), np.float32)
    winograd.correlations(m, v, du)
    gk = np.zeros((O, C, 3, 3), np.float32)
    winograd.kernel_gradient(du, gk)
    winograd.products(ut, m, v)
    dh, w = np.empty((C, 4, 4, NB), np.float32), np.empty((4, 2, 4, NB), np.float32)
    for c in range(C):
        winograd.input_gradient(v, c, w, dh[c])
    return z, gk, dh


def _direct(x, k, dz):
    """torch's correlation with zero padding 1, in float64, and its gradients; images first."""
    x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    k = torch.tensor(k, dtype=torch.float64, requires_grad=True)
    z = torch.nn.functional.conv2d(x, k, padding=1)
    (z * torch.tensor(dz, dtype=torch.float64)).sum().backward()
    return z.detach().numpy(), k.grad.numpy(), x.grad.numpy()


@pytest.mark.parametrize("integer", [True, False])
def test_forward_and_gradients_are_the_direct_convolutions(integer):
    rng = np.random.default_rng(7)
    draw = (lambda *s: rng.integers(-3, 4, s)) if integer else (lambda *s: rng.standard_normal(s))
    x, k, dz = draw(NB, C, 4, 4), draw(O, C, 3, 3), draw(NB, O, 4, 4)
    h = np.zeros((C, 6, 6, NB), np.float32)  # the kernel's layout: channels, padded rows and columns, images
    h[:, 1:5, 1:5] = x.transpose(1, 2, 3, 0)
    z, gk, dh = _conv(h, k.astype(np.float32), np.ascontiguousarray(dz.transpose(1, 2, 3, 0), np.float32))
    ref_z, ref_gk, ref_dh = _direct(x, k, dz)
    mine = (z.transpose(3, 0, 1, 2), gk, dh.transpose(3, 0, 1, 2))
    for a, b in zip(mine, (ref_z, ref_gk, ref_dh)):
        if integer:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max())
