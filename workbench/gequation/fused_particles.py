"""Fused CPU integrator of the particle SDE ``dX = V(X, t) dt + √(2D₀) dW`` (float32, numba).

The torch path (:func:`.diffusivity.particle_steps`) makes one pass over memory per
operation and draws its normals with torch's generator, which alone costs more than the
flow. Here a block of :data:`BLOCK` particles stays in the L1 cache for a whole chunk of
steps, and every inner loop is a straight run of arithmetic that LLVM vectorises (no
calls, no branches, no division checks):

* **Normals**: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
  easy as 1, 2, 3", SC 2011) with counter ``(particle, ⌊step/2⌋, 0, 0)`` and a key from
  the seed; its four 32-bit words give the two normals of each of two steps by
  Box–Muller, ``(ξ_x, ξ_y) = √(−2 log u) (cos θ, sin θ)``. ``log u`` is the float's
  exponent times log 2 plus ``2 atanh((m − 1)/(m + 1))`` for its mantissa m ∈ [1, 2)
  (five terms: error below 2e-7); θ is an octant (three bits: a swap and two signs)
  plus φ ∈ [0, π/4), with Taylor polynomials of sin and cos (error below 4e-9). The
  numbers depend on (seed, particle, step) only: a run does not depend on the number of
  threads or on chunking, and every point of a batch sees the same numbers (common random
  numbers, as in the torch path). u ≥ 2^-25, so |ξ| ≤ 5.9: a tail of probability 4e-9 is cut.
* **The flow** (:mod:`.particle_flows`, sums of stream-function waves): sin by reduction
  modulo 2π (Cody–Waite, two constants), folding to [−π/2, π/2] and the Taylor
  polynomial of degree 11 (error below 4e-8 there); the splitting composes the waves'
  exact shears symmetrically (as :func:`.sde.flow_map`), Euler–Maruyama sums the waves'
  velocities (as :func:`.sde.euler_map`).

Time-dependent coefficients come in per-step tables (``coef`` (steps, P, W), ``phase``
(steps, P, R, W)), made in torch by :func:`wave_tables` from the flow's own
:meth:`~.particle_flows.ParticleFlow.waves`, so both paths integrate the same flow.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit, prange

from .particle_flows import ParticleFlow

BLOCK = 256  # particles advanced together (their positions and buffers stay in L1 cache)

_f = np.float32
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)  # Philox4x32 multipliers
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)  # Philox4x32 key increments (Weyl)
_LO, _S32 = np.uint64(0xFFFFFFFF), np.uint64(32)
_TWO_PI_HI, _TWO_PI_LO = _f(6.28125), _f(2 * math.pi - 6.28125)
_INV_2PI, _PI, _HALF_PI, _QUARTER_PI = _f(1 / (2 * math.pi)), _f(math.pi), _f(math.pi / 2), _f(math.pi / 4)
_S3, _S5, _S7, _S9, _S11 = _f(-1 / 6), _f(1 / 120), _f(-1 / 5040), _f(1 / 362880), _f(-1 / 39916800)
_C2, _C4, _C6, _C8 = _f(-1 / 2), _f(1 / 24), _f(-1 / 720), _f(1 / 40320)
_L3, _L5, _L7, _L9 = _f(1 / 3), _f(1 / 5), _f(1 / 7), _f(1 / 9)
_LN2, _ONE, _TWO, _HALF = _f(math.log(2)), _f(1), _f(2), _f(0.5)
_U24, _U25, _U23 = _f(2.0 ** -24), _f(2.0 ** -25), _f(2.0 ** -23)
_MANT, _EXP1 = np.uint32(0x7FFFFF), np.uint32(0x3F800000)
_FLAGS = dict(fastmath=True, boundscheck=False, error_model="numpy", cache=True)


@njit(inline="always", **_FLAGS)
def fsin(z):
    """sin z in float32 without a call: reduction modulo 2π, folding, Taylor to degree 11."""
    q = np.floor(z * _INV_2PI + _HALF)
    r = (z - q * _TWO_PI_HI) - q * _TWO_PI_LO
    r = _PI - r if r > _HALF_PI else r
    r = -_PI - r if r < -_HALF_PI else r
    r2 = r * r
    return r + r * r2 * (_S3 + r2 * (_S5 + r2 * (_S7 + r2 * (_S9 + r2 * _S11))))


@njit(**_FLAGS)
def _philox(words, first: int, pair: int, k0, k1) -> None:
    """Philox4x32-10 of counters ``(first + i, pair, 0, 0)`` into ``words`` (4, m)."""
    for i in range(words.shape[1]):
        c0, c1, c2, c3 = np.uint32(first + i), np.uint32(pair), np.uint32(0), np.uint32(0)
        a, b = k0, k1
        for _ in range(10):
            p0, p1 = _M0 * np.uint64(c0), _M1 * np.uint64(c2)
            c0, c1, c2, c3 = (np.uint32(p1 >> _S32) ^ c1 ^ a, np.uint32(p1 & _LO),
                              np.uint32(p0 >> _S32) ^ c3 ^ b, np.uint32(p0 & _LO))
            a, b = a + _W0, b + _W1
        words[0, i], words[1, i], words[2, i], words[3, i] = c0, c1, c2, c3


@njit(**_FLAGS)
def _box_muller(words, half: int, scale, bits, ubits, fbuf, nx, ny) -> None:
    """Normals ``scale·ξ`` from ``words[2 half]`` (radius) and ``words[2 half + 1]`` (angle) into nx, ny.

    ``bits`` (2, m) uint32 and ``fbuf`` (2, m) float32 view the same memory; ``ubits`` is the uint32 view of
    nx (scratch): the float's exponent and mantissa are read through the views."""
    m = words.shape[1]
    for i in range(m):  # u in (0, 1): 24 random bits, centred
        nx[i] = _f(words[2 * half, i] >> np.uint32(8)) * _U24 + _U25
    for i in range(m):  # u = 2^e m, m in [1, 2)
        b = ubits[i]
        bits[0, i] = (b & _MANT) | _EXP1
        fbuf[1, i] = _f(np.int32(b >> np.uint32(23)) - 127)
    for i in range(m):
        mant = fbuf[0, i]
        t = (mant - _ONE) / (mant + _ONE)
        t2 = t * t
        log_u = fbuf[1, i] * _LN2 + _TWO * t * (_ONE + t2 * (_L3 + t2 * (_L5 + t2 * (_L7 + t2 * _L9))))
        ny[i] = scale * np.sqrt(-_TWO * log_u)
    for i in range(m):
        r = words[2 * half + 1, i]
        phi = _f(r >> np.uint32(9)) * _U23 * _QUARTER_PI
        p2 = phi * phi
        s = phi + phi * p2 * (_S3 + p2 * (_S5 + p2 * _S7))
        c = _ONE + p2 * (_C2 + p2 * (_C4 + p2 * (_C6 + p2 * _C8)))
        swap = (r & np.uint32(1)) != 0
        cs = s if swap else c
        sn = c if swap else s
        cs = -cs if (r & np.uint32(2)) != 0 else cs
        sn = -sn if (r & np.uint32(4)) != 0 else sn
        rad = ny[i]
        nx[i], ny[i] = rad * cs, rad * sn


