"""The loss of a small trained network on a 2-D slice of its weight space (Li et al. 2018).

A one-hidden-layer MLP (64 -> 32 -> 10, ReLU) is trained on scikit-learn's
``digits`` (shipped with the package: no download) by full-batch Adam for a few
hundred steps (about a second). Two random directions ``d1, d2`` shaped like the
weights are *filter-normalised* as in Li, Xu, Taylor, Studer, Goldstein,
"Visualizing the loss landscape of neural nets" (NeurIPS 2018): Gaussian entries,
each filter (row of a weight matrix, i.e. one output neuron) rescaled to the norm of
the corresponding row of the trained weights, bias directions zeroed. The landscape
is the cross-entropy ``L(w* + a d1 + b d2)`` on a fixed subset of the training data,
as a batched, differentiable function of ``(a, b)``; its minimum is near ``(0, 0)``.
"""

from __future__ import annotations

import functools

import torch

from .landscapes import Landscape, register

HIDDEN = 32
N_EVAL = 256
CHUNK = 64  # slice points per forward pass (bounds memory: CHUNK x N_EVAL x HIDDEN)


def digits(dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8x8 digits, pixels scaled to [0, 1], with integer labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (torch.tensor(data.data / 16.0, dtype=dtype), torch.tensor(data.target, dtype=torch.long))


def train_mlp(steps: int = 200, seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """Train the MLP by full-batch Adam; returns [W1, b1, W2, b2], inputs, labels."""
    x, y = digits()
    gen = torch.Generator().manual_seed(seed)
    w1 = (torch.randn(HIDDEN, 64, generator=gen) / 8).requires_grad_()
    b1 = torch.zeros(HIDDEN, requires_grad=True)
    w2 = (torch.randn(10, HIDDEN, generator=gen) / HIDDEN ** 0.5).requires_grad_()
    b2 = torch.zeros(10, requires_grad=True)
    params = [w1, b1, w2, b2]
    opt = torch.optim.Adam(params, lr=0.01)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch.relu(x @ w1.T + b1) @ w2.T + b2, y)
        loss.backward()
        opt.step()
    return [p.detach() for p in params], x, y


def filter_normalised(params: list[torch.Tensor], gen: torch.Generator) -> list[torch.Tensor]:
    """A random direction shaped like ``params``: rows rescaled to the weights' row norms, biases 0."""
    out = []
    for p in params:
        if p.ndim == 1:
            out.append(torch.zeros_like(p))
            continue
        d = torch.randn(p.shape, generator=gen, dtype=p.dtype)
        out.append(d * (p.norm(dim=1, keepdim=True) / d.norm(dim=1, keepdim=True)))
    return out


class NetworkSlice:
    """``(a, b) -> cross-entropy(w* + a d1 + b d2)``, batched over leading axes, differentiable."""

    def __init__(self, seed: int = 0, steps: int = 200):
        self.params, x, y = train_mlp(steps, seed)
        gen = torch.Generator().manual_seed(seed + 1)
        self.d1 = filter_normalised(self.params, gen)
        self.d2 = filter_normalised(self.params, gen)
        pick = torch.randperm(len(x), generator=gen)[:N_EVAL]
        self.x, self.y = x[pick], y[pick]
        with torch.no_grad():
            logits = torch.relu(x @ self.params[0].T + self.params[1]) @ self.params[2].T + self.params[3]
        self.train_accuracy = float((logits.argmax(1) == y).double().mean())

    def __call__(self, ab: torch.Tensor) -> torch.Tensor:
        shape = ab.shape[:-1]
        flat = ab.reshape(-1, 2)
        return torch.cat([self._loss(flat[i:i + CHUNK]) for i in range(0, len(flat), CHUNK)]).reshape(shape)

    def _loss(self, ab: torch.Tensor) -> torch.Tensor:
        dt, dev = ab.dtype, ab.device
        a, b = ab[:, 0], ab[:, 1]
        w1, b1, w2, b2 = (p.to(dev, dt)[None] + a.view(-1, *[1] * p.ndim) * d1.to(dev, dt)[None]
                          + b.view(-1, *[1] * p.ndim) * d2.to(dev, dt)[None]
                          for p, d1, d2 in zip(self.params, self.d1, self.d2))
        x = self.x.to(dev, dt)
        h = torch.relu(torch.einsum("nd,bhd->bnh", x, w1) + b1[:, None, :])
        logits = torch.einsum("bnh,bkh->bnk", h, w2) + b2[:, None, :]
        logp = torch.log_softmax(logits, dim=-1)
        return -logp.gather(-1, self.y.to(dev)[None, :, None].expand(len(ab), -1, 1)).mean(dim=(1, 2))


@functools.lru_cache(maxsize=1)
def mlp_digits() -> Landscape:
    """The network-loss landscape on [-1, 1]^2 (trained once per process)."""
    net = NetworkSlice()
    return Landscape("mlp_digits", net, -1.0, 1.0, dims=(2,),
                     description="cross-entropy of a 64-32-10 MLP on digits, filter-normalised 2-D slice",
                     meta={"train_accuracy": net.train_accuracy}, max_grid=129)


register("mlp_digits", mlp_digits)
