"""Inputs past the 512-token window by concatenated segments: exact within a window, blockwise beyond."""

import numpy as np
import pytest
import torch

from workbench.attention import dispersion, long_variants, model_qkv, segmented_qkv
from workbench.attention.long_input import MAX_LONG_TOKENS, owners, segment_starts
from workbench.attention.model import load_tokenizer
from workbench.attention.texts import MAX_TEXT_CHARS, SENTENCES


@pytest.fixture(scope="module")
def words():
    """A seeded sequence of words that are one WordPiece each, so a run of words is a run of tokens."""
    tok = load_tokenizer()
    vocab = sorted({w.strip(".,").lower() for s in SENTENCES for w in s.split()})
    single = [w for w in vocab if len(tok(w, add_special_tokens=False)["input_ids"]) == 1]
    assert len(single) > 50
    return list(np.random.default_rng(0).choice(single, size=150))


def test_a_text_within_one_segment_is_exactly_the_model_run():
    text = "The animal didn't cross the street because it was too tired."
    x, ref = segmented_qkv(text, device="cpu"), model_qkv(text, device="cpu")
    assert x.tokens == ref.tokens[0] and x.starts == [0]
    for a, b in zip((x.q, x.k, x.v), (ref.q[:, 0], ref.k[:, 0], ref.v[:, 0])):
        assert a.shape == b.shape == (6, 12, len(x.tokens), 32)
        assert torch.equal(a, b)   # the same single forward: bit for bit


@pytest.mark.parametrize("overlap", [0, 8])
def test_each_block_is_the_model_run_on_its_segment_alone(words, overlap):
    size = 40
    x = segmented_qkv(" ".join(words), size=size, overlap=overlap, device="cpu")
    n = len(words) + 2
    assert x.q.shape == x.k.shape == x.v.shape == (6, 12, n, 32)
    assert x.tokens[0] == "[CLS]" and x.tokens[-1] == "[SEP]" and x.tokens[1:-1] == words
    assert x.starts == segment_starts(len(words), size, overlap) and x.starts[-1] == len(words) - size
    assert sorted(set(x.segment)) == list(range(len(x.starts)))
    for w, s in enumerate(x.starts):
        alone = model_qkv(" ".join(words[s:s + size]), device="cpu")   # positions 0..size+1 of this segment
        keep = np.flatnonzero(x.segment == w)
        pos = x.position[keep]
        for a, b in zip((x.q, x.k, x.v), (alone.q, alone.k, alone.v)):
            # batched (one batch of all segments) against alone: float32 summation order only
            torch.testing.assert_close(a[:, :, keep], b[:, 0][:, :, pos], rtol=0, atol=2e-5)
        assert [x.tokens[i] for i in keep] == [alone.tokens[0][p] for p in pos]


def test_owner_is_the_segment_with_the_nearest_centre():
    n, size, overlap = 100, 30, 10
    starts = segment_starts(n, size, overlap)
    assert starts == [0, 20, 40, 60, 70]
    own = owners(n, size, starts)
    centres = np.asarray(starts) + (size - 1) / 2
    dist = np.abs(np.arange(n)[:, None] - centres[None, :])
    inside = (np.arange(n)[:, None] >= np.asarray(starts)) & (np.arange(n)[:, None] < np.asarray(starts) + size)
    assert np.all(inside[np.arange(n), own])
    # nearest centre, ties to the earlier segment (argmin returns the first)
    np.testing.assert_array_equal(own, np.argmin(np.where(inside, dist, np.inf), axis=1))


def test_dispersion_and_variants_on_a_long_text(words):
    text = " ".join(words * 5)          # 750 words: n = 752 > 512 positions
    ds = dispersion([64, 752], variants=["full", "sliding"], source="model", text=text, window=8, max_rows=16,
                    device="cpu")
    # with at most 8 keys per query the largest weight is at least 1/8; full rows spread below log n
    assert np.all(ds["max_weight"].sel(variant="sliding").values >= 1 / 8 - 1e-6)
    assert np.all(ds["entropy"].sel(variant="full").values <= np.log([64, 752]) + 1e-6)
    assert ds.attrs["kind"] == "attention.dispersion"
    lv = long_variants(text, ["full", "sliding", "linear"], layer=1, window=1503, device="cpu")
    assert lv["n_tokens"] == 752 and lv["segments"] == 2
    # full against itself is 0; a centred band of 2n - 1 keys covers every key: sliding is full attention
    assert float(lv["relative_error"].sel(variant="full").max()) == 0.0
    assert float(lv["relative_error"].sel(variant="sliding").max()) < 1e-5
    assert float(lv["relative_error"].sel(variant="linear").min()) > 1e-2


@pytest.mark.parametrize("call, words_", [
    (lambda t: segmented_qkv("x" * (MAX_TEXT_CHARS + 1)), f"at most {MAX_TEXT_CHARS} characters"),
    (lambda t: segmented_qkv(t, size=0), "segment must be in [1, 510]"),
    (lambda t: segmented_qkv(t, size=40, overlap=21), "overlap must be in [0, 20]"),
    (lambda t: segmented_qkv("a " * (MAX_LONG_TOKENS + 1)), f"at most {MAX_LONG_TOKENS}"),
    (lambda t: dispersion([2000], source="model", text=t), "n must be in [2, 152]"),
    (lambda t: dispersion([64], source="gaussian", text=t), "text is only read with source 'model'"),
    (lambda t: long_variants(t, ["sliding"], window=400), "window must be in [1, 303]"),
])
def test_bad_input_is_refused_before_the_model_runs(words, call, words_):
    with pytest.raises(ValueError) as info:
        call(" ".join(words))
    assert words_ in str(info.value)
