"""Redraw spacing (:class:`workbench.ui.throttle.Throttle`) on a clock the test moves (binary fractions: exact)."""

import pytest

from workbench.ui.throttle import Throttle


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_redraws_wait_for_the_interval_and_for_twice_the_last_cost():
    clock = Clock()
    th = Throttle(0.5, 2.0, clock)
    clock.t += 0.25
    assert not th.due()  # the start counts as a redraw
    clock.t += 0.25
    assert th.due()
    start = clock.t
    clock.t += 1.0  # a redraw of 1 s
    th.drawn(start)
    clock.t += 1.75
    assert not th.due()  # twice its cost has not passed
    clock.t += 0.25
    assert th.due()
    start = clock.t
    clock.t += 0.0625  # a cheap redraw: the interval rules again
    th.drawn(start)
    clock.t += 0.375
    assert not th.due()
    clock.t += 0.125
    assert th.due()


def test_bad_spacing_is_refused():
    with pytest.raises(ValueError, match="interval and factor must be >= 0"):
        Throttle(-1.0)
