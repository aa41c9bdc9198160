"""Aggregates of a model's attention maps across layers and heads.

**Attention rollout** and **attention flow** (Abnar & Zuidema, "Quantifying Attention
Flow in Transformers", ACL 2020). Both start from the head-averaged map of each
layer with the residual connection folded in,

    Â_l = 0.5 * mean_h A_l^h + 0.5 * I        (rows still sum to 1),

so that a token also carries itself forward.

* rollout:  R_1 = Â_1,  R_l = Â_l R_{l-1}.  R_l[i, j] is how much of token i after
  layer l comes from input token j, if attention were linear mixing along every path
  (the product sums over all paths i <- k <- ... <- j).
* flow: the layers as a DAG with nodes (l, i), l = 0..L (l = 0: the input tokens)
  and an edge (l-1, j) -> (l, i) of capacity Â_l[i, j]; F[i, j] is the maximum flow
  from input node (0, j) to output node (L, i). For one layer F = Â_1; for two layers
  the paths through different middle tokens k share no edge, so
  F[i, j] = sum_k min(Â_2[i, k], Â_1[k, j]) (the closed form the tests use).

  Computed with ``scipy.sparse.csgraph.maximum_flow`` (Dinic's algorithm), which
  needs integer capacities: Â is scaled by S = 2^24 and rounded, so each capacity is
  off by at most 1/(2S) and a flow value by at most (edges of a minimum cut)/(2S);
  the cut of the sink's n in-edges bounds that by n / 2^25 (4e-6 at n = 128).
  One maximum-flow problem per (query, key) pair: bounded by ``MAX_FLOW_TOKENS``
  and ``MAX_FLOW_PAIRS``; the [CLS] query is the default, as in the paper.

**Head summaries** (per layer and head, averaged over the query rows):

* entropy   H = -sum_j a_ij log a_ij  [nat]         (uniform: log n)
* k90       the fewest keys holding 90% of a row's mass  [keys]
* distance to the diagonal  sum_j a_ij |i - j|  [tokens]  (0 for a token attending to itself)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import xarray as xr

from .. import results, validate
from .dispersion import row_metrics

FLOW_SCALE = 1 << 24
MAX_FLOW_TOKENS = 128
MAX_FLOW_PAIRS = 4096


def _maps_array(maps: xr.DataArray | torch.Tensor | np.ndarray) -> tuple[np.ndarray, xr.DataArray | None]:
    """(layer, head, query, key) float64 array of one text's maps; the DataArray when given one."""
    if isinstance(maps, xr.DataArray):
        if "text" in maps.dims:
            raise ValueError("maps must be one text's maps (layer, head, query, key); select a text first")
        missing = {"layer", "head", "query", "key"} - set(maps.dims)
        if missing:
            raise ValueError(f"maps must have dims layer, head, query, key; missing {sorted(missing)}")
        arr = maps.transpose("layer", "head", "query", "key").values
        da = maps
    else:
        arr, da = np.asarray(results.to_numpy(maps)), None
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)   # float maps keep their precision (a 512-token text: 75 MB in float32)
    if arr.ndim != 4 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"maps must have shape (layer, head, n, n); got {arr.shape}")
    validate.finite_array("maps", arr)
    if arr.min() < 0 or not np.allclose(arr.sum(-1), 1.0, atol=1e-4):
        raise ValueError("maps must be attention maps: non-negative rows summing to 1")
    return arr, da


def residual_maps(arr: np.ndarray) -> np.ndarray:
    """Â_l = 0.5 mean_h A_l^h + 0.5 I for each layer: (layer, n, n)."""
    n = arr.shape[-1]
    return 0.5 * arr.mean(axis=1, dtype=np.float64) + 0.5 * np.eye(n)


def _token_coords(da: xr.DataArray | None, n: int) -> dict:
    coords = {"query": np.arange(n), "key": np.arange(n)}
    if da is not None and "query_token" in da.coords:
        coords["query_token"] = ("query", np.asarray(da["query_token"].values, dtype=object))
        coords["key_token"] = ("key", np.asarray(da["key_token"].values, dtype=object))
    return coords


