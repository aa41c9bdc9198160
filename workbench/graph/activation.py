"""A network with the WNLL interpolating function as its output activation (Wang et al., NeurIPS 2018).

The digits MLP of :mod:`workbench.hj.network` (64 inputs, a ReLU layer of
``HIDDEN`` = 32 units, 10 classes, the same data) gains a *buffer block* (a
32 -> 32 tanh layer) between its hidden layer and its linear output layer.
With the buffer's features f(x), the linear activation is the usual
``softmax(A f(x) + b)``; the WNLL activation labels the points of a batch from
a *template* (the other part of the batch, with its labels) by the WNLL
harmonic extension over the kNN graph of the features (:mod:`.laplace`).
Training follows the paper's three steps:

1. train the whole network with the linear activation (cross-entropy);
2. freeze all but the buffer block and fine-tune it through the WNLL
   activation: each step splits the training set at random into template and
   batch, interpolates the one-hot labels to the batch (u = WNLL(f, g)), and
   takes the cross-entropy of u with the gradient of the linear activation as
   surrogate (the interpolation itself is not differentiated: the paper's
   backward pass "through the linear function": ∂loss/∂logits = u - onehot);
3. unfreeze everything and train again the same way.

At test time the vanilla network predicts argmax of its logits; the WNLL
network labels the test points by WNLL from the whole training set as
template. :func:`degradation_study` measures the test error of both against
the number of training samples, the paper's "degradation when lacking
training data" (their CIFAR-10 figure; ResNet20 with 1000 training images:
34.90% vanilla vs 29.91% WNLL error).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from .. import results, runtime, validate
from ..hj.network import HIDDEN, digits
from .classify import one_hot
from .knn import knn_graph
from .laplace import harmonic_extension
from .weights import weight_matrix

K_FEATURES = 15  # kNN graph of the features (the paper: 15 neighbours, σ(x) the 8th neighbour's distance)
SIGMA_FEATURES = 8
N_TEST = 797  # the last 797 digits are the test set; training sets are drawn from the first 1000
MAX_TRAIN = 1000


class BufferedMLP(torch.nn.Module):
    """64 -> 32 ReLU -> buffer 32 -> 32 tanh -> linear 10; ``features`` is the buffer's output."""

    def __init__(self, gen: torch.Generator):
        super().__init__()
        self.hidden = torch.nn.Linear(64, HIDDEN)
        self.buffer = torch.nn.Linear(HIDDEN, HIDDEN)
        self.out = torch.nn.Linear(HIDDEN, 10)
        with torch.no_grad():
            for layer in (self.hidden, self.buffer, self.out):
                bound = 1 / layer.in_features ** 0.5
                layer.weight.copy_(torch.empty_like(layer.weight).uniform_(-bound, bound, generator=gen))
                layer.bias.zero_()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.buffer(torch.relu(self.hidden(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))


def wnll_interpolate(features: np.ndarray, template: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """u (n, 10): the WNLL extension of the one-hot ``labels`` of the ``template`` points to all points."""
    n = len(features)
    k = min(K_FEATURES, n - 1)
    W = weight_matrix(knn_graph(features, k, method="exact"), min(SIGMA_FEATURES, k))
    g = np.zeros((n, 10))
    g[template] = one_hot(labels, np.arange(10))
    mask = np.zeros(n, bool)
    mask[template] = True
    return harmonic_extension(W, mask, g, "wnll", tol=1e-6).u[0]


def _surrogate_step(model: BufferedMLP, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                    gen: np.random.Generator) -> float:
    """One step through the WNLL activation (steps 2 and 3): half the set is the template."""
    n = len(y)
    perm = gen.permutation(n)
    template, batch = perm[: n // 2], perm[n // 2:]
    feats = model.features(x)
    logits = model.out(feats)
    u = wnll_interpolate(feats.detach().cpu().double().numpy(), template, y[template].cpu().numpy())
    u = torch.as_tensor(u[batch], dtype=logits.dtype, device=logits.device).clamp_min(1e-12)
    u = u / u.sum(1, keepdim=True)
    z = logits[batch]
    # forward value: cross-entropy of the WNLL output; backward: through the linear activation (u - onehot)
    z_st = z + (torch.log(u) - z).detach()
    loss = torch.nn.functional.cross_entropy(z_st, y[batch])
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())


def train(x: torch.Tensor, y: torch.Tensor, *, epochs: int = 200, wnll_steps: int = 30, seed: int = 0,
          lr: float = 0.01) -> tuple[BufferedMLP, BufferedMLP]:
    """The vanilla network (step 1 only) and the WNLL network (steps 1-3), on the same training set."""
    gen = torch.Generator().manual_seed(seed)
    model = BufferedMLP(gen).to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):  # step 1: linear activation, full batch
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    vanilla = BufferedMLP(gen).to(x.device)
    vanilla.load_state_dict(model.state_dict())
    rng = np.random.default_rng(seed)
    for p in (*model.hidden.parameters(), *model.out.parameters()):  # step 2: only the buffer learns
        p.requires_grad_(False)
    opt = torch.optim.Adam(model.buffer.parameters(), lr=lr)
    for _ in range(wnll_steps):
        _surrogate_step(model, opt, x, y, rng)
    for p in model.parameters():  # step 3: everything again
        p.requires_grad_(True)
    opt = torch.optim.Adam(model.parameters(), lr=lr / 2)
    for _ in range(wnll_steps):
        _surrogate_step(model, opt, x, y, rng)
    return vanilla, model


@torch.no_grad()
def test_errors(vanilla: BufferedMLP, wnll: BufferedMLP, x_train, y_train, x_test, y_test) -> tuple[float, float]:
    """Test error of the vanilla network (argmax logits) and of the WNLL network (training set as template)."""
    err_v = float((vanilla(x_test).argmax(1) != y_test).double().mean())
    feats = torch.cat([wnll.features(x_train), wnll.features(x_test)]).cpu().double().numpy()
    u = wnll_interpolate(feats, np.arange(len(y_train)), y_train.cpu().numpy())
    err_w = float((torch.as_tensor(u[len(y_train):].argmax(1)) != y_test.cpu()).double().mean())
    return err_v, err_w


def degradation_study(train_sizes: Sequence[int] = (50, 100, 200, 500, 1000), *, seeds: int = 3,
                      epochs: int = 200, wnll_steps: int = 30, seed: int = 0, device: Any = None,
                      callback: Callable[[int, int, float, float], None] | None = None,
                      cancel: threading.Event | None = None) -> xr.Dataset:
    """Test error of vanilla vs WNLL-activated MLP against the training-set size, over ``seeds`` seeds.

    Seed ``s`` draws a class-stratified training set of each size from the first 1000 digits; the test
    set is always the last 797. Returns ``error`` over ``activation`` (linear, wnll) × ``train_size`` ×
    ``seed`` with ``error_mean`` and ``error_std``.
    """
    sizes = sorted({validate.integer("train_sizes", s, lo=20, hi=MAX_TRAIN) for s in train_sizes})
    validate.non_empty("train_sizes", sizes)
    seeds = validate.integer("seeds", seeds, lo=1, hi=100)
    epochs = validate.integer("epochs", epochs, lo=1, hi=100_000)
    wnll_steps = validate.integer("wnll_steps", wnll_steps, lo=1, hi=10_000)
    dev = runtime.resolve_device(device)
    x_all, y_all = digits()
    x_all, y_all = x_all.to(dev), y_all.to(dev)
    x_pool, y_pool = x_all[:-N_TEST], y_all[:-N_TEST]
    x_test, y_test = x_all[-N_TEST:], y_all[-N_TEST:]
    err = np.full((2, len(sizes), seeds), np.nan)
    with results.timer() as clock:
        for j, size in enumerate(sizes):
            for s in range(seeds):
                if cancel is not None and cancel.is_set():
                    break
                from sklearn.model_selection import train_test_split

                pick = np.arange(len(y_pool))
                if size < len(y_pool):
                    pick, _ = train_test_split(pick, train_size=size, random_state=seed + s,
                                               stratify=y_pool.cpu().numpy())
                pick = torch.as_tensor(np.sort(pick), device=dev)
                xt, yt = x_pool[pick], y_pool[pick]
                vanilla, wnll = train(xt, yt, epochs=epochs, wnll_steps=wnll_steps, seed=seed + s)
                err[:, j, s] = test_errors(vanilla, wnll, xt, yt, x_test, y_test)
                if callback is not None:
                    callback(size, s, float(err[0, j, s]), float(err[1, j, s]))
    ds = results.dataset(
        {"error": (("activation", "train_size", "seed"), err, {"long_name": "test error", "units": "1"})},
        {"activation": ("activation", np.array(["linear", "wnll"])),
         "train_size": ("train_size", np.array(sizes), {"long_name": "training samples"}),
         "seed": ("seed", np.arange(seeds))},
        params={"train_sizes": sizes, "seeds": seeds, "epochs": epochs, "wnll_steps": wnll_steps,
                "n_test": N_TEST, "k": K_FEATURES, "sigma_neighbor": SIGMA_FEATURES},
        kind="graph.activation", seed=seed, device=dev, elapsed=clock["elapsed"])
    ddof = 1 if seeds > 1 else 0
    ds["error_mean"] = ds.error.mean("seed")
    ds["error_std"] = ds.error.std("seed", ddof=ddof)
    ds["error_mean"].attrs = {"long_name": "mean test error over seeds", "units": "1"}
    ds["error_std"].attrs = {"long_name": "std of test error over seeds", "units": "1"}
    return ds


def summary(ds: xr.Dataset) -> dict[str, Any]:
    """``{activation: {"train_size": [...], "mean": [...], "std": [...]}}`` test errors."""
    sizes = [int(v) for v in ds.train_size.values]
    return {str(a): {"train_size": sizes, "mean": [float(v) for v in ds.error_mean.sel(activation=a).values],
                     "std": [float(v) for v in ds.error_std.sel(activation=a).values]}
            for a in ds.activation.values}
