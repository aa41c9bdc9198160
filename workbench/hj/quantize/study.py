"""The paper's Table 1 on the digits networks: test accuracy, mean ± std over seeds.

Rows as in Yin et al. (BinaryRelax, SIAM J. Imaging Sci. 2018, Table 1): float,
BWN (BinaryConnect with alpha = mean|w|), BinaryRelax binary, TWN (BinaryConnect
with the TWN heuristic), BinaryRelax ternary, and BinaryConnect / BinaryRelax on
the 2- and 4-bit uniform sets (exact projections). Every row trains the same
network from the same seeds on the same mini-batch order (:func:`.train.train`).

:func:`compare` answers "does BinaryRelax beat BinaryConnect here?": the mean
difference of final test accuracy, its paired standard error over seeds (same seed
= same initialisation and data order for both), and whether the difference exceeds
the seed-to-seed spread (the larger of the two rows' standard deviations).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ... import results
from .train import train

ROWS = (  # label, method, quantizer, bits
    ("float", "float", "binary", 1),
    ("BWN", "binaryconnect", "binary", 1),
    ("BinaryRelax binary", "binaryrelax", "binary", 1),
    ("TWN", "binaryconnect", "ternary", 2),
    ("BinaryRelax ternary", "binaryrelax", "ternary", 2),
    ("BinaryConnect 2-bit", "binaryconnect", "uniform", 2),
    ("BinaryRelax 2-bit", "binaryrelax", "uniform", 2),
    ("BinaryConnect 4-bit", "binaryconnect", "uniform", 4),
    ("BinaryRelax 4-bit", "binaryrelax", "uniform", 4),
)
SETS = (("binary", 1), ("ternary", 2), ("uniform", 2), ("uniform", 4))
PAIRS = {("binary", 1): ("BWN", "BinaryRelax binary"), ("ternary", 2): ("TWN", "BinaryRelax ternary"),
         ("uniform", 2): ("BinaryConnect 2-bit", "BinaryRelax 2-bit"),
         ("uniform", 4): ("BinaryConnect 4-bit", "BinaryRelax 4-bit")}


def table1(network: str = "mlp", seeds: int = 10, epochs: int = 30, *, sets=SETS, device: Any = None,
           on_row: Callable[[str, xr.Dataset], None] | None = None, **settings: Any) -> xr.Dataset:
    """Train every row of Table 1; a Dataset over (row, seed, epoch) with coords method, quantizer, bits.

    ``settings`` go to :func:`.train.train` (lr, batch_size, lambda0, rho, phase_switch, dtype).
    ``on_row(label, dataset)`` is called as each quantization set finishes.
    """
    parts = []
    with results.timer() as t:
        for i, (quantizer, bits) in enumerate(sets):
            methods = (["float"] if i == 0 else []) + ["binaryconnect", "binaryrelax"]
            ds = train(network, quantizer, bits, methods, seeds, epochs, device=device, **settings)
            labels = [next(label for label, m, q, b in ROWS if m == method and (m == "float" or (q, b) == (quantizer, bits)))
                      for method in methods]
            ds = ds.rename({"method": "row"}).assign_coords(
                row=labels, method=("row", methods), quantizer=("row", [quantizer] * len(methods)),
                bits=("row", [bits] * len(methods)))
            parts.append(ds)
            if on_row is not None:
                on_row(labels[-1], ds)
    first = parts[0]
    out = xr.concat([p.drop_vars("scale").drop_dims("qlayer") for p in parts], dim="row")
    out.attrs.pop("q_levels", None)
    params = {**results.parameters(first), "sets": [list(s) for s in sets]}
    params.pop("methods", None)
    params.pop("quantizer", None)
    params.pop("bits", None)
    return results.stamp(out, params, kind="hj.quantize.table1", seed=int(first.seed.values[0]),
                         device=first.attrs["device"], elapsed=t["elapsed"])


def summary(ds: xr.Dataset) -> dict[str, dict[str, float]]:
    """Per row: mean and std (ddof 1) over seeds of the final test accuracy, and the final on-Q fraction."""
    last = ds.isel(epoch=-1)
    acc = last.test_accuracy
    return {str(r): {"mean": float(acc.sel(row=r).mean()), "std": float(acc.sel(row=r).std(ddof=1)),
                     "on_grid_fraction": float(last.on_grid_fraction.sel(row=r).mean())} for r in ds.row.values}


def compare(ds: xr.Dataset, quantizer: str, bits: int) -> dict[str, Any]:
    """BinaryRelax minus BinaryConnect on one set: mean gain, paired SE, and whether gain > seed spread."""
    bc_label, br_label = PAIRS[(quantizer, bits)]
    acc = ds.test_accuracy.isel(epoch=-1)
    bc, br = acc.sel(row=bc_label).values, acc.sel(row=br_label).values
    diff = br - bc
    spread = max(bc.std(ddof=1), br.std(ddof=1))
    return {"set": f"{quantizer}{bits}", "binaryconnect": bc_label, "binaryrelax": br_label,
            "gain": float(diff.mean()), "paired_se": float(diff.std(ddof=1) / np.sqrt(len(diff))),
            "spread": float(spread), "beats_beyond_spread": bool(diff.mean() > spread),
            "wins": int((diff > 0).sum()), "losses": int((diff < 0).sum()), "seeds": int(len(diff))}


def markdown(ds: xr.Dataset) -> str:
    """Table 1 as a Markdown table: test accuracy % mean ± std, on-Q fraction."""
    lines = ["| row | test accuracy % (mean ± std) | weights on Q |", "|---|---|---|"]
    for row, s in summary(ds).items():
        lines.append(f"| {row} | {100 * s['mean']:.2f} ± {100 * s['std']:.2f} | {s['on_grid_fraction']:.2f} |")
    return "\n".join(lines)
