"""Transformer attention: real maps of a pretrained model, efficient variants, dispersion with length.

* :func:`model_attention` -- attention maps of all-MiniLM-L6-v2 (6 layers x 12 heads),
  offline, as a DataArray (layer, head, query, key) with the tokens as coords.
* :func:`layer_qkv`, :func:`corpus_qkv` -- a real layer's queries, keys and values;
  :func:`segmented_qkv`, :func:`long_variants` -- past the 512-token window by concatenated segments.
* :func:`attend` -- full, sliding-window, block-window, FWin, SEMA-like and linear
  attention on the same Q/K/V, with output and effective map; :func:`compare_variants`.
* :func:`block_diagonal_invertibility` -- FWin's BDI condition on full maps.
* :func:`dispersion` -- entropy, max weight, k90 against n with the 1/n reference.
* :func:`replace_attention`, :func:`variant_effect` -- the model itself with a variant in place
  of softmax attention in chosen layers: hidden-state change, embedding cosine, similarity ranks.
* :func:`rollout`, :func:`attention_flow`, :func:`head_summary` -- aggregates across layers and heads.
"""

from .aggregates import attention_flow, head_summary, rollout
from .dispersion import DISPERSION_VARIANTS, dispersion, loglog_slope, random_qk, row_metrics
from .fwin import bdi_mixing, block_diagonal_invertibility, fourier_mix
from .long_input import corpus_qkv, long_variants, segmented_qkv
from .model import (HEAD_DIM, MAX_POSITIONS, MODEL_NAME, N_HEADS, N_LAYERS, layer_qkv, load_model, model_attention,
                    model_qkv, tokenize)
from .replace import replace_attention, replaced, variant_effect
from .texts import SENTENCES, read_texts
from .variants import (DESCRIPTIONS, VARIANTS, WINDOWED, VariantResult, attend, compare_variants,
                       window_mask)

__all__ = ["DESCRIPTIONS", "DISPERSION_VARIANTS", "HEAD_DIM", "MAX_POSITIONS", "MODEL_NAME", "N_HEADS", "N_LAYERS",
           "SENTENCES", "VARIANTS", "WINDOWED", "VariantResult", "attend", "attention_flow", "bdi_mixing",
           "block_diagonal_invertibility", "compare_variants", "corpus_qkv", "dispersion", "fourier_mix",
           "head_summary", "layer_qkv", "load_model", "loglog_slope", "long_variants", "model_attention", "model_qkv",
           "random_qk", "read_texts", "replace_attention", "replaced", "rollout", "row_metrics", "segmented_qkv",
           "tokenize", "variant_effect", "window_mask"]
