"""HJ-prox: a sampling estimate of the proximal operator (Osher, Heaton, Wu Fung, PNAS 2023).

For ``delta > 0`` the viscous HJ solution ``u^delta`` (viscosity ``delta/2``) has, by
Cole-Hopf, the closed form ``u^delta(x, t) = -delta log E[exp(-f(y)/delta)]`` with
``y ~ N(x, delta t I)``, and its gradient gives a prox estimate::

    prox_{t f}(x) ~ x - t grad u^delta(x, t) = E[y exp(-f(y)/delta)] / E[exp(-f(y)/delta)]

estimated with ``n_samples`` Monte-Carlo samples ``y_i``: the prox is the softmax
``w = softmax(-f(y)/delta)``-weighted mean of the samples and the envelope is
``-delta (logsumexp(-f(y)/delta) - log n)``. As ``delta -> 0`` both tend to the
Moreau envelope and the prox (for weakly convex ``f`` and ``t < 1/rho``).

Stabilisation. The literal ratio of means underflows to 0/0 as soon as
``f/delta`` exceeds about 88 (float32) or 745 (float64); here the weights are a
max-shifted softmax (exact, never overflows). The paper's rescaling is kept
for points whose weights still come out non-finite (``f`` infinite or NaN at
every sample): they are resampled with variance ``delta t / alpha`` and weights
``softmax(-alpha f / delta)``, halving ``alpha`` each time (a larger effective
``delta/alpha``). ``stabilised=False`` gives the literal formula, for comparison.

Accuracy (measured in ``tests/hj/test_hj_prox.py``; :func:`hj_prox_abs_exact` gives the
``n_samples -> infinity`` limit for ``f = ||x||_1``). Two errors add up:

* smoothing bias: for a quadratic ``f`` there is none (the tilted Gaussian's mean is
  exactly ``x / (1 + t)``); for ``||x||_1`` it is largest next to the kink,
  ``|x_i| ~ t``, where it is about ``0.5-0.8 sqrt(delta t)``; of order ``delta``
  inside the dead zone ``|x_i| < t`` (a few ``sqrt(delta t)`` from the kink), and
  exponentially small beyond it, ``|x_i| > t + 8 sqrt(delta t)``;
* sampling error: about ``sqrt(delta t / ESS)`` per coordinate, ``ESS = 1 / sum w_i^2``
  the effective sample size (returned), as long as ESS is more than a few tens.

Importance sampling degrades when the prox lies many standard deviations
``sqrt(delta t)`` from ``x``: for ``||x||_1`` the shift is ``t`` per coordinate, so
ESS/n falls roughly like ``exp(-d t / delta)``. With ``d = 10, t = 1, delta <= 0.3``
ESS collapses to about 1 even with 1e5 samples and the estimate approaches the
best sample, not the prox (errors of order ``t``). Keep ``d t / delta`` of order
one or below, and monitor ESS.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch

from .. import runtime, validate

SAMPLE_CHUNK = 2**24  # samples x dimension per chunk
MAX_DIM = 100_000


class HJProxResult(NamedTuple):
    """Prox estimate ``(B, d)``, envelope estimate ``(B,)``, effective sample size ``(B,)``,
    and the final ``alpha`` per point ``(B,)``."""

    prox: torch.Tensor
    envelope: torch.Tensor
    ess: torch.Tensor
    alpha: torch.Tensor


def _estimate(f, x, t, delta, alpha, n, gen, stabilised):
    b, d = x.shape
    std = torch.sqrt(delta * t / alpha).view(b, 1, 1)
    y = x[:, None, :] + std * torch.randn(b, n, d, generator=gen, device=x.device, dtype=x.dtype)
    fy = f(y.reshape(b * n, d))
    if not isinstance(fy, torch.Tensor) or fy.numel() != b * n:
        raise ValueError(f"f must map a ({b * n}, {d}) tensor to {b * n} values")
    z = -(alpha.view(b, 1) / delta) * fy.reshape(b, n).to(x.dtype)
    if stabilised:
        logw = torch.log_softmax(z, dim=1)
        w = logw.exp()
        lse = torch.logsumexp(z, dim=1)
    else:
        e = torch.exp(z)
        w = e / e.sum(dim=1, keepdim=True)
        lse = torch.log(e.sum(dim=1))
    prox = (w[..., None] * y).sum(dim=1)
    envelope = -(delta / alpha) * (lse - math.log(n))
    ess = 1.0 / (w ** 2).sum(dim=1)
    return prox, envelope, ess


def hj_prox(f: Callable[[torch.Tensor], torch.Tensor], x: Any, t: float, delta: float = 0.1,
            n_samples: int = 1000, seed: int | None = None, *, stabilised: bool = True,
            max_halvings: int = 20, device: Any = None, dtype: Any = None) -> HJProxResult:
    """Sampling estimate of ``prox_{t f}(x)`` and of the envelope, batched over ``x``.

    ``f`` maps ``(N, d)`` to ``(N,)``; ``x`` is ``(d,)`` or ``(B, d)`` with ``d`` up to
    :data:`MAX_DIM`; ``t > 0``; ``delta > 0`` the smoothing; ``n_samples`` per point.
    See the module docstring for the formula, the stabilisation and the accuracy.
    """
    t = float(validate.positive("t", t))
    delta = float(validate.positive("delta", delta))
    n = validate.integer("n_samples", n_samples, lo=1, hi=10_000_000)
    max_halvings = validate.integer("max_halvings", max_halvings, lo=0, hi=60)
    if not callable(f):
        raise TypeError("f must be a callable mapping (N, d) tensors to (N,) values")
    dev = runtime.resolve_device(device if device is not None else
                                 (x.device if isinstance(x, torch.Tensor) else None))
    dt = runtime.resolve_dtype(dtype if dtype is not None else
                               (x.dtype if isinstance(x, torch.Tensor) and x.is_floating_point() else None))
    x = torch.as_tensor(x, device=dev, dtype=dt)
    single = x.ndim == 1
    x = x[None] if single else x
    if x.ndim != 2 or x.shape[1] < 1 or x.shape[1] > MAX_DIM or x.shape[0] < 1:
        raise ValueError(f"x must have shape (d,) or (B, d) with 1 <= d <= {MAX_DIM}, got {tuple(x.shape)}")
    validate.finite_array("x", x)
    b, d = x.shape
    per_point = n * d
    chunk = max(1, SAMPLE_CHUNK // per_point)
    validate.memory_fits("n_samples", min(chunk, b) * per_point * x.element_size() * 3, dev)
    gen = runtime.generator(seed, dev)
    outs = []
    for start in range(0, b, chunk):
        xs = x[start:start + chunk]
        alpha = torch.ones(xs.shape[0], device=dev, dtype=dt)
        prox, env, ess = _estimate(f, xs, t, delta, alpha, n, gen, stabilised)
        for _ in range(max_halvings if stabilised else 0):
            bad = ~(torch.isfinite(prox).all(dim=1) & torch.isfinite(env))
            if not bad.any():
                break
            alpha[bad] *= 0.5
            p2, e2, s2 = _estimate(f, xs[bad], t, delta, alpha[bad], n, gen, stabilised)
            prox[bad], env[bad], ess[bad] = p2, e2, s2
        outs.append((prox, env, ess, alpha))
    prox, env, ess, alpha = (torch.cat(parts) for parts in zip(*outs))
    if single:
        return HJProxResult(prox[0], env[0], ess[0], alpha[0])
    return HJProxResult(prox, env, ess, alpha)


def hj_prox_abs_exact(x: torch.Tensor, t: float, delta: float) -> torch.Tensor:
    """The ``n_samples -> infinity`` limit of :func:`hj_prox` for ``f = ||x||_1``, in closed form.

    The estimator factorises over coordinates; per coordinate, with ``s^2 = delta t``
    and the tilted means ``m_+ = x - s^2/delta``, ``m_- = x + s^2/delta``::

        E[y e^{-|y|/delta}] / E[e^{-|y|/delta}]
          = (A_+ [m_+ Phi(m_+/s) + s phi(m_+/s)] + A_- [m_- Phi(-m_-/s) - s phi(m_-/s)])
            / (A_+ Phi(m_+/s) + A_- Phi(-m_-/s)),      A_(+/-) = exp(-/+ x/delta)

    evaluated with log-weights so that no exponential overflows. It isolates the
    smoothing bias of HJ-prox (against soft thresholding) from its sampling error.
    """
    from scipy.special import log_ndtr

    x64 = x.detach().cpu().double().numpy()
    s = math.sqrt(delta * t)
    mp, mm = x64 - s * s / delta, x64 + s * s / delta
    # log of A_+ Phi(m_+/s) and A_- Phi(-m_-/s) (the common factor exp(s^2/(2 delta^2)) cancels)
    lp = -x64 / delta + log_ndtr(mp / s)
    lm = x64 / delta + log_ndtr(-mm / s)
    top = np.maximum(lp, lm)
    wp, wm = np.exp(lp - top), np.exp(lm - top)
    # conditional means of the tilted Gaussians on each half line: m + s phi/Phi (truncated normal)
    mean_p = mp + s * np.exp(-0.5 * (mp / s) ** 2 - 0.5 * math.log(2 * math.pi) - log_ndtr(mp / s))
    mean_m = mm - s * np.exp(-0.5 * (mm / s) ** 2 - 0.5 * math.log(2 * math.pi) - log_ndtr(-mm / s))
    out = (wp * mean_p + wm * mean_m) / (wp + wm)
    return torch.as_tensor(out, dtype=x.dtype, device=x.device)


def soft_threshold(x: torch.Tensor, t: float) -> torch.Tensor:
    """``prox_{t ||.||_1}(x) = sign(x) max(|x| - t, 0)``."""
    return torch.sign(x) * torch.clamp(x.abs() - t, min=0)
