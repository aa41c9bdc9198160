"""Every CLI subcommand, fuzzed with values a careless or hostile user may type.

Each example gives one option a generated bad value on top of cheap, valid base
arguments and runs ``workbench.cli.main(argv)`` in-process. It must end with exit
status 2 and one error line on stderr that names the option, never a traceback,
within a few seconds; the whole run must not grow the process by more than a few
hundred MiB (nothing was expanded or allocated before the check).
"""

from __future__ import annotations

import resource
import time

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from workbench import cli  # noqa: E402

NONFINITE = st.sampled_from(["nan", "inf", "-inf", "1e400", "-1e400", "NaN", "+inf"])
GARBAGE = st.sampled_from(["", " ", "abc", "--", "1..2", "0x10", "1e", "1,2,", "None", "[1]", "{}", "1;2"])
BAD_REAL = st.one_of(NONFINITE, GARBAGE)
BAD_POS = st.one_of(BAD_REAL, st.floats(max_value=0.0, allow_nan=False, allow_infinity=False).map(repr))
BAD_POSINT = st.one_of(GARBAGE, NONFINITE, st.integers(max_value=0).map(str), st.sampled_from(["1.5", "2e0x"]))
HUGE_INT = st.integers(min_value=10**7, max_value=10**40).map(str)
BAD_RANGE = st.one_of(GARBAGE, NONFINITE, st.sampled_from(["1:2", "1:2:0", "1:2:-3", "0:1:1e9", "1:2:1000000000",
                                                           "1:nan:3", "a:b:c", "1:2:3:4", ",", "1,nan"]))
NAMES = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda s: s.strip() and not s.startswith("-"))


def names_except(allowed):
    return NAMES.filter(lambda s: s.strip().lower() not in allowed and "," not in s)


# (subcommand, cheap valid base arguments, {option: strategy of bad values})
CASES = [
    (["info"], [], {"--device": names_except({"auto", "cpu", "cuda"})}),
    (["hj", "envelope"], ["--n", "16", "--dim", "1"], {
        "--n": st.one_of(BAD_POSINT, HUGE_INT), "--t": st.one_of(BAD_RANGE, BAD_POS), "--beta": BAD_POS,
        "--lo": BAD_REAL, "--hi": BAD_REAL, "--dim": st.one_of(BAD_POSINT, st.sampled_from(["3", "4", "100"])),
        "--landscape": names_except({"rastrigin", "ackley", "deep_relaxation", "quadratic", "double_well"}),
        "--formula": st.sampled_from(["__import__('os')", "x.real", "ｘ**2", "1" * 400, "x**x**x", "x[0]",
                                      "lambda: 1", "x if x else 1", "'a'", "sin(x, x)", "", "x^2"]),
        "--device": names_except({"auto", "cpu", "cuda"})}),
    (["hj", "optimize"], ["--n-starts", "4", "--n-steps", "2", "--dim", "1", "--methods", "gd"], {
        "--n-starts": st.one_of(BAD_POSINT, HUGE_INT), "--n-steps": st.one_of(BAD_POSINT, HUGE_INT),
        "--lr": BAD_POS, "--beta": BAD_POS, "--delta": BAD_POS, "--n-samples": st.one_of(BAD_POSINT, HUGE_INT),
        "--methods": names_except({"gd", "prox", "entropy_sgd", "hj_prox"}), "--t": BAD_RANGE}),
    (["gequation", "speed"], ["--grid", "16", "--crossings", "1", "--max-crossings", "1"], {
        "--amplitude": st.one_of(BAD_REAL, st.floats(max_value=-1e-6, allow_nan=False).map(repr)),
        "--grid": st.one_of(BAD_POSINT, HUGE_INT), "--d": st.one_of(BAD_REAL, st.sampled_from(["-1", "-1e-3"])),
        "--s-l": BAD_POS, "--direction": st.sampled_from(["0,0", "1", "a,b", "nan,1", "1,2,3", "inf,0", ""]),
        "--t-final": st.one_of(BAD_POS, st.sampled_from(["1e12", "1e30"])), "--crossings": BAD_POS,
        "--dt": BAD_POS, "--cfl": st.one_of(BAD_POS, st.sampled_from(["1.5", "2"])),
        "--profile": st.sampled_from(["__import__('os')", "y.y", "ｙ", "open('x')", "1" * 400])}),
    (["gequation", "sweep"], ["--amplitude", "1,2", "--grid", "16", "--crossings", "1", "--max-crossings", "1"], {
        "--amplitude": BAD_RANGE, "--d": BAD_RANGE, "--omega": BAD_RANGE,
        "--chunk-size": BAD_POSINT, "--grid": st.one_of(BAD_POSINT, HUGE_INT)}),
    (["phase", "compare"], ["--runs", "2", "--iterations", "10", "--size", "32", "--algorithms", "er"], {
        "--flux": st.one_of(BAD_POS, st.sampled_from(["1e16", "1e300"])), "--runs": st.one_of(BAD_POSINT, HUGE_INT),
        "--size": st.one_of(BAD_POSINT, HUGE_INT), "--iterations": st.one_of(BAD_POSINT, HUGE_INT),
        "--oversampling": st.one_of(BAD_REAL, st.sampled_from(["1", "0", "-2", "100"])),
        "--beamstop": st.one_of(BAD_REAL, st.sampled_from(["-1", "1e9"])), "--chunk": BAD_POSINT,
        "--threshold": BAD_POS, "--algorithms": names_except({"er", "hio", "raar", "oss", "gps", "gps-r", "gps-f",
                                                             "gps-rf"}),
        "--phantom": names_except({"vesicle", "nanorice", "shepp-logan"})}),
    (["attention", "maps"], ["--text", "a cat"], {
        "--text": st.sampled_from(["", "   ", "\n\t", "word " * 20000]), "--layer": BAD_POSINT,
        "--window": st.one_of(GARBAGE, st.integers(max_value=-1).map(str))}),
    (["attention", "variants"], ["--text", "a cat sat"], {
        "--text": st.sampled_from(["", "   ", "x" * 40000]), "--layer": st.sampled_from(["-1", "6", "99", "a"]),
        "--window": st.one_of(BAD_POSINT, HUGE_INT), "--mix": st.one_of(BAD_REAL, st.sampled_from(["-0.1", "1.5"])),
        "--variants": names_except({"full", "sliding", "block", "fwin", "sema", "linear"})}),
    (["attention", "dispersion"], ["--n", "64", "--heads", "1", "--max-rows", "4", "--variants", "full"], {
        "--n": st.one_of(BAD_RANGE, st.sampled_from(["1", "0", "-5", "10000000"])),
        "--heads": st.one_of(BAD_POSINT, HUGE_INT), "--d": st.one_of(BAD_POSINT, HUGE_INT),
        "--max-rows": st.one_of(BAD_POSINT, HUGE_INT), "--score-bound": BAD_POS,
        "--mix": st.one_of(BAD_REAL, st.sampled_from(["-1", "2"])),
        "--source": names_except({"gaussian", "sphere", "model"}),
        "--variants": names_except({"full", "sliding", "block", "sema", "linear"})}),
    (["graph", "classify"], ["--draws", "1", "--methods", "gl"], {
        "--draws": BAD_POSINT, "--k": BAD_POSINT, "--labels-per-class": BAD_RANGE, "--n": BAD_POSINT,
        "--methods": names_except({"gl", "wnll", "knn", "svm", "softmax"}),
        "--sigma-neighbor": BAD_POSINT}),
    (["graph", "activation"], ["--train-sizes", "50", "--seeds", "1", "--epochs", "1"], {
        "--train-sizes": BAD_RANGE, "--seeds": BAD_POSINT, "--epochs": BAD_POSINT}),
]


