"""One place that decides device, dtype and seeds.

Device resolution, first match wins:

1. the ``device`` argument of a call (every public function and widget has one),
2. the ``WORKBENCH_DEVICE`` environment variable (``cpu``, ``cuda``, ``cuda:N``
   or ``auto``),
3. ``cuda`` when ``torch.cuda.is_available()``, otherwise ``cpu``.

Asking for CUDA on a machine without it is an error, never a silent fallback.
The default dtype is float32 (``WORKBENCH_DTYPE=float64`` changes it).
Seeds are explicit integers; :func:`generator` gives a ``torch.Generator`` on the
right device so a run is reproducible from its stored seed.
"""

from __future__ import annotations

import os
import platform
import re
from typing import Any

import numpy as np
import torch

from . import __version__

DEFAULT_SEED = 0
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Return the torch device to compute on (see the module docstring for the order)."""
    if isinstance(device, torch.device):
        device = str(device)
    source = "device"
    if device is None or device == "":
        device = os.environ.get("WORKBENCH_DEVICE", "auto") or "auto"
        source = "WORKBENCH_DEVICE"
    device = str(device).strip().lower()
    if not _DEVICE_RE.match(device):
        raise ValueError(f"{source} must be one of 'auto', 'cpu', 'cuda', 'cuda:N'; got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"{source} is {device!r} but CUDA is not available on this machine; use 'cpu'")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"{source} is {device!r} but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    return torch.device(device)


COMPUTE_METHODS = ("auto", "numba", "torch")


def have_numba() -> bool:
    """True when numba (the compiled CPU kernels) can be imported."""
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency
        return False
    return True


def uses_numba(method: str, device: torch.device) -> bool:
    """Whether ``method`` (``"auto"``, ``"numba"`` or ``"torch"``) runs a compiled numba CPU kernel on
    ``device``: ``"auto"`` does on the CPU when numba is installed; ``"numba"`` without numba, or off
    the CPU, is an error."""
    if method not in COMPUTE_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, COMPUTE_METHODS))}; got {method!r}")
    if method == "numba" and not have_numba():
        raise ValueError("method 'numba' needs the numba package; use method='torch'")
    if method == "numba" and device.type != "cpu":
        raise ValueError(f"method 'numba' runs on the CPU only, not on {device}; use method='torch' or 'auto'")
    return method == "numba" or (method == "auto" and device.type == "cpu" and have_numba())


def resolve_dtype(dtype: str | torch.dtype | None = None) -> torch.dtype:
    """float32 by default; ``WORKBENCH_DTYPE`` or the argument may ask for float64."""
    if isinstance(dtype, torch.dtype):
        if dtype not in _DTYPES.values():
            raise ValueError(f"dtype must be float32 or float64; got {dtype}")
        return dtype
    name = dtype or os.environ.get("WORKBENCH_DTYPE", "float32")
    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of 'float32', 'float64'; got {name!r}")
    return _DTYPES[name]


def generator(seed: int | None = None, device: str | torch.device | None = None) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed`` (default :data:`DEFAULT_SEED`)."""
    dev = resolve_device(device)
    g = torch.Generator(device=dev)
    g.manual_seed(DEFAULT_SEED if seed is None else int(seed))
    return g


def quick() -> bool:
    """True when ``WORKBENCH_QUICK=1``: notebooks and demos shrink their sizes.

    The test suite sets it so that every notebook executes on a 2-core CI
    machine in seconds; the science is the same, the grids and run counts are
    smaller.
    """
    return os.environ.get("WORKBENCH_QUICK", "0") not in ("", "0", "false", "False")


def budget(full: Any, small: Any) -> Any:
    """``small`` in quick mode (see :func:`quick`), ``full`` otherwise."""
    return small if quick() else full


def available_memory(device: str | torch.device | None = None) -> int | None:
    """Free bytes on ``device``: CUDA's free memory, or the system's available memory."""
    dev = resolve_device(device)
    if dev.type == "cuda":
        free, _total = torch.cuda.mem_get_info(dev)
        return int(free)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def info(device: str | torch.device | None = None) -> dict[str, Any]:
    """What ``workbench info`` prints: versions, device, GPU name and memory, CPU threads."""
    dev = resolve_device(device)
    out: dict[str, Any] = {
        "version": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "device": str(dev),
        "cuda_available": torch.cuda.is_available(),
        "cpu_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "dtype": str(resolve_dtype()).replace("torch.", ""),
    }
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        out["gpu_name"] = props.name
        out["gpu_memory_gib"] = round(props.total_memory / 2**30, 2)
    return out


def describe(device: str | torch.device | None = None) -> str:
    """A short human label for the device, e.g. ``'cpu (2 threads)'`` or ``'cuda: NVIDIA H100'``."""
    dev = resolve_device(device)
    if dev.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(dev)}"
    return f"cpu ({torch.get_num_threads()} threads)"
