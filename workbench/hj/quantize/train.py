"""Batched training of float, BinaryConnect and BinaryRelax networks, the seed a tensor axis.

Every method trains the same network on the same data from the same seeds; all
seeds of a method advance together: weights are tensors of shape ``(seeds, ...)``,
one forward/backward pass (matmuls batched over the seed axis: :mod:`.nets`, :mod:`.conv`;
the CNN on the CPU in float32: one fused pass, :mod:`.fused_cnn`) serves every seed, and
Adam (elementwise) keeps the seeds independent. Seed ``s`` fixes its initial weights and
its mini-batch order, so a batch of seeds gives the same networks as the same seeds
trained one at a time.

With float weights ``y`` (what the optimizer updates) and the weights ``x`` at which
the gradient is taken (Yin et al., BinaryRelax, SIAM J. Imaging Sci. 2018, Alg. 1)::

    y <- y - gamma * Adam(grad f(x))
    float          x = y
    binaryconnect  x = proj_Q(y)                                 (Courbariaux et al. 2015)
    binaryrelax    x = (lambda proj_Q(y) + y)/(lambda + 1),  lambda <- rho lambda   (Phase I)
                   x = proj_Q(y)                                 (Phase II, epochs >= phase_switch)

BinaryConnect uses the BWN scale (binary: ``alpha = mean|w|``), the TWN heuristic
(ternary) or the exact optimal scale (uniform); BinaryRelax always the exact
projection (:mod:`.sets`). Accuracy and loss are measured on the deployed network,
whose quantized layers are ``proj_Q(y)``: weights exactly on Q.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr

from ... import results, validate
from ...runtime import resolve_device, resolve_dtype
from . import fused_cnn, nets
from .heap import keep_freed_memory
from .relax import Continuation, relaxed_prox
from .sets import QuantSet, project, quant_set, twn

METHODS = ("float", "binaryconnect", "binaryrelax")
MAX_SEEDS = 256
MAX_EPOCHS = 1000
METRICS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "on_grid_fraction", "lam")


@dataclass(frozen=True)
class Config:
    """A checked training configuration (see :func:`check`)."""

    network: str = "mlp"
    quantizer: str = "binary"
    bits: int = 1
    methods: tuple[str, ...] = METHODS
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    epochs: int = 30
    lr: float = 0.01
    batch_size: int = 64
    lambda0: float = 1.0
    rho: float = 1.02
    phase_switch: int = 20

    @property
    def qset(self) -> QuantSet:
        return quant_set(self.quantizer, self.bits)

    @property
    def continuation(self) -> Continuation:
        return Continuation(self.lambda0, self.rho, self.phase_switch)


def check(network: str = "mlp", quantizer: str = "binary", bits: int = 1, methods: Sequence[str] = METHODS,
          seeds: int | Sequence[int] = 4, epochs: int = 30, lr: float = 0.01, batch_size: int = 64,
          lambda0: float = 1.0, rho: float = 1.02, phase_switch: int | None = None) -> Config:
    """Validate every argument (one-line ``ValueError`` naming it) before any training.

    ``seeds`` is a count (seeds ``0..n-1``) or a list of distinct seeds; ``phase_switch``
    defaults to two thirds of ``epochs``.
    """
    validate.choice("network", network, nets.NETWORKS)
    quant_set(quantizer, bits)
    methods = tuple(methods)
    validate.non_empty("methods", methods)
    for m in methods:
        validate.choice("methods", m, METHODS)
    if len(set(methods)) != len(methods):
        raise ValueError(f"methods must not repeat, got {', '.join(methods)}")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = tuple(range(validate.integer("seeds", seeds, lo=1, hi=MAX_SEEDS)))
    else:
        seeds = tuple(validate.integer("seeds", s, lo=0, hi=2**31 - 1) for s in seeds)
        if not 1 <= len(seeds) <= MAX_SEEDS or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be 1 to {MAX_SEEDS} distinct seeds, got {len(seeds)}")
    epochs = validate.integer("epochs", epochs, lo=1, hi=MAX_EPOCHS)
    lr = float(validate.number("lr", lr, lo=0, lo_open=True, hi=1.0))
    batch_size = validate.integer("batch_size", batch_size, lo=1, hi=1024)
    switch = round(2 * epochs / 3) if phase_switch is None else phase_switch
    cont = Continuation.checked(lambda0, rho, switch, epochs)
    return Config(network, quantizer, int(bits), methods, seeds, epochs, lr, batch_size,
                  cont.lambda0, cont.rho, cont.switch)


def quantizer_for(method: str, q: QuantSet) -> Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The projection a method uses: TWN for BinaryConnect-ternary, otherwise the exact :func:`project`."""
    if method == "binaryconnect" and q.name == "ternary":
        return twn
    return lambda w: project(w, q)


