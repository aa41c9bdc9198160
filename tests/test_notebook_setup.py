"""workbench.notebook(): its argument checks, and which errors it shortens to one line."""

import sys

import param
import pytest

import workbench
from workbench import validate
from workbench.notebook import raised_by_workbench


def _traceback_of(fn):
    try:
        fn()
    except ValueError:
        return sys.exc_info()[2]
    raise AssertionError("no ValueError")


def test_bad_static_flag_is_refused_with_its_name(monkeypatch):
    with pytest.raises(ValueError, match="static must be True or False"):
        workbench.notebook(static="yes")
    monkeypatch.setenv("WORKBENCH_NOTEBOOK_STATIC", "2")
    with pytest.raises(ValueError, match="WORKBENCH_NOTEBOOK_STATIC must be 0 or 1"):
        workbench.notebook()


def test_outside_a_kernel_it_does_nothing():
    assert workbench.notebook() is None and workbench.notebook(static=True) is None


def test_only_the_workbench_checks_are_shortened():
    class P(param.Parameterized):
        n = param.Integer(default=1, bounds=(1, 10))

    assert raised_by_workbench(_traceback_of(lambda: validate.integer("n", 0, lo=1, hi=10)))
    assert raised_by_workbench(_traceback_of(lambda: P(n=0)))
    assert not raised_by_workbench(_traceback_of(lambda: int("x")))  # a user's own error keeps its traceback
