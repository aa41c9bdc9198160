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

Cost: O(n) per grid point per axis (all pairs along each axis, vectorised in
torch on the compute device).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .. import validate
from .grid import as_values, spacings, times
from .lower_envelope import LOG_2PI, along_axis, pairwise_rows


def local_entropy(values: Any, spacing: Any, t: Any, beta: float = 1.0, *, device: Any = None,
                  cancel: Any = None):
    """Viscous HJ solution ``-(1/beta) log(G_{t/beta} * e^{-beta f})`` on a grid.

    ``values``, ``spacing``, ``t`` and ``device`` are as in :func:`.moreau_envelope`
    (a sequence of ``t`` adds a leading dimension); ``beta > 0`` is the inverse
    temperature (viscosity ``1/(2 beta)``). Returns the input's kind and dtype. A set
    ``cancel`` event (``threading.Event``) stops it early with ``InterruptedError``.
    """
    f, kind = as_values(values, device)
    h = spacings(spacing, f.shape)
    ts, lead = times(t)
    beta = float(validate.positive("beta", beta))
    u = f.expand(len(ts), *f.shape)
    t_vec = torch.tensor(ts, dtype=f.dtype, device=f.device)
    for axis in reversed(range(f.ndim)):
        c_t = h[axis] ** 2 / (2 * t_vec)
        # log(h) - log(2 pi t / beta) / 2: quadrature weight and Gaussian normalisation
        norm_t = (math.log(h[axis]) - 0.5 * (LOG_2PI + torch.log(t_vec / beta))) / beta

        def rows_fn(rows: torch.Tensor, c_t=c_t):
            c = c_t.repeat_interleave(rows.shape[0] // len(ts))
            return pairwise_rows(rows, c, beta=beta, cancel=cancel)[0]

        u = along_axis(u, axis + 1, rows_fn)
        u = u - norm_t.view(-1, *([1] * f.ndim))
    u = u.to(kind.dtype)
    return kind.back(u if lead else u[0])
