"""Variants: exact window support, map @ V == output, FWin against its definition, BDI."""

import cmath
import math

import numpy as np
import pytest
import torch

from workbench.attention import (VARIANTS, attend, bdi_mixing, block_diagonal_invertibility,
                                 compare_variants, fourier_mix, window_mask)

N, D, W = 13, 6, 4  # n not divisible by w: exercises the short last block


def qkv(n=N, d=D, heads=3, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(heads, n, d, generator=g, dtype=dtype) for _ in range(3))


@pytest.mark.parametrize("variant", VARIANTS)
def test_effective_map_reproduces_output(variant):
    q, k, v = qkv()
    r = attend(q, k, v, variant, window=W)
    # outputs come from the efficient form (SDPA, unfolded band, blocks, FFT, associativity),
    # maps from the dense definitions: float64 agreement to rounding (n = 13 terms of size O(1))
    np.testing.assert_allclose(r.apply(v).numpy(), r.output.numpy(), atol=1e-12, rtol=0)
    assert r.map.shape == (3, N, N)


@pytest.mark.parametrize("variant", ["full", "sliding", "block", "sema", "linear"])
def test_rows_are_distributions(variant):
    q, k, v = qkv()
    a = attend(q, k, v, variant, window=W).map
    assert float(a.min()) >= 0
    np.testing.assert_allclose(a.sum(-1).numpy(), 1.0, atol=1e-12)


@pytest.mark.parametrize("kind", ["sliding", "block"])
def test_window_maps_exactly_zero_outside_window(kind):
    q, k, v = qkv()
    a = attend(q, k, v, kind, window=W).map
    inside = window_mask(N, W, kind)
    assert torch.all(a[:, ~inside] == 0)          # exp(-inf) is exactly 0
    assert torch.all(a[:, inside] > 0)
    assert int(inside.sum(-1).max()) == W          # w keys per query, fewer only at edges / last block


def test_window_masks_by_hand():
    s = window_mask(6, 3, "sliding").int()
    assert s[0].tolist() == [1, 1, 0, 0, 0, 0] and s[3].tolist() == [0, 0, 1, 1, 1, 0]
    b = window_mask(5, 2, "block").int()
    assert b[4].tolist() == [0, 0, 0, 0, 1] and b[2].tolist() == [0, 0, 1, 1, 0]


def test_limits_of_windows():
    q, k, v = qkv(dtype=torch.float32)
    full = attend(q, k, v, "full").output
    # one block of the whole sequence is full attention; windows of 1 return the values themselves
    torch.testing.assert_close(attend(q, k, v, "block", window=N).output, full, atol=1e-6, rtol=1e-5)
    for kind in ("sliding", "block"):
        torch.testing.assert_close(attend(q, k, v, kind, window=1).output, v, atol=1e-6, rtol=0)
    # SEMA with mix = 1 is the arithmetic average of the values
    torch.testing.assert_close(attend(q, k, v, "sema", window=W, mix=1.0).output,
                               v.mean(-2, keepdim=True).expand_as(v), atol=1e-6, rtol=0)


def test_linear_attention_closed_form():
    # phi(x) = elu(x) + 1 is exp(x) for x <= 0 and 1 + x above; one query, two keys, by hand
    q = torch.tensor([[[0.5, -1.0]]], dtype=torch.float64)
    k = torch.tensor([[[1.0, 0.0], [-2.0, 2.0]]], dtype=torch.float64)
    v = torch.tensor([[[1.0], [3.0]]], dtype=torch.float64)
    q, k2 = q.expand(1, 2, 2).clone(), k
    s1 = 1.5 * 2.0 + math.exp(-1.0) * 1.0
    s2 = 1.5 * math.exp(-2.0) + math.exp(-1.0) * 3.0
    expected = (s1 * 1.0 + s2 * 3.0) / (s1 + s2)
    out = attend(q, k2, v, "linear").output
    assert out[0, 0, 0].item() == pytest.approx(expected, rel=1e-14)


