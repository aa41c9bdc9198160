"""The model's maps against the stored reference in data/attention (see its README)."""

from pathlib import Path

import numpy as np

from workbench import results
from workbench.attention import model_attention

REF = Path(__file__).resolve().parents[2] / "data" / "attention" / "minilm_maps_cat.nc"


def test_maps_match_stored_reference():
    ref = results.load(REF)["attention"]
    da = model_attention(results.parameters(ref)["text"], device="cpu")
    assert list(da["query_token"].values) == list(ref["query_token"].values)
    # same weights and float32 kernels: agreement to float32 rounding, checked at the 1e-5 of the issue
    np.testing.assert_allclose(da.values, ref.values, atol=1e-5, rtol=0)
