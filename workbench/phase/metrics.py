"""How good is a reconstruction: Fourier error, aligned real-space error, FRC, cost.

* ``R_F = sum_k | |F u(k)| - M(k) | / sum_k M(k)`` over measured ``k``
  (:meth:`FourierMagnitude.fourier_error`; re-exported here as :func:`fourier_error`).
* Real-space error after alignment: a reconstruction is defined up to a
  translation and the twin image ``u(-x)`` (both have the same ``|F u|``).
  :func:`align` finds, for each run, the better of ``u`` and its twin by the
  peak of the cross-correlation with the truth, the shift to sub-pixel
  precision by an upsampled DFT of the cross-power spectrum around the peak
  (Guizar-Sicairos, Thurman, Fienup, Opt. Lett. 33, 156, 2008), and applies it
  as a Fourier phase ramp. Then ``E = ||u_aligned - u_true|| / ||u_true||``.
* Fourier ring correlation against the truth (van Heel & Schatz 2005)::

      FRC(r) = Re sum_{|k| in ring r} A(k) conj(B(k)) / sqrt(sum |A|^2 sum |B|^2)

* Good minima: the fraction ``p`` of runs with ``R_F`` below a threshold; the
  expected cost to reach one is ``time_per_run / p`` (runs until the first
  success are geometric with mean ``1/p``), and the runs needed for one
  success with probability 95 % are ``ceil(log 0.05 / log(1 - p))``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import validate
from .physics import FourierMagnitude


def fourier_error(physics: FourierMagnitude, u: torch.Tensor) -> torch.Tensor:
    """``R_F`` of real-space images ``u`` (leading dims are runs)."""
    return physics.error_of(u)


def _freqs(n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.fft.fftfreq(n, device=device, dtype=dtype)


def shift_image(u: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``u(x - shift)`` for real images ``u[..., N, N]`` and shifts ``[..., 2]`` (pixels, sub-pixel ok)."""
    n = u.shape[-1]
    f = _freqs(n, u.device, u.dtype)
    phase = -2 * math.pi * (shift[..., 0, None, None] * f[:, None] + shift[..., 1, None, None] * f[None, :])
    return torch.fft.ifft2(torch.fft.fft2(u) * torch.polar(torch.ones_like(phase), phase)).real


def twin(u: torch.Tensor) -> torch.Tensor:
    """The twin image ``u(-x)`` (same Fourier magnitudes), origin at pixel 0."""
    return torch.roll(torch.flip(u, dims=(-2, -1)), shifts=(1, 1), dims=(-2, -1))


