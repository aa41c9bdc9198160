"""Dispersion of attention with sequence length (Tran et al., 2025, SEMA, Lemma 3.2).

For generalized attention A_ij = phi(q_i.k_j) / sum_l phi(q_i.k_l) with scores
bounded, |q_i.k_j / sqrt(d)| <= R, every weight lies in [e^{-2R}/n, e^{2R}/n]:
as n grows each query spreads its mass evenly, weights -> Theta(1/n). Window
attention keeps at most w keys per query, so its weights stay >= 1/w.

Per row a_i of a map (one query) we measure

* entropy       H_i = -sum_j a_ij log a_ij        (uniform: log n)
* max weight    max_j a_ij                        (uniform: 1/n)
* k90           the fewest keys holding 90% of the row's mass (uniform: ceil(0.9 n))

averaged over heads and over up to ``max_rows`` query rows drawn at random
(an unbiased estimate of the mean over all rows; only those rows of the map
are formed, so n = 16k costs r x n per head, not n x n).

Inputs: ``gaussian`` (q, k ~ N(0, I_d)); ``sphere`` (q, k uniform on the sphere,
scaled so the scores are bounded by ``score_bound`` = R, the setting of the
lemma); ``model`` (real queries and keys of a layer of all-MiniLM-L6-v2 on
consecutive corpus tokens, see :func:`.long_input.corpus_qkv`, or on a user's
``text``, both past the model's 512 positions by concatenated segments, see
:mod:`.long_input`: positions restart per segment). FWin is not listed:
its attention step is the block window, and its Fourier-mixed map is not a
distribution over keys.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from .. import results, runtime, sweep, validate
from .variants import WINDOWED, variant_rows

DISPERSION_VARIANTS = ("full", "sliding", "block", "sema", "linear")
SOURCES = ("gaussian", "sphere", "model")
METRICS = {
    "entropy": ("row entropy", "nat"),
    "max_weight": ("max weight", "1"),
    "k90": ("keys holding 90% of mass", "keys"),
}
MAX_N = 1 << 18


def row_metrics(rows: torch.Tensor, mass: float = 0.9) -> dict[str, torch.Tensor]:
    """Entropy, max weight and k_mass of each row of ``rows`` (..., r, n) (rows sum to 1)."""
    p = rows.clamp_min(0)
    entropy = -(torch.where(p > 0, p * torch.log(p), torch.zeros_like(p))).sum(-1)
    top = torch.sort(p, dim=-1, descending=True).values.cumsum(-1)
    # fewest keys whose sorted weights reach `mass` (tolerate float rounding of the total)
    k = (top < mass * top[..., -1:] * (1 - 1e-6)).sum(-1) + 1
    return {"entropy": entropy, "max_weight": p.amax(-1), "k90": k.to(p.dtype)}


def random_qk(n: int, *, heads: int = 4, d: int = 32, source: str = "gaussian", score_bound: float = 2.0,
              seed: int = 0, device=None, dtype=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random queries and keys (heads, n, d); ``sphere`` bounds every score by ``score_bound``."""
    dev, dt = runtime.resolve_device(device), runtime.resolve_dtype(dtype)
    g = runtime.generator(seed, dev)
    q = torch.randn(heads, n, d, generator=g, device=dev, dtype=dt)
    k = torch.randn(heads, n, d, generator=g, device=dev, dtype=dt)
    if source == "sphere":
        # |q.k| / sqrt(d) <= |q||k| / sqrt(d) = R with |q| = |k| = sqrt(R) d^{1/4}
        radius = math.sqrt(score_bound) * d ** 0.25
        q = radius * q / q.norm(dim=-1, keepdim=True)
        k = radius * k / k.norm(dim=-1, keepdim=True)
    return q, k


