"""Dispersion: softmax weights fall like 1/n, window weights do not."""

import math

import numpy as np
import pytest
import torch

from workbench.attention import dispersion, loglog_slope, row_metrics

NS = [64, 128, 256, 512, 1024, 2048]
R = 1.0   # score bound |q.k| / sqrt(d) <= R on the sphere inputs
W = 16


@pytest.fixture(scope="module")
def sphere():
    return dispersion(NS, variants=["full", "sliding", "block", "sema", "linear"], source="sphere",
                      score_bound=R, window=W, heads=2, max_rows=64, device="cpu")


def test_row_metrics_closed_forms():
    n = 40
    uniform = torch.full((1, n), 1.0 / n, dtype=torch.float64)
    m = row_metrics(uniform)
    assert m["entropy"].item() == pytest.approx(math.log(n), rel=1e-12)
    assert m["max_weight"].item() == pytest.approx(1 / n, rel=1e-12)
    assert m["k90"].item() == 36  # ceil(0.9 * 40)
    one_hot = torch.zeros(1, n, dtype=torch.float64)
    one_hot[0, 7] = 1
    m = row_metrics(one_hot)
    assert (m["entropy"].item(), m["max_weight"].item(), m["k90"].item()) == (0.0, 1.0, 1.0)
    two = torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64)
    assert row_metrics(two)["k90"].item() == 3 and row_metrics(two, mass=0.8)["k90"].item() == 2


def test_full_softmax_disperses_like_one_over_n(sphere):
    full = sphere["max_weight"].sel(variant="full").values
    n = np.asarray(NS, float)
    # Lemma (SEMA, 3.2): with |scores| <= R every weight lies in [e^{-2R}/n, e^{2R}/n],
    # so n * max weight stays in [1, e^{2R}] for every n: Theta(1/n), a rigorous band
    assert np.all(n * full >= 1 - 1e-6) and np.all(n * full <= math.exp(2 * R))
    # entropy >= log n - 2R by the same bound (each -log a_ij >= log n - 2R)
    ent = sphere["entropy"].sel(variant="full").values
    assert np.all(ent >= np.log(n) - 2 * R) and np.all(ent <= np.log(n) + 1e-9)
    # log-log slope: the largest of n scores, R u.u' with u.u' ~ N(0, 1/d), grows like
    # R sqrt(2 ln n / d), which tilts the slope by R / sqrt(2 d ln n) ~ 0.04 (d = 32, n ~ 350);
    # sampling 64 rows x 2 heads adds ~0.01. Tolerance 0.1 covers both, far from a window's 0.
    assert loglog_slope(n, full) == pytest.approx(-1.0, abs=0.1)
    assert loglog_slope(n, sphere["max_weight"].sel(variant="linear").values) == pytest.approx(-1.0, abs=0.1)


@pytest.mark.parametrize("variant", ["sliding", "block"])
def test_window_attention_stays_focused(sphere, variant):
    mw = sphere["max_weight"].sel(variant=variant).values
    # at most w keys per query: the largest weight is at least the mean 1/w, for every n
    assert np.all(mw >= 1 / W - 1e-7)
    assert abs(loglog_slope(NS, mw)) < 0.1
    assert np.all(sphere["k90"].sel(variant=variant).values <= W)
    # SEMA keeps the window's focus at (1 - mix) of its weight
    assert np.all(sphere["max_weight"].sel(variant="sema").values >= 0.5 / W)


def test_references_and_provenance(sphere):
    np.testing.assert_allclose(sphere["max_weight_ref"].values, 1 / np.asarray(NS))
    np.testing.assert_allclose(sphere["entropy_ref"].values, np.log(NS))
    assert sphere.attrs["kind"] == "attention.dispersion"
    assert sphere["max_weight"].dims == ("variant", "n")


def test_chunk_results_do_not_depend_on_grid():
    # each n draws its own inputs from (seed, n): a sub-grid gives the same numbers
    a = dispersion([64, 256], variants=["full"], heads=1, max_rows=32, device="cpu")
    b = dispersion([256], variants=["full"], heads=1, max_rows=32, device="cpu")
    assert a["entropy"].sel(n=256).item() == b["entropy"].sel(n=256).item()


def test_model_source_runs_on_real_queries_and_keys():
    ds = dispersion([64, 256], variants=["full", "sliding"], source="model", window=8, max_rows=16,
                    layer=0, device="cpu")
    assert np.all(ds["max_weight"].sel(variant="sliding").values >= 1 / 8 - 1e-6)
    assert np.all(ds["entropy"].sel(variant="full").values <= np.log([64, 256]) + 1e-6)


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"ns": [64], "window": 128}, ValueError, "window must be in [1, 64]"),
    ({"ns": [64], "variants": ["fwin"]}, ValueError, "variant must be one of"),
    ({"ns": []}, ValueError, "n must not be empty"),
    ({"ns": [1]}, ValueError, "n must be in [2,"),
    ({"ns": [64], "source": "web"}, ValueError, "source must be one of"),
])
def test_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc) as info:
        dispersion(**kwargs)
    assert words in str(info.value)


def test_beyond_memory_refused_before_allocating():
    with pytest.raises(MemoryError, match="reduce n"):
        dispersion([64, 200_000], heads=64, d=1024, max_rows=65536)
