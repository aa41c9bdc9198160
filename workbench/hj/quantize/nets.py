"""Networks on scikit-learn's 8x8 digits with a seed axis: weights of shape (seeds, ...).

* ``mlp``: the family's 64-32-10 ReLU MLP (:mod:`workbench.hj.network`), initialised the same way;
* ``cnn``: conv 3x3 (1 -> 8) - ReLU - maxpool 2 - conv 3x3 (8 -> 16) - ReLU - maxpool 2 - linear 64 -> 10.

Every seed's network is evaluated in one batched call: the MLP by ``torch.baddbmm``,
the CNN by matrix products batched over the seed axis (im2col for the first layer, the
convolution's matrix for the second: :mod:`.conv`), so a batch of S seeds costs one
matrix product per layer, not S. Each seed may see its own
mini-batch (inputs of shape ``(S, B, 64)``) or all seeds the same data (``(N, 64)``:
the first layer's patches are then taken once for all seeds). On the CPU in float32 the
trainer takes the CNN's loss and gradient from one fused pass instead (:mod:`.fused_cnn`),
checked against this network. Weight matrices and
kernels are quantized; biases stay in floating point (BinaryConnect, BWN, TWN).

The CNN pools before it adds the bias and applies the ReLU: ``max_w relu(z_w + c) =
relu(max_w z_w + c)`` (the bias is constant over a window and the ReLU increasing), so
the network is the same, with the elementwise work done on a quarter of the entries.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from ..network import HIDDEN, digits
from .conv import conv3x3_matrix, conv3x3_patches, pool

NETWORKS = ("mlp", "cnn")
C1, C2 = 8, 16
SEED_IMAGES = 2048  # seeds x images per block of a shared input through the CNN (the block's activations stay in cache)


@dataclass(frozen=True)
class Layer:
    name: str
    shape: tuple[int, ...]
    quantized: bool
    fan_in: int


LAYERS = {
    "mlp": (Layer("fc1.weight", (HIDDEN, 64), True, 64), Layer("fc1.bias", (HIDDEN,), False, 64),
            Layer("fc2.weight", (10, HIDDEN), True, HIDDEN), Layer("fc2.bias", (10,), False, HIDDEN)),
    "cnn": (Layer("conv1.weight", (C1, 1, 3, 3), True, 9), Layer("conv1.bias", (C1,), False, 9),
            Layer("conv2.weight", (C2, C1, 3, 3), True, 9 * C1), Layer("conv2.bias", (C2,), False, 9 * C1),
            Layer("fc.weight", (10, 4 * C2), True, 4 * C2), Layer("fc.bias", (10,), False, 4 * C2)),
}


def init(network: str, gen: torch.Generator, dtype: torch.dtype) -> list[torch.Tensor]:
    """One seed's initial weights (the MLP as in :func:`workbench.hj.network.train_mlp`; CNN: He init)."""
    out = []
    for layer in LAYERS[network]:
        if not layer.quantized:
            out.append(torch.zeros(layer.shape, dtype=dtype))
            continue
        scale = (1 / 8 if layer.fan_in == 64 else layer.fan_in ** -0.5) if network == "mlp" \
            else (2 / layer.fan_in) ** 0.5
        out.append(torch.randn(layer.shape, generator=gen, dtype=torch.float32).to(dtype) * scale)
    return out


def _batched_input(x: torch.Tensor, s: int) -> torch.Tensor:
    return x.unsqueeze(0).expand(s, *x.shape) if x.ndim == 2 else x


def logits(network: str, params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits of shape ``(S, B, 10)`` for weights with a leading seed axis S and inputs ``(S, B, 64)`` or ``(B, 64)``."""
    s = params[0].shape[0]
    if network == "mlp":
        x = _batched_input(x, s)
        w1, b1, w2, b2 = params
        h = torch.relu(torch.baddbmm(b1.unsqueeze(1), x, w1.transpose(1, 2)))
        return torch.baddbmm(b2.unsqueeze(1), h, w2.transpose(1, 2))
    if x.ndim == 2 and len(x) > max(1, SEED_IMAGES // s):
        return torch.cat([_cnn(params, xb) for xb in x.split(max(1, SEED_IMAGES // s))], 1)
    return _cnn(params, x)


def _cnn(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """CNN logits ``(S, B, 10)``; activations ``(S, C, H, W, B)`` as in :mod:`.conv`."""
    k1, c1, k2, c2, w3, b3 = params
    s, n = k1.shape[0], x.shape[-2]
    img = x.T.reshape(1, 8, 8, n) if x.ndim == 2 else x.transpose(1, 2).reshape(s, 1, 8, 8, n)
    h = torch.relu(pool(conv3x3_patches(img, k1)) + c1.reshape(s, C1, 1, 1, 1))
    h = torch.relu(pool(conv3x3_matrix(h, k2)) + c2.reshape(s, C2, 1, 1, 1))
    # (S, C2, 2, 2, B) -> (S, 4 C2, B): features in torch's (C, H, W) flattening order
    return torch.baddbmm(b3.unsqueeze(2), w3, h.reshape(s, 4 * C2, n)).transpose(1, 2)


@functools.lru_cache(maxsize=4)
def data(dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, ...]:
    """``(x_train, y_train, x_test, y_test)``: digits split 80/20 by a fixed permutation (seed 0); cached, read-only."""
    x, y = digits(dtype)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    n_test = len(x) // 5
    test, train = perm[:n_test], perm[n_test:]
    return tuple(t.to(device) for t in (x[train], y[train], x[test], y[test]))
