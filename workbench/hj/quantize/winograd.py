"""Winograd's minimal filtering F(2x2, 3x3) for a 3x3 convolution, forward and backward (numba, float32).

Lavin and Gray, "Fast algorithms for convolutional neural networks", CVPR 2016. A 2x2 output tile of
the correlation ``Y[o] = sum_c k[o, c] * d[c]`` (``d[c]`` the tile's 4x4 input patch) is::

    Y[o] = A^T M[o] A,   M[o] = sum_c U[o, c] . V[c],   U[o, c] = G k[o, c] G^T,   V[c] = B^T d[c] B

(``.`` the entrywise product over the 16 transformed positions xi), with::

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

so a tile costs 16 multiplications per channel pair instead of 36. The maps are linear, so the
backward pass applies their transposes: ``dM[o] = A dY[o] A^T``; ``dU[o, c] = sum_{tiles, images}
dM[o] . V[c]`` and ``dk[o, c] = G^T dU[o, c] G``; ``dV[c] = sum_o U[o, c] . dM[o]`` and ``dd[c] =
B dV[c] B^T``, added over the overlapping patches. The entries of B, G and A are 0, +-1 and +-1/2, so
the rounding stays at the level of the direct sum's (Lavin and Gray, Sec. 5).

Layouts (the image the innermost, vectorised axis of length ``BLOCK``): a zero-padded input ``h (C, 6, 6,
BLOCK)`` gives a 4x4 output, four tiles ``t = 2 ty + tx``; transformed arrays are ``(16, channels, 4 BLOCK)``
(``xi = 4 p + q`` first, then the channel, then tile and image), so one position's slab stays in the L1
cache while channels are summed. Channel counts are multiples of 8.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_f = np.float32
_HALF, _ZERO = _f(0.5), _f(0)
FLAGS = dict(fastmath=True, boundscheck=False, error_model="numpy", cache=True, nogil=True)
PAD = 16  # floats after each transformed row: rows of one position xi then do not share the L1 cache's sets


@njit(inline="always", **FLAGS)
def transformed(channels, block):
    """A buffer ``(16, channels, 4 block + PAD)`` for transformed tiles, entry ``[xi, c, t block + b]``."""
    return np.empty((16, channels, 4 * block + PAD), _f)


_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], _f)


@njit(inline="always", **FLAGS)
def kernels(k, u, ut):
    """``u[xi, o, c] = ut[xi, c, o] = (G k[o, c] G^T)[p, q]`` for kernels ``k (O, C, 3, 3)``."""
    for o in range(k.shape[0]):
        for c in range(k.shape[1]):
            for p in range(4):
                for q in range(4):
                    acc = _ZERO
                    for i in range(3):
                        for j in range(3):
                            acc += _G[p, i] * k[o, c, i, j] * _G[q, j]
                    u[4 * p + q, o, c] = acc
                    ut[4 * p + q, c, o] = acc


@njit(inline="always", **FLAGS)
def kernel_gradient(du, gk):
    """``gk[o, c] += G^T dU[o, c] G`` for ``du[xi, o, c]`` (the transpose of :func:`kernels`)."""
    for o in range(gk.shape[0]):
        for c in range(gk.shape[1]):
            for i in range(3):
                for j in range(3):
                    acc = _ZERO
                    for p in range(4):
                        for q in range(4):
                            acc += _G[p, i] * du[4 * p + q, o, c] * _G[q, j]
                    gk[o, c, i, j] += acc


@njit(inline="always", **FLAGS)
def inputs(h, v):
    """``v[xi, c, t, b] = (B^T d B)[p, q]`` for the patches ``d = h[c, 2ty:2ty+4, 2tx:2tx+4, b]``.

    Separably: column ``q`` of ``d B`` is ``d[:, ja] + sg d[:, jb]`` (``B^T``'s row q), formed for all six
    rows and both column tiles, then ``B^T`` down the rows of each row tile, in registers."""
    nb = h.shape[3]
    for c in range(h.shape[0]):
        for tx in range(2):
            for q in range(4):
                ja = (0, 1, 2, 1)[q] + 2 * tx
                jb = (2, 2, 1, 3)[q] + 2 * tx
                sg = (_f(-1), _f(1), _f(-1), _f(-1))[q]
                for b in range(nb):
                    w0 = h[c, 0, ja, b] + sg * h[c, 0, jb, b]
                    w1 = h[c, 1, ja, b] + sg * h[c, 1, jb, b]
                    w2 = h[c, 2, ja, b] + sg * h[c, 2, jb, b]
                    w3 = h[c, 3, ja, b] + sg * h[c, 3, jb, b]
                    w4 = h[c, 4, ja, b] + sg * h[c, 4, jb, b]
                    w5 = h[c, 5, ja, b] + sg * h[c, 5, jb, b]
                    v[q, c, tx * nb + b] = w0 - w2  # row tile 0 (t = tx)
                    v[4 + q, c, tx * nb + b] = w1 + w2
                    v[8 + q, c, tx * nb + b] = w2 - w1
                    v[12 + q, c, tx * nb + b] = w1 - w3
                    v[q, c, (2 + tx) * nb + b] = w2 - w4  # row tile 1 (t = 2 + tx)
                    v[4 + q, c, (2 + tx) * nb + b] = w3 + w4
                    v[8 + q, c, (2 + tx) * nb + b] = w4 - w3
                    v[12 + q, c, (2 + tx) * nb + b] = w3 - w5


@njit(inline="always", **FLAGS)
def input_gradient(dv, c, w, dh):
    """``dh[y, x, b]``, the 4x4 interior of channel ``c``'s padded input, from ``dv[xi, c, (t, b)]``: each
    patch's ``B dV B^T``, added where the patches overlap; ``w (4, 2, 4, BLOCK)`` is scratch.

    Separably: along the columns, two patches' ``B e`` (``e`` a row of ``dV``) overlap-add to the interior
    ``(e1 - e2 + e3, e1 + e2 - e0 + f0, f1 - f2 + f3 - e3, f1 + f2 - f0)`` (``e``, ``f`` the left and right
    tiles); then the same down the rows."""
    nb = dh.shape[2]
    for p in range(4):
        for ty in range(2):
            for b in range(nb):
                e0, e1 = dv[4 * p, c, 2 * ty * nb + b], dv[4 * p + 1, c, 2 * ty * nb + b]
                e2, e3 = dv[4 * p + 2, c, 2 * ty * nb + b], dv[4 * p + 3, c, 2 * ty * nb + b]
                f0, f1 = dv[4 * p, c, (2 * ty + 1) * nb + b], dv[4 * p + 1, c, (2 * ty + 1) * nb + b]
                f2, f3 = dv[4 * p + 2, c, (2 * ty + 1) * nb + b], dv[4 * p + 3, c, (2 * ty + 1) * nb + b]
                w[p, ty, 0, b] = e1 - e2 + e3
                w[p, ty, 1, b] = e1 + e2 - e0 + f0
                w[p, ty, 2, b] = f1 - f2 + f3 - e3
                w[p, ty, 3, b] = f1 + f2 - f0
    for x in range(4):
        for b in range(nb):
            e0, e1, e2, e3 = w[0, 0, x, b], w[1, 0, x, b], w[2, 0, x, b], w[3, 0, x, b]
            f0, f1, f2, f3 = w[0, 1, x, b], w[1, 1, x, b], w[2, 1, x, b], w[3, 1, x, b]
            dh[0, x, b] = e1 - e2 + e3
            dh[1, x, b] = e1 + e2 - e0 + f0
            dh[2, x, b] = f1 - f2 + f3 - e3
            dh[3, x, b] = f1 + f2 - f0


@njit(inline="always", **FLAGS)
def outputs(m, o, z):
    """``z[2ty + i, 2tx + j, b] = (A^T M A)[i, j]`` for output channel ``o`` of ``m[xi, o, (t, b)]``, in registers."""
    nb = z.shape[2]
    for t in range(4):
        y0, x0 = 2 * (t // 2), 2 * (t % 2)
        for b in range(nb):
            r00 = m[0, o, t * nb + b] + m[1, o, t * nb + b] + m[2, o, t * nb + b]  # M A, row p: (m0 + m1 + m2, m1 - m2 - m3)
            r01 = m[1, o, t * nb + b] - m[2, o, t * nb + b] - m[3, o, t * nb + b]
            r10 = m[4, o, t * nb + b] + m[5, o, t * nb + b] + m[6, o, t * nb + b]
            r11 = m[5, o, t * nb + b] - m[6, o, t * nb + b] - m[7, o, t * nb + b]
            r20 = m[8, o, t * nb + b] + m[9, o, t * nb + b] + m[10, o, t * nb + b]
            r21 = m[9, o, t * nb + b] - m[10, o, t * nb + b] - m[11, o, t * nb + b]
            r30 = m[12, o, t * nb + b] + m[13, o, t * nb + b] + m[14, o, t * nb + b]
            r31 = m[13, o, t * nb + b] - m[14, o, t * nb + b] - m[15, o, t * nb + b]
            z[y0, x0, b] = r00 + r10 + r20  # A^T (.)
            z[y0, x0 + 1, b] = r01 + r11 + r21
            z[y0 + 1, x0, b] = r10 - r20 - r30
            z[y0 + 1, x0 + 1, b] = r11 - r21 - r31


@njit(inline="always", **FLAGS)
def output_gradient(dz, o, dm):
    """``dm[xi, o, (t, b)] = (A dY A^T)[p, q]`` for the tiles ``dY = dz[2ty:2ty+2, 2tx:2tx+2, b]`` (the transpose
    of :func:`outputs`: ``A`` maps ``(g0, g1)`` to ``(g0, g0 + g1, g0 - g1, -g1)``)."""
    nb = dz.shape[2]
    for t in range(4):
        y0, x0 = 2 * (t // 2), 2 * (t % 2)
        for p in range(4):  # row p of A dY: (g0j, g0j + g1j, g0j - g1j, -g1j)
            sa = _f(1) if p < 3 else _ZERO
            sb = (_ZERO, _f(1), _f(-1), _f(-1))[p]
            for b in range(nb):
                g00, g01, g10, g11 = dz[y0, x0, b], dz[y0, x0 + 1, b], dz[y0 + 1, x0, b], dz[y0 + 1, x0 + 1, b]
                r0 = sa * g00 + sb * g10
                r1 = sa * g01 + sb * g11
                dm[4 * p, o, t * nb + b] = r0
                dm[4 * p + 1, o, t * nb + b] = r0 + r1
                dm[4 * p + 2, o, t * nb + b] = r0 - r1
                dm[4 * p + 3, o, t * nb + b] = -r1


@njit(inline="always", **FLAGS)
def products(a, x, out):
    """``out[xi, i, n] = sum_j a[xi, i, j] x[xi, j, n]`` over the entries (not the pad) of the :func:`transformed`
    buffers ``x`` and ``out``: the transformed channel sums (``j`` in blocks of 8, each block's eight terms
    accumulated in registers)."""
    n_used = x.shape[2] - PAD
    for xi in range(a.shape[0]):
        for i in range(a.shape[1]):
            for n in range(n_used):
                acc = _ZERO
                for j in range(8):
                    acc += a[xi, i, j] * x[xi, j, n]
                out[xi, i, n] = acc
            for j0 in range(8, a.shape[2], 8):
                for n in range(n_used):
                    acc = out[xi, i, n]
                    for j in range(8):
                        acc += a[xi, i, j0 + j] * x[xi, j0 + j, n]
                    out[xi, i, n] = acc


@njit(inline="always", **FLAGS)
def correlations(dm, v, du):
    """``du[xi, o, c] = sum_n dm[xi, o, n] v[xi, c, n]`` (the kernels' gradient before :func:`kernel_gradient`;
    eight channels ``c`` per sweep over ``n``)."""
    n_used = v.shape[2] - PAD
    for xi in range(dm.shape[0]):
        for o in range(dm.shape[1]):
            for c0 in range(0, v.shape[1], 8):
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = _ZERO
                for n in range(n_used):
                    d = dm[xi, o, n]
                    a0 += d * v[xi, c0, n]
                    a1 += d * v[xi, c0 + 1, n]
                    a2 += d * v[xi, c0 + 2, n]
                    a3 += d * v[xi, c0 + 3, n]
                    a4 += d * v[xi, c0 + 4, n]
                    a5 += d * v[xi, c0 + 5, n]
                    a6 += d * v[xi, c0 + 6, n]
                    a7 += d * v[xi, c0 + 7, n]
                du[xi, o, c0], du[xi, o, c0 + 1], du[xi, o, c0 + 2], du[xi, o, c0 + 3] = a0, a1, a2, a3
                du[xi, o, c0 + 4], du[xi, o, c0 + 5], du[xi, o, c0 + 6], du[xi, o, c0 + 7] = a4, a5, a6, a7
