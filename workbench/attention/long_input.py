"""Q, K, V of inputs longer than the model's window: the model run on concatenated segments.

all-MiniLM-L6-v2 has 512 learned position embeddings, so it reads at most 512
positions ([CLS], 510 tokens, [SEP]); there is no longer-context model in the
shipped packages. A longer text is read by this documented route:

1. the text is bounded in characters (:data:`.texts.MAX_TEXT_CHARS`) *before* it is
   tokenised, tokenised once without special tokens (N tokens, at most
   :data:`MAX_LONG_TOKENS`), and cut into **segments** of ``size`` tokens (at most
   510; "segment" here, as "window" names the variants' attention windows) with
   starts 0, s, 2s, ... for the stride s = size - ``overlap``; the last segment is
   aligned to the end of the text (start N - size), so every segment has exactly
   ``size`` tokens and all of them run as one unpadded batch;
2. every segment runs through the model as ``[CLS] segment [SEP]``, with its own
   positions 0..size+1; forward hooks on each layer's query/key/value projections
   capture Q, K, V (as :func:`.model.model_qkv`);
3. each token is taken from the segment whose centre is nearest to it (ties: the
   earlier segment), so with an overlap every kept token has about overlap/2 tokens
   of context inside its segment on each side, except at the text's two ends;
4. the kept tokens, framed by the first segment's [CLS] and the last segment's
   [SEP], are concatenated along the sequence: Q, K, V of shape
   (layer, head, n, d_h) with n = N + 2 positions.

What this is, and is not: positions restart in every segment and no token sees
another segment inside the model, so these are the queries, keys and values of
*independent windows laid end to end*, not of a model with a longer context. What
depends only on Q, K, V -- the dispersion of attention rows with n (Lemma 3.2 of
Tran et al., 2025, see :mod:`.dispersion`) and a variant's output against full
attention on the same Q, K, V (:mod:`.variants`) -- is measured on real vectors of
the model at lengths past its window; what a long-context model would compute is
not. A text of at most ``size`` tokens is one segment: its Q, K, V are exactly
those of :func:`.model.model_qkv` (a test checks equality).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import xarray as xr

from .. import results, runtime, validate
from ..cache import ResultCache
from .model import (HEAD_DIM, MAX_POSITIONS, MODEL_NAME, N_HEADS, N_LAYERS, LayerQKV, _forward_qkv, load_model,
                    load_tokenizer, model_path)
from .texts import check_text
from .variants import VARIANTS, attend, check_variant, full_output, relative_error

MAX_SEGMENT = MAX_POSITIONS - 2
"""Tokens of one segment: the window less [CLS] and [SEP]."""
MAX_LONG_TOKENS = 8192
"""Tokens of a long input (16 full segments; Q, K, V of all layers in float32: about 230 MB)."""
SEGMENTS_PER_BATCH = 8   # eager maps of one batch: 8 x 12 x 512^2 floats, about 100 MB

SEGMENTED = ResultCache(max_items=4)  # segmented Q/K/V of recent long texts (float32 of 8192 tokens: ~230 MB)


class SegmentedQKV(NamedTuple):
    """Q, K, V (layer, head, n, d_h) of concatenated segments and where each position comes from."""

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    tokens: list[str]          # n WordPiece tokens, [CLS] first and [SEP] last
    segment: np.ndarray        # (n,) the segment each position was taken from
    position: np.ndarray       # (n,) its position inside that segment's model input (0 = [CLS])
    starts: list[int]          # first token of each segment in the text's N tokens

    def layer(self, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(q, k, v) of one layer: (head, n, d_h)."""
        layer = validate.integer("layer", layer, lo=0, hi=N_LAYERS - 1)
        return self.q[layer], self.k[layer], self.v[layer]


def segment_starts(n_tokens: int, size: int, overlap: int) -> list[int]:
    """Starts of the segments covering ``n_tokens`` tokens: stride size - overlap, the last one end-aligned."""
    if n_tokens <= size:
        return [0]
    stride = size - overlap
    starts = list(range(0, n_tokens - size, stride))
    return starts + [n_tokens - size]


