"""The variant tabs: a variant against full attention on one layer's Q, K, V, and the variant inside
the model (per-layer change on the text, embedding cosine and similarity ranks on the built-in sentences)."""

from __future__ import annotations

import holoviews as hv
import panel as pn
import xarray as xr

from ..ui.text import TextView

from . import plots
from .replace import replace_attention
from .texts import SENTENCES
from .variants import WINDOWED, compare_variants, max_window

SHORTEST_SENTENCE = 9   # tokens of the shortest built-in sentence, with [CLS] and [SEP]


class ComparisonView:
    """One head's map under full attention beside the variant's, with the output difference."""

    def __init__(self) -> None:
        self.result: xr.Dataset | None = None
        self.full = pn.pane.HoloViews(None, name="full")
        self.var = pn.pane.HoloViews(None, name="variant")
        self.info = TextView("", pre=True, css_classes=["wb-attention-compare-info"])
        self.panel = pn.Column(self.info, pn.Row(self.full, self.var))

    def compare(self, qkv, text: str, layer: int, variant: str, window: int, mix: float) -> None:
        """Full attention and ``variant`` on ``layer``'s Q, K, V of the text's forward (on a bad setting the
        view is cleared and the error raised)."""
        try:
            q, k, v = (x[layer, 0] for x in (qkv.q, qkv.k, qkv.v))
            self.result = compare_variants(q, k, v, ["full", variant], window=window, mix=mix, tokens=qkv.tokens[0],
                                           params={"text": text, "layer": layer})
        except (ValueError, TypeError, MemoryError):
            self.result, self.var.object, self.info.object = None, None, ""
            raise

    def show(self, variant: str, layer: int, head: int) -> None:
        if self.result is None:
            return
        ds = self.result.isel(head=head)
        label = "|F_n W| (FWin)" if variant == "fwin" else "weight"
        self.full.object = plots.head_heatmap(ds["map"].sel(variant="full"), "full softmax (same Q, K, V)")
        self.var.object = plots.head_heatmap(ds["map"].sel(variant=variant), f"{variant}", label)
        err = float(ds["relative_error"].sel(variant=variant))
        res = float(ds["map_residual"].sel(variant=variant))
        self.info.object = (f"{variant} vs full, layer {layer} head {head}: "
                            f"relative output difference {err:.3g}; max |map(V) - output| = {res:.1e}")

    def figure(self, variant: str, layer: int, head: int) -> hv.Layout | None:
        if self.result is None:
            return None
        ds = self.result.isel(head=head)
        return (plots.head_heatmap(ds["map"].sel(variant="full"), f"full, layer {layer} head {head}")
                + plots.head_heatmap(ds["map"].sel(variant=variant), variant)).cols(2)


def model_effect(text: str, variant: str, layers: list[int], window: int | None, mix: float,
                 device) -> tuple[xr.Dataset, xr.Dataset | None]:
    """The variant inside the model on ``text`` and, when the window fits them, on the built-in sentences."""
    on_text = replace_attention([text], variant, layers, window=window, mix=mix, device=device)
    sentences = None
    if window is None or window <= max_window(variant, SHORTEST_SENTENCE):
        sentences = replace_attention(list(SENTENCES), variant, layers, window=window, mix=mix, device=device)
    return on_text, sentences


def effect_job(status, text: str, variant: str, layers: list[int], window: int | None, mix: float, device):
    """The job of :func:`model_effect`, its progress line to ``status``."""
    def job(cancel):
        status.progress(None, f"running the model with {variant} in layers {layers} ...")
        return model_effect(text, variant, layers, window, mix, device)

    return job


def effect_window(variant: str, window: int) -> int | None:
    """The window a variant runs with inside the model (None for those without one)."""
    return window if variant in WINDOWED else None


class EffectView:
    """The per-layer effect of the variant inside the model, with its one-line summary."""

    def __init__(self) -> None:
        self.effect: xr.Dataset | None = None
        self.sentences: xr.Dataset | None = None
        self.pane = pn.pane.HoloViews(None, name="effect")
        self.info = TextView("Press 'Run variant in the model'.", pre=True, css_classes=["wb-attention-effect-info"])
        self.panel = pn.Column(self.info, self.pane)

    def show(self, value: tuple, variant: str) -> None:
        self.effect, self.sentences = value
        self.pane.object = plots.effect_plot(self.effect)
        layers = list(self.effect["layer"].values[self.effect["replaced"].values])
        line = (f"{variant} in layers {layers}: embedding cosine to the unmodified model "
                f"{float(self.effect['embedding_cosine'][0]):.4f} on this text")
        if self.sentences is not None:
            line += (f"; on the {self.sentences.sizes['text']} built-in sentences: mean cosine "
                     f"{float(self.sentences['embedding_cosine'].mean()):.4f}, Spearman rho of pairwise "
                     f"similarities {float(self.sentences['similarity_spearman']):.3f}")
        else:
            line += "; the window is wider than the built-in sentences, so no similarity check"
        self.info.object = line

    def figure(self) -> hv.Overlay | None:
        return None if self.effect is None else plots.effect_plot(self.effect)
