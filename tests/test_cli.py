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
    with pytest.raises(ValueError, match="allow_host must name a host, not a wildcard"):
        command(port=5123, allow_websocket_origin=["*"])


def test_host_check_refuses_other_names():
    from workbench.server_setup import host_allowed

    assert host_allowed("localhost:5006", "") and host_allowed("127.0.0.1", "") and host_allowed("[::1]:80", "")
    assert not host_allowed("evil.example:5006", "") and not host_allowed("localhost.evil.example", "")
    allowed = "localhost:5006,lab.example.org:5006"
    assert host_allowed("LAB.example.org:5006", allowed) and not host_allowed("lab.example.org:80", allowed)
    assert not host_allowed("", allowed)
