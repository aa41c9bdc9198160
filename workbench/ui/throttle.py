"""Spacing for live redraws that share the GIL with the computation they show.

A live view that rebuilds its plots on the session's loop holds the GIL for the whole
redraw (0.2-1 s for a few HoloViews panels), and the job producing the results needs
the GIL between its compiled steps, so redrawing after every small step can make the
job many times slower than its computation. :class:`Throttle` says whether a redraw is
due: at least ``interval`` seconds after the start (or the last redraw), and at least
``factor`` times the last redraw's cost after it, so redraws take at most
``1 / (1 + factor)`` of the time. The final result is drawn regardless by the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Throttle:
    """``due()``: whether to redraw now; ``drawn(start)``: a redraw begun at ``start`` just ended."""

    def __init__(self, interval: float = 0.5, factor: float = 2.0, clock: Callable[[], float] = time.monotonic):
        if interval < 0 or factor < 0:
            raise ValueError(f"interval and factor must be >= 0, got {interval}, {factor}")
        self.interval, self.factor, self.clock = interval, factor, clock
        self.last, self.cost = clock(), 0.0  # the start counts as a redraw of no cost

    def due(self) -> bool:
        return self.clock() - self.last >= max(self.interval, self.factor * self.cost)

    def drawn(self, start: float) -> None:
        self.last = self.clock()
        self.cost = self.last - start
