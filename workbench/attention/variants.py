"""Attention variants on the same queries, keys and values.

All act on tensors (..., n, d) (leading dims: heads, batch) and return the
output together with the *effective attention map*: the linear map from the
values V to the output. For every variant except FWin the output is A V with
an n x n matrix A (rows sum to 1 for the softmax, window and SEMA maps):

* ``full``     A = softmax(Q K^T / sqrt(d)).
* ``sliding``  softmax restricted to the band j - i in [-floor((w-1)/2), floor(w/2)]
               (w keys; fewer at the edges), exactly zero outside; computed per query
               chunk against its key span (Longformer-style banded attention).
* ``block``    softmax inside non-overlapping windows of w tokens (the last one
               shorter when w does not divide n): block diagonal.
* ``fwin``     Re(F_n (W_block V) F_d), FNet-style Fourier mixing after block
               attention; its map is two terms (see :mod:`.fwin`).
* ``sema``     SEMA-like: (1 - mix) * sliding-window attention (focus) + mix * the
               arithmetic average of V (global), A = (1 - mix) W + mix / n (Tran et
               al., 2025: token localization plus averaging).
* ``linear``   A_ij = phi(q_i).phi(k_j) / sum_l phi(q_i).phi(k_l), phi = ELU + 1
               (Katharopoulos et al., 2020), computed in O(n d^2) as
               phi(Q) (phi(K)^T V) / (phi(Q) phi(K)^T 1).

The outputs are computed with the efficient form of each variant (fused SDPA,
banded windows, per-block windows, associativity for linear attention); the
maps are formed densely from their definitions, so that ``map @ V == output``
is a genuine check of both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import validate
from .fwin import fourier_mix, fwin_terms

VARIANTS = ("full", "sliding", "block", "fwin", "sema", "linear")
WINDOWED = ("sliding", "block", "fwin", "sema")
DESCRIPTIONS = {
    "full": "full softmax attention",
    "sliding": "sliding-window softmax attention",
    "block": "block-window softmax attention",
    "fwin": "FWin: block window + Fourier mixing",
    "sema": "SEMA-like: sliding window + average",
    "linear": "linear attention (ELU+1)",
}


@dataclass
class VariantResult:
    """Output of a variant and the exact linear map from values to it.

    ``terms`` is a tuple of ``(token_map, feature_map)`` with
    output = sum_t token_map_t @ V @ feature_map_t (``feature_map`` None means
    the identity). It is None when the map was not requested.
    """

    variant: str
    output: torch.Tensor
    terms: tuple[tuple[torch.Tensor, torch.Tensor | None], ...] | None = None

    @property
    def map(self) -> torch.Tensor | None:
        """The n x n effective map; for FWin the modulus of its complex sequence operator."""
        if self.terms is None:
            return None
        if len(self.terms) == 1 and self.terms[0][1] is None:
            return self.terms[0][0]
        return torch.sqrt(sum(t[0] ** 2 for t in self.terms))

    def apply(self, v: torch.Tensor) -> torch.Tensor:
        """The effective map applied to ``v``: sum_t token_map_t @ v @ feature_map_t."""
        if self.terms is None:
            raise ValueError("this result carries no map: call attend(..., return_map=True)")
        out = 0
        for token_map, feature_map in self.terms:
            tv = token_map @ v
            out = out + (tv if feature_map is None else tv @ feature_map)
        return out


# ---- masks -------------------------------------------------------------------------------------------

def window_mask(n: int, window: int, kind: str = "sliding", device=None,
                rows: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean (n, n) mask of the keys each query may see in a ``sliding`` or ``block`` window.

    With ``rows`` (query indices) only those rows are formed: (r, n).
    """
    i = (torch.arange(n, device=device) if rows is None else rows)[:, None]
    j = torch.arange(n, device=device)[None, :]
    if kind == "sliding":
        return (j >= i - (window - 1) // 2) & (j <= i + window // 2)
    if kind == "block":
        return (i // window) == (j // window)
    raise ValueError(f"kind must be 'sliding' or 'block'; got {kind!r}")


def _scale(d: int) -> float:
    return 1.0 / math.sqrt(d)


def _masked_softmax_map(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    scores = (q @ k.transpose(-1, -2)) * _scale(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


# ---- efficient outputs -------------------------------------------------------------------------------

def full_output(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d)) V through PyTorch's fused ``scaled_dot_product_attention``."""
    return F.scaled_dot_product_attention(q, k, v, scale=_scale(q.shape[-1]))


SLIDING_CHUNK = 32   # queries per chunk of the banded form (fastest of 32, 64, 128 on CPU at n = 128..512)
DENSE_BAND = 1 / 3   # a key span above n / 3 per query: one dense masked pass is cheaper than the chunks


def sliding_output(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """Banded attention in O(n (b + w) d): queries in chunks of b, each against its span of keys.

    The band [i - floor((w-1)/2), i + floor(w/2)] is first clipped to the sequence (keys
    past either end do not exist), so a window wider than n never costs more than full
    attention; a band holding every key of every query is full attention (fused SDPA).
    Each chunk of b queries meets its span of b + left + right keys with the band as an
    additive -inf bias (the queries pre-scaled by 1/sqrt(d)); above a span of n/3 one
    dense pass of fused SDPA with the (n, n) band mask is cheaper.
    """
    n, d = q.shape[-2], q.shape[-1]
    left, right = min((window - 1) // 2, n - 1), min(window // 2, n - 1)
    if left == right == n - 1:
        return full_output(q, k, v)
    b = min(SLIDING_CHUNK, n)
    span = b + left + right
    if span > DENSE_BAND * n:
        mask = window_mask(n, window, "sliding", q.device)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=_scale(d))
    nb = -(-n // b)
    pad = nb * b - n
    qb = F.pad(q * _scale(d), (0, 0, 0, pad)).reshape(*q.shape[:-2], nb, b, d)
    kb = F.pad(k, (0, 0, left, pad + right)).unfold(-2, span, b)              # (..., nb, d, span)
    vb = F.pad(v, (0, 0, left, pad + right)).unfold(-2, span, b)              # (..., nb, d_v, span)
    r = torch.arange(b, device=q.device)[:, None]
    t = torch.arange(span, device=q.device)[None, :]
    start = torch.arange(nb, device=q.device)[:, None, None] * b
    j = start - left + t                                                       # key index of (chunk, ., t)
    # key j - query i = t - r - left lies in [-left, right]; padded query rows keep every key (no empty
    # row, so no NaN) and are dropped below
    keep = ((t - r >= 0) & (t - r <= left + right) & (j >= 0) & (j < n)) | (start + r >= n)
    bias = torch.zeros(keep.shape, dtype=q.dtype, device=q.device).masked_fill_(~keep, float("-inf"))
    out = torch.softmax(qb @ kb + bias, dim=-1) @ vb.transpose(-1, -2)
    return out.reshape(*v.shape[:-2], nb * b, v.shape[-1])[..., :n, :]


def _fused(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Fused SDPA on (..., m, w, d) blocks, the leading dims merged so the kernel sees 4-D input
    (PyTorch's CPU flash kernel takes (batch, heads, length, d) only; other ranks fall back to the math path)."""
    lead = q.shape[:-2]
    out = F.scaled_dot_product_attention(*(x.reshape(-1, *x.shape[-3:]) for x in (q, k, v)), scale=_scale(q.shape[-1]))
    return out.reshape(*lead, *out.shape[-2:])


def block_output(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """Attention inside non-overlapping windows, O(n w d): the full blocks reshaped to (n // w, w, d)
    through fused SDPA, the shorter last block (n mod w tokens, its own keys only) after them."""
    n, d = q.shape[-2], q.shape[-1]
    if window >= n:
        return full_output(q, k, v)
    m = n // window * window

    def blocks(x: torch.Tensor) -> torch.Tensor:
        return x[..., :m, :].reshape(*x.shape[:-2], n // window, window, x.shape[-1])

    out = _fused(blocks(q), blocks(k), blocks(v)).reshape(*v.shape[:-2], m, v.shape[-1])
    if m == n:
        return out
    return torch.cat([out, full_output(q[..., m:, :], k[..., m:, :], v[..., m:, :])], dim=-2)


def _phi(x: torch.Tensor) -> torch.Tensor:
    return F.elu(x) + 1.0


def relative_error(out: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """||O - O_ref||_F / ||O_ref||_F over the last two dims (n, d) of outputs (..., n, d)."""
    return (out - ref).flatten(-2).norm(dim=-1) / ref.flatten(-2).norm(dim=-1)


def linear_output(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """phi(Q) (phi(K)^T V) / (phi(Q) sum_j phi(k_j)), O(n d^2)."""
    pq, pk = _phi(q), _phi(k)
    num = pq @ (pk.transpose(-1, -2) @ v)
    den = pq @ pk.sum(dim=-2, keepdim=True).transpose(-1, -2)
    return num / den


# ---- the public entry point --------------------------------------------------------------------------

def _check_qkv(q, k, v) -> int:
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{name} must have shape (..., n, d); got {tuple(t.shape)}")
        if not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {t.dtype}")
    if q.shape != k.shape:
        raise ValueError(f"q and k must have the same shape (self-attention); got {tuple(q.shape)} and {tuple(k.shape)}")
    if v.shape[:-1] != k.shape[:-1]:
        raise ValueError(f"v must have shape (..., n, d_v) matching k's (..., n); got {tuple(v.shape)}")
    n = q.shape[-2]
    validate.integer("n", n, lo=1)
    for name, t in (("q", q), ("k", k), ("v", v)):
        validate.finite_array(name, t)
    return n


def max_window(variant: str, n: int) -> int:
    """Widest window that still means something for ``variant`` on n tokens.

    A block of w >= n tokens is the whole sequence, so block and FWin stop at n. The
    sliding band is centred, [i - floor((w-1)/2), i + floor(w/2)]: it covers every key
    of every query only from w = 2n - 1 on (the first query needs n - 1 keys to its
    right, the last n - 1 to its left), so sliding and SEMA go up to 2n - 1.
    """
    return 2 * n - 1 if variant in ("sliding", "sema") else n


def check_variant(variant: str, n: int, window: int | None, mix: float = 0.5) -> tuple[str, int | None, float]:
    """Validate a variant name, window (1..:func:`max_window`) and mix (0..1)."""
    validate.choice("variant", variant, VARIANTS)
    if variant in WINDOWED:
        if window is None:
            raise ValueError(f"window is required for variant {variant!r} "
                             f"(an integer in [1, {max_window(variant, n)}])")
        window = validate.integer("window", window, lo=1, hi=max_window(variant, n))
    mix = validate.number("mix", mix, lo=0, hi=1)
    return variant, window, mix


def map_bytes(shape: torch.Size | tuple[int, ...], dtype: torch.dtype, copies: int = 4) -> int:
    """Bytes of ``copies`` dense (..., n, n) maps for q of ``shape`` (scores, mask, softmax, output)."""
    lead = math.prod(shape[:-2])
    n = shape[-2]
    return copies * lead * n * n * torch.empty((), dtype=dtype).element_size()


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, variant: str = "full", *,
           window: int | None = None, mix: float = 0.5, return_map: bool = True) -> VariantResult:
    """Run one attention ``variant`` on (q, k, v), shapes (..., n, d); see the module docstring.

    ``window`` (w, 1..n) is required for sliding, block, fwin and sema; ``mix``
    is SEMA's weight of the global average. With ``return_map`` the dense
    effective map is formed too (memory is checked first).
    """
    n = _check_qkv(q, k, v)
    variant, window, mix = check_variant(variant, n, window, mix)
    if return_map:
        validate.memory_fits("n", map_bytes(q.shape, q.dtype), q.device)
    if variant == "full":
        out = full_output(q, k, v)
    elif variant == "sliding":
        out = sliding_output(q, k, v, window)
    elif variant == "block":
        out = block_output(q, k, v, window)
    elif variant == "fwin":
        out = fourier_mix(block_output(q, k, v, window))
    elif variant == "sema":
        out = (1 - mix) * sliding_output(q, k, v, window) + mix * v.mean(dim=-2, keepdim=True).expand_as(v)
    else:
        out = linear_output(q, k, v)
    if not return_map:
        return VariantResult(variant, out)
    return VariantResult(variant, out, effective_terms(q, k, variant, window=window, mix=mix, d_v=v.shape[-1]))


def variant_rows(q: torch.Tensor, k: torch.Tensor, variant: str, *, window: int | None = None,
                 mix: float = 0.5, rows: torch.Tensor | None = None) -> torch.Tensor:
    """Rows ``rows`` (all by default) of a row-stochastic variant's map: (..., r, n).

    Defined for every variant except ``fwin`` (whose map is not a single n x n matrix).
    """
    n = q.shape[-2]
    qr = q if rows is None else q[..., rows, :]

    def band(kind: str) -> torch.Tensor:
        return window_mask(n, window, kind, q.device, rows)

    if variant == "full":
        return _masked_softmax_map(qr, k, None)
    if variant in ("sliding", "block"):
        return _masked_softmax_map(qr, k, band(variant))
    if variant == "sema":
        return (1 - mix) * _masked_softmax_map(qr, k, band("sliding")) + mix / n
    if variant == "linear":
        kernel = _phi(qr) @ _phi(k).transpose(-1, -2)
        return kernel / kernel.sum(dim=-1, keepdim=True)
    raise ValueError(f"variant must be one of {', '.join(v for v in VARIANTS if v != 'fwin')}; got {variant!r}")


def effective_terms(q: torch.Tensor, k: torch.Tensor, variant: str, *, window: int | None = None,
                    mix: float = 0.5, d_v: int | None = None) -> tuple[tuple[torch.Tensor, torch.Tensor | None], ...]:
    """The dense effective map of ``variant`` from its definition (see :class:`VariantResult`)."""
    if variant == "fwin":
        block = _masked_softmax_map(q, k, window_mask(q.shape[-2], window, "block", q.device))
        return fwin_terms(block, d_v if d_v is not None else q.shape[-1])
    return ((variant_rows(q, k, variant, window=window, mix=mix), None),)


def compare_variants(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     variants: tuple[str, ...] | list[str] = VARIANTS, *, window: int | None = None,
                     mix: float = 0.5, tokens: list[str] | None = None, params: dict | None = None):
    """Maps and outputs of several variants on the same (q, k, v) of shape (head, n, d), as a Dataset.

    Variables: ``map`` (variant, head, query, key), ``output`` (variant, head,
    query, feature), ``relative_error`` (variant, head) = ||O - O_full||_F / ||O_full||_F,
    ``map_residual`` (variant) = max |map(V) - O| (the effective map reproduces the output).
    """
    from .. import results

    if q.ndim != 3:
        raise ValueError(f"q, k, v must have shape (head, n, d); got {tuple(q.shape)}")
    n = _check_qkv(q, k, v)
    variants = list(validate.non_empty("variants", list(variants)))
    for name in variants:
        check_variant(name, n, window, mix)
    validate.memory_fits("n", map_bytes(q.shape, q.dtype, copies=4 + 2 * len(variants)), q.device)
    with results.timer() as t:
        ref = full_output(q, k, v)
        out = {name: attend(q, k, v, name, window=window, mix=mix) for name in variants}
    maps = torch.stack([r.map for r in out.values()])
    outputs = torch.stack([r.output for r in out.values()])
    rel = torch.stack([relative_error(r.output, ref) for r in out.values()])
    resid = torch.stack([(r.apply(v) - r.output).abs().amax() for r in out.values()])
    toks = list(tokens) if tokens is not None else [str(i) for i in range(n)]
    if len(toks) != n:
        raise ValueError(f"tokens must have {n} entries (one per position); got {len(toks)}")
    tok = np.array(toks, dtype=object)
    return results.dataset(
        {"map": (("variant", "head", "query", "key"), maps, {"long_name": "effective attention weight", "units": "1"}),
         "output": (("variant", "head", "query", "feature"), outputs, {"long_name": "attention output", "units": "1"}),
         "relative_error": (("variant", "head"), rel, {"long_name": "relative output difference to full", "units": "1"}),
         "map_residual": (("variant",), resid, {"long_name": "max |map(V) - output|", "units": "1"})},
        coords={"variant": np.array(variants, dtype=object), "head": np.arange(q.shape[0]),
                "query": np.arange(n), "key": np.arange(n), "feature": np.arange(v.shape[-1]),
                "query_token": ("query", tok), "key_token": ("key", tok)},
        params={**(params or {}), "variants": variants, "window": window, "mix": mix, "n": n},
        kind="attention.compare_variants", device=q.device, elapsed=t["elapsed"])
