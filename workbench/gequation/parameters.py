"""Batched parameters: scalars or 1-D sequences of one common length, checked finite."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import validate


def broadcast(**values: Any) -> dict[str, np.ndarray]:
    """Each value as a 1-D float array of the common length (a scalar is repeated)."""
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}
    for k, v in arrays.items():
        if v.ndim != 1:
            raise ValueError(f"{k} must be a number or a 1-D sequence, got shape {v.shape}")
        validate.non_empty(k, v)
        validate.finite_array(k, v)
    n = max(len(v) for v in arrays.values())
    for k, v in arrays.items():
        if len(v) not in (1, n):
            raise ValueError(f"{k} has {len(v)} values but other parameters have {n}; "
                             "give scalars or sequences of one common length")
    return {k: np.broadcast_to(v, (n,)).copy() for k, v in arrays.items()}