def _upsampled_peak(cross: torch.Tensor, coarse: torch.Tensor, upsample: int) -> torch.Tensor:
    """Refine integer peaks ``coarse[B, 2]`` of ``ifft2(cross)`` on a 1/upsample grid (matrix DFT)."""
    n = cross.shape[-1]
    span = 1.5
    offsets = torch.arange(-span, span + 1e-9, 1.0 / upsample, device=cross.device, dtype=coarse.dtype)
    f = _freqs(n, cross.device, coarse.dtype)
    rows = coarse[:, 0, None] + offsets[None, :]          # [B, P]
    cols = coarse[:, 1, None] + offsets[None, :]
    er = torch.exp(2j * math.pi * rows[..., None] * f[None, None, :]).to(cross.dtype)   # [B, P, N]
    ec = torch.exp(2j * math.pi * cols[..., None] * f[None, None, :]).to(cross.dtype)
    values = (er @ cross @ ec.transpose(-1, -2)).real      # [B, P, P]
    flat = values.flatten(1).argmax(dim=1)
    p = offsets.numel()
    return torch.stack([rows.gather(1, (flat // p)[:, None])[:, 0], cols.gather(1, (flat % p)[:, None])[:, 0]], 1)


def align(recon: torch.Tensor, truth: torch.Tensor, upsample: int = 20) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Align each reconstruction ``[R, N, N]`` to ``truth [N, N]`` (translation and twin).

    Returns ``(aligned [R, N, N], shift [R, 2] in pixels, is_twin [R] bool)``;
    ``aligned = shift_image(u or twin(u), shift)``.
    """
    validate.integer("upsample", upsample, lo=1, hi=1000)
    squeeze = recon.ndim == 2
    if squeeze:
        recon = recon[None]
    n = recon.shape[-1]
    t_hat = torch.fft.fft2(truth.to(recon.dtype))
    candidates = torch.stack([recon, twin(recon)], dim=1)          # [R, 2, N, N]
    cross = t_hat * torch.fft.fft2(candidates).conj()            # peak at the shift taking u to truth
    corr = torch.fft.ifft2(cross).real
    peak, where = corr.flatten(2).max(dim=2)                      # [R, 2]
    use_twin = peak[:, 1] > peak[:, 0]
    pick = use_twin.long()
    idx = torch.arange(recon.shape[0], device=recon.device)
    best_cross = cross[idx, pick]
    loc = where[idx, pick]
    coarse = torch.stack([loc // n, loc % n], 1).to(recon.dtype)
    coarse = torch.where(coarse > n // 2, coarse - n, coarse)
    shift = _upsampled_peak(best_cross, coarse, upsample) if upsample > 1 else coarse
    aligned = shift_image(candidates[idx, pick], shift)
    if squeeze:
        return aligned[0], shift[0], use_twin[0]
    return aligned, shift, use_twin


def real_space_error(recon: torch.Tensor, truth: torch.Tensor, upsample: int = 20) -> torch.Tensor:
    """``||align(u) - u_true|| / ||u_true||`` per run."""
    aligned, _, _ = align(recon, truth, upsample)
    t = truth.to(aligned.dtype)
    return torch.linalg.vector_norm(aligned - t, dim=(-2, -1)) / torch.linalg.vector_norm(t)


def ring_sum(x: torch.Tensor) -> torch.Tensor:
    """Sums of ``x [..., N, N]`` (FFT order) over the rings ``r <= |k| < r + 1`` (k in DFT pixels), ``r < N/2``."""
    n = x.shape[-1]
    k = torch.fft.fftfreq(n, device=x.device) * n
    ring = torch.sqrt(k[:, None] ** 2 + k[None, :] ** 2).floor().long().clamp_max(n // 2).flatten()
    flat = x.flatten(-2)
    out = torch.zeros(flat.shape[:-1] + (n // 2 + 1,), dtype=flat.dtype, device=flat.device)
    return out.index_add_(-1, ring, flat)[..., : n // 2]


def frc(a: torch.Tensor, b: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """Fourier ring correlation of images ``a [..., N, N]`` with ``b [N, N]``.

    Returns ``(spatial frequency in cycles/pixel [N/2], FRC [..., N/2])``;
    ring ``r`` holds ``r <= |k| < r + 1`` (k in DFT pixels).
    """
    n = a.shape[-1]
    fa, fb = torch.fft.fft2(a), torch.fft.fft2(b.to(a.dtype))
    num = ring_sum((fa * fb.conj()).real)
    den = torch.sqrt(ring_sum(fa.abs() ** 2) * ring_sum(fb.abs() ** 2).clamp_min(1e-300))
    values = num / den.clamp_min(torch.finfo(den.dtype).tiny)
    return np.arange(n // 2) / n, values


def good_fraction(errors: np.ndarray, threshold: float) -> float:
    """Fraction of runs whose ``R_F`` is below ``threshold``."""
    validate.positive("threshold", threshold)
    errors = np.asarray(errors)
    return float(np.mean(errors < threshold)) if errors.size else float("nan")


def default_threshold(physics: FourierMagnitude) -> float:
    """Good-minimum threshold: ``1.1 R_F(truth) + 0.005`` (the noise floor plus a margin).

    For measured data (no truth) this is just 0.005; pass a threshold chosen
    from the data (e.g. from the histogram's lowest cluster) instead.
    """
    truth = physics.truth
    floor = 0.0 if truth is None else float(physics.error_of(truth[None])[0])
    return 1.1 * floor + 0.005


def expected_cost(fraction: float, seconds_per_run: float) -> dict[str, float]:
    """Expected runs and seconds to a first good minimum (geometric law), and runs for 95 %."""
    if not fraction > 0:
        return {"runs": math.inf, "seconds": math.inf, "runs_95": math.inf}
    runs95 = 1.0 if fraction >= 1 else math.ceil(math.log(0.05) / math.log(1 - fraction))
    return {"runs": 1 / fraction, "seconds": seconds_per_run / fraction, "runs_95": float(runs95)}
