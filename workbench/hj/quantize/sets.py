"""Quantization sets Q and the projections onto them, with the optimal scale per layer.

A layer's weights ``w`` (n entries) are quantized onto a scaled level set
(Yin, Zhang, Lyu, Osher, Qi, Xin, "BinaryRelax", SIAM J. Imaging Sci. 2018, Sec. 2)::

    Q = { alpha * c : alpha >= 0, c in L^n },     L = {±m_0, ±m_1, ..., ±m_K}

* binary   (1 bit):  L = {±1};
* ternary  (2 bits): L = {0, ±1};
* k-bit uniform:     L = {±1, ±3, ..., ±(2^k - 1)}  (2^k levels; k = 1 is binary).

The projection ``proj_Q(w) = argmin_{q in Q} |w - q|`` minimises over the scale as
well: ``min_{alpha, c} |w - alpha c|^2``. For fixed codes ``c`` the best scale is
``alpha = <w, c> / <c, c>``; at the optimum ``c`` is the nearest-level rounding of
``w / alpha``. As ``alpha`` decreases, the rounding of ``|w_i| / alpha`` moves up one
level each time ``alpha`` crosses ``|w_i| / mid_j`` (``mid_j`` the midpoint between
magnitudes ``m_j`` and ``m_{j+1}``), so ``|w - alpha c(alpha)|^2 = |w|^2 - 2 alpha A + alpha^2 B``
is a piecewise quadratic whose pieces are found by one sort of the n·K breakpoints
and a cumulative sum of ``A = sum |w_i| |c_i|`` and ``B = sum c_i^2``. Minimising each
piece over its interval and taking the best gives the exact projection
(:func:`project`). For binary this is ``alpha = mean |w|`` (BWN, Rastegari et al.
2016); for ternary it is the paper's exact formula: keep the ``t*`` largest
``|w_i|`` with ``t* = argmax_t (sum of the t largest |w_i|)^2 / t`` and
``alpha = (that sum) / t*``. :func:`twn` is the TWN heuristic (Li, Zhang, Liu 2016):
``Delta = 0.7 mean |w|``, ``alpha`` the mean of ``|w_i|`` over ``|w_i| > Delta``.

All functions are batched: ``w`` has shape ``(batch, n)`` and each row is its own
layer (one seed's layer); scales have shape ``(batch,)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from ... import validate

QUANTIZERS = ("binary", "ternary", "uniform")
BITS = (1, 2, 4)


@dataclass(frozen=True)
class QuantSet:
    """A symmetric level set ``L = {±m_j}`` (``m_0 = 0`` allowed) scaled by a free ``alpha``."""

    name: str
    bits: int
    magnitudes: tuple[float, ...]  # increasing, >= 0

    @property
    def label(self) -> str:
        return self.name if self.name != "uniform" else f"uniform{self.bits}"

    def levels(self) -> torch.Tensor:
        """All levels of L in increasing order (unit scale), float64."""
        m = torch.tensor(self.magnitudes, dtype=torch.float64)
        return torch.unique(torch.cat([-m, m]))


def quant_set(quantizer: str, bits: int) -> QuantSet:
    """The set Q for ``quantizer`` in {binary, ternary, uniform} and ``bits`` in {1, 2, 4}.

    binary needs bits = 1, ternary bits = 2; uniform takes 1, 2 or 4.
    """
    validate.choice("quantizer", quantizer, QUANTIZERS)
    validate.choice("bits", bits, BITS)
    need = {"binary": 1, "ternary": 2}.get(quantizer)
    if need is not None and bits != need:
        raise ValueError(f"bits must be {need} for the {quantizer} quantizer, got {bits}")
    if quantizer == "binary":
        return QuantSet("binary", 1, (1.0,))
    if quantizer == "ternary":
        return QuantSet("ternary", 2, (0.0, 1.0))
    return QuantSet("uniform", bits, tuple(float(2 * j + 1) for j in range(2 ** (bits - 1))))


@functools.lru_cache(maxsize=64)
def _levels(magnitudes: tuple[float, ...], dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The magnitudes m_j and the midpoints between neighbours, as tensors (made once per dtype and device)."""
    m = torch.tensor(magnitudes, dtype=dtype, device=device)
    return m, (m[1:] + m[:-1]) / 2


def _mags(q: QuantSet, like: torch.Tensor) -> torch.Tensor:
    return _levels(q.magnitudes, like.dtype, like.device)[0]


