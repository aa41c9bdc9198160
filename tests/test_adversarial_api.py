"""The main public API functions, fuzzed with bad values; hostile files and texts.

A bad value must raise a ``ValueError`` (or ``TypeError`` for a wrong type, or
``MemoryError`` for a size the device cannot hold) whose one-line message names
the parameter, before any heavy work: each call is bounded in time, and the whole
module in memory. Also: images bounded by pixels before decoding, texts by length
before tokenising, a checkpoint resume with a changed function refused, and a
bit-flipped results file refused with its name.
"""

from __future__ import annotations

import math
import resource
import time

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from workbench import expr, results, sweep  # noqa: E402
from workbench.gequation.solver import flame_speed  # noqa: E402
from workbench.hj import local_entropy, moreau_envelope  # noqa: E402

REFUSED = (ValueError, TypeError, MemoryError)
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NOT_A_NUMBER = st.sampled_from(["one", "", None, [1.0], {"a": 1}, object(), 1j])
BAD_POS = st.one_of(NONFINITE, NOT_A_NUMBER, st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))


def refused(call, *names, seconds=5.0):
    """``call()`` raises a refusal whose one-line message names one of ``names``, quickly."""
    start = time.perf_counter()
    with pytest.raises(REFUSED) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and any(n in message for n in names), message
    assert time.perf_counter() - start < seconds
    return message


@pytest.fixture(scope="module", autouse=True)
def bounded_memory():
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
    assert grown < 800 * 2**20, f"refusing bad values grew the process by {grown / 2**20:.0f} MiB"


@SETTINGS
@given(which=st.sampled_from(["spacing", "t", "values", "method"]), bad=st.data())
def test_envelopes_refuse_bad_values(which, bad):
    f = np.linspace(0.0, 1.0, 9)
    kwargs = {"spacing": 0.1, "t": 0.5, "values": f, "method": "auto"}
    kwargs[which] = bad.draw({
        "spacing": st.one_of(BAD_POS, st.sampled_from([1e-300, 1e300, [0.1, 0.1]])),
        "t": st.one_of(BAD_POS, st.sampled_from([[], [[0.1]], [0.1, -1.0], 1e-320])),
        "values": st.sampled_from([np.full(9, np.nan), np.full(9, np.inf), np.array([1.0, -np.inf, 0.0]),
                                   np.zeros((2, 2)), np.zeros((3, 3, 3, 3)), np.array(["a", "b", "c"]), np.zeros(2)]),
        "method": st.text(max_size=8).filter(lambda s: s not in ("auto", "numba", "torch")),
    }[which])
    fn = bad.draw(st.sampled_from([moreau_envelope, local_entropy]))
    refused(lambda: fn(kwargs["values"], kwargs["spacing"], kwargs["t"], method=kwargs["method"]),
            which, "spacing", "t", "method")


@SETTINGS
@given(which=st.sampled_from(["amplitude", "grid", "s_l", "crossings", "t_final", "cfl", "direction", "d"]),
       bad=st.data())
def test_flame_speed_refuses_bad_values(which, bad):
    kwargs = {"grid": 16, "crossings": 1, "max_crossings": 1}
    kwargs[which] = bad.draw({
        "amplitude": st.one_of(NONFINITE, st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False)),
        "grid": st.one_of(st.integers(max_value=7), st.integers(min_value=4097), NOT_A_NUMBER),
        "s_l": BAD_POS, "crossings": BAD_POS, "cfl": st.one_of(BAD_POS, st.floats(min_value=1.001, max_value=1e9)),
        "t_final": st.one_of(BAD_POS, st.sampled_from([1e12, 1e300])),
        "direction": st.sampled_from([(0, 0), (1,), (math.nan, 1), "ab", None, (1, 2, 3)]),
        "d": st.one_of(NONFINITE, st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False)),
    }[which])
    names = {"amplitude": ("amplitude", "A "), "t_final": ("t_final",), "d": ("d ", "d must")}.get(which, (which,))
    refused(lambda: flame_speed("inviscid", "cellular", kwargs.pop("amplitude", 1.0), **kwargs), *names, seconds=15)


