import json
import subprocess
import sys

import pytest

from workbench import cli


def run(*args):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_info_json_has_the_keys():
    proc = run("info", "--json", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"device", "torch", "version"} <= set(data)
    assert data["device"] == "cpu"


def test_help_lists_families():
    from workbench.family import families

    proc = run("--help")
    assert proc.returncode == 0
    names = [f.name for f in families()]
    assert {"hj", "gequation", "phase", "attention"} <= set(names)
    for name in ["info", "serve", *names]:
        assert f"    {name}" in proc.stdout, name


def test_bad_device_is_one_line_and_exit_2():
    proc = run("info", "--device", "tpu")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "device must be one of" in lines[0]


def test_parse_range():
    assert cli.parse_range("amplitude", "1:4:4") == [1.0, 2.0, 3.0, 4.0]
    assert cli.parse_range("amplitude", "1,2.5") == [1.0, 2.5]
    with pytest.raises(ValueError, match="amplitude must be START:STOP:NUM"):
        cli.parse_range("amplitude", "1:2")


def test_serve_command_is_localhost_only(tmp_path):
    from workbench.serve import catalog, command, environment

    cmd = command(port=5123, pages=tmp_path)
    assert cmd[cmd.index("--address") + 1] == "localhost"
    origins = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--allow-websocket-origin"]
    assert origins == ["localhost:5123", "127.0.0.1:5123"]
    assert all(e.title and e.description for e in catalog())
    # one page script per declared dashboard, plus the index
    assert sorted(p.stem for p in tmp_path.glob("*.py")) == sorted(["index", *(e.slug for e in catalog())])
    env = environment(5123, ["lab.example.org"])
    assert env["WORKBENCH_ALLOWED_HOSTS"].split(",") == ["localhost:5123", "127.0.0.1:5123", "[::1]:5123",
                                                         "lab.example.org:5123"]
    with pytest.raises(ValueError, match="port must be in"):
        command(port=0)
    assert environment(5123, pools={"heavy": 3, "per_session": 2})["WORKBENCH_HEAVY_WORKERS"] == "3"
    with pytest.raises(ValueError, match="heavy-per-session must be at most heavy-workers"):
        environment(5123, pools={"heavy": 2, "per_session": 3})
    with pytest.raises(ValueError, match="interactive must be in"):
        environment(5123, pools={"interactive": 0})
    with pytest.raises(ValueError, match="allow_host must name a host, not a wildcard"):
        command(port=5123, allow_websocket_origin=["*"])


def test_host_check_refuses_other_names():
    from workbench.server_setup import host_allowed

    assert host_allowed("localhost:5006", "") and host_allowed("127.0.0.1", "") and host_allowed("[::1]:80", "")
    assert not host_allowed("evil.example:5006", "") and not host_allowed("localhost.evil.example", "")
    allowed = "localhost:5006,lab.example.org:5006"
    assert host_allowed("LAB.example.org:5006", allowed) and not host_allowed("lab.example.org:80", allowed)
    assert not host_allowed("", allowed)


# --- every user-caused error is one line and exit 2, checked before the work -----------------------