def run(capsys, argv):
    start = time.perf_counter()
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own refusals (usage line + error line)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err, time.perf_counter() - start


def names_option(line: str, option: str) -> bool:
    bare = option.lstrip("-")
    words = {bare, bare.replace("-", "_"), option, bare.lower(), "argument " + option}
    if bare in ("t-final", "crossings", "dt"):  # the horizon's options are reported as what they set
        words |= {"t_final", "time step"}
    if bare == "amplitude":
        words |= {"A must", "A "}
    if bare == "formula" or bare == "profile":
        words |= {"formula"}
    if bare == "algorithms":
        words |= {"algorithm"}
    if bare == "variants":
        words |= {"variant"}
    if bare == "phantom":
        words |= {"image file", "phantom"}
    return any(w.lower() in line.lower() for w in words)


@pytest.mark.parametrize("command, base, options", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_every_subcommand_refuses_bad_values_in_one_line(command, base, options, capsys):
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    @settings(max_examples=12, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
    @given(st.sampled_from(sorted(options)).flatmap(lambda o: st.tuples(st.just(o), options[o])))
    def check(pair):
        option, value = pair
        argv = [*command, *base, f"{option}={value}"]
        code, _out, err, seconds = run(capsys, argv)
        assert code == 2, f"{argv!r} exited {code}: {err[-500:]}"
        assert "Traceback" not in err, err
        last = err.strip().splitlines()[-1]
        assert "error:" in last and names_option(last, option), f"{argv!r}: {last!r}"
        if "error: argument" not in last:  # argparse prints its usage (several lines) before the error
            assert len(err.strip().splitlines()) <= 2, err
        assert seconds < 20, f"{argv!r} took {seconds:.1f} s to refuse"

    check()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
    assert grown < 800 * 2**20, f"refusing bad values grew the process by {grown / 2**20:.0f} MiB"
