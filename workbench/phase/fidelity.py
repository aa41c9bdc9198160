"""The data-fidelity proximal steps of GPS's Fourier-space update.

GPS's primal step is ``z+ = prox_{t g_sigma}(z^) = argmin_z g_sigma(z) + |z - z^|^2 / (2 t)``
for a fidelity ``g_sigma`` of the magnitudes ``|z|`` to the measured ``M`` (summed over
measured pixels; unmeasured pixels are free, so there ``z+ = z^``). Both fidelities
below depend on ``|z|`` only, so the minimiser keeps the phase of ``z^`` and solves a
1-D problem in ``rho = |z|`` given ``r = |z^|``:

* least squares (Pham et al. 2019), ``g_sigma(z) = (1 / 2 sigma) sum (|z| - M)^2``::

      rho = (t M + sigma r) / (t + sigma),   i.e.   z+ = (t P_M(z^) + sigma z^) / (t + sigma);

* Poisson (the seed's fidelity), ``g_sigma(z) = (1 / sigma) sum (|z| - M log |z|)``
  (minimal at ``|z| = M``): the stationarity condition
  ``(1 - M / rho) / sigma + (rho - r) / t = 0`` is the quadratic
  ``sigma rho^2 + (t - sigma r) rho - t M = 0`` with the one positive root::

      rho = (b + sqrt(b^2 + 4 sigma t M)) / (2 sigma),   b = sigma r - t,

  evaluated as ``2 t M / (sqrt(b^2 + 4 sigma t M) - b)`` when ``b < 0`` (no cancellation).
  ``sigma -> 0`` gives ``rho = M`` (the projection ``P_M``), ``sigma -> inf`` gives ``rho = r``.
"""

from __future__ import annotations

import torch

from .projections import magnitude_projection, modulus

LIKELIHOODS = ("gaussian", "poisson")


def gaussian_prox(z: torch.Tensor, magnitude: torch.Tensor, measured: torch.Tensor | None, t: float,
                  sigma: float) -> torch.Tensor:
    """``prox_{t g}`` of the least-squares fidelity: ``(t P_M(z) + sigma z) / (t + sigma)``."""
    zp = magnitude_projection(z, magnitude, measured)
    return zp if sigma == 0 else (t * zp + sigma * z) / (t + sigma)


def poisson_radius(r: torch.Tensor, magnitude: torch.Tensor, t: float, sigma: float) -> torch.Tensor:
    """The minimiser ``rho >= 0`` of ``(rho - M log rho) / sigma + (rho - r)^2 / (2 t)`` (closed form)."""
    if sigma == 0:
        return magnitude.expand_as(r)
    b = sigma * r - t
    root = torch.sqrt(b * b + 4 * sigma * t * magnitude)
    tiny = torch.finfo(r.dtype).tiny
    return torch.where(b >= 0, (b + root) / (2 * sigma), 2 * t * magnitude / (root - b).clamp_min(tiny))


def poisson_prox(z: torch.Tensor, magnitude: torch.Tensor, measured: torch.Tensor | None, t: float,
                 sigma: float) -> torch.Tensor:
    """``prox_{t g}`` of the Poisson fidelity: ``z`` rescaled to :func:`poisson_radius` (phase kept)."""
    r = modulus(z)
    ratio = poisson_radius(r, magnitude, t, sigma) / r.clamp_min(torch.finfo(r.dtype).tiny)
    if measured is not None:
        ratio = torch.where(measured, ratio, 1.0)
    return z * ratio


PROXES = {"gaussian": gaussian_prox, "poisson": poisson_prox}
