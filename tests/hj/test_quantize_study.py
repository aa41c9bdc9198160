"""The continuation search of :func:`workbench.hj.quantize.study.search`: its gains are the paired differences
of separately trained runs, the best setting is the argmax, and its confirmation uses fresh seeds only."""

import numpy as np
import pytest

from workbench.hj.quantize import study
from workbench.hj.quantize.train import train

KW = dict(network="mlp", quantizer="binary", bits=1, epochs=3, batch_size=256)


def _final(method, seeds, **kw):
    return train(methods=[method], seeds=seeds, **KW, **kw).test_accuracy.isel(method=0, epoch=-1).values


def test_search_gains_are_paired_differences_and_the_best_is_confirmed_on_fresh_seeds():
    ds = study.search(**KW, lambda0=(0.1, 10.0), rho=1.02, phase_switch=(1, 2), select=3, confirm=3)
    assert ds.gain.shape == (2, 1, 2) and np.isfinite(ds.gain).all()
    bc = _final("binaryconnect", [0, 1, 2])
    br = _final("binaryrelax", [0, 1, 2], lambda0=10.0, rho=1.02, phase_switch=1)
    expect = study.paired(br, bc)
    got = ds.sel(lambda0=10.0, rho=1.02, phase_switch=1)
    assert float(got.gain) == expect["gain"] and float(got.paired_se) == expect["paired_se"]
    assert int(got.wins) == expect["wins"]
    best = ds.gain.where(ds.gain == ds.gain.max(), drop=True)
    assert (ds.attrs["best_lambda0"], ds.attrs["best_phase_switch"]) == \
        (float(best.lambda0[0]), int(best.phase_switch[0]))
    assert ds.attrs["select_gain"] == float(ds.gain.max())
    # the confirmation: the best setting against BinaryConnect on seeds 3..5, none of the selection's
    best_kw = dict(lambda0=ds.attrs["best_lambda0"], rho=ds.attrs["best_rho"], phase_switch=ds.attrs["best_phase_switch"])
    fresh = study.paired(_final("binaryrelax", [3, 4, 5], **best_kw), _final("binaryconnect", [3, 4, 5]))
    assert ds.attrs["confirm_gain"] == fresh["gain"] and ds.attrs["confirm_se"] == fresh["paired_se"]
    assert ds.attrs["kind"] == "hj.quantize.search"


@pytest.mark.parametrize("kwargs, message", [
    (dict(lambda0=()), "lambda0 must have 1 to 8 values"),
    (dict(lambda0=(1.0, -1.0)), "lambda0"),
    (dict(rho=0.5), "rho"),
    (dict(phase_switch=(2, 99)), "phase_switch"),
    (dict(select=1), "select"),
    (dict(confirm=1000), "confirm"),
])
def test_bad_search_input_is_refused_in_one_line_before_training(kwargs, message):
    with pytest.raises(ValueError, match=message) as err:
        study.search(**KW, **kwargs)
    assert "\n" not in str(err.value)