def _inputs(n: int, cfg: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    if cfg["source"] == "model" and cfg["text"] is not None:
        from .long_input import segmented_qkv

        x = segmented_qkv(cfg["text"], overlap=cfg["overlap"], device=cfg["device"], dtype=cfg["dtype"])
        q, k, _ = x.layer(cfg["layer"])
        return q[:, :n], k[:, :n]     # the text's first n positions (n is at most its length)
    if cfg["source"] == "model":
        from .long_input import corpus_qkv

        qkv = corpus_qkv(n, cfg["layer"], device=cfg["device"], dtype=cfg["dtype"])
        return qkv.q, qkv.k
    # the seed depends on n only, so results do not depend on chunking
    return random_qk(n, heads=cfg["heads"], d=cfg["d"], source=cfg["source"], score_bound=cfg["score_bound"],
                     seed=cfg["seed"] * 1_000_003 + n, device=cfg["device"], dtype=cfg["dtype"])


def dispersion_chunk(params: dict[str, np.ndarray], **cfg: Any) -> xr.Dataset:
    """Sweep chunk: metrics for each n of the chunk and each variant (dims point, variant)."""
    out = {m: np.zeros((len(params["n"]), len(cfg["variants"]))) for m in METRICS}
    for p, n in enumerate(params["n"]):
        n = int(n)
        q, k = _inputs(n, cfg)
        g = runtime.generator(cfg["seed"] + n, q.device)
        r = min(n, cfg["max_rows"])
        rows = torch.randperm(n, generator=g, device=q.device)[:r]
        for j, variant in enumerate(cfg["variants"]):
            for h in range(q.shape[0]):  # one head at a time keeps memory at r x n
                m = row_metrics(variant_rows(q[h], k[h], variant, window=cfg["window"], mix=cfg["mix"], rows=rows))
                for name in METRICS:
                    out[name][p, j] += float(m[name].mean()) / q.shape[0]
    return xr.Dataset({name: (("point", "variant"), v) for name, v in out.items()},
                      coords={"variant": list(cfg["variants"])})


def check_dispersion(ns: Sequence[int], variants: Sequence[str], source: str, window: int, mix: float,
                     heads: int, d: int, layer: int, max_rows: int, score_bound: float, device,
                     dtype=None, text: str | None = None, overlap: int = 0) -> list[int]:
    """Validate every argument of :func:`dispersion` (before any work); returns the sorted n list."""
    hi = MAX_N
    if text is not None:
        from .long_input import MAX_SEGMENT, segment_ids

        if source != "model":
            raise ValueError(f"text is only read with source 'model' (the model's Q/K of the text); got {source!r}")
        hi = len(segment_ids(text, MAX_SEGMENT, overlap)) + 2   # tokenised once the characters are bounded
    ns = sorted({validate.integer("n", n, lo=2, hi=hi) for n in validate.non_empty("n", list(ns))})
    validate.non_empty("variants", list(variants))
    for v in variants:
        validate.choice("variant", v, DISPERSION_VARIANTS)
    validate.choice("source", source, SOURCES)
    if any(v in WINDOWED for v in variants):
        validate.integer("window", window, lo=1, hi=ns[0])
    validate.number("mix", mix, lo=0, hi=1)
    validate.integer("heads", heads, lo=1, hi=64)
    validate.integer("d", d, lo=1, hi=1024)
    validate.integer("layer", layer, lo=0, hi=5)
    validate.integer("max_rows", max_rows, lo=1, hi=1 << 16)
    validate.positive("score_bound", score_bound)
    dev = runtime.resolve_device(device)
    h, dd = (12, 32) if source == "model" else (heads, d)
    n = ns[-1]
    item = torch.empty((), dtype=runtime.resolve_dtype(dtype)).element_size()
    need = item * (3 * h * n * dd + 6 * min(n, max_rows) * n)  # q, k (+v); scores, mask, sort per head
    validate.memory_fits("n", need, dev)
    return ns


def dispersion(ns: Sequence[int] = (64, 128, 256, 512, 1024, 2048, 4096), *,
               variants: Sequence[str] = ("full", "sliding", "linear"), source: str = "gaussian",
               window: int = 32, mix: float = 0.5, heads: int = 4, d: int = 32, layer: int = 0,
               max_rows: int = 256, score_bound: float = 2.0, seed: int = 0, device=None, dtype=None,
               text: str | None = None, overlap: int = 0, callbacks: Sequence[Callable] = (),
               should_stop: Callable[[], bool] | None = None, client: Any = None) -> xr.Dataset:
    """Entropy, max weight and k90 against n for each variant (dims variant, n), with references.

    With ``source="model"`` and a ``text``, the inputs are the first n positions of the
    text's Q, K by concatenated segments of 510 tokens sharing ``overlap`` tokens
    (:func:`.long_input.segmented_qkv`); n is at most the text's positions.

    Runs through :func:`workbench.sweep.run_sweep` (one chunk per n), so progress
    callbacks, cancellation and dask scale-out work as for any sweep. References:
    ``entropy_ref`` = log n, ``max_weight_ref`` = 1/n, ``k90_ref`` = ceil(0.9 n).
    """
    ns = check_dispersion(ns, variants, source, window, mix, heads, d, layer, max_rows, score_bound, device, dtype,
                          text, overlap)
    dev, dt = runtime.resolve_device(device), runtime.resolve_dtype(dtype)
    cfg = {"variants": list(variants), "source": source, "window": int(window), "mix": float(mix),
           "heads": int(heads), "d": int(d), "layer": int(layer), "max_rows": int(max_rows),
           "score_bound": float(score_bound), "seed": int(seed), "device": str(dev),
           "dtype": str(dt).replace("torch.", ""), "text": text, "overlap": int(overlap)}
    with results.timer() as t:
        ds = sweep.run_sweep(dispersion_chunk, {"n": ns}, fixed=cfg, chunk_size=1, callbacks=callbacks,
                             should_stop=should_stop, client=client, name="attention.dispersion")
    if "failed" in ds and bool((ds["failed"] != "").any()):
        bad = ds["failed"].values[ds["failed"].values != ""]
        raise RuntimeError(f"dispersion failed: {bad[0]}")
    ds = ds.transpose("variant", "n", ...)
    n = ds["n"].values.astype(float)
    ds["entropy_ref"] = ("n", np.log(n), {"long_name": "log n (uniform)", "units": "nat"})
    ds["max_weight_ref"] = ("n", 1.0 / n, {"long_name": "1/n (uniform)", "units": "1"})
    ds["k90_ref"] = ("n", np.ceil(0.9 * n), {"long_name": "0.9 n (uniform)", "units": "keys"})
    for name, (long_name, units) in METRICS.items():
        ds[name].attrs.update(long_name=long_name, units=units)
    ds["n"].attrs.update(long_name="sequence length n", units="tokens")
    return results.stamp(ds, {**cfg, "ns": ns}, kind="attention.dispersion", seed=seed, device=dev,
                         elapsed=t["elapsed"])


def loglog_slope(n: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y against log n."""
    return float(np.polyfit(np.log(np.asarray(n, float)), np.log(np.asarray(y, float)), 1)[0])