def owners(n_tokens: int, size: int, starts: list[int]) -> np.ndarray:
    """(n_tokens,) the segment of each token: the one whose centre is nearest (ties: the earlier)."""
    t = np.arange(n_tokens)
    owner = np.zeros(n_tokens, dtype=int)
    for w in range(1, len(starts)):
        # segment w - 1 keeps t while its centre is at least as near: t <= (its centre + w's centre) / 2
        owner[t > (starts[w - 1] + starts[w] + size - 1) / 2] = w
    return owner


def check_segments(size: int, overlap: int) -> tuple[int, int]:
    """``size`` in [1, 510] and ``overlap`` in [0, size // 2] (so no token lies in more than two segments)."""
    size = validate.integer("segment", size, lo=1, hi=MAX_SEGMENT)
    overlap = validate.integer("overlap", overlap, lo=0, hi=size // 2)
    return size, overlap


def segment_ids(text: str, size: int = MAX_SEGMENT, overlap: int = 0, name: str = "text") -> list[int]:
    """The text's token ids (no special tokens), bounded in characters before and in tokens after tokenising."""
    check_text(name, text)
    size, overlap = check_segments(size, overlap)
    ids = load_tokenizer()(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    if len(ids) > MAX_LONG_TOKENS:
        raise ValueError(f"{name} has {len(ids)} tokens; the long-input route accepts at most {MAX_LONG_TOKENS}")
    if not ids:
        raise ValueError(f"{name} has no tokens")
    return ids


def segmented_qkv(text: str, *, size: int = MAX_SEGMENT, overlap: int = 0, device=None, dtype=None,
                  implementation: str = "eager") -> SegmentedQKV:
    """Q, K, V of ``text`` past the model's window by concatenated segments (see the module docstring).

    ``size``: tokens per segment (1..510); ``overlap``: tokens shared by consecutive
    segments (0..size // 2). Cached per (text, size, overlap, device, dtype, implementation).
    """
    ids = segment_ids(text, size, overlap)
    dev, dt = runtime.resolve_device(device), runtime.resolve_dtype(dtype)
    return _segmented(ids, min(size, len(ids)), overlap if len(ids) > size else 0, dev, dt, implementation)


def _segmented(ids: list[int], size: int, overlap: int, dev: torch.device, dt: torch.dtype,
               implementation: str) -> SegmentedQKV:
    key = (tuple(ids), size, overlap, str(dev), dt, implementation)
    cached = SEGMENTED.get(key)
    if cached is not None:
        return cached
    starts = segment_starts(len(ids), size, overlap)
    item = torch.empty((), dtype=dt).element_size()
    n_in = len(starts) * (size + 2)
    validate.memory_fits("text", item * (3 * N_LAYERS * N_HEADS * n_in * HEAD_DIM * 2  # captured and kept
                                         + SEGMENTS_PER_BATCH * N_HEADS * (size + 2) ** 2 * 4), dev)
    tokenizer, model = load_model(dev, dt, implementation)
    rows = torch.tensor([[tokenizer.cls_token_id, *ids[s:s + size], tokenizer.sep_token_id] for s in starts],
                        device=dev)
    parts = []
    for b in range(0, len(starts), SEGMENTS_PER_BATCH):
        batch = rows[b:b + SEGMENTS_PER_BATCH]
        enc = {"input_ids": batch, "token_type_ids": torch.zeros_like(batch), "attention_mask": torch.ones_like(batch)}
        parts.append(_forward_qkv(enc, model))                  # each (layer, segment, head, size + 2, d_h)
    q, k, v = (torch.cat([p[i] for p in parts], dim=1) for i in range(3))
    owner = owners(len(ids), size, starts)
    # [CLS] of the first segment, each token from its owner (+1: after the segment's [CLS]), [SEP] of the last
    segment = np.concatenate([[0], owner, [len(starts) - 1]])
    position = np.concatenate([[0], np.arange(len(ids)) - np.asarray(starts)[owner] + 1, [size + 1]])
    seg_t, pos_t = torch.as_tensor(segment, device=dev), torch.as_tensor(position, device=dev)
    q, k, v = (x[:, seg_t, :, pos_t].permute(1, 2, 0, 3).contiguous() for x in (q, k, v))  # (layer, head, n, d)
    tokens = tokenizer.convert_ids_to_tokens([tokenizer.cls_token_id, *ids, tokenizer.sep_token_id])
    out = SegmentedQKV(q, k, v, tokens, segment, position, starts)
    SEGMENTED.put(key, out)
    return out


def corpus_text() -> str:
    """Real English prose for long-sequence statistics: the model card shipped with the weights."""
    text = (model_path() / "README.md").read_text(encoding="utf-8")
    if text.startswith("---"):  # drop the YAML header
        text = text.split("---", 2)[-1]
    return " ".join(text.split())


def corpus_qkv(n: int, layer: int = 0, *, device=None, dtype=None) -> LayerQKV:
    """Real Q, K, V of ``layer`` for ``n`` consecutive corpus positions: tensors (head, n, d_h).

    The corpus (:func:`corpus_text`, about 3,500 WordPiece tokens) is read by
    concatenated segments of 510 tokens, no overlap (the module docstring); it is
    cycled when n exceeds its length.
    """
    n = validate.integer("n", n, lo=1, hi=1 << 20)
    layer = validate.integer("layer", layer, lo=0, hi=N_LAYERS - 1)
    ids = load_tokenizer()(corpus_text(), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    x = _segmented(ids[:MAX_LONG_TOKENS], MAX_SEGMENT, 0, runtime.resolve_device(device),
                   runtime.resolve_dtype(dtype), "eager")
    idx = torch.arange(n, device=x.q.device) % x.q.shape[2]
    q, k, v = x.layer(layer)
    return LayerQKV(q[:, idx], k[:, idx], v[:, idx], [x.tokens[i] for i in idx.tolist()], layer)


def long_variants(text: str, variants: list[str], *, layer: int = 0, window: int | None = None, mix: float = 0.5,
                  size: int = MAX_SEGMENT, overlap: int = 0, device=None, dtype=None) -> xr.Dataset:
    """Each variant's output against full attention on one layer's Q, K, V of a long text (segments).

    ``relative_error`` (variant, head) = ||O - O_full||_F / ||O_full||_F, both from
    the efficient forms (no n x n map is formed, so n may pass 512).
    """
    validate.integer("layer", layer, lo=0, hi=N_LAYERS - 1)
    for name in validate.non_empty("variants", list(variants)):
        validate.choice("variant", name, VARIANTS)
    ids = segment_ids(text, size, overlap)
    for name in variants:                                        # the window against n, before the model runs
        check_variant(name, len(ids) + 2, window, mix)
    with results.timer() as t:
        x = segmented_qkv(text, size=size, overlap=overlap, device=device, dtype=dtype)
        q, k, v = x.layer(layer)
        ref = full_output(q, k, v)
        rel = torch.stack([relative_error(attend(q, k, v, name, window=window, mix=mix, return_map=False).output, ref)
                           for name in variants])
    return results.dataset(
        {"relative_error": (("variant", "head"), rel, {"long_name": "relative output difference to full",
                                                        "units": "1"})},
        coords={"variant": np.array(variants, dtype=object), "head": np.arange(N_HEADS),
                "segments": len(x.starts), "n_tokens": len(x.tokens)},
        params={"text": text, "layer": layer, "variants": list(variants), "window": window, "mix": mix,
                "segment": size, "overlap": overlap, "model": MODEL_NAME, "route": "concatenated segments"},
        kind="attention.long_variants", device=q.device, elapsed=t["elapsed"])
