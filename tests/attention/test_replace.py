"""Variants inside the model: identities that must hold exactly, and bad input refused before running."""

import numpy as np
import pytest
import torch

from workbench.attention import load_model, replace
from workbench.attention.replace import replace_attention, replaced, variant_model

TEXTS = ["The cat sat on the mat.", "A dog chased the ball across the park.",
         "Heavy rain is expected across the region tomorrow.", "Interest rates rose again."]


@pytest.fixture(scope="module")
def encodings():
    tokenizer, _ = load_model("cpu")
    return [tokenizer([t], return_tensors="pt") for t in TEXTS]


def test_full_softmax_in_every_layer_is_the_unmodified_model(encodings):
    _, model = variant_model("cpu")
    _, sdpa = load_model("cpu", implementation="sdpa")
    _, eager = load_model("cpu")
    for enc in encodings:
        with torch.inference_mode():
            ref = sdpa(**enc).last_hidden_state
            with replaced(model, "all", "full") as errors:
                out = model(**enc).last_hidden_state
            with replaced(model, "all", "full", record=False) as unrecorded:   # the model alone, no reference
                alone = model(**enc).last_hidden_state
            plain = model(**enc).last_hidden_state   # no plan: the model is the SDPA model
            slow = eager(**enc).last_hidden_state
        # the same fused softmax kernel on the same Q, K, V in every layer: bit for bit
        assert torch.equal(out, ref) and torch.equal(plain, ref) and torch.equal(alone, ref) and unrecorded == {}
        assert sorted(errors) == list(range(6)) and max(errors.values()) == 0.0
        # and transformers' eager attention agrees to float32 rounding through 6 layers
        torch.testing.assert_close(out, slow, atol=2e-5, rtol=0)


def test_full_variant_dataset_is_exactly_unchanged():
    ds = replace_attention(TEXTS, "full", "all", device="cpu")
    assert float(np.abs(ds["hidden_change"]).max()) == 0.0
    assert float(np.abs(ds["attention_error"]).max()) == 0.0
    # e.e of a float32 unit vector with itself: 1 to a few ulp of the 384-term sum
    np.testing.assert_allclose(ds["embedding_cosine"].values, 1.0, atol=1e-6)
    assert float(ds["similarity_spearman"]) == 1.0
    assert ds["hidden_change"].dims == ("text", "layer") and bool(ds["replaced"].all())


def test_window_covering_the_sequence_is_the_unmodified_model():
    n = min(replace_attention(TEXTS, "full", 0, device="cpu")["n_tokens"].values)
    wide = replace_attention(TEXTS, "sliding", "all", window=2 * n - 1, device="cpu")
    block = replace_attention(TEXTS, "block", "all", window=n, device="cpu")
    # the band/block holds every key of the shortest text; longer texts keep a band of
    # width 2n - 1 around each query. For the shortest text: the same softmax over all keys,
    # summed in another order (chunked band vs fused SDPA): float32 rounding only.
    short = int(np.argmin(wide["n_tokens"].values))
    assert float(wide["hidden_change"].isel(text=short).max()) < 1e-5
    assert float(block["hidden_change"].isel(text=short).max()) < 1e-5
    assert abs(float(wide["embedding_cosine"].isel(text=short)) - 1) < 1e-6
    # a window of n (half the band) does change the model: the check can fail
    half = replace_attention(TEXTS, "sliding", "all", window=n, device="cpu")
    assert float(half["hidden_change"].isel(text=short, layer=-1)) > 1e-3


def test_errors_only_in_replaced_layers_and_change_propagates():
    ds = replace_attention(TEXTS, "sliding", [2, 4], window=1, device="cpu")
    err = ds["attention_error"].mean("text").values
    assert err[[0, 1, 3, 5]].tolist() == [0.0] * 4 and (err[[2, 4]] > 0.1).all()
    change = ds["hidden_change"].mean("text").values
    # layers before the first replaced one are untouched, bit for bit
    assert change[0] == 0.0 and change[1] == 0.0 and change[2] > 0.01
    assert ds["similarity_before"].shape == (4, 4)
    np.testing.assert_allclose(np.diag(ds["similarity_before"].values), 1.0, atol=1e-6)


def test_padded_batch_refused_inside_a_replacement():
    tokenizer, _ = load_model("cpu")
    _, model = variant_model("cpu")
    enc = tokenizer(["short", "a much longer sentence that pads the first"], padding=True, return_tensors="pt")
    with pytest.raises(ValueError, match="one at a time"), replaced(model, "all", "linear"), torch.inference_mode():
        model(**enc)


@pytest.mark.parametrize("kwargs, words", [
    ({"variant": "magic"}, "variant must be one of"),
    ({"layers": "6"}, "layers must be in [0, 5]"),
    ({"layers": [0, -1]}, "layers must be in [0, 5]"),
    ({"layers": "2-9"}, "layers must be in [2, 5]"),
    ({"layers": "one"}, "layers must be 'all'"),
    ({"layers": []}, "layers must not be empty"),
    ({"variant": "sliding", "window": 0}, "window must be in [1, 17]"),  # 9 tokens: band up to 2n - 1
    ({"variant": "sliding", "window": 18}, "window must be in [1, 17]"),
    ({"variant": "block", "window": 10}, "window must be in [1, 9]"),
    ({"variant": "sliding"}, "window is required"),
    ({"variant": "sema", "window": 2, "mix": 2}, "mix must be in [0, 1]"),
    ({"texts": ["fine", "x" * 20_001]}, "texts[1] has 20001 characters"),
    ({"texts": []}, "texts must not be empty"),
])
def test_bad_input_refused_before_running(monkeypatch, kwargs, words):
    def never(*args, **kw):
        raise AssertionError("the model ran")

    monkeypatch.setattr(replace, "_run", never)
    args = {"texts": ["The cat sat on the mat."], "variant": "linear", "layers": "all", **kwargs}
    with pytest.raises((ValueError, TypeError)) as info:
        replace_attention(args.pop("texts"), args.pop("variant"), args.pop("layers"), device="cpu", **args)
    assert words in str(info.value) and "\n" not in str(info.value)
