"""Compile the numba kernels into numba's on-disk cache once, at install (``make install`` runs this).

The fused CPU kernels (the CNN pass of :mod:`workbench.hj.quantize.fused_cnn`, the particles of
:mod:`workbench.gequation.fused_particles`, the G-equation step of :mod:`workbench.gequation.compiled`,
the envelope scans of :mod:`workbench.hj.lower_envelope`) are compiled with ``cache=True``: a fresh
install compiles each on its first call (the CNN pass alone ~25 s on a 2-core CPU), and every later
process loads it from the cache in about a second. This runs each entry point once on tiny inputs with
the default dtype (float32), so that no first click on a dashboard waits for a compiler.

    python -m workbench.precompile
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np


def _hj() -> None:
    from workbench.hj import local_entropy, moreau_envelope

    grid = np.linspace(-1.0, 1.0, 33)
    f = np.add.outer(grid ** 2, np.abs(grid))
    for values in (f.astype(np.float32), f):
        moreau_envelope(values, 1 / 16, [0.1], method="numba")
        local_entropy(values, 1 / 16, [0.1], method="numba")


def _flame_speed() -> None:
    from workbench.gequation import flame_speed

    flame_speed("inviscid", "cellular", 1.0, grid=16, crossings=0.5, max_crossings=1.0)


def _particles() -> None:
    from workbench.gequation.diffusivity import effective_diffusivity

    effective_diffusivity("cellular", 1.0, 0.1, particles=64, batches=2, t_final=0.2, dt=0.1, n_samples=3)


def _cnn() -> None:
    from workbench.hj.quantize.train import train

    train(network="cnn", methods=["float"], seeds=1, epochs=1, batch_size=1024)


KERNELS: dict[str, Callable[[], None]] = {
    "HJ envelopes (lower_envelope)": _hj,
    "G-equation step (compiled)": _flame_speed,
    "particles (fused_particles)": _particles,
    "BinaryRelax CNN pass (fused_cnn)": _cnn,
}


def main() -> int:
    total = time.perf_counter()
    for name, warm in KERNELS.items():
        start = time.perf_counter()
        warm()
        print(f"workbench: {name} compiled or loaded in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(f"workbench: numba kernels ready in {time.perf_counter() - total:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
