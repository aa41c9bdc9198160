"""The periodic cell and its finite differences.

The transformed G-equation is solved for the periodic part ``u`` of
``G = P·x + u`` on the square cell [0, 2π)² sampled at N×N points,
``h = 2π/N``. Arrays are laid out ``(..., y, x)``: the last axis is x, the
one before it y, any leading axes are the batch.

* first differences ``D⁺u_i = (u_{i+1} − u_i)/h`` (periodic),
* central differences ``(u_{i+1} − u_{i−1})/(2h)`` and
  ``(u_{i+1} − 2u_i + u_{i−1})/h²`` for second-order terms,
* the heat semigroup ``exp(ν t Δ)`` applied exactly in Fourier space
  (``û_k ← exp(−ν|k|²t) û_k``), which is how the viscous term is integrated
  without a parabolic time-step restriction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch

X_DIM, Y_DIM = -1, -2
LENGTH = 2 * math.pi


@dataclass(frozen=True)
class Grid:
    """N×N periodic grid on [0, 2π)² (``x_j = j h``, ``y_i = i h``)."""

    n: int
    dtype: torch.dtype = torch.float32
    device: torch.device = torch.device("cpu")

    @property
    def h(self) -> float:
        return LENGTH / self.n

    @cached_property
    def coords(self) -> torch.Tensor:
        """1-D coordinates ``j h``, j = 0..N−1."""
        return torch.arange(self.n, dtype=self.dtype, device=self.device) * self.h

    @cached_property
    def xy(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mesh ``(X, Y)`` of shape (N, N), indexed ``[y, x]``."""
        y, x = torch.meshgrid(self.coords, self.coords, indexing="ij")
        return x, y

    @cached_property
    def k2(self) -> torch.Tensor:
        """|k|² on the rfft2 grid (integer wavenumbers of the 2π-periodic cell)."""
        ky = torch.fft.fftfreq(self.n, d=1.0 / self.n, dtype=self.dtype, device=self.device)
        kx = torch.fft.rfftfreq(self.n, d=1.0 / self.n, dtype=self.dtype, device=self.device)
        return ky[:, None] ** 2 + kx[None, :] ** 2


def shift(u: torch.Tensor, k: int, dim: int) -> torch.Tensor:
    """``v_i = u_{i−k}`` along ``dim`` (periodic)."""
    return torch.roll(u, shifts=k, dims=dim)


def forward_difference(u: torch.Tensor, h: float, dim: int) -> torch.Tensor:
    """``(u_{i+1} − u_i)/h`` (periodic)."""
    return (shift(u, -1, dim) - u) / h


def central_first(u: torch.Tensor, h: float, dim: int) -> torch.Tensor:
    """``(u_{i+1} − u_{i−1})/(2h)``: second-order first derivative."""
    return (shift(u, -1, dim) - shift(u, 1, dim)) / (2 * h)


def central_second(u: torch.Tensor, h: float, dim: int) -> torch.Tensor:
    """``(u_{i+1} − 2u_i + u_{i−1})/h²``."""
    return (shift(u, -1, dim) - 2 * u + shift(u, 1, dim)) / (h * h)


def central_mixed(u: torch.Tensor, h: float) -> torch.Tensor:
    """``u_xy`` by the four-point central stencil."""
    return central_first(central_first(u, h, X_DIM), h, Y_DIM)


def heat_factor(grid: Grid, nu_t: torch.Tensor) -> torch.Tensor:
    """Fourier multiplier ``exp(−ν t |k|²)``; ``nu_t`` has shape (B,) → (B, N, N//2+1)."""
    return torch.exp(-nu_t.reshape(-1, 1, 1) * grid.k2)


def apply_heat(u: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Exact heat semigroup on the periodic cell: ``irfft2(factor · rfft2(u))``."""
    n = u.shape[-1]
    return torch.fft.irfft2(torch.fft.rfft2(u) * factor, s=(n, n))
