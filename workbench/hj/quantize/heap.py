"""Keep freed heap memory in the process, so that a training step does not fault its activations in again.

A seed-batched training step allocates and frees tens of megabytes of activations.
glibc's ``malloc`` serves such blocks by ``mmap`` above its (dynamic) mmap threshold
and hands the top of the heap back to the kernel above its trim threshold (128 KiB
by default), so every step pays page faults on memory it just released: about 870
minor faults and a quarter of the step at 16 seeds of the CNN (measured on a 2-core
CPU). :func:`keep_freed_memory` raises both thresholds (``mallopt(M_MMAP_THRESHOLD)``,
``mallopt(M_TRIM_THRESHOLD)``; glibc manual, "Malloc Tunable Parameters"); the process
then keeps up to :data:`TRIM_BYTES` of freed memory for reuse. Elsewhere than glibc it
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # <malloc.h>
MMAP_BYTES = 32 << 20  # blocks above this still come from mmap (glibc's own ceiling for its dynamic threshold)
TRIM_BYTES = 256 << 20  # freed memory at the top of the heap kept for reuse


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; ``True`` if they were set."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_BYTES))
