"""Local entropy: the viscous Hamilton-Jacobi solution by Cole-Hopf, in the log domain.

The viscous HJ equation of Deep Relaxation (Chaudhari et al. 2018)::

    u_t + |grad u|^2 / 2 = (1 / (2 beta)) Laplace u,      u(x, 0) = f(x)

is linearised by ``v = exp(-beta u)`` (Cole-Hopf) into the heat equation with
diffusivity ``1/(2 beta)``, whose solution at time ``t`` convolves with the Gaussian
``G_s`` of variance ``s = t / beta`` per axis::

    u(x, t) = -(1/beta) log( G_{t/beta} * exp(-beta f) )(x)
            = -(1/beta) log sum_y  h^d G_{t/beta}(x - y) exp(-beta (f(y)))

On a grid the integral is the Riemann sum over grid points (points outside the
grid count as ``f = +inf``, i.e. contribute nothing). Written as
``-(1/beta) logsumexp_y[-beta (f(y) + |x - y|^2 / (2t))] - (1/beta) sum_k (log h_k - log(2 pi t/beta)/2)``
it is evaluated with log-sum-exp, one axis at a time (the Gaussian factorises),
so ``beta f`` up to 1e4 and beyond neither overflows nor underflows. As
``beta -> infinity`` it tends to the Moreau envelope (:func:`.moreau_envelope`).

Cost: O(n) per grid point per axis. On the CPU (with numba) each term is shifted by
the min-plus value at its point (the largest exponent, from the linear-time Moreau
pass), so every term is in [0, 1]; elsewhere all pairs are vectorised in torch with
``logsumexp`` on the compute device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .. import budget, validate
from .grid import as_values, spacings, times
from .lower_envelope import LOG_2PI, along_axis, kernel_coefficients, pairwise_rows, soft_min_numba
from .moreau import uses_numba


def local_entropy(values: Any, spacing: Any, t: Any, beta: float = 1.0, *, method: str = "auto",
                  device: Any = None, cancel: Any = None):
    """Viscous HJ solution ``-(1/beta) log(G_{t/beta} * e^{-beta f})`` on a grid.

    ``values``, ``spacing``, ``t`` and ``device`` are as in :func:`.moreau_envelope`
    (a sequence of ``t`` adds a leading dimension); ``beta > 0`` is the inverse
    temperature (viscosity ``1/(2 beta)``). ``method`` is ``"auto"`` (numba on the CPU when
    installed, else torch), ``"numba"`` or ``"torch"``. Returns the input's kind and dtype.
    A set ``cancel`` event (``threading.Event``) stops it early with ``InterruptedError``.
    """
    f, kind = as_values(values, device)
    h = spacings(spacing, f.shape)
    ts, lead = times(t)
    beta = float(validate.positive("beta", beta))
    cs = kernel_coefficients(h, ts, f.dtype)
    budget.fits("t", len(ts) * f.numel() * 8 * 3, len(ts) * f.numel() * sum(f.shape), budget.ENVELOPE_RATE, f.device)
    use_numba = uses_numba(method, f.device)  # before any work: a bad method is an error
    t_vec = torch.tensor(ts, dtype=torch.float64)
    # log(h) - log(2 pi t / beta) / 2 per axis: quadrature weight and Gaussian normalisation
    norm_t = sum((math.log(hk) - 0.5 * (LOG_2PI + torch.log(t_vec / beta))) / beta for hk in h)
    if use_numba:
        f64 = f.cpu().numpy().astype("float64", copy=False)
        u = torch.from_numpy(np.stack([soft_min_numba(f64, c, beta, cancel) for c in cs])).to(f.device)
    else:
        u = f.expand(len(ts), *f.shape)
        for axis in reversed(range(f.ndim)):
            c_t = torch.tensor([c[axis] for c in cs], dtype=f.dtype, device=f.device)

            def rows_fn(rows: torch.Tensor, c_t=c_t):
                c = c_t.repeat_interleave(rows.shape[0] // len(ts))
                return pairwise_rows(rows, c, beta=beta, cancel=cancel)[0]

            u = along_axis(u, axis + 1, rows_fn)
    u = u - norm_t.to(device=u.device, dtype=u.dtype).view(-1, *([1] * f.ndim))
    u = u.to(kind.dtype)
    return kind.back(u if lead else u[0])
