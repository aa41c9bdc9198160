"""Rollout and flow against hand computations; head summaries against closed forms."""

import math

import numpy as np
import pytest

from workbench.attention.aggregates import MAX_FLOW_TOKENS, attention_flow, head_summary, rollout

# two layers, two heads, two tokens
#   layer 1: head 0 = I, head 1 = swap   -> mean [[.5,.5],[.5,.5]] -> Â1 = [[.75,.25],[.25,.75]]
#   layer 2: both heads [[1,0],[1,0]]    -> mean [[1,0],[1,0]]     -> Â2 = [[1,0],[.5,.5]]
TOY = np.array([[[[1, 0], [0, 1]], [[0, 1], [1, 0]]],
                [[[1, 0], [1, 0]], [[1, 0], [1, 0]]]], dtype=float)


def test_rollout_hand_computation():
    r = rollout(TOY)
    np.testing.assert_allclose(r.isel(layer=0).values, [[0.75, 0.25], [0.25, 0.75]], atol=1e-15)
    # R2 = Â2 Â1 = [[1*.75, 1*.25], [.5*.75 + .5*.25, .5*.25 + .5*.75]]
    np.testing.assert_allclose(r.isel(layer=1).values, [[0.75, 0.25], [0.5, 0.5]], atol=1e-15)
    assert r.dims == ("layer", "query", "key") and r.attrs["kind"] == "attention.rollout"


def test_flow_hand_computation():
    # F[i, j] = sum_k min(Â2[i, k], Â1[k, j]):
    #   F[0,0] = min(1,.75) + min(0,.25) = .75    F[0,1] = min(1,.25) + min(0,.75) = .25
    #   F[1,0] = min(.5,.75) + min(.5,.25) = .75  F[1,1] = min(.5,.25) + min(.5,.75) = .75
    f = attention_flow(TOY, queries=[0, 1])
    # capacities rounded to multiples of 2^-24: each flow within n * 2^-25 of the exact value
    np.testing.assert_allclose(f.values, [[0.75, 0.25], [0.75, 0.75]], atol=2 * 2.0 ** -25)
    # one layer: the flow is the single edge's capacity, Â1
    np.testing.assert_allclose(attention_flow(TOY[:1], queries=[0, 1]).values, [[0.75, 0.25], [0.25, 0.75]],
                               atol=2 * 2.0 ** -25)


def random_maps(layers, heads, n, seed=0):
    g = np.random.default_rng(seed)
    a = g.exponential(size=(layers, heads, n, n)) ** 3
    return a / a.sum(-1, keepdims=True)


def test_flow_matches_networkx_on_three_layers():
    nx = pytest.importorskip("networkx")
    maps = random_maps(3, 2, 5)
    a_hat = 0.5 * maps.mean(1) + 0.5 * np.eye(5)
    g = nx.DiGraph()
    for layer in range(3):
        for i in range(5):
            for j in range(5):
                g.add_edge((layer, j), (layer + 1, i), capacity=a_hat[layer, i, j])
    f = attention_flow(maps, queries=[0, 3])
    for a, i in enumerate([0, 3]):
        for j in range(5):
            exact = nx.maximum_flow_value(g, (0, j), (3, i))
            assert abs(f.values[a, j] - exact) < 5 * 2.0 ** -25   # the rounding bound n / 2^25
    # the flow never exceeds the rollout's single-path bottleneck-free total
    assert (f.values <= 1 + 1e-9).all()


def test_head_summary_closed_forms():
    n = 7
    ident = np.broadcast_to(np.eye(n), (2, 3, n, n))
    uniform = np.full((2, 3, n, n), 1.0 / n)
    s = head_summary(np.concatenate([ident, uniform]))
    assert s["entropy"].dims == ("layer", "head")
    np.testing.assert_allclose(s["entropy"].values[:2], 0.0, atol=1e-12)
    np.testing.assert_allclose(s["entropy"].values[2:], math.log(n), atol=1e-12)
    np.testing.assert_allclose(s["k90"].values[:2], 1)
    np.testing.assert_allclose(s["k90"].values[2:], math.ceil(0.9 * n))
    np.testing.assert_allclose(s["diagonal_distance"].values[:2], 0.0, atol=0)
    # mean over i, j of |i - j| for n tokens: (n^2 - 1) / (3 n)
    np.testing.assert_allclose(s["diagonal_distance"].values[2:], (n * n - 1) / (3 * n), atol=1e-12)


@pytest.mark.parametrize("maps, kwargs, words", [
    (np.ones((2, 1, 3, 3)), {}, "rows summing to 1"),
    (np.ones((2, 3, 3)) / 3, {}, "shape (layer, head, n, n)"),
    (random_maps(1, 1, MAX_FLOW_TOKENS + 1), {}, f"n must be in [1, {MAX_FLOW_TOKENS}]"),
    (TOY, {"queries": [2]}, "queries must be in [0, 1]"),
    (random_maps(1, 1, 100), {"queries": list(range(50))}, "at most 4096"),
])
def test_flow_bad_input(maps, kwargs, words):
    with pytest.raises(ValueError) as info:
        attention_flow(maps, **kwargs)
    assert words in str(info.value)