@SETTINGS
@given(text=st.one_of(
    st.text(max_size=40),
    st.sampled_from(["__import__('os').system('true')", "().__class__", "x.__dict__", "globals()", "[x for x in y]",
                     "ｘ", "𝐱+1", "ⅹ", "9" * 400, "1e400", "x**(x**2)", "(" * 60 + "x" + ")" * 60, "x" * 600]),
))
def test_formula_parser_never_evaluates_and_refuses_in_one_line(text):
    try:
        formula = expr.parse(text, ("x", "y"))
    except REFUSED as exc:
        assert "\n" not in str(exc) and str(exc).startswith("formula")
        return
    # accepted: only ASCII, whitelisted names, and it evaluates to a tensor
    import torch

    assert text.isascii() and formula.used <= {"x", "y"}
    out = formula(x=torch.tensor([0.5]), y=torch.tensor([0.25]))
    assert isinstance(out, torch.Tensor)


@SETTINGS
@given(case=st.one_of(
    st.tuples(st.sampled_from([{}, {"a": []}, {"a": [1, 1]}, {"a": [[1.0]]}]), st.none()),
    st.tuples(st.just({"a": [1, 2]}), st.one_of(st.integers(max_value=0), st.sampled_from([2.5, "x", math.nan]))),
))
def test_run_sweep_refuses_bad_grids_before_work(case):
    grid, chunk = case
    calls = []
    refused(lambda: sweep.run_sweep(lambda p: calls.append(1), grid, chunk_size=chunk),
            "grid", "sweep axis", "chunk_size")
    assert calls == []


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_garbage_results_files_are_refused_with_their_name(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("garbage") / "r.nc"
    path.write_bytes(data)
    refused(lambda: results.load(path), str(path))


def test_bit_flipped_results_file_is_refused(tmp_path):
    import xarray as xr

    ds = xr.Dataset({"v": ("x", np.arange(64, dtype=np.float64))})
    path = results.save(ds, tmp_path / "r.nc")
    raw = bytearray(path.read_bytes())
    at = bytes(raw).find(np.arange(64, dtype="<f8").tobytes()[80:96])
    for bit in (0, 3, 7):  # any single flipped bit of the stored values
        flipped = bytearray(raw)
        flipped[at + bit] ^= 1 << bit
        path.write_bytes(bytes(flipped))
        refused(lambda: results.load(path), "r.nc', ", "corrupt")


def test_resume_with_a_changed_function_is_refused(tmp_path):
    from sweep_fixtures import oscillator

    grid = {"gamma": [0.0, 1.0], "e0": [1.0]}
    sweep.run_sweep(oscillator, grid, checkpoint=tmp_path / "c")

    def oscillator_changed(params, **kw):
        return oscillator(params, **kw)
    refused(lambda: sweep.run_sweep(oscillator_changed, grid, checkpoint=tmp_path / "c"), "chunk function")


def test_huge_image_is_refused_before_decoding(tmp_path):
    from PIL import Image

    from workbench.phase.phantoms import MAX_IMAGE_PIXELS, from_image

    path = tmp_path / "bomb.png"
    Image.new("L", (6000, 3000)).save(path)  # 18 megapixels, a few kB of PNG
    assert path.stat().st_size < 200_000
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    message = refused(lambda: from_image(path, 32), "bomb.png")
    assert "6000x3000 pixels" in message and str(MAX_IMAGE_PIXELS) in message
    # decoding would hold 18e6 float64 values (144 MB); the header alone was read
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024 < 100 * 2**20


def test_image_within_the_limit_still_loads(tmp_path):
    from PIL import Image

    from workbench.phase.phantoms import from_image

    img = np.zeros((40, 60), dtype=np.uint8)
    img[10:30, 20:40] = 200
    Image.fromarray(img).save(tmp_path / "box.png")
    out = from_image(tmp_path / "box.png", 16)
    assert out.shape == (16, 16) and out.max() == 1.0 and out.min() == 0.0


def test_long_text_is_refused_before_tokenising(monkeypatch):
    from workbench.attention import model

    monkeypatch.setattr(model, "load_tokenizer", lambda: pytest.fail("the tokenizer ran"))
    message = refused(lambda: model.tokenize("word " * 1_000_000), "text", seconds=1.0)
    assert f"at most {model.MAX_TEXT_CHARS} characters" in message
    refused(lambda: model.model_attention(["a"] * (model.MAX_TEXTS + 1)), "text", seconds=1.0)
