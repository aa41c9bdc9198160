"""The two projections every phase-retrieval algorithm is built from.

* Magnitude projection (the measured data), in Fourier space::

      P_M(Z)(k) = M(k) Z(k) / |Z(k)|   where k is measured,   Z(k) elsewhere.

* Support projection (real, non-negative, zero outside the support S)::

      P_S(u)(x) = u(x)  if x in S (and u(x) >= 0 when ``positivity``),   0 otherwise.

Both act on a batch (leading dims are runs) and broadcast ``M``, the
measured-pixel mask and ``S`` over it. The reflections are ``R = 2P - I``.
"""

from __future__ import annotations

import torch


def squared_modulus(z: torch.Tensor) -> torch.Tensor:
    """``|z|^2 = Re(z conj z)``: on CPUs torch's complex ``abs`` is not vectorised (several times slower)."""
    return (z * z.conj()).real


def modulus(z: torch.Tensor) -> torch.Tensor:
    """``|z|`` (see :func:`squared_modulus`)."""
    return torch.sqrt(squared_modulus(z))


def magnitude_projection(z: torch.Tensor, magnitude: torch.Tensor, measured: torch.Tensor | None) -> torch.Tensor:
    """``P_M``: give ``z`` the measured magnitudes, keep its phases (unmeasured pixels unchanged).

    ``measured=None`` means every pixel is measured (saves a pass over the data).
    """
    tiny = torch.finfo(magnitude.dtype).tiny
    ratio = torch.rsqrt(squared_modulus(z).clamp_min(tiny)).mul_(magnitude)
    if measured is not None:
        ratio = torch.where(measured, ratio, 1.0)
    return z * ratio


def constraint_weight(u: torch.Tensor, support: torch.Tensor, positivity: bool = True) -> torch.Tensor:
    """1 where ``u`` satisfies the object constraint (in S, and >= 0 with ``positivity``), else 0.

    ``support`` is the support as 0/1 floats. Float weights and ``torch.lerp``
    replace boolean ``torch.where`` in the iterations: on CPUs ``where`` over
    large float batches is several times slower than an arithmetic pass.
    """
    if not positivity:
        return support.expand_as(u)
    return (u >= 0).to(u.dtype).mul_(support)


def support_projection(u: torch.Tensor, support: torch.Tensor, positivity: bool = True) -> torch.Tensor:
    """``P_S``: zero outside the support (0/1 floats), and at negative values when ``positivity``.

    A complex ``u`` is projected onto real images: its real part, then as above.
    """
    if u.is_complex():  # the object is real: a complex field (GPS on the complex path) keeps its real part
        u = u.real
    return u.clamp_min(0).mul_(support) if positivity else u * support