def naive_fwin(q, k, v, w):
    """FWin from its definition with Python loops: softmax inside each window, then
    Re(sum_a sum_e exp(-2 pi i (j a / n + c e / d)) X[a, e]) / sqrt(n d)."""
    n, d = len(q), len(v[0])
    x = [[0.0] * d for _ in range(n)]
    for start in range(0, n, w):
        idx = range(start, min(start + w, n))
        for i in idx:
            s = [sum(q[i][c] * k[j][c] for c in range(len(q[i]))) / math.sqrt(len(q[i])) for j in idx]
            m = max(s)
            e = [math.exp(t - m) for t in s]
            z = sum(e)
            for c in range(d):
                x[i][c] = sum(e[t] / z * v[j][c] for t, j in enumerate(idx))
    out = [[0.0] * d for _ in range(n)]
    for j in range(n):
        for c in range(d):
            acc = 0j
            for a in range(n):
                for e_ in range(d):
                    acc += cmath.exp(-2j * math.pi * (j * a / n + c * e_ / d)) * x[a][e_]
            out[j][c] = acc.real / math.sqrt(n * d)
    return torch.tensor(out, dtype=torch.float64)


def test_fwin_against_naive_definition():
    q, k, v = qkv(n=10, d=4, heads=1)
    r = attend(q, k, v, "fwin", window=3)
    expected = naive_fwin(q[0].tolist(), k[0].tolist(), v[0].tolist(), 3)
    # float64 FFT vs direct O(n^2 d^2) sums of 40 terms: rounding ~1e-15
    np.testing.assert_allclose(r.output[0].numpy(), expected.numpy(), atol=1e-12)
    np.testing.assert_allclose(r.apply(v)[0].numpy(), expected.numpy(), atol=1e-12)


@pytest.mark.parametrize("n, d", [(10, 6), (9, 5), (8, 7), (7, 8), (1, 1), (1, 2), (2, 1)])
def test_fourier_mix_equals_the_dft_matrices(n, d):
    # the half-spectrum transform with Hermitian symmetry against Re(F_n x F_d) by dense DFT matrices,
    # even and odd sizes (the mirrored hidden frequencies differ in count); float64: ~1e-15
    x = np.random.default_rng(n * 10 + d).standard_normal((3, n, d))
    f = lambda m: np.exp(-2j * np.pi * np.outer(np.arange(m), np.arange(m)) / m) / np.sqrt(m)  # noqa: E731
    np.testing.assert_allclose(fourier_mix(torch.from_numpy(x)).numpy(), (f(n) @ x @ f(d)).real, atol=1e-13)


def test_fourier_mix_is_parseval_orthonormal():
    # Re of an orthonormal 2-D DFT of a real x keeps at most its energy; equal energy for a constant
    x = torch.randn(8, 6, dtype=torch.float64)
    assert fourier_mix(x).norm() <= x.norm() + 1e-12
    ones = torch.ones(8, 6, dtype=torch.float64)
    assert fourier_mix(ones).norm().item() == pytest.approx(ones.norm().item(), rel=1e-12)


def test_bdi_fraction_on_constructed_maps():
    a = torch.softmax(torch.randn(4, 8, 8, dtype=torch.float64), dim=-1)
    a[1, 2] = a[1, 3]          # head 1: two equal rows inside the block {2, 3} -> singular block
    a[3, 4:6, 4:6] = 0.5       # head 3: a rank-one 2 x 2 block
    ds = block_diagonal_invertibility(a, window=2)
    assert ds["satisfied"].values.tolist() == [True, False, True, False]
    assert ds.attrs["fraction"] == 0.5
    assert ds.attrs["block_fraction"] == pytest.approx(14 / 16)
    # a window covering the whole map asks only that A be invertible
    assert block_diagonal_invertibility(a[[0, 2]], window=8).attrs["fraction"] == 1.0


def test_bdi_mixing_recovers_full_attention():
    q, k, v = qkv(n=12, heads=2)
    a = attend(q, k, v, "full").map
    w, m = bdi_mixing(a, 4)
    # W is the block-window map itself, and M W V = A V exactly under BDI
    np.testing.assert_allclose(w.numpy(), attend(q, k, v, "block", window=4).map.numpy(), atol=1e-13)
    np.testing.assert_allclose((m @ (w @ v)).numpy(), (a @ v).numpy(), atol=1e-10)


def test_bdi_on_model_maps():
    from workbench.attention import model_attention

    da = model_attention(["Window attention keeps focus.", "Short."], device="cpu")
    ds = block_diagonal_invertibility(da, window=3)
    assert ds["satisfied"].dims == ("text", "layer", "head")
    assert 0.0 <= ds.attrs["fraction"] <= 1.0
    # the padded text has fewer blocks: the missing ones are NaN, not counted
    assert np.isnan(ds["condition"].isel(text=1).values[..., -1]).all()


