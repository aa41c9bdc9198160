"""The paper's Table 1 on the digits networks: test accuracy, mean ± std over seeds.

Rows as in Yin et al. (BinaryRelax, SIAM J. Imaging Sci. 2018, Table 1): float,
BWN (BinaryConnect with alpha = mean|w|), BinaryRelax binary, TWN (BinaryConnect
with the TWN heuristic), BinaryRelax ternary, and BinaryConnect / BinaryRelax on
the 2- and 4-bit uniform sets (exact projections). Every row trains the same
network from the same seeds on the same mini-batch order (:func:`.train.train`).

:func:`compare` answers "does BinaryRelax beat BinaryConnect here?": the mean
difference of final test accuracy, its paired standard error over seeds (same seed
= same initialisation and data order for both), and whether the difference exceeds
the seed-to-seed spread (the larger of the two rows' standard deviations). :func:`search`
looks for continuation settings where it does, and checks the best on fresh seeds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ... import results, validate
from .train import MAX_SEEDS, check, train

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


def paired(br: np.ndarray, bc: np.ndarray) -> dict[str, float | int]:
    """BinaryRelax minus BinaryConnect over the same seeds: mean ``gain``, its ``paired_se``
    (std of the differences / sqrt(seeds)), ``wins``, ``losses`` and ``seeds``."""
    diff = np.asarray(br, float) - np.asarray(bc, float)
    return {"gain": float(diff.mean()), "paired_se": float(diff.std(ddof=1) / np.sqrt(len(diff))),
            "wins": int((diff > 0).sum()), "losses": int((diff < 0).sum()), "seeds": int(len(diff))}


def compare(ds: xr.Dataset, quantizer: str, bits: int) -> dict[str, Any]:
    """BinaryRelax minus BinaryConnect on one set: mean gain, paired SE, and whether gain > seed spread."""
    bc_label, br_label = PAIRS[(quantizer, bits)]
    acc = ds.test_accuracy.isel(epoch=-1)
    bc, br = acc.sel(row=bc_label).values, acc.sel(row=br_label).values
    spread = max(bc.std(ddof=1), br.std(ddof=1))
    out = paired(br, bc)
    return {"set": f"{quantizer}{bits}", "binaryconnect": bc_label, "binaryrelax": br_label, **out,
            "spread": float(spread), "beats_beyond_spread": bool(out["gain"] > spread)}


MAX_VALUES = 8  # values per searched setting


def _values(name: str, values: Any) -> tuple[float, ...]:
    values = tuple(np.atleast_1d(np.asarray(values, dtype=float)).tolist())
    if not 1 <= len(values) <= MAX_VALUES:
        raise ValueError(f"{name} must have 1 to {MAX_VALUES} values, got {len(values)}")
    return values


def _final_accuracy(ds: xr.Dataset) -> np.ndarray:
    return ds.test_accuracy.isel(method=0, epoch=-1).values


def search(network: str = "mlp", quantizer: str = "binary", bits: int = 1, epochs: int = 30, *,
           lambda0: Any = (0.1, 1.0, 10.0), rho: Any = (1.01, 1.02, 1.05), phase_switch: Any = None,
           select: int = 10, confirm: int = 30, device: Any = None,
           on_setting: Callable[[dict[str, Any]], None] | None = None, **settings: Any) -> xr.Dataset:
    """BinaryRelax's continuation (lambda0, rho, phase switch) searched for a gain over BinaryConnect, then
    checked on fresh seeds.

    Every setting trains BinaryRelax on seeds ``0..select-1``; its ``gain`` is the mean paired difference of
    final test accuracy against BinaryConnect on the same seeds (same initialisation and data order), with its
    ``paired_se``. The largest of many noisy gains over-estimates its own setting's gain (the winner's curse),
    so the best setting trains again on the fresh seeds ``select..select+confirm-1`` against BinaryConnect on
    those: ``confirm_gain`` and ``confirm_se`` (attributes) are the estimate to quote. ``phase_switch``
    defaults to epochs/3, 2 epochs/3 and 5 epochs/6 (rounded); ``settings`` go to :func:`.train.train`.
    Returns a Dataset over (lambda0, rho, phase_switch) of gain, paired_se and wins.
    """
    lams, rhos = _values("lambda0", lambda0), _values("rho", rho)
    switches = (round(epochs / 3), round(2 * epochs / 3), round(5 * epochs / 6)) if phase_switch is None \
        else phase_switch
    switches = tuple(int(v) for v in _values("phase_switch", switches))
    select = validate.integer("select", select, lo=2, hi=MAX_SEEDS)
    confirm = validate.integer("confirm", confirm, lo=2, hi=MAX_SEEDS - select)
    kw = dict(network=network, quantizer=quantizer, bits=bits, epochs=epochs, device=device, **settings)
    for lam, r, sw in itertools.product(lams, rhos, switches):  # every setting is valid before any training
        check(methods=["binaryrelax"], seeds=1, lambda0=lam, rho=r, phase_switch=sw,
              **{k: v for k, v in kw.items() if k not in ("device", "dtype")})
    first, fresh = list(range(select)), list(range(select, select + confirm))
    shape = (len(lams), len(rhos), len(switches))
    out = {k: np.full(shape, np.nan) for k in ("gain", "paired_se", "wins")}
    with results.timer() as t:
        base = train(methods=["binaryconnect"], seeds=first, **kw)
        bc = _final_accuracy(base)
        for (i, lam), (j, r), (k, sw) in itertools.product(enumerate(lams), enumerate(rhos), enumerate(switches)):
            br = _final_accuracy(train(methods=["binaryrelax"], seeds=first, lambda0=lam, rho=r, phase_switch=sw, **kw))
            stats = paired(br, bc)
            for name in out:
                out[name][i, j, k] = stats[name]
            if on_setting is not None:
                on_setting({"lambda0": lam, "rho": r, "phase_switch": sw, **stats})
        i, j, k = np.unravel_index(np.argmax(out["gain"]), shape)
        best = {"lambda0": lams[i], "rho": rhos[j], "phase_switch": switches[k]}
        bc2 = _final_accuracy(train(methods=["binaryconnect"], seeds=fresh, **kw))
        br2 = _final_accuracy(train(methods=["binaryrelax"], seeds=fresh, **best, **kw))
        check2 = paired(br2, bc2)
    dims = ("lambda0", "rho", "phase_switch")
    ds = xr.Dataset({k: (dims, v) for k, v in out.items()},
                    coords={"lambda0": list(lams), "rho": list(rhos), "phase_switch": list(switches)})
    attrs = {f"best_{k}": v for k, v in best.items()}
    attrs.update({"select_gain": float(out["gain"][i, j, k]), "select_se": float(out["paired_se"][i, j, k]),
                  "confirm_gain": check2["gain"], "confirm_se": check2["paired_se"],
                  "confirm_wins": check2["wins"], "confirm_losses": check2["losses"],
                  "confirm_binaryconnect": float(bc2.mean()), "confirm_binaryrelax": float(br2.mean())})
    ds.attrs.update(attrs)
    params = {**{k: v for k, v in kw.items() if k != "device"}, "lambda0": list(lams), "rho": list(rhos),
              "phase_switch": list(switches), "select": select, "confirm": confirm}
    return results.stamp(ds, params, kind="hj.quantize.search", seed=0, device=base.attrs["device"],
                         elapsed=t["elapsed"])


def markdown(ds: xr.Dataset) -> str:
    """Table 1 as a Markdown table: test accuracy % mean ± std, on-Q fraction."""
    lines = ["| row | test accuracy % (mean ± std) | weights on Q |", "|---|---|---|"]
    for row, s in summary(ds).items():
        lines.append(f"| {row} | {100 * s['mean']:.2f} ± {100 * s['std']:.2f} | {s['on_grid_fraction']:.2f} |")
    return "\n".join(lines)
