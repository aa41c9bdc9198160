"""Attention variants inside the real model: what replacing softmax attention does to it.

all-MiniLM-L6-v2 is run with a chosen variant (:func:`.variants.attend`: sliding or
block window, FWin, SEMA-like, linear) in place of softmax attention in chosen
layers; the other layers keep transformers' SDPA softmax attention. The swap goes
through transformers' public attention interface: a function registered with
``AttentionInterface.register`` (and the SDPA mask with ``AttentionMaskInterface``)
is the model's ``attn_implementation``; it receives each layer's Q, K, V and, for
the layers of the active plan, returns the variant's output instead. The plan lives
in a ``ContextVar``, so concurrent runs (a served app's threads) do not see each
other's plans, and with no plan the model is exactly the SDPA model.

Per text t and layer l, against the unmodified model (h: hidden states, O: attention
outputs, e: sentence embeddings = normalised mean of the last hidden states, as the
model's own pooling):

* hidden-state change  ||h'_l - h_l||_F / ||h_l||_F (layer l's output),
* attention-output error  ||O'_l - softmax(Q'_l K'_l^T / sqrt d) V'_l||_F / ||softmax(...) V'_l||_F,
  the variant against full attention on the *same* (modified model's) Q', K', V'
  (0 in layers that are not replaced),
* embedding cosine  e'.e (both unit vectors),
* sentence-similarity check: Spearman's rank correlation between the pairwise cosine
  similarities of the texts' embeddings before and after (a task-level measure:
  1 when the variant keeps the ranking of which sentences are close).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import xarray as xr

from .. import results, runtime, validate
from .model import MODEL_NAME, N_LAYERS, load_model, tokenize
from .texts import SENTENCES, check_texts
from .variants import VARIANTS, attend, check_variant, full_output, max_window

IMPLEMENTATION = "workbench_variant"
_ACTIVE: contextvars.ContextVar[_Plan | None] = contextvars.ContextVar("workbench_attention_plan", default=None)
_REGISTERED = threading.Lock()
_registered = False


@dataclass
class _Plan:
    """Layers to replace (attention module -> layer index) and the errors recorded in one forward."""

    modules: dict[Any, int]
    variant: str
    window: int | None
    mix: float
    record: bool = True
    errors: dict[int, float] = field(default_factory=dict)


def variant_attention_forward(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """transformers attention function: the active plan's variant in its layers, SDPA elsewhere."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    plan = _ACTIVE.get()
    layer = None if plan is None else plan.modules.get(module)
    if layer is None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout,
                                      **kwargs)
    if attention_mask is not None and not bool(attention_mask.all()):
        raise ValueError("texts must run one at a time (unpadded) when a variant replaces attention")
    if scaling is not None and abs(scaling - query.shape[-1] ** -0.5) > 1e-12:
        raise ValueError(f"the variants assume the 1/sqrt(d) scaling; this model uses {scaling}")
    out = attend(query, key, value, plan.variant, window=plan.window, mix=plan.mix, return_map=False).output
    if plan.record:   # the reference: full attention on the same Q, K, V (one more attention per layer)
        ref = full_output(query, key, value)
        plan.errors[layer] = float((out - ref).norm() / ref.norm())
    return out.transpose(1, 2).contiguous(), None


def variant_model(device=None, dtype=None):
    """``(tokenizer, model)`` whose attention is :func:`variant_attention_forward` (registered once)."""
    global _registered
    with _REGISTERED:
        if not _registered:
            from transformers import AttentionInterface, AttentionMaskInterface
            from transformers.masking_utils import sdpa_mask

            AttentionInterface.register(IMPLEMENTATION, variant_attention_forward)
            AttentionMaskInterface.register(IMPLEMENTATION, sdpa_mask)
            _registered = True
    return load_model(device, dtype, implementation=IMPLEMENTATION)


