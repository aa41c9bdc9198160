"""Memory and time budgets, checked before a computation allocates or starts.

Memory: an entry point estimates the bytes its main call holds at once,

    bytes = grid points × batch × (arrays kept per point) × dtype size,

and :func:`memory_fits` compares them with what the device has available (CUDA's
free memory, or the system's ``MemAvailable``), refusing with
``MemoryError("<name> needs about X GiB, Y GiB available on <device>; reduce <name>")``.

Time: an entry point estimates its work in units it can count before starting
(point-steps of a time integration, FFT pixel-iterations, ...) and divides by a
throughput measured on a 2-core CPU (the constants below, from the
benchmarks in ``benchmarks/``). Inside :func:`time_limit` (the CLI sets one
hour unless ``--allow-long`` is given) a run estimated to take longer is
refused with the estimate and the flag to pass. Outside it nothing is refused:
the Python API trusts its caller.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

CLI_TIME_LIMIT_S = 3600.0
"""The longest run the CLI starts without ``--allow-long`` (seconds)."""

# Measured throughputs (work units per second), from one run of each entry point on the 2-core
# development CPU while it was shared (load average ~14): a busy machine is the one a long run
# meets, so the estimates err long. Re-measure with `python -m workbench.budget`.
GEQUATION_RATE = 2.5e5
"""G-equation: grid points x batch x time steps per second (4 amplitudes, 64² grid, fused numba step)."""
PHASE_RATE = 2.6e5
"""Phase retrieval: algorithms x runs x iterations x N² pixels per second (OSS, 4 runs, 128²)."""
MOREAU_RATE = 2.6e6
"""HJ Moreau envelope: t values x grid points x axes per second (512², numba scan, argmin kept)."""
ENVELOPE_RATE = 3.9e7
"""HJ local entropy: t values x grid points x (sum of the axes' lengths) pairs per second (256², numba)."""

_LIMIT: contextvars.ContextVar[float | None] = contextvars.ContextVar("workbench_time_limit", default=None)


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Within the block, :func:`work_fits` refuses work estimated above ``seconds`` (None: no limit)."""
    token = _LIMIT.set(seconds)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} s"


def work_fits(name: str, units: float, per_second: float) -> float:
    """Estimated seconds of ``units`` of work at ``per_second``; refused above the current limit.

    Raises ``ValueError("<name>: this run is estimated to take about 3.2 hours ...; pass
    --allow-long to run it")`` inside a :func:`time_limit` that the estimate exceeds.
    """
    seconds = float(units) / float(per_second)
    limit = _LIMIT.get()
    if limit is not None and seconds > limit:
        raise ValueError(f"{name}: this run is estimated to take about {_duration(seconds)} "
                         f"({units:.3g} units of work at {per_second:.3g}/s measured on a 2-core CPU); "
                         f"reduce {name} or pass --allow-long to run it")
    return seconds


def memory_fits(name: str, n_bytes: float, device: Any) -> None:
    """Refuse an allocation of ``n_bytes`` that exceeds what ``device`` has available.

    On CUDA the free memory reported by the driver is used; on the CPU the
    available system memory (from ``/proc/meminfo`` when present).
    """
    from .runtime import available_memory

    free = available_memory(device)
    if free is not None and n_bytes > free:
        raise MemoryError(
            f"{name} needs about {n_bytes / 2**30:.2f} GiB, {free / 2**30:.2f} GiB available "
            f"on {device}; reduce {name}"
        )


def fits(name: str, n_bytes: float, units: float, per_second: float, device: Any) -> None:
    """Both checks in one call: :func:`memory_fits` for ``n_bytes``, :func:`work_fits` for ``units``."""
    memory_fits(name, n_bytes, device)
    work_fits(name, units, per_second)


def measure() -> dict[str, float]:  # pragma: no cover - a measurement, run by hand
    """Throughput of each entry point on this machine, in the units of the constants above."""
    import time

    import numpy as np

    from .gequation.solver import flame_speed
    from .hj import local_entropy, moreau_envelope
    from .phase import study

    def rate(units: float, fn: Any) -> float:
        fn()  # compile / warm up
        start = time.perf_counter()
        fn()
        return units / (time.perf_counter() - start)

    f = np.random.default_rng(0).random((256, 256))
    ds = flame_speed("inviscid", "cellular", [1.0, 2.0], grid=32, crossings=2, max_crossings=2)
    m = study.simulated("vesicle", 64, flux=1e9)
    return {
        "GEQUATION_RATE": rate(2 * 32 * 32 * int(ds.n_steps.max()), lambda: flame_speed(
            "inviscid", "cellular", [1.0, 2.0], grid=32, crossings=2, max_crossings=2)),
        "PHASE_RATE": rate(2 * 100 * 64 * 64, lambda: study.compare(m, ["oss"], runs=2, iterations=100)),
        "MOREAU_RATE": rate(2 * f.size * 2, lambda: moreau_envelope(f, 0.01, [0.1, 0.2], return_argmin=True)),
        "ENVELOPE_RATE": rate(2 * f.size * 512, lambda: local_entropy(f, 0.01, [0.1, 0.2], 5.0)),
    }


if __name__ == "__main__":  # pragma: no cover
    for key, value in measure().items():
        print(f"{key} = {value:.3g}")
