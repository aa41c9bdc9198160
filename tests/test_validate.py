import math

import numpy as np
import pytest
import torch

from workbench import validate


def test_number_ranges_name_the_parameter():
    assert validate.number("t", 0.5, lo=0, lo_open=True) == 0.5
    with pytest.raises(ValueError, match=r"t must be in \(0, inf\], got 0"):
        validate.positive("t", 0)
    with pytest.raises(ValueError, match=r"beta must be in \[1, 10\], got 11"):
        validate.number("beta", 11, lo=1, hi=10)
    with pytest.raises(ValueError, match="x must be finite"):
        validate.number("x", math.nan)
    with pytest.raises(TypeError, match="grid must be a number"):
        validate.number("grid", "abc")
    with pytest.raises(ValueError, match="grid must be an integer"):
        validate.integer("grid", 2.5)
    with pytest.raises(ValueError, match="bool"):
        validate.choice("flag", "x", ["bool"])


def test_arrays():
    validate.finite_array("values", np.ones(3))
    with pytest.raises(ValueError, match="values must hold only finite values"):
        validate.finite_array("values", torch.tensor([1.0, float("nan")]))
    with pytest.raises(ValueError, match="axis must not be empty"):
        validate.non_empty("axis", [])


def test_memory_refused_before_allocation():
    with pytest.raises(MemoryError, match="batch needs about"):
        validate.memory_fits("batch", 2**62, "cpu")
    validate.memory_fits("batch", 1024, "cpu")