@contextlib.contextmanager
def replaced(model, layers: int | str | Sequence[int], variant: str, *, window: int | None = None,
             mix: float = 0.5, n: int | None = None, record: bool = True) -> Iterator[dict[int, float]]:
    """Within the block, forwards of ``model`` (from :func:`variant_model`) use ``variant`` in ``layers``.

    Yields a dict that collects, per replaced layer, the relative attention-output error of
    the last forward (left empty with ``record=False``, which skips the full-attention
    reference: the model's own cost). ``n`` (the sequence length) bounds ``window`` when given.
    """
    chosen = parse_layers(layers)
    variant, window, mix = check_variant(variant, n if n is not None else 1 << 20, window, mix)
    modules = [blk.attention.self for blk in model.encoder.layer]
    plan = _Plan({modules[i]: i for i in chosen}, variant, window, mix, bool(record))
    token = _ACTIVE.set(plan)
    try:
        yield plan.errors
    finally:
        _ACTIVE.reset(token)


def parse_layers(layers: int | str | Sequence[int]) -> list[int]:
    """Layers to replace: ``"all"``, an int, ``"0,2,4"``, ``"1-3"`` or a list; each in [0, 5]."""
    if isinstance(layers, str):
        text = layers.strip().lower()
        if text == "all":
            return list(range(N_LAYERS))
        items: list[int] = []
        for part in text.split(","):
            m = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?", part)
            if not m:
                raise ValueError(f"layers must be 'all', a comma list or ranges like 0-2 of layers in "
                                 f"[0, {N_LAYERS - 1}]; got {layers!r}")
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) is not None else lo
            validate.integer("layers", lo, lo=0, hi=N_LAYERS - 1)
            validate.integer("layers", hi, lo=lo, hi=N_LAYERS - 1)
            items.extend(range(lo, hi + 1))
        layers = items
    elif isinstance(layers, (int, np.integer)) and not isinstance(layers, bool):
        layers = [int(layers)]
    if not isinstance(layers, (list, tuple, range)):
        raise TypeError(f"layers must be 'all', an integer or a list of integers, got {type(layers).__name__}")
    validate.non_empty("layers", list(layers))
    return sorted({validate.integer("layers", v, lo=0, hi=N_LAYERS - 1) for v in layers})


@dataclass
class _Forward:
    hidden: list[torch.Tensor]   # per text: (layer, n, hidden) outputs of the layers
    embedding: torch.Tensor      # (text, hidden) unit vectors
    errors: np.ndarray           # (text, layer)


def _run(model, encodings: list[dict[str, torch.Tensor]], plan_args: tuple | None) -> _Forward:
    hidden, emb = [], []
    errors = np.zeros((len(encodings), N_LAYERS))
    for t, enc in enumerate(encodings):
        if plan_args is None:
            with torch.inference_mode():
                out = model(**enc, output_hidden_states=True)
        else:
            chosen, variant, window, mix = plan_args
            with replaced(model, chosen, variant, window=window, mix=mix) as recorded, torch.inference_mode():
                out = model(**enc, output_hidden_states=True)
            for li, e in recorded.items():
                errors[t, li] = e
        hidden.append(torch.stack(out.hidden_states[1:])[:, 0])          # (layer, n, hidden)
        mean = out.last_hidden_state[0].mean(dim=0)                         # one text: no padding to mask
        emb.append(mean / mean.norm())
    return _Forward(hidden, torch.stack(emb), errors)


def _cosines(e: torch.Tensor) -> np.ndarray:
    return results.to_numpy(e @ e.T).astype(float)


def similarity_spearman(before: np.ndarray, after: np.ndarray) -> float:
    """Spearman's rho between the upper triangles of two pairwise-similarity matrices (NaN below 3 pairs)."""
    from scipy.stats import spearmanr

    iu = np.triu_indices(before.shape[0], k=1)
    if len(iu[0]) < 3:
        return float("nan")
    return float(spearmanr(before[iu], after[iu]).statistic)


@dataclass
class _Prepared:
    texts: list[str]
    tokens: list[list[str]]
    encodings: list[dict[str, torch.Tensor]]
    model: Any
    device: torch.device