def rollout(maps: xr.DataArray | torch.Tensor | np.ndarray) -> xr.DataArray:
    """Attention rollout R_l = Â_l R_{l-1}, R_1 = Â_1 for every layer: DataArray (layer, query, key).

    ``maps``: one text's (layer, head, query, key) maps (see the module docstring).
    """
    arr, da = _maps_array(maps)
    with results.timer() as t:
        a_hat = residual_maps(arr)
        out = np.empty_like(a_hat)
        acc = np.eye(arr.shape[-1])
        for layer in range(arr.shape[0]):
            acc = a_hat[layer] @ acc
            out[layer] = acc
    r = xr.DataArray(out, dims=("layer", "query", "key"),
                     coords={"layer": np.arange(arr.shape[0]), **_token_coords(da, arr.shape[-1])},
                     name="rollout", attrs={"long_name": "attention rollout", "units": "1"})
    r["layer"].attrs.update(long_name="layer (rollout up to and including)", units="1")
    return results.stamp(r, {"n": arr.shape[-1], "layers": arr.shape[0], "residual": 0.5},
                         kind="attention.rollout", elapsed=t["elapsed"])


def flow_graph(a_hat: np.ndarray):
    """CSR capacity matrix (integers, scaled by ``FLOW_SCALE``) of the layered flow DAG; node (l, i) = l n + i."""
    from scipy.sparse import csr_matrix

    L, n, _ = a_hat.shape
    rows, cols, caps = [], [], []
    qi, kj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    for layer in range(L):
        cap = np.rint(a_hat[layer] * FLOW_SCALE).astype(np.int64)
        keep = cap > 0
        rows.append(layer * n + kj[keep])          # from (layer, key j) ...
        cols.append((layer + 1) * n + qi[keep])    # ... to (layer + 1, query i)
        caps.append(cap[keep])
    size = (L + 1) * n
    return csr_matrix((np.concatenate(caps).astype(np.int32), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(size, size))


def attention_flow(maps: xr.DataArray | torch.Tensor | np.ndarray, queries: Sequence[int] | None = None) -> xr.DataArray:
    """Attention flow F[i, j] from each input token j to output token i of the last layer (max-flow).

    ``queries``: the output tokens i (default ``[0]``, the [CLS] token). Returns a
    DataArray (query, key) over the chosen queries (see the module docstring).
    """
    from scipy.sparse.csgraph import maximum_flow

    arr, da = _maps_array(maps)
    L, _, n, _ = arr.shape
    validate.integer("n", n, lo=1, hi=MAX_FLOW_TOKENS)
    queries = [0] if queries is None else list(validate.non_empty("queries", list(queries)))
    queries = [validate.integer("queries", q, lo=0, hi=n - 1) for q in queries]
    if len(queries) * n > MAX_FLOW_PAIRS:
        raise ValueError(f"queries: {len(queries)} queries x {n} keys = {len(queries) * n} max-flow problems; "
                         f"at most {MAX_FLOW_PAIRS}")
    with results.timer() as t:
        graph = flow_graph(residual_maps(arr))
        out = np.empty((len(queries), n))
        for a, i in enumerate(queries):
            for j in range(n):
                out[a, j] = maximum_flow(graph, j, L * n + i).flow_value / FLOW_SCALE
    coords = _token_coords(da, n)
    coords["query"] = np.array(queries)
    if "query_token" in coords:
        coords["query_token"] = ("query", coords["query_token"][1][queries])
    f = xr.DataArray(out, dims=("query", "key"), coords=coords, name="flow",
                     attrs={"long_name": "attention flow (max-flow)", "units": "1"})
    return results.stamp(f, {"n": n, "layers": L, "queries": queries, "residual": 0.5, "scale": FLOW_SCALE},
                         kind="attention.attention_flow", elapsed=t["elapsed"])


def head_summary(maps: xr.DataArray | torch.Tensor | np.ndarray) -> xr.Dataset:
    """Per (layer, head): mean row entropy, k90 and distance to the diagonal (module docstring)."""
    arr, da = _maps_array(maps)
    L, H, n, _ = arr.shape
    with results.timer() as t:
        m = row_metrics(torch.from_numpy(arr))
        dist = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]).astype(arr.dtype)
        diag = (arr * dist).sum(-1).mean(-1, dtype=np.float64)   # sum_j a_ij |i - j|, averaged over i
    ds = results.dataset(
        {"entropy": (("layer", "head"), m["entropy"].mean(-1), {"long_name": "mean row entropy", "units": "nat"}),
         "k90": (("layer", "head"), m["k90"].mean(-1), {"long_name": "keys holding 90% of mass", "units": "keys"}),
         "diagonal_distance": (("layer", "head"), diag,
                               {"long_name": "mean distance to the diagonal", "units": "tokens"})},
        coords={"layer": np.arange(L), "head": np.arange(H)},
        params={"n": n}, kind="attention.head_summary", elapsed=t["elapsed"])
    ds.attrs["entropy_uniform"] = float(np.log(n))
    return ds
