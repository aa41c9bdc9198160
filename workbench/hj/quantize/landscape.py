"""The loss on a 2-D slice through a float and a quantized network, and its Moreau envelope.

The plane passes through the trained float weights ``w_f`` and the quantized weights
``w_q`` (both of one seed)::

    w(a, b) = w_f + a (w_q - w_f) + b d,

so ``(0, 0)`` is the float network and ``(1, 0)`` the quantized one; ``d`` is a random
filter-normalised direction (Li, Xu, Taylor, Studer, Goldstein 2018; the family's
:func:`workbench.hj.network.filter_normalised`: each filter, i.e. row of a weight
matrix or output channel of a kernel, scaled to that filter's norm in ``w_f``, bias
entries 0). The cross-entropy on the training set is evaluated on an ``n x n`` grid
with every grid point as one "seed" of the batched network (:mod:`.nets`), and its
Moreau envelope ``min_z L(z) + |p - z|^2 / (2t)`` over the grid is the workbench's
exact discrete Hopf-Lax envelope (:func:`workbench.hj.moreau_envelope`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr

from ... import results, validate
from ..moreau import moreau_envelope
from ..network import filter_normalised
from . import nets

CHUNK = 64  # grid points per batched forward pass
N_EVAL = 256  # training images the slice's loss is averaged over (a fixed subset, as in :mod:`..network`)


def _unflatten(network: str, flat: torch.Tensor) -> list[torch.Tensor]:
    sizes = [int(np.prod(layer.shape)) for layer in nets.LAYERS[network]]
    return [p.reshape(layer.shape) for p, layer in zip(torch.split(flat, sizes), nets.LAYERS[network])]


def _direction(network: str, w_f: list[torch.Tensor], seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    rows = [p.reshape(p.shape[0], -1) if p.ndim > 1 else p for p in w_f]  # a kernel's filters as rows
    return torch.cat([d.reshape(-1) for d in filter_normalised(rows, gen)])


def loss_slice(network: str, float_weights: Any, quantized_weights: Any, *, n: int = 25,
               a_range: tuple[float, float] = (-0.5, 1.5), b_range: tuple[float, float] = (-1.0, 1.0),
               t: float = 0.05, seed: int = 0) -> xr.Dataset:
    """Training cross-entropy (on a fixed subset of :data:`N_EVAL` images) on the plane through ``w_f`` and ``w_q`` and its Moreau envelope at time ``t``.

    Weights are flat vectors (one seed's row of :func:`.train.train`'s ``weights``). Returns
    ``loss`` and ``envelope`` over (b, a).
    """
    validate.choice("network", network, nets.NETWORKS)
    n = validate.integer("n", n, lo=5, hi=129)
    t = float(validate.number("t", t, lo=0, lo_open=True, hi=10.0))
    w_f = torch.as_tensor(np.asarray(float_weights), dtype=torch.float32)
    w_q = torch.as_tensor(np.asarray(quantized_weights), dtype=torch.float32)
    size = sum(int(np.prod(layer.shape)) for layer in nets.LAYERS[network])
    if w_f.shape != (size,) or w_q.shape != (size,):
        raise ValueError(f"weights must be flat vectors of {size} entries for the {network}")
    d = _direction(network, _unflatten(network, w_f), seed)
    a = torch.linspace(*a_range, n)
    b = torch.linspace(*b_range, n)
    bb, aa = torch.meshgrid(b, a, indexing="ij")
    x_tr, y_tr, _, _ = nets.data(torch.float32, torch.device("cpu"))
    pick = torch.randperm(len(x_tr), generator=torch.Generator().manual_seed(seed))[:N_EVAL]
    x_tr, y_tr = x_tr[pick], y_tr[pick]
    out = []
    with results.timer() as timer, torch.no_grad():
        pts = torch.stack([aa.reshape(-1), bb.reshape(-1)], 1)
        for i in range(0, len(pts), CHUNK):
            p = pts[i:i + CHUNK]
            flat = w_f + p[:, :1] * (w_q - w_f) + p[:, 1:] * d
            params = [torch.stack(ws) for ws in zip(*[_unflatten(network, f) for f in flat])]
            logits = nets.logits(network, params, x_tr)
            k = logits.shape[0]
            out.append(F.cross_entropy(logits.reshape(-1, 10), y_tr.repeat(k), reduction="none").reshape(k, -1).mean(1))
        loss = torch.cat(out).reshape(n, n).double()
        env = moreau_envelope(loss, (float(b[1] - b[0]), float(a[1] - a[0])), t)
    return results.dataset({"loss": (("b", "a"), loss, {"long_name": "training cross-entropy"}),
                            "envelope": (("b", "a"), env, {"long_name": f"Moreau envelope, t={t:g}"})},
                           {"a": a.double(), "b": b.double()},
                           params={"network": network, "n": n, "a_range": a_range, "b_range": b_range, "t": t,
                                   "seed": seed},
                           kind="hj.quantize.loss_slice", seed=seed, elapsed=timer["elapsed"])
