"""The model's attention maps against transformers' own eager ``output_attentions``."""

import numpy as np
import pytest
import torch

from workbench import results
from workbench.attention import MAX_POSITIONS, N_HEADS, N_LAYERS, layer_qkv, load_model, model_attention

TEXT = "Attention disperses as the sequence grows, while a window keeps it focused."
BATCH = ["Short one.", "A considerably longer second sentence, so the first gets padded."]


def reference_attentions(texts):
    """transformers' eager attention weights: (layer, text, head, query, key)."""
    tokenizer, model = load_model("cpu")
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = model(**enc, output_attentions=True)
    return torch.stack(out.attentions).numpy(), enc["attention_mask"].numpy().astype(bool)


def test_single_text_matches_transformers_eager():
    da = model_attention(TEXT, device="cpu")
    ref, _ = reference_attentions([TEXT])
    assert da.dims == ("layer", "head", "query", "key")
    assert da.shape[:2] == (N_LAYERS, N_HEADS)
    # float32 softmax of identical scores: agreement to a few ulp; 1e-5 is the required tolerance
    np.testing.assert_allclose(da.values, ref[:, 0], atol=1e-5, rtol=0)
    tokens = list(da["query_token"].values)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and "attention" in tokens
    assert list(da["key_token"].values) == tokens
    assert da.attrs["kind"] == "attention.model_attention"
    assert results.parameters(da)["text"] == TEXT


def test_rows_sum_to_one():
    da = model_attention(TEXT, device="cpu")
    # each row is a float32 softmax over <= 20 keys: sum within a few ulp of 1
    np.testing.assert_allclose(da.sum("key").values, 1.0, atol=1e-5)
    assert float(da.min()) >= 0.0


def test_batch_honours_padding():
    da = model_attention(BATCH, device="cpu")
    ref, mask = reference_attentions(BATCH)
    assert da.dims == ("text", "layer", "head", "query", "key")
    n0 = int(da["n_tokens"][0])
    assert n0 == mask[0].sum() and n0 < da.sizes["query"]
    short = da.isel(text=0)
    # padded keys get exactly zero weight, padded queries do not exist (NaN)
    assert float(np.abs(short.isel(query=slice(0, n0), key=slice(n0, None))).max()) == 0.0
    assert np.isnan(short.isel(query=slice(n0, None)).values).all()
    # real rows equal transformers' (which masks the same keys) and the unpadded single-text maps
    np.testing.assert_allclose(short.values[..., :n0, :], ref[:, 0, :, :n0, :], atol=1e-5, rtol=0)
    alone = model_attention(BATCH[0], device="cpu")
    np.testing.assert_allclose(short.values[..., :n0, :n0], alone.values, atol=1e-5, rtol=0)
    np.testing.assert_allclose(da.isel(text=1).values, ref[:, 1], atol=1e-5, rtol=0)
    assert list(da["key_token"].values[0, n0:]) == [""] * (da.sizes["key"] - n0)


def test_layer_qkv_reproduces_the_layer_map():
    layer = 3
    x = layer_qkv(TEXT, layer, device="cpu")
    maps = torch.softmax(x.q @ x.k.transpose(-1, -2) / x.q.shape[-1] ** 0.5, dim=-1)
    da = model_attention(TEXT, device="cpu")
    np.testing.assert_allclose(maps.numpy(), da.isel(layer=layer).values, atol=1e-6)
    assert x.tokens == list(da["query_token"].values)
    assert x.v.shape == x.q.shape == (N_HEADS, len(x.tokens), 32)


def test_netcdf_round_trip(tmp_path):
    da = model_attention(BATCH, device="cpu")
    results.save(da.to_dataset(), tmp_path / "maps.nc")
    back = results.load(tmp_path / "maps.nc")["attention"]
    np.testing.assert_array_equal(back.values, da.values)
    assert list(back["query_token"].values[1]) == list(da["query_token"].values[1])


@pytest.mark.parametrize("bad, exc, words", [
    ("", ValueError, "text must not be empty"),
    ("   \n", ValueError, "text must not be empty"),
    ([], ValueError, "text must not be empty"),
    (["fine", " "], ValueError, "text[1] must not be empty"),
    (42, TypeError, "text must be a string"),
    ("word " * 600, ValueError, f"at most {MAX_POSITIONS} positions"),
])
def test_bad_text(bad, exc, words):
    with pytest.raises(exc) as info:
        model_attention(bad, device="cpu")
    assert words in str(info.value)


def test_longest_accepted_input():
    # "a" is one WordPiece: 510 of them + [CLS] + [SEP] = 512 positions, the model's limit
    da = model_attention("a " * 510, device="cpu")
    assert da.sizes["query"] == MAX_POSITIONS
    with pytest.raises(ValueError, match="513 tokens"):
        model_attention("a " * 511, device="cpu")


def test_bad_layer():
    with pytest.raises(ValueError, match=r"layer must be in \[0, 5\]"):
        layer_qkv(TEXT, 6)


def test_batch_beyond_memory_refused_before_the_model_runs(monkeypatch):
    from workbench import runtime

    # pretend the machine has 1 MiB free: 6 x 12 maps of 16 x 16 floats already need more
    monkeypatch.setattr(runtime, "available_memory", lambda device=None: 2**20)
    with pytest.raises(MemoryError, match="reduce text"):
        model_attention(["a sentence of a dozen words or so to fill the maps up"] * 8, device="cpu")


def test_maps_recomputed_for_an_sdpa_model_equal_eager_maps():
    tokenizer, sdpa = load_model("cpu", implementation="sdpa")
    enc = tokenizer([TEXT], return_tensors="pt")
    with torch.inference_mode():
        hidden = sdpa(**enc, output_attentions=True).attentions
    assert not hidden   # SDPA's fused kernel never forms the maps: transformers returns none
    # float64: the SDPA model's captured Q, K against transformers' own eager maps
    _, eager64 = load_model("cpu", "float64")
    with torch.inference_mode():
        ref64 = torch.stack(eager64(**enc, output_attentions=True).attentions)[:, 0].numpy()
    da64 = model_attention(TEXT, device="cpu", dtype="float64", implementation="sdpa")
    np.testing.assert_allclose(da64.values, ref64, atol=1e-6, rtol=0)
    assert float(np.abs(da64.values - ref64).max()) < 1e-12   # only float64 rounding remains
    # float32: SDPA's and eager's hidden states differ by rounding (~1e-6 relative after a few
    # layers), which moves a softmax weight by at most a few 1e-6
    da = model_attention(TEXT, device="cpu", implementation="sdpa")
    ref, _ = reference_attentions([TEXT])
    np.testing.assert_allclose(da.values, ref[:, 0], atol=5e-6, rtol=0)
    assert results.parameters(da)["implementation"] == "sdpa"
    with pytest.raises(ValueError, match="implementation must be one of 'eager', 'sdpa'"):
        model_attention(TEXT, implementation="flash")
