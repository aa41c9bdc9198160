"""FWin: window attention followed by FNet-style Fourier mixing (Tran & Xin, 2023).

FWin replaces full attention by attention inside non-overlapping windows of
``w`` tokens (the block-window map ``W``, block diagonal) and recovers global
interaction with a parameter-free Fourier mix over the sequence and hidden
dimensions (as in FNet):

    FWin(Q, K, V) = Re( F_n (W V) F_d ),    F_m[a, b] = exp(-2 pi i a b / m) / sqrt(m).

The public FWin code applies LayerNorm after the mix; LayerNorm is a per-token
normalisation that removes any overall scale, so the orthonormal DFT used here
changes nothing after it. It is left out so that FWin stays linear in V and has
an exact effective map: with C_m = cos(2 pi a b / m), S_m = sin(2 pi a b / m),

    FWin(Q, K, V) = (C_n W / sqrt(n)) V (C_d / sqrt(d)) - (S_n W / sqrt(n)) V (S_d / sqrt(d)),

a sum of two terms "token map @ V @ feature map". The token maps C_n W and
-S_n W are the real and imaginary parts of the complex sequence operator
F_n W; the heatmap shown for FWin is its modulus |F_n W|. Rows of FWin's
output (and of its map) index sequence frequencies, not token positions.

Block-diagonal invertibility (BDI). FWin's equivalence to full attention holds
when each w x w diagonal block of the full softmax map A is invertible: then
W (A's diagonal blocks, renormalised per row) is invertible and the global
operator M = A W^{-1} maps window attention to full attention exactly,
A V = M (W V), which the Fourier mixing layers then approximate. Numerically a
block counts as invertible when sigma_min > rtol * sigma_max (condition
number below 1/rtol), computed in float64.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import xarray as xr

from .. import results, validate


def fourier_mix(x: torch.Tensor) -> torch.Tensor:
    """Re(FFT_seq(FFT_hidden(x))) with orthonormal DFTs; ``x``: (..., n, d) real.

    Half the transform: Z = FFT_seq(RFFT_hidden(x)) holds the hidden frequencies 0..d//2; for a
    real x the others follow from Hermitian symmetry, Z[k, d - l] = conj Z[-k mod n, l], so
    Re Z[k, d - l] = Re Z[-k mod n, l]."""
    if x.is_complex():
        return torch.fft.fft(torch.fft.fft(x, dim=-1, norm="ortho"), dim=-2, norm="ortho").real
    d = x.shape[-1]
    low = torch.fft.fft(torch.fft.rfft(x, dim=-1, norm="ortho"), dim=-2, norm="ortho").real
    mirrored = torch.roll(torch.flip(low, dims=(-2,)), 1, dims=-2)  # row k -> row -k mod n
    high = torch.flip(mirrored[..., 1:d - d // 2], dims=(-1,))  # hidden frequencies d//2+1 .. d-1
    return torch.cat([low, high], dim=-1)


def dft_parts(m: int, *, device=None, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """``(C_m, S_m) / sqrt(m)``: cos and sin parts of the orthonormal DFT, F_m = (C_m - i S_m) / sqrt(m)."""
    a = torch.arange(m, device=device, dtype=torch.int64)
    phase = (a[:, None] * a[None, :]) % m  # exact integer phase keeps large m accurate
    angle = phase.to(torch.float64) * (2 * math.pi / m)
    return ((torch.cos(angle) / math.sqrt(m)).to(dtype), (torch.sin(angle) / math.sqrt(m)).to(dtype))


def fwin_terms(window_map: torch.Tensor, d: int) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """FWin's exact linear map V -> output as ((C_n W, C_d), (-S_n W, S_d)) (normalised)."""
    n = window_map.shape[-1]
    cn, sn = dft_parts(n, device=window_map.device, dtype=window_map.dtype)
    cd, sd = dft_parts(d, device=window_map.device, dtype=window_map.dtype)
    return ((cn @ window_map, cd), (-(sn @ window_map), sd))


def _block_slices(n: int, window: int) -> list[slice]:
    return [slice(s, min(s + window, n)) for s in range(0, n, window)]


def block_condition_numbers(full_map: torch.Tensor, window: int) -> torch.Tensor:
    """Condition numbers (float64) of the diagonal ``window`` blocks of ``full_map`` (..., n, n) -> (..., blocks)."""
    n = full_map.shape[-1]
    out = []
    for sl in _block_slices(n, window):
        sv = torch.linalg.svdvals(full_map[..., sl, sl].to(torch.float64))
        out.append(sv[..., 0] / sv[..., -1])
    return torch.stack(out, dim=-1)


