"""The 3x3 convolutions and 2x2 max pools of a seed-batched CNN, as batched matrix products.

Activations are laid out ``(S, C, H, W, B)``: seed, channel, row, column, image, the
image axis innermost, so that every shift of a 3x3 window is a run of contiguous
memory. Each convolution (kernels ``k`` of shape ``(S, C_out, C_in, 3, 3)``, zero
padding 1) is one matrix product per seed, all seeds in one ``torch.bmm``, and writes
its output *window-major*: ``(S, C_out, 2, 2, H/2, W/2, B)``, the position inside each
2x2 pooling window first, so that the max pool compares four contiguous blocks.

* :func:`conv3x3_patches` (im2col; Chellapilla, Puri, Simard 2006), for a layer with
  few input channels: ``z[s] = k[s].reshape(C_out, 9 C_in) @ P(x)[s]`` with
  ``P(x)[s, (c, i, j), q] = x_pad[s, c, y(q) + i, x(q) + j, b(q)]``. An input without a
  seed axis is shared by all seeds: its patches are taken once and every seed's
  kernels multiply them in one product.
* :func:`conv3x3_matrix`, for a small feature map: the convolution is a linear map of
  the whole map, ``z[s] = T(k)[s] @ x[s].reshape(C_in H W, B)``, with the (Toeplitz)
  matrix ``T(k)[s, (o, q), (c, p)] = sum_t k[s, o, c, t] M[t, q, p]``, where the fixed
  0/1 tensor ``M[t, q, p]`` says that tap ``t = (i, j)`` joins input pixel ``p`` to
  output pixel ``q``. More multiplications than im2col but no patch matrix, and the
  products are large enough to run near the CPU's peak.
* :class:`MaxPool`: the maximum of each window; the gradient goes to the window's
  first maximum in row-major order, the rule of ``torch.nn.functional.max_pool2d``
  (the backward pass splits the gradient by three saved comparisons).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F


def _window_major(x: torch.Tensor) -> torch.Tensor:
    """``(..., H, W, B, 3, 3)`` patches -> ``(..., 3, 3, 2, 2, H/2, W/2, B)``."""
    *lead, h, w, b, _, _ = x.shape
    n = len(lead)
    x = x.reshape(*lead, h // 2, 2, w // 2, 2, b, 3, 3)
    return x.permute(*range(n), n + 5, n + 6, n + 1, n + 3, n, n + 2, n + 4)


def patches(x: torch.Tensor) -> torch.Tensor:
    """``P(x)``: ``(S, C, H, W, B) -> (S, 9 C, H W B)``, the 3x3 neighbourhoods with zero padding 1;
    rows ``(c, i, j)`` as in a flattened ``(C, 3, 3)`` kernel, columns window-major ``(dy, dx, y', x', b)``
    (pixel ``(2 y' + dy, 2 x' + dx)``)."""
    s, c = x.shape[:2]
    p = F.pad(x, (0, 0, 1, 1, 1, 1))
    return _window_major(p.unfold(2, 3, 1).unfold(3, 3, 1)).reshape(s, 9 * c, -1)


def conv3x3_patches(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``(S, C_in, H, W, B)`` (or ``(C_in, H, W, B)``, shared by all seeds) convolved with ``k`` ``(S, C_out, C_in, 3, 3)``:
    ``(S, C_out, 2, 2, H/2, W/2, B)`` window-major, by im2col."""
    s, o = k.shape[:2]
    h, w, b = x.shape[-3:]
    if x.ndim == 4:
        z = k.reshape(s * o, -1) @ patches(x.unsqueeze(0))[0]
    else:
        z = torch.bmm(k.reshape(s, o, -1), patches(x))
    return z.reshape(s, o, 2, 2, h // 2, w // 2, b)


@functools.lru_cache(maxsize=8)
def taps(h: int, w: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``M[t, q, p]`` (shape ``(9, H W, H W)``): 1 where tap ``t = (i, j)`` of a padded 3x3 convolution joins
    input pixel ``p = (y, x)`` (row-major) to output pixel ``q`` (window-major ``(dy, dx, y', x')``)."""
    m = torch.zeros(3, 3, 2, 2, h // 2, w // 2, h, w, dtype=dtype)
    for i in range(3):
        for j in range(3):
            for dy in range(2):
                for dx in range(2):
                    for yq in range(h // 2):
                        for xq in range(w // 2):
                            y, x = 2 * yq + dy + i - 1, 2 * xq + dx + j - 1
                            if 0 <= y < h and 0 <= x < w:
                                m[i, j, dy, dx, yq, xq, y, x] = 1
    return m.reshape(9, h * w, h * w).to(device)


def conv3x3_matrix(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``(S, C_in, H, W, B)`` convolved with ``k`` ``(S, C_out, C_in, 3, 3)``: ``(S, C_out, 2, 2, H/2, W/2, B)``
    window-major, as the product with the convolution's matrix ``T(k)``."""
    s, o, c = k.shape[:3]
    h, w, b = x.shape[-3:]
    t = torch.einsum("soct,tqp->soqcp", k.reshape(s, o, c, 9), taps(h, w, k.dtype, k.device))
    z = torch.bmm(t.reshape(s, o * h * w, c * h * w), x.reshape(s, c * h * w, b))
    return z.reshape(s, o, 2, 2, h // 2, w // 2, b)


class MaxPool(torch.autograd.Function):
    """``(S, C, 2, 2, H', W', B)`` window-major -> ``(S, C, H', W', B)``: the maximum over each 2x2 window; the
    gradient goes to the first maximum in row-major order (as ``max_pool2d``)."""

    @staticmethod
    def forward(ctx, z: torch.Tensor) -> torch.Tensor:
        tl, tr, bl, br = z[:, :, 0, 0], z[:, :, 0, 1], z[:, :, 1, 0], z[:, :, 1, 1]
        top, bottom = torch.maximum(tl, tr), torch.maximum(bl, br)
        if ctx.needs_input_grad[0]:  # which entry wins: left over right (ties: left), top over bottom (ties: top)
            ctx.save_for_backward(tl >= tr, bl >= br, top >= bottom)
        return torch.maximum(top, bottom)

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> torch.Tensor:
        left_top, left_bottom, upper = ctx.saved_tensors
        s, c, *rest = g.shape
        out = g.new_empty(s, c, 2, 2, *rest)
        g_top = g * upper
        g_bottom = g - g_top
        torch.mul(g_top, left_top, out=out[:, :, 0, 0])
        torch.sub(g_top, out[:, :, 0, 0], out=out[:, :, 0, 1])
        torch.mul(g_bottom, left_bottom, out=out[:, :, 1, 0])
        torch.sub(g_bottom, out[:, :, 1, 0], out=out[:, :, 1, 1])
        return out


def pool(z: torch.Tensor) -> torch.Tensor:
    """:class:`MaxPool` of a window-major ``(S, C, 2, 2, H', W', B)``."""
    return MaxPool.apply(z)