@njit(**_FLAGS)
def _block(x, y, first: int, k0: int, coef, phase, kx, ky, order, frac, splitting: bool, h, kick, key0, key1,
           words, bits, fbuf, nx, ny, vx, vy) -> None:
    """Advance one block of one (point, batch) through ``coef.shape[0]`` steps from global step ``k0``."""
    m = x.shape[0]
    ubits = nx.view(np.uint32)
    for k in range(coef.shape[0]):
        step = k0 + k
        if k == 0 or step % 2 == 0:
            _philox(words, first, step // 2, key0, key1)
        _box_muller(words, step % 2, kick, bits, ubits, fbuf, nx, ny)
        if splitting:
            for s in range(order.shape[0]):
                j = order[s]
                c, ph, ax, ay = coef[k, j] * (h * frac[s]), phase[k, j], kx[j], ky[j]
                for i in range(m):
                    d = c * fsin(ax * x[i] + ay * y[i] + ph)
                    x[i] += ay * d
                    y[i] -= ax * d
            for i in range(m):
                x[i] += nx[i]
                y[i] += ny[i]
        else:
            for i in range(m):
                vx[i] = _f(0)
                vy[i] = _f(0)
            for j in range(kx.shape[0]):
                c, ph, ax, ay = coef[k, j] * h, phase[k, j], kx[j], ky[j]
                for i in range(m):
                    d = c * fsin(ax * x[i] + ay * y[i] + ph)
                    vx[i] += ay * d
                    vy[i] -= ax * d
            for i in range(m):
                x[i] += vx[i] + nx[i]
                y[i] += vy[i] + ny[i]


@njit(parallel=True, nogil=True, **_FLAGS)  # the GIL is released: a served session keeps its event loop
def _advance(x, y, k0: int, coef, phase, kx, ky, order, frac, splitting: bool, h, kick, key0, key1) -> None:
    P, R, N = x.shape
    blocks = (N + BLOCK - 1) // BLOCK
    for job in prange(P * R * blocks):
        p, rest = job // (R * blocks), job % (R * blocks)
        r, b = rest // blocks, rest % blocks
        s, e = b * BLOCK, min(N, (b + 1) * BLOCK)
        m = e - s
        words = np.empty((4, m), np.uint32)
        bits = np.empty((2, m), np.uint32)
        nx, ny, vx, vy = np.empty(m, np.float32), np.empty(m, np.float32), np.empty(m, np.float32), \
            np.empty(m, np.float32)
        _block(x[p, r, s:e], y[p, r, s:e], r * N + s, k0, coef[:, p], phase[:, p, r], kx, ky, order, frac,
               splitting, h, kick[p], key0, key1, words, bits, bits.view(np.float32), nx, ny, vx, vy)


def philox_key(seed: int) -> tuple[np.uint32, np.uint32]:
    """The Philox key of a seed (its low and high 32 bits)."""
    return np.uint32(seed & 0xFFFFFFFF), np.uint32((seed >> 32) & 0xFFFFFFFF)


@njit(**_FLAGS)
def _normals(first: int, step: int, key0, key1, out_x, out_y) -> None:
    m = out_x.shape[0]
    words = np.empty((4, m), np.uint32)
    bits = np.empty((2, m), np.uint32)
    _philox(words, first, step // 2, key0, key1)
    _box_muller(words, step % 2, _ONE, bits, out_x.view(np.uint32), bits.view(np.float32), out_x, out_y)


def normals(particles: int, step: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ξ_x, ξ_y)`` of particles ``0..particles−1`` at ``step``: the normals the kernel adds (×√(2D₀h))."""
    out_x, out_y = np.empty(particles, np.float32), np.empty(particles, np.float32)
    _normals(0, step, *philox_key(seed), out_x, out_y)
    return out_x, out_y


def step_times(integrator: str, first: int, count: int, h: float) -> torch.Tensor:
    """The times at which steps ``first .. first + count − 1`` take the flow's coefficients: the step's start
    for Euler–Maruyama (:func:`.sde.euler_map`), its midpoint for the splitting (:func:`.sde.flow_map`)."""
    shift = h / 2 if integrator == "splitting" else 0.0
    return (first + torch.arange(count, dtype=torch.float64)) * h + shift


def wave_tables(flow: ParticleFlow, times: torch.Tensor, A: torch.Tensor, B: torch.Tensor, omega: torch.Tensor,
                theta: torch.Tensor | None, batches: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``coef`` (K, P, W), ``phase`` (K, P, R, W), ``kx``, ``ky`` (W,) of ``flow`` at ``times`` (K,).

    ``theta``: the stochastic flow's phase at each time, (K, P, R, 1), or None."""
    K, P = len(times), A.shape[0]
    t = times.reshape(K, 1, 1, 1).to(A.dtype)
    waves = flow.waves(t, A, B, omega, theta)
    coef = np.stack([np.broadcast_to(_np(w.c), (K, P, 1, 1)).reshape(K, P) for w in waves], -1)
    phase = np.stack([np.broadcast_to(_np(w.phi), (K, P, batches, 1)).reshape(K, P, batches) for w in waves], -1)
    kx = np.array([w.kx for w in waves], np.float32)
    ky = np.array([w.ky for w in waves], np.float32)
    return (np.ascontiguousarray(coef, np.float32), np.ascontiguousarray(phase, np.float32), kx, ky)


def _np(v) -> np.ndarray:
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v, np.float32)


def composition(waves: int) -> tuple[np.ndarray, np.ndarray]:
    """The splitting's sub-steps: wave indices and fractions of h (Strang: outer halves, the last wave whole)."""
    if waves == 1:
        return np.zeros(1, np.int64), np.ones(1, np.float32)
    outer = list(range(waves - 1))
    order = outer + [waves - 1] + outer[::-1]
    frac = [0.5] * len(outer) + [1.0] + [0.5] * len(outer)
    return np.array(order, np.int64), np.array(frac, np.float32)


def advance(x: np.ndarray, y: np.ndarray, k0: int, coef: np.ndarray, phase: np.ndarray, kx: np.ndarray,
            ky: np.ndarray, integrator: str, h: float, kick: np.ndarray, seed: int) -> None:
    """Advance positions ``x``, ``y`` (P, R, N) float32, in place, by ``coef.shape[0]`` steps from step ``k0``.

    Particle ``(r, n)`` uses the normals of counter ``r·N + n`` (the same at every point p)."""
    order, frac = composition(len(kx))
    _advance(x, y, int(k0), coef, phase, kx, ky, order, frac, integrator == "splitting", np.float32(h),
             np.ascontiguousarray(kick, np.float32), *philox_key(seed))