@dataclass(frozen=True)
class EpochReport:
    """What :func:`train` reports after each epoch: per-seed metrics, the iterate's quantized layers
    ``x`` (layer name -> array (seeds, n)) and their scales alpha (layer name -> array (seeds,))."""

    method: str
    epoch: int
    metrics: dict[str, np.ndarray]
    iterate: dict[str, np.ndarray]
    scale: dict[str, np.ndarray]


class _Run:
    """One method's batched training state: float weights ``y`` (seeds, ...) and the step count."""

    def __init__(self, cfg: Config, method: str, device: torch.device, dtype: torch.dtype):
        self.cfg, self.method = cfg, method
        self.layers = nets.LAYERS[cfg.network]
        self.proj = quantizer_for(method, cfg.qset)
        self.gens = [torch.Generator().manual_seed(int(s)) for s in cfg.seeds]
        per_seed = [nets.init(cfg.network, g, dtype) for g in self.gens]
        self.y = [torch.stack([p[i] for p in per_seed]).to(device) for i in range(len(self.layers))]
        self.opt = torch.optim.Adam(self.y, lr=cfg.lr, foreach=True)
        self.step = 0  # Phase-I steps taken (lambda's exponent)

    def quantized(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The deployed weights (``proj_Q(y)`` on quantized layers) and each quantized layer's scale (seeds,)."""
        out, scales = [], []
        for layer, y in zip(self.layers, self.y):
            if layer.quantized and self.method != "float":
                p, a = self.proj(y.reshape(len(y), -1))
                out.append(p.reshape(y.shape))
                scales.append(a)
            else:
                out.append(y)
                if layer.quantized:
                    scales.append(self.proj(y.reshape(len(y), -1))[1])
        return out, scales

    def iterate(self, epoch: int) -> list[torch.Tensor]:
        """``x``, the weights the gradient is taken at (see the module docstring)."""
        if self.method == "float":
            return list(self.y)
        q, _ = self.quantized()
        if self.method == "binaryconnect" or self.cfg.continuation.phase_two(epoch):
            return q
        lam = self.cfg.continuation.lam(self.step)
        return [relaxed_prox(y, p, lam) if layer.quantized else y for layer, y, p in zip(self.layers, self.y, q)]

    def lam(self, epoch: int) -> float:
        if self.method == "float":
            return 0.0
        if self.method == "binaryconnect" or self.cfg.continuation.phase_two(epoch):
            return float("inf")
        return self.cfg.continuation.lam(self.step)

    def epoch(self, epoch: int, x_train: torch.Tensor, y_train: torch.Tensor) -> None:
        n, bsz = len(x_train), min(self.cfg.batch_size, len(x_train))
        perms = torch.stack([torch.randperm(n, generator=g) for g in self.gens]).to(x_train.device)
        for start in range(0, n - bsz + 1, bsz):
            idx = perms[:, start:start + bsz]
            grads = loss_gradient(self.cfg.network, self.iterate(epoch), x_train, idx, y_train)
            for y, g in zip(self.y, grads):
                y.grad = g
            self.opt.step()
            if self.method == "binaryrelax" and not self.cfg.continuation.phase_two(epoch):
                self.step += 1


def loss_gradient(network: str, params: list[torch.Tensor], x: torch.Tensor, idx: torch.Tensor,
                  y: torch.Tensor, fused: bool | None = None) -> list[torch.Tensor]:
    """Gradient, with respect to each of ``params``, of the per-seed mini-batch cross-entropy on ``x[idx[s]]``
    (summed over seeds, which leaves the seeds independent): by the fused pass (:mod:`.fused_cnn`) where it
    applies (``fused=None``), otherwise (or ``fused=False``) by autograd through :func:`.nets.logits`."""
    params = [p.detach() for p in params]
    if fused is None:
        fused = fused_cnn.applies(network, x.device, x.dtype)
    if fused:
        return fused_cnn.loss_and_grad(params, x, idx.contiguous(), y)[1]
    params = [p.requires_grad_() for p in params]
    logits = nets.logits(network, params, x[idx])
    loss = F.cross_entropy(logits.reshape(-1, 10), y[idx].reshape(-1), reduction="sum") / idx.shape[1]
    return list(torch.autograd.grad(loss, params))


def _on_grid_fraction(x: list[torch.Tensor], q: list[torch.Tensor], layers, qset: QuantSet | None) -> torch.Tensor:
    """Per seed, the share of the quantized layers' entries of ``x`` equal to their point of Q: ``q = proj_Q(y)``,
    or, for float training (``qset`` given), the exact projection of ``x`` itself."""
    rows = [(xi.reshape(len(xi), -1), qi.reshape(len(qi), -1)) for xi, qi, layer in zip(x, q, layers) if layer.quantized]
    if qset is not None:
        rows = [(xi, project(xi, qset)[0]) for xi, _ in rows]
    return torch.cat([xi == qi for xi, qi in rows], 1).to(x[0].dtype).mean(1)


def evaluate(network: str, params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-seed mean cross-entropy and accuracy of batched weights on ``(x, y)`` (the CNN on the CPU in float32:
    by the fused pass, :mod:`.fused_cnn`)."""
    if fused_cnn.applies(network, x.device, x.dtype):
        return fused_cnn.loss_and_accuracy(params, x, y)
    with torch.no_grad():
        logits = nets.logits(network, params, x)
        s = logits.shape[0]
        loss = F.cross_entropy(logits.reshape(-1, 10), y.repeat(s), reduction="none").reshape(s, -1).mean(1)
        acc = (logits.argmax(-1) == y).to(logits.dtype).mean(1)
    return loss, acc


def train(network: str = "mlp", quantizer: str = "binary", bits: int = 1, methods: Sequence[str] = METHODS,
          seeds: int | Sequence[int] = 4, epochs: int = 30, lr: float = 0.01, batch_size: int = 64,
          lambda0: float = 1.0, rho: float = 1.02, phase_switch: int | None = None, *,
          device: Any = None, dtype: Any = None,
          on_epoch: Callable[[EpochReport], None] | None = None,
          cancel: threading.Event | None = None) -> xr.Dataset:
    """Train each method on all seeds at once; returns a Dataset over (method, seed, epoch).

    Variables: ``train_loss``, ``train_accuracy``, ``test_loss``, ``test_accuracy`` (of the
    deployed network, quantized layers exactly on Q), ``on_grid_fraction`` (share of the
    quantized layers' entries of the iterate ``x`` lying exactly on Q), ``lam`` (lambda at
    the epoch's end; inf once on Q, 0 for float), and the final deployed ``weights``
    (method, seed, param; coordinate ``layer`` names each entry's layer) with the
    ``scale`` alpha of each quantized layer (method, seed, qlayer). ``on_epoch`` receives
    an :class:`EpochReport` after each epoch; setting
    ``cancel`` raises ``InterruptedError`` between epochs. Select a method with
    ``ds.sel({"method": "binaryrelax"})``: ``ds.sel(method=...)`` is xarray's own
    ``method`` argument (inexact matching), not the dimension.
    """
    cfg = check(network, quantizer, bits, methods, seeds, epochs, lr, batch_size, lambda0, rho, phase_switch)
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    keep_freed_memory()
    x_tr, y_tr, x_te, y_te = nets.data(dt, dev)
    layers = nets.LAYERS[cfg.network]
    hist = {k: np.full((len(cfg.methods), len(cfg.seeds), cfg.epochs), np.nan) for k in METRICS}
    weights, scales = [], []
    with results.timer() as t:
        for mi, method in enumerate(cfg.methods):
            run = _Run(cfg, method, dev, dt)
            for e in range(cfg.epochs):
                if cancel is not None and cancel.is_set():
                    raise InterruptedError("training cancelled")
                run.epoch(e, x_tr, y_tr)
                with torch.no_grad():
                    q, alpha = run.quantized()
                    x = run.iterate(e)
                    frac = _on_grid_fraction(x, q, layers, cfg.qset if method == "float" else None)
                metrics = dict(zip(("train_loss", "train_accuracy"), evaluate(cfg.network, q, x_tr, y_tr)))
                metrics.update(zip(("test_loss", "test_accuracy"), evaluate(cfg.network, q, x_te, y_te)))
                metrics["on_grid_fraction"] = frac
                metrics = {k: results.to_numpy(v).astype(np.float64) for k, v in metrics.items()}
                metrics["lam"] = np.full(len(cfg.seeds), run.lam(e))
                for k, v in metrics.items():
                    hist[k][mi, :, e] = v
                if on_epoch is not None:
                    qx = [(layer.name, xi) for layer, xi in zip(layers, x) if layer.quantized]
                    on_epoch(EpochReport(method, e, metrics,
                                         {n: results.to_numpy(xi.reshape(len(xi), -1)) for n, xi in qx},
                                         {n: results.to_numpy(a) for (n, _), a in zip(qx, alpha)}))
            weights.append(torch.cat([w.reshape(len(w), -1) for w in q], 1))
            scales.append(torch.stack(alpha, 1))
    names = [layer.name for layer in layers for _ in range(int(np.prod(layer.shape)))]
    qnames = [layer.name for layer in layers if layer.quantized]
    data = {k: (("method", "seed", "epoch"), v) for k, v in hist.items()}
    data["weights"] = (("method", "seed", "param"), torch.stack(weights).to(torch.float64))
    data["scale"] = (("method", "seed", "qlayer"), torch.stack(scales).to(torch.float64))
    coords = {"method": list(cfg.methods), "seed": list(cfg.seeds), "epoch": np.arange(1, cfg.epochs + 1),
              "layer": ("param", names), "qlayer": qnames, "quantizer": cfg.quantizer, "bits": cfg.bits}
    params = asdict(cfg)
    return results.dataset(data, coords, params=params, kind="hj.quantize.train", seed=int(cfg.seeds[0]),
                           device=dev, elapsed=t["elapsed"], q_levels=cfg.qset.levels().numpy())
