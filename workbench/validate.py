"""Checks at the boundary (API, CLI, widget).

Every check raises a ``ValueError`` (or ``TypeError``) whose message names the
parameter and the allowed range, so that the CLI can print it as one line and
a served widget can show it, before any heavy work starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def _fmt(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value}"


def number(name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, integer: bool = False) -> float | int:
    """Return ``value`` as a finite number in the interval [lo, hi] (ends open on request).

    >>> number("t", 0.5, lo=0, lo_open=True)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        try:
            value = float(value) if not integer else int(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a number, got {_fmt(value)}") from None
    if integer:
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be a finite integer, got {_fmt(value)}")
        if float(value) != int(value):
            raise ValueError(f"{name} must be an integer, got {_fmt(value)}")
        value = int(value)
    else:
        value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {_fmt(value)}")
    lo_bad = lo is not None and (value < lo or (lo_open and value == lo))
    hi_bad = hi is not None and (value > hi or (hi_open and value == hi))
    if lo_bad or hi_bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else _fmt(lo)
        hi_s = "inf" if hi is None else _fmt(hi)
        raise ValueError(f"{name} must be in {left}{lo_s}, {hi_s}{right}, got {_fmt(value)}")
    return value


def positive(name: str, value: Any, *, integer: bool = False) -> float | int:
    """``value > 0``."""
    return number(name, value, lo=0, lo_open=True, integer=integer)


def integer(name: str, value: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    """An integer in [lo, hi]."""
    return int(number(name, value, lo=lo, hi=hi, integer=True))


def choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` must be one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        allowed = ", ".join(_fmt(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {_fmt(value)}")
    return value


def finite_array(name: str, values: Any) -> None:
    """Reject arrays or tensors holding NaN or infinity."""
    try:
        import torch
        if isinstance(values, torch.Tensor):
            ok = bool(torch.isfinite(values).all())
        else:
            ok = bool(np.isfinite(np.asarray(values)).all())
    except TypeError:
        raise TypeError(f"{name} must be numeric") from None
    if not ok:
        raise ValueError(f"{name} must hold only finite values (found NaN or infinity)")


def non_empty(name: str, values: Sequence[Any]) -> Sequence[Any]:
    """A sequence with at least one element."""
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty")
    return values


def memory_fits(name: str, n_bytes: int, device: Any) -> None:
    """Refuse an allocation larger than ``device`` has available (see :func:`workbench.budget.memory_fits`)."""
    from .budget import memory_fits as fits

    fits(name, n_bytes, device)
