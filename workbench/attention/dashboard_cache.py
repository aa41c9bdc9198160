"""Results the attention dashboard's sessions share: one model forward per text, its aggregates, sweeps.

Keyed by their inputs (text and device; the maps' key; the sweep's settings) and bounded
in entries: a 512-token text holds about 90 MB of maps and Q/K/V.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from .. import runtime
from ..cache import ResultCache
from .aggregates import MAX_FLOW_TOKENS, attention_flow, head_summary, rollout
from .dispersion import dispersion
from .model import attention_maps, model_qkv
from .texts import check_text

FORWARDS = ResultCache(max_items=6)
AGGREGATES = ResultCache(max_items=32)
DISPERSIONS = ResultCache(max_items=16)


def cached_forward(text: str, device: str | None) -> tuple[xr.DataArray, Any]:
    """Maps and Q/K/V of one text from one SDPA forward (shared by the server's sessions)."""
    key = (text, str(runtime.resolve_device(device)))
    hit = FORWARDS.get(key)
    if hit is None:
        qkv = model_qkv(check_text("text", text), device=device, implementation="sdpa")
        hit = (attention_maps(qkv, "sdpa"), qkv)
        FORWARDS.put(key, hit)
    return hit


def cached_aggregates(maps: xr.DataArray, key: tuple) -> tuple[xr.Dataset, xr.DataArray, xr.DataArray | None]:
    """Head summaries, rollout and (up to ``MAX_FLOW_TOKENS`` tokens) the [CLS] flow of one text's maps."""
    hit = AGGREGATES.get(key)
    if hit is None:
        flow = attention_flow(maps) if maps.sizes["query"] <= MAX_FLOW_TOKENS else None
        hit = (head_summary(maps), rollout(maps), flow)
        AGGREGATES.put(key, hit)
    return hit


def cached_dispersion(key: tuple, progress=None, should_stop=None) -> xr.Dataset:
    """Dispersion sweep for ``key = (ns, variants, source, window, mix, device)``, memoised across sessions
    (a stopped sweep is returned but not kept)."""
    ds = DISPERSIONS.get(key)
    if ds is None:
        ns, variants, source, window, mix, device = key
        ds = dispersion(list(ns), variants=list(variants), source=source, window=window, mix=mix, device=device,
                        callbacks=[progress] if progress else (), should_stop=should_stop)
        if not (should_stop and should_stop()):
            DISPERSIONS.put(key, ds)
    return ds