def _prepare(texts, device, dtype) -> _Prepared:
    texts = check_texts(list(SENTENCES) if texts is None else texts)   # lengths bounded before tokenising
    infos = [tokenize(t) for t in texts]                                  # 512-position bound per text
    dev = runtime.resolve_device(device)
    _, model = variant_model(dev, dtype)
    encodings = [{k: v.to(dev) for k, v in info["encoding"].items()} for info in infos]
    return _Prepared(texts, [info["tokens"][0] for info in infos], encodings, model, dev)


def _check_plan(variant: str, layers, window, mix, lengths: list[int]) -> tuple[str, list[int], int | None, float]:
    validate.choice("variant", variant, VARIANTS)
    chosen = parse_layers(layers)
    variant, window, mix = check_variant(variant, min(lengths), window, mix)  # window against the shortest text
    return variant, chosen, window, mix


_BASELINES: dict[tuple, _Forward] = {}


def _baseline(prep: _Prepared) -> _Forward:
    key = (tuple(prep.texts), str(prep.device), next(prep.model.parameters()).dtype)
    if key not in _BASELINES:
        if len(_BASELINES) > 8:
            _BASELINES.clear()
        _BASELINES[key] = _run(prep.model, prep.encodings, None)
    return _BASELINES[key]


def replace_attention(texts: str | Sequence[str] | None = None, variant: str = "sliding",
                      layers: int | str | Sequence[int] = "all", *, window: int | None = None, mix: float = 0.5,
                      device=None, dtype=None) -> xr.Dataset:
    """Run the model with ``variant`` in place of softmax attention in ``layers`` over ``texts``.

    ``texts``: a string, a list of strings (each run alone, unpadded) or None for
    :data:`.texts.SENTENCES`. ``window`` (sliding, block, FWin, SEMA) must lie in
    [1, :func:`.variants.max_window`] of the shortest text. Returns a Dataset with
    ``hidden_change`` and ``attention_error`` (text, layer), ``embedding_cosine``
    (text), the pairwise ``similarity_before`` / ``similarity_after`` (text, other)
    and the scalar ``similarity_spearman`` (see the module docstring).
    """
    if isinstance(texts, str):
        texts = [texts]
    validate.choice("variant", variant, VARIANTS)
    parse_layers(layers)                                   # cheap checks before any tokenising
    prep = _prepare(texts, device, dtype)
    lengths = [len(t) for t in prep.tokens]
    variant, chosen, window, mix = _check_plan(variant, layers, window, mix, lengths)
    with results.timer() as t:
        base = _baseline(prep)
        mod = _run(prep.model, prep.encodings, (chosen, variant, window, mix))
    change = np.array([results.to_numpy((m - b).flatten(1).norm(dim=1) / b.flatten(1).norm(dim=1))
                       for m, b in zip(mod.hidden, base.hidden)])
    cos = results.to_numpy((mod.embedding * base.embedding).sum(-1))
    before, after = _cosines(base.embedding), _cosines(mod.embedding)
    n_text = len(prep.texts)
    replaced = np.isin(np.arange(N_LAYERS), chosen)
    return results.dataset(
        {"hidden_change": (("text", "layer"), change,
                           {"long_name": "relative hidden-state change ||h' - h|| / ||h||", "units": "1"}),
         "attention_error": (("text", "layer"), mod.errors,
                             {"long_name": "relative attention-output error to softmax on the same Q, K, V",
                              "units": "1"}),
         "embedding_cosine": (("text",), cos, {"long_name": "cosine of sentence embedding to unmodified",
                                               "units": "1"}),
         "similarity_before": (("text", "other"), before, {"long_name": "pairwise cosine (unmodified)", "units": "1"}),
         "similarity_after": (("text", "other"), after, {"long_name": "pairwise cosine (with variant)", "units": "1"}),
         "similarity_spearman": ((), similarity_spearman(before, after),
                                 {"long_name": "Spearman rho of pairwise cosines, before vs after", "units": "1"})},
        coords={"text": np.arange(n_text), "other": np.arange(n_text), "layer": np.arange(N_LAYERS),
                "replaced": ("layer", replaced), "n_tokens": ("text", np.array(lengths)),
                "source": ("text", np.array(prep.texts, dtype=object))},
        params={"texts": prep.texts, "variant": variant, "layers": chosen, "window": window, "mix": mix,
                "model": MODEL_NAME, "max_window": max_window(variant, min(lengths))},
        kind="attention.replace_attention", device=prep.device, elapsed=t["elapsed"])


