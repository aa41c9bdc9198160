"""Render each family's paper figure for the README: ``make figures`` (or ``python docs/make_figures.py``).

Each figure is computed by the family's API at a small size on the CPU, exported with
:func:`workbench.export.export` at the double-column width (PDF, PNG and the netCDF it
was drawn from, so ``workbench figure docs/figures/hj.nc`` redraws it), and written to
``docs/figures/<family>.png``. ``--quick`` uses smaller sizes (seconds, for a check).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from workbench import export

OUT = Path(__file__).resolve().parent / "figures"
TEXT = "The cat sat on the mat because it was warm."


def hj(quick: bool):
    from workbench.hj import compare_optimizers, get_landscape, paper
    from workbench.hj.smoothing import smooth_landscape

    land = get_landscape("rastrigin")
    env = smooth_landscape(land, 2, 64 if quick else 192, [0.3], beta=10.0, device="cpu")
    opt = compare_optimizers(land, dim=2, t=[0.3], n_starts=100 if quick else 1000, n_steps=30, seed=0,
                             track=4, device="cpu")
    return paper.figure_data(env, opt)


def gequation(quick: bool):
    from workbench.gequation import paper, sweep

    # a 16^2 grid and 1-2 cell crossings: the README's figure in minutes on a 2-core CPU (the strain
    # model's quenching past A* needs 64^2 to be resolved, see the gequation notebook)
    kw = dict(A=[0.5, 1.5, 3.0] if quick else [0.5, 1.0, 2.0, 3.0], grid=16, crossings=1 if quick else 2,
              n_frames=2, device="cpu")
    return paper.figure_data({m: sweep(m, d=1.0, **kw) for m in ("inviscid", "strain")}, tol=0.5)


def phase(quick: bool):
    from workbench.phase import paper, study

    m = study.simulated("vesicle", 32 if quick else 64, 1e6)
    return paper.figure_data(study.compare(m, ["hio", "oss", "gps"], runs=8 if quick else 40,
                                           iterations=40 if quick else 300, seed=0, device="cpu"))


def attention(quick: bool):
    from workbench.attention import paper
    from workbench.attention.model import model_attention

    return paper.figure_data(model_attention(TEXT, device="cpu"), [(1, 5), (3, 2)])


FAMILIES = {"hj": hj, "gequation": gequation, "phase": phase, "attention": attention}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a check, seconds)")
    parser.add_argument("--only", choices=list(FAMILIES), action="append", help="render only this family")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args.only or FAMILIES:
        start = time.perf_counter()
        ds = FAMILIES[name](args.quick)
        paths = export.export(ds, OUT / name, width="double", formats=("png",))
        print(f"{name}: {paths['png'].relative_to(OUT.parent.parent)} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
