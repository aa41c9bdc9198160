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

# Measured throughputs (work units per second on one core of a 2-core CPU, the slowest machine
# the workbench runs on, so an estimate errs long). See the report of `benchmarks/` runs.
GEQUATION_POINT_STEPS_PER_S = 2.0e7
"""G-equation: grid points × batch × time steps per second (fused numba step, 64² grid)."""
PHASE_PIXEL_ITERATIONS_PER_S = 5.0e7
"""Phase retrieval: runs × iterations × N² pixels per second (two FFTs per iteration, 128²)."""
ENVELOPE_PAIRS_PER_S = 2.0e8
"""HJ local entropy: grid points × points per axis × axes × t values per second (numba soft-min)."""

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