def variant_effect(texts: Sequence[str] | None = None, variants: Sequence[str] = ("sliding", "block", "fwin",
                   "sema", "linear"), n_layers: Sequence[int] = tuple(range(1, N_LAYERS + 1)),
                   windows: Sequence[int] = (1, 2, 4, 8), *, mix: float = 0.5, device=None, dtype=None) -> xr.Dataset:
    """The model-level effect of each variant as it replaces layers 0..k-1 (k in ``n_layers``) for each window.

    Dims (variant, n_layers, window): the mean ``embedding_cosine`` over the texts,
    ``similarity_spearman`` and the mean final-layer ``hidden_change``. Linear
    attention has no window: its values repeat along ``window``.
    """
    variants = [validate.choice("variant", v, VARIANTS) for v in validate.non_empty("variants", list(variants))]
    ks = sorted({validate.integer("n_layers", k, lo=1, hi=N_LAYERS) for k in validate.non_empty("n_layers",
                                                                                                 list(n_layers))})
    ws = sorted({validate.integer("windows", w, lo=1) for w in validate.non_empty("windows", list(windows))})
    prep = _prepare(texts, device, dtype)
    lengths = [len(t) for t in prep.tokens]
    for v in variants:
        for w in ws:
            check_variant(v, min(lengths), w, mix)
    shape = (len(variants), len(ks), len(ws))
    out = {name: np.full(shape, np.nan) for name in ("embedding_cosine", "similarity_spearman", "hidden_change")}
    with results.timer() as t:
        base = _baseline(prep)
        before = _cosines(base.embedding)
        for a, v in enumerate(variants):
            for b, k in enumerate(ks):
                for c, w in enumerate(ws):
                    if v in ("full", "linear") and c > 0:          # no window: same run
                        for name in out:
                            out[name][a, b, c] = out[name][a, b, 0]
                        continue
                    mod = _run(prep.model, prep.encodings, (list(range(k)), v, w, mix))
                    out["embedding_cosine"][a, b, c] = float((mod.embedding * base.embedding).sum(-1).mean())
                    out["similarity_spearman"][a, b, c] = similarity_spearman(before, _cosines(mod.embedding))
                    out["hidden_change"][a, b, c] = float(np.mean([
                        float((m[-1] - bb[-1]).norm() / bb[-1].norm()) for m, bb in zip(mod.hidden, base.hidden)]))
    attrs = {"embedding_cosine": ("mean cosine of sentence embedding to unmodified", "1"),
             "similarity_spearman": ("Spearman rho of pairwise cosines, before vs after", "1"),
             "hidden_change": ("mean relative change of the last hidden state", "1")}
    ds = results.dataset(
        {name: (("variant", "n_layers", "window"), vals, {"long_name": attrs[name][0], "units": attrs[name][1]})
         for name, vals in out.items()},
        coords={"variant": np.array(variants, dtype=object), "n_layers": np.array(ks), "window": np.array(ws)},
        params={"texts": prep.texts, "variants": variants, "n_layers": ks, "windows": ws, "mix": mix,
                "model": MODEL_NAME, "replaced": "layers 0..n_layers-1"},
        kind="attention.variant_effect", device=prep.device, elapsed=t["elapsed"])
    ds["n_layers"].attrs.update(long_name="replaced layers (0..k-1)", units="layers")
    ds["window"].attrs.update(long_name="window size w", units="tokens")
    return ds