def in_process(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_parse_range_counts_before_expanding():
    import time

    from workbench import cliutil

    start = time.perf_counter()
    with pytest.raises(ValueError, match="t must give at most 256 values; got NUM = 1000000000"):
        cliutil.parse_range("t", "0.1:1:1000000000", cap=256)
    with pytest.raises(ValueError, match="at most 3 values; got 4"):
        cliutil.parse_range("a", "1,2,3,4", cap=3)
    with pytest.raises(ValueError, match="START:STOP:NUM"):
        cliutil.parse_range("a", "1:inf:3")
    assert time.perf_counter() - start < 0.5  # nothing was expanded


@pytest.mark.parametrize("argv, words", [
    (["hj", "envelope", "--t", "0.1:1:1000000000"], "t must give at most 256 values"),
    (["gequation", "sweep", "--amplitude", "1:2:1000000000"], "amplitude must give at most 1024 values"),
    (["attention", "dispersion", "--n", "64:4096:1000000000"], "n must give at most 64 values"),
    (["phase", "compare", "--chunk", "0", "--runs", "2"], "chunk must be in [1, inf], got 0"),
    (["gequation", "speed", "--t-final", "1e6"], "pass --allow-long"),
    (["gequation", "speed", "--t-final", "1e12", "--allow-long"], "t_final needs about"),
])
def test_bounds_are_one_line_exit_2(capsys, argv, words):
    code, _, err = in_process(capsys, *argv)
    assert code == 2 and words in one_line(err)


def test_out_folder_is_refused_before_the_computation(capsys, tmp_path, monkeypatch):
    from workbench.hj import smoothing

    monkeypatch.setattr(smoothing, "smooth_landscape", lambda *a, **k: pytest.fail("computed"))
    code, _, err = in_process(capsys, "hj", "envelope", "--n", "16", "--out", str(tmp_path))
    assert code == 2 and "out is a folder" in one_line(err) and str(tmp_path) in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = in_process(capsys, "hj", "envelope", "--n", "16", "--out", str(blocker / "r.nc"))
    assert code == 2 and "a part of the path is a file" in one_line(err)


def test_attention_window_is_checked_before_the_model_loads(capsys, monkeypatch):
    from workbench.attention import model

    monkeypatch.setattr(model, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    monkeypatch.setattr(model, "load_tokenizer", lambda *a, **k: pytest.fail("the tokenizer was loaded"))
    code, _, err = in_process(capsys, "attention", "variants", "--text", "a b c", "--window", "0")
    assert code == 2 and "window must be in [1, 512], got 0" in one_line(err)


@pytest.mark.parametrize("exc", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory:\n you tried"),
    OverflowError("int too large to convert to float"), FloatingPointError("overflow encountered in exp"),
    RecursionError("maximum recursion depth exceeded"), IsADirectoryError(21, "Is a directory", "/tmp"),
    OSError("Timed out trying to connect to tcp://10.255.255.1:8786 after 5 s"),
])
def test_every_user_error_class_is_one_line(capsys, monkeypatch, exc):
    from workbench.hj import smoothing

    def fail(*a, **k):
        raise exc
    monkeypatch.setattr(smoothing, "smooth_landscape", fail)
    code, _, err = in_process(capsys, "hj", "envelope", "--n", "16")
    line = one_line(err)
    assert code == 2 and line.startswith("workbench hj envelope: error: ")


def test_unreachable_client_fails_quickly_in_one_line(capsys):
    import time

    start = time.perf_counter()
    code, _, err = in_process(capsys, "gequation", "sweep", "--amplitude", "1,2", "--grid", "16",
                              "--client", "tcp://127.0.0.1:9")
    assert code == 2 and "no dask scheduler answered" in one_line(err)
    assert time.perf_counter() - start < 30  # the connect timeout is 5 s (default dask: 30 s, then a traceback)


def test_json_is_strict_never_infinity_or_nan(capsys):
    import argparse

    from workbench import cliutil

    args = argparse.Namespace(json=True, out=None)
    cliutil.emit({"a": float("inf"), "b": [1.0, float("nan")], "c": {"d": -float("inf")}}, args)
    text = capsys.readouterr().out
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}")) == \
        {"a": None, "b": [1.0, None], "c": {"d": None}}


def test_no_import_circles_between_core_modules_and_the_family_clis():
    """runtime does not import validate (validate may import runtime); family CLIs import cliutil, not cli."""
    import ast
    from pathlib import Path

    import workbench

    root = Path(workbench.__file__).parent

    def imported(path: Path) -> set[str]:
        package = ".".join(["workbench", *path.relative_to(root).parent.parts])
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                module = ".".join(p for p in [base, node.module or ""] if p)
                names.add(module)
                names.update(f"{module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        return names

    assert not {"workbench.validate", "workbench.budget", "workbench.cli"} & imported(root / "runtime.py")
    assert "workbench.cli" not in imported(root / "cliutil.py")
    for family_cli in root.glob("*/cli.py"):
        names = imported(family_cli)
        assert "workbench.cli" not in names and "workbench.cliutil" in names, family_cli