def nearest(w: torch.Tensor, alpha: torch.Tensor, q: QuantSet) -> torch.Tensor:
    """``alpha * round_L(w / alpha)``: the nearest point of ``alpha L^n`` (fixed scale ``alpha >= 0``), rows batched.

    ``alpha`` has shape ``(batch,)``; a zero scale maps to 0. Ties go to the smaller magnitude, and
    ``w = +0`` to the positive level (the sign is ``w``'s sign bit: ``copysign``).
    """
    a = alpha.unsqueeze(-1)
    if len(q.magnitudes) == 1:  # binary: alpha m_0 sign(w)
        level = a * q.magnitudes[0]
    else:
        m, mids = _levels(q.magnitudes, w.dtype, w.device)
        safe = torch.where(a > 0, a, torch.ones_like(a))
        level = a * m[torch.bucketize(w.abs() / safe, mids)]
    return torch.copysign(level, w)


def optimal_scale(w: torch.Tensor, q: QuantSet) -> torch.Tensor:
    """The scale of ``proj_Q(w)`` per row: the exact minimiser of ``|w - alpha round_L(w/alpha)|^2``."""
    m = _mags(q, w)
    aw = w.abs()
    if len(m) == 1:  # binary: one piece, alpha = mean |w|
        return aw.mean(-1) * (1.0 / m[0])
    mids = (m[1:] + m[:-1]) / 2
    # breakpoint alpha = |w_i| / mid_j, where w_i's code steps from m_j to m_{j+1}
    bp = (aw.unsqueeze(-1) / mids).flatten(-2)
    d_a = (aw.unsqueeze(-1) * (m[1:] - m[:-1])).flatten(-2)
    d_b = (m[1:] ** 2 - m[:-1] ** 2).expand(*aw.shape, -1).flatten(-2)
    bp, order = bp.sort(-1, descending=True)
    a = m[0] * aw.sum(-1, keepdim=True) + torch.cumsum(d_a.gather(-1, order), -1)
    b = m[0] ** 2 * aw.shape[-1] + torch.cumsum(d_b.gather(-1, order), -1)
    a0 = m[0] * aw.sum(-1, keepdim=True)
    b0 = torch.full_like(a0, float(m[0] ** 2 * aw.shape[-1]))
    # piece j (j = 0..nK): alpha in [lo_j, hi_j], codes fixed, sums A_j, B_j
    a_all = torch.cat([a0, a], -1)
    b_all = torch.cat([b0, b], -1)
    hi = torch.cat([torch.full_like(a0, float("inf")), bp], -1)
    lo = torch.cat([bp, torch.zeros_like(a0)], -1)
    with torch.no_grad():
        best = torch.where(b_all > 0, a_all / torch.where(b_all > 0, b_all, torch.ones_like(b_all)), torch.zeros_like(a_all))
        alpha = torch.minimum(torch.maximum(best, lo), hi)
        gain = 2 * alpha * a_all - alpha ** 2 * b_all  # |w|^2 - |w - alpha c|^2
        gain = torch.where(torch.isfinite(gain), gain, torch.full_like(gain, -float("inf")))
        j = gain.argmax(-1, keepdim=True)
    return alpha.gather(-1, j).squeeze(-1)


def project(w: torch.Tensor, q: QuantSet) -> tuple[torch.Tensor, torch.Tensor]:
    """``(proj_Q(w), alpha)``: the exact projection onto Q with the optimal scale per row."""
    alpha = optimal_scale(w, q)
    return nearest(w, alpha, q), alpha


def twn(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """TWN ternary quantizer (Li, Zhang, Liu 2016): ``Delta = 0.7 mean|w|``, ``alpha = mean_{|w|>Delta} |w|``."""
    aw = w.abs()
    keep = aw > 0.7 * aw.mean(-1, keepdim=True)
    alpha = (aw * keep).sum(-1) / keep.sum(-1).clamp_min(1)
    return torch.where(keep, alpha.unsqueeze(-1) * torch.sign(w), torch.zeros_like(w)), alpha


def on_set(x: torch.Tensor, alpha: torch.Tensor, q: QuantSet) -> torch.Tensor:
    """Per-entry mask: ``x_i`` equals a level of ``alpha L`` exactly (``x == nearest(x, alpha)``)."""
    return x == nearest(x, alpha, q)