def block_diagonal_invertibility(attention: torch.Tensor | xr.DataArray, window: int,
                                 rtol: float = 1e-6) -> xr.Dataset:
    """Check FWin's BDI condition on full softmax maps.

    ``attention``: a tensor (..., n, n), or a DataArray from
    :func:`workbench.attention.model_attention` (padding is excluded per text).
    Returns a Dataset with the condition number of every diagonal block, whether
    each block and each map (all its blocks) is invertible, and the fraction of
    maps (heads/inputs) that satisfy BDI in ``attrs['fraction']``.
    """
    rtol = validate.number("rtol", rtol, lo=0, hi=1, lo_open=True, hi_open=True)
    if isinstance(attention, xr.DataArray):
        return _bdi_dataarray(attention, window, rtol)
    if not isinstance(attention, torch.Tensor) or attention.ndim < 2 or attention.shape[-1] != attention.shape[-2]:
        raise TypeError("attention must be a square map tensor (..., n, n) or a DataArray (..., query, key)")
    n = attention.shape[-1]
    window = validate.integer("window", window, lo=1, hi=n)
    validate.finite_array("attention", attention)
    cond = block_condition_numbers(attention, window)
    lead = [f"dim_{i}" for i in range(attention.ndim - 2)]
    return _bdi_dataset(results.to_numpy(cond), lead, {}, window, rtol, device=attention.device)


def _bdi_dataarray(da: xr.DataArray, window: int, rtol: float) -> xr.Dataset:
    if "query" not in da.dims or "key" not in da.dims:
        raise ValueError("attention must have dims 'query' and 'key'")
    texts = [da] if "text" not in da.dims else [da.isel(text=i) for i in range(da.sizes["text"])]
    lengths = [int(t["n_tokens"]) if "n_tokens" in t.coords else t.sizes["key"] for t in texts]
    window = validate.integer("window", window, lo=1, hi=min(lengths))
    conds = []
    nb = max(-(-m // window) for m in lengths)
    for t, m in zip(texts, lengths):
        vals = torch.as_tensor(t.transpose(..., "query", "key").values[..., :m, :m])
        c = results.to_numpy(block_condition_numbers(vals, window))
        pad = np.full(c.shape[:-1] + (nb - c.shape[-1],), np.nan)  # shorter texts have fewer blocks
        conds.append(np.concatenate([c, pad], axis=-1))
    lead = [d for d in texts[0].transpose(..., "query", "key").dims[:-2]]
    cond = np.stack(conds) if "text" in da.dims else conds[0]
    dims = (["text"] if "text" in da.dims else []) + lead
    coords = {d: da[d].values for d in dims if d in da.coords}
    return _bdi_dataset(cond, dims, coords, window, rtol, device="cpu")


def _bdi_dataset(cond: np.ndarray, dims: list[str], coords: dict, window: int, rtol: float,
                 device) -> xr.Dataset:
    block_ok = cond < 1.0 / rtol
    valid = ~np.isnan(cond)
    satisfied = np.where(valid, block_ok, True).all(axis=-1)
    fraction = float(satisfied.mean()) if satisfied.size else float(satisfied)
    ds = results.dataset(
        {"condition": ((*dims, "block"), cond, {"long_name": "condition number of diagonal block", "units": "1"}),
         "block_invertible": ((*dims, "block"), block_ok & valid,
                              {"long_name": "block invertible (cond < 1/rtol)", "units": "1"}),
         "satisfied": (tuple(dims), np.asarray(satisfied),
                       {"long_name": "all diagonal blocks invertible (BDI)", "units": "1"})},
        coords={**coords, "block": np.arange(cond.shape[-1])},
        params={"window": window, "rtol": rtol}, kind="attention.block_diagonal_invertibility",
        device=device)
    ds.attrs["fraction"] = fraction
    ds.attrs["block_fraction"] = float(block_ok[valid].mean()) if valid.any() else float("nan")
    return ds


def bdi_mixing(full_map: torch.Tensor, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(W, M)`` with W the renormalised block-window map and M = A W^{-1}, so A V = M (W V) under BDI."""
    n = full_map.shape[-1]
    window = validate.integer("window", window, lo=1, hi=n)
    w = torch.zeros_like(full_map)
    for sl in _block_slices(n, window):
        block = full_map[..., sl, sl]
        w[..., sl, sl] = block / block.sum(dim=-1, keepdim=True)
    m = torch.linalg.solve(w, full_map, left=False)  # M W = A
    return w, m
