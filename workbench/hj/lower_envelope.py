"""One-axis min-plus and log-sum-exp transforms with a quadratic kernel, row by row.

For rows ``f[r, :]`` of ``n`` samples and one coefficient ``c[r] > 0`` per row::

    min-plus:      out[r, p] = min_q  f[r, q] + c[r] (p - q)^2              (argmin q kept)
    soft-min(b):   out[r, p] = -(1/b) log sum_q exp(-b (f[r, q] + c[r] (p - q)^2))

The min-plus transform is the lower envelope of the parabolas ``q -> f[q] + c (p - q)^2``
and is computed exactly in O(n) per row by the algorithm of Felzenszwalb and
Huttenlocher ("Distance transforms of sampled functions", Theory of Computing 8, 2012):
a left-to-right scan keeps the parabolas of the envelope and the abscissae ``z`` where
consecutive ones intersect; a second scan reads the envelope off. The scan is
sequential in ``p``, so the CPU path is compiled with numba and parallel over rows.
``+inf`` samples are skipped (they contribute no parabola).

A vectorised torch path (:func:`pairwise_rows`) evaluates the same minimum, or the
soft-min, directly over all pairs ``(p, q)`` in row chunks: O(n) per point instead
of O(1), but branch-free, so it suits GPUs and is the fallback without numba.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .. import validate

try:  # numba is optional at import time; without it every path uses torch
    import numba
    from numba import njit, prange
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

CHUNK_ELEMENTS = 2**24  # pairs per chunk of the vectorised path (64 MiB in float32)
CANCELLABLE_CHUNK_ELEMENTS = 2**21  # with a cancel event: smaller chunks, so a cancel lands quickly


if numba is not None:
    @njit(cache=True, inline="always")
    def _fh_row(f, c, out, arg, v, z, want_arg):  # pragma: no cover - compiled
        # c must be a positive normal float with 0.5 / c finite (checked by kernel_coefficients)
        n = f.shape[0]
        half_over_c = 0.5 / c
        k = -1
        for q in range(n):
            fq = f[q]
            if not fq < np.inf:
                continue
            # intersection of parabola q with the last one kept; pop while it hides it. An
            # intersection at -inf (the values differ by more than the grid can show) hides
            # every kept parabola: q alone starts the envelope again
            while k >= 0:
                p = v[k]
                s = 0.5 * (q + p) + (fq - f[p]) * half_over_c / (q - p)
                if s <= z[k]:
                    k -= 1
                else:
                    break
            if k < 0:
                k = 0
                v[0] = q
                z[0] = -np.inf
                z[1] = np.inf
                continue
            k += 1
            v[k] = q
            z[k] = s
            z[k + 1] = np.inf
        if k < 0:  # no finite sample in this row: no parabola, the envelope is +inf
            for p in range(n):
                out[p] = np.inf
                if want_arg:
                    arg[p] = 0
            return
        j = 0
        for p in range(n):
            while z[j + 1] < p:
                j += 1
            q = v[j]
            d = p - q
            out[p] = f[q] + c * d * d
            if want_arg:
                arg[p] = q

    @njit(cache=True, inline="always")
    def _soft_row(f, c, beta, m, out):  # pragma: no cover - compiled
        # soft-min over q of f[q] + c (p - q)^2 at inverse temperature beta, shifted by the
        # min-plus value m[p] (the largest exponent), so every term lies in [0, 1]
        n = f.shape[0]
        for p in range(n):
            mp = m[p]
            if not mp < np.inf:
                out[p] = np.inf
                continue
            s = 0.0
            for q in range(n):
                fq = f[q]
                if fq < np.inf:
                    d = p - q
                    s += np.exp(-beta * (fq + c * d * d - mp))
            out[p] = mp - np.log(s) / beta

    # nogil: a served app runs these passes in worker threads; holding the GIL for a whole pass
    # (tens of milliseconds for the local entropy at 256^2) would stall every session's event loop
    @njit(cache=True, parallel=True, nogil=True)
    def _fh_rows_transposed(f, c, beta, out_t, arg_t, want_arg):  # pragma: no cover - compiled
        # rows of f (rows, n) -> out_t (n, rows); blocks of TILE rows so each transposed
        # write fills whole cache lines, and the next axis' pass again reads rows.
        # beta = 0: min-plus; beta > 0: soft-min (stabilised by the min-plus value)
        rows, n = f.shape
        n_blocks = (rows + TILE - 1) // TILE
        for b in prange(n_blocks):
            r0 = b * TILE
            r1 = min(rows, r0 + TILE)
            v = np.empty(n, np.int64)
            z = np.empty(n + 1, np.float64)
            ob = np.empty((TILE, n), np.float64)
            ab = np.empty((TILE, n), np.int64)
            sb = np.empty(n, np.float64)
            for r in range(r0, r1):
                _fh_row(f[r], c, ob[r - r0], ab[r - r0], v, z, want_arg)
                if beta > 0:
                    _soft_row(f[r], c, beta, ob[r - r0], sb)
                    ob[r - r0, :] = sb
            for p in range(n):
                for r in range(r0, r1):
                    out_t[p, r] = ob[r - r0, p]
                    if want_arg:
                        arg_t[p, r] = ab[r - r0, p]


TILE = 8




def kernel_coefficients(h: tuple[float, ...], ts: list[float], dtype: Any = np.float64) -> list[list[float]]:
    """Per ``t``, the per-axis coefficients ``c_k = h_k^2 / (2 t)`` of the quadratic kernel, checked.

    The scans divide by ``c`` and multiply by it, so each must be a positive, normal
    float (of ``dtype``, the values' precision) whose reciprocal is finite too; spacings
    and times that leave this range (e.g. ``spacing=1e-300``, whose square underflows
    to 0) are refused naming both.
    """
    info = np.finfo(np.float32 if str(dtype).endswith("float32") else np.float64)
    tiny, huge = float(info.tiny), 1.0 / float(info.tiny)
    out = []
    for t in ts:
        row = []
        for k, hk in enumerate(h):
            with np.errstate(all="ignore"):
                c = np.float64(hk) ** 2 / (2.0 * np.float64(t))
            if not (tiny <= c <= huge):
                axis = f"[{k}]" if len(h) > 1 else ""
                raise ValueError(f"spacing{axis} and t give spacing**2/(2 t) = {float(c):.3g}, outside "
                                 f"[{tiny:.3g}, {huge:.3g}]; rescale the grid (spacing {hk:.3g}, t {t:.3g})")
            row.append(float(c))
        out.append(row)
    return out


def min_plus_numba(f: np.ndarray, c, want_argmin: bool = False) -> tuple[np.ndarray, list]:
    """Exact min-plus transform with ``c[k] (i - j)^2`` along every axis ``k`` of ``f`` (float64, numba).

    Axis by axis, last axis first; each pass writes its output with the processed
    axis moved to the front, so after ``ndim`` passes the layout is the original one
    and no separate transposes are needed. Returns the envelope and, per pass, the
    pair ``(axis, argmin along it)`` with the argmin in the original layout.
    """
    return _passes_numba(f, c, 0.0, want_argmin)


def soft_min_numba(f: np.ndarray, c, beta: float, cancel: Any = None) -> np.ndarray:
    """Soft-min ``-(1/beta) log sum_j exp(-beta (f_j + c[k] (i - j)^2))`` along every axis (numba).

    Each output is shifted by the min-plus value at that point (the largest exponent,
    from the linear-time pass), so every term is in ``[0, 1]`` and the largest is 1:
    no overflow or underflow for any ``beta f``. O(n) per point per axis, one thread
    per block of rows. A set ``cancel`` event stops it between axes (``InterruptedError``).
    """
    return _passes_numba(f, c, float(beta), False, cancel)[0]


def _passes_numba(f: np.ndarray, c, beta: float, want_argmin: bool, cancel: Any = None) -> tuple[np.ndarray, list]:
    if numba is None:  # pragma: no cover
        raise RuntimeError("numba is not installed; use method='torch'")
    u = np.ascontiguousarray(f, dtype=np.float64)
    shape, d = u.shape, u.ndim
    args = []
    for k in range(d):
        if cancel is not None and cancel.is_set():
            raise InterruptedError("cancelled: a newer request superseded this one")
        n = u.shape[-1]
        rows = u.reshape(-1, n)
        out = np.empty((n, rows.shape[0]), np.float64)
        arg = np.empty((n, rows.shape[0]) if want_argmin else (1, 1), np.int64)
        _fh_rows_transposed(rows, float(c[d - 1 - k]), beta, out, arg, want_argmin)
        u = out.reshape((n, *u.shape[:-1]))
        if want_argmin:
            r = k + 1  # layout now rotated r times: position i holds original axis (i - r) mod d
            perm = [(a + r) % d for a in range(d)]
            args.append((d - 1 - k, np.transpose(arg.reshape(u.shape), perm)))
    assert u.shape == shape
    return u, args


def pairwise_rows(f: torch.Tensor, c: torch.Tensor, beta: float | None = None,
                  want_argmin: bool = False, cancel: Any = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Min-plus (``beta=None``) or soft-min at inverse temperature ``beta``, over all pairs.

    ``f`` is ``(rows, n)``, ``c`` is ``(rows,)``; work proceeds in row chunks of at most
    :data:`CHUNK_ELEMENTS` pairs so memory stays bounded. A set ``cancel`` event
    (``threading.Event``) stops the work between chunks with ``InterruptedError``.
    """
    rows, n = f.shape
    grid = torch.arange(n, device=f.device, dtype=f.dtype)
    d2 = (grid[:, None] - grid[None, :]) ** 2  # (p, q)
    step = max(1, (CHUNK_ELEMENTS if cancel is None else CANCELLABLE_CHUNK_ELEMENTS) // (n * n))
    validate.memory_fits("grid size", min(step, rows) * n * n * f.element_size() * 3, f.device)
    out = torch.empty_like(f)
    arg = torch.empty(f.shape, dtype=torch.int64, device=f.device) if want_argmin else None
    for start in range(0, rows, step):
        if cancel is not None and cancel.is_set():
            raise InterruptedError("cancelled: a newer request superseded this one")
        sl = slice(start, start + step)
        cs = c[sl]
        uniform = bool((cs == cs[0]).all())  # rows of one t share the kernel: build it once
        if beta is None:
            kern = cs[0] * d2 if uniform else cs[:, None, None] * d2
            best, idx = (f[sl, None, :] + kern).min(dim=-1)  # (rows, p, q) -> min over q
            out[sl] = best
            if arg is not None:
                arg[sl] = idx
        else:
            kern = (-beta * cs[0]) * d2 if uniform else (-beta * cs[:, None, None]) * d2
            # shifted by the row's minimum m, so beta (f - m) >= 0 cannot overflow for any finite f:
            # -(1/b) logsumexp(-b (f + kern)) = m - (1/b) logsumexp(-b (f - m) - b kern)
            fs = f[sl]
            m = fs.amin(dim=-1, keepdim=True)
            m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))  # a row of +inf stays +inf
            out[sl] = torch.logsumexp((-beta * (fs - m))[:, None, :] + kern, dim=-1).mul_(-1.0 / beta).add_(m)
    return out, arg


def along_axis(values: torch.Tensor, axis: int, fn) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """Apply a rows -> rows transform ``fn`` along ``axis`` of ``values`` (any leading axes)."""
    moved = values.movedim(axis, -1)
    shape = moved.shape
    results = fn(moved.reshape(-1, shape[-1]))
    if isinstance(results, tuple):
        return tuple(r.reshape(shape).movedim(-1, axis) for r in results)
    return results.reshape(shape).movedim(-1, axis)


LOG_2PI = math.log(2 * math.pi)