def test_compare_variants_dataset():
    q, k, v = qkv(dtype=torch.float32)
    ds = compare_variants(q, k, v, window=W)
    assert ds["map"].dims == ("variant", "head", "query", "key")
    assert float(ds["relative_error"].sel(variant="full").max()) < 1e-6
    assert float(ds["map_residual"].max()) < 1e-5  # float32, O(1) values
    assert float(ds["relative_error"].sel(variant="block").min()) > 1e-3


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"variant": "sparse"}, ValueError, "variant must be one of"),
    ({"variant": "block", "window": N + 1}, ValueError, f"window must be in [1, {N}]"),
    # the centred band covers every key from w = 2n - 1 on; wider is refused
    ({"variant": "sliding", "window": 2 * N}, ValueError, f"window must be in [1, {2 * N - 1}]"),
    ({"variant": "block"}, ValueError, "window is required"),
    ({"variant": "sema", "window": 2, "mix": 1.5}, ValueError, "mix must be in [0, 1]"),
    ({"variant": "block", "window": 2.5}, ValueError, "window must be an integer"),
])
def test_bad_arguments(kwargs, exc, words):
    q, k, v = qkv()
    with pytest.raises(exc) as info:
        attend(q, k, v, **kwargs)
    assert words in str(info.value)


def test_bad_tensors():
    q, k, v = qkv()
    with pytest.raises(ValueError, match="same shape"):
        attend(q, k[:, :5], v)
    bad = q.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="q must hold only finite values"):
        attend(bad, k, v)


def test_map_beyond_memory_refused_before_allocating():
    # a 300k x 300k float32 map needs ~1.3 TB: refused from the shapes alone
    q = torch.zeros(1, 300_000, 1)
    with pytest.raises(MemoryError, match="reduce n"):
        attend(q, q, q, "full")


# chunked (key span b + w - 1 <= n / 3, b = 32): (300, 5), (257, 9), (700, 100), n not a multiple of b;
# one dense band mask: (5, 1), (65, 2), (130, 64), (300, 100), (64, 64); the band clipped to all keys: (40, 79)
@pytest.mark.parametrize("n, w", [(5, 1), (65, 2), (130, 64), (300, 100), (64, 64), (300, 5), (257, 9), (700, 100),
                                  (40, 79)])
def test_banded_sliding_across_chunks(n, w):
    # every path of the banded computation must match the dense band definition at every chunk edge
    from workbench.attention.variants import DENSE_BAND, SLIDING_CHUNK

    chunked = SLIDING_CHUNK + w - 1 <= DENSE_BAND * n
    assert chunked == ((n, w) in [(300, 5), (257, 9), (700, 100)])
    q, k, v = qkv(n=n, d=5, heads=2, seed=n)
    r = attend(q, k, v, "sliding", window=w)
    np.testing.assert_allclose(r.apply(v).numpy(), r.output.numpy(), atol=1e-12, rtol=0)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kind", ["sliding", "block"])
def test_windows_agree_with_flex_attention_block_masks(kind):
    # PyTorch's FlexAttention (the GPU benchmark's path) with the same mask_mod, run unfused on CPU
    flex = pytest.importorskip("torch.nn.attention.flex_attention")
    n, w = 160, 24
    left, right = (w - 1) // 2, w // 2
    mods = {"sliding": lambda b, h, i, j: (j >= i - left) & (j <= i + right),
            "block": lambda b, h, i, j: (i // w) == (j // w)}
    q, k, v = (x.float() for x in qkv(n=n, d=8, heads=2, seed=3))
    mask = flex.create_block_mask(mods[kind], 1, 1, n, n, device="cpu")
    expected = flex.flex_attention(q[None], k[None], v[None], block_mask=mask)[0]
    # float32, different summation order: ~1e-7
    torch.testing.assert_close(attend(q, k, v, kind, window=w, return_map=False).output, expected,
                               atol=1e-5, rtol=1e-5)


def test_sliding_band_of_width_2n_minus_1_is_full_attention():
    q, k, v = qkv()
    full = attend(q, k, v, "full")
    wide = attend(q, k, v, "sliding", window=2 * N - 1)
    # float64, the same softmax over the same n keys: rounding only
    np.testing.assert_allclose(wide.output.numpy(), full.output.numpy(), atol=1e-12, rtol=0)
    # at w = n the first query still sees only floor(n/2) + 1 keys: not full attention
    half = attend(q, k, v, "sliding", window=N)
    assert int((half.map[0, 0] > 0).sum()) == N // 2 + 1
