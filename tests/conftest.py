"""Test harness: GPU marker, and a served workbench driven by a system Chromium.

* ``@pytest.mark.gpu`` tests are skipped cleanly when CUDA is absent.
* ``panel_server`` serves the index and every app once per session on a free
  localhost port (the same command line as ``make serve``).
* pytest-playwright's ``page`` runs Debian's Chromium headless by executable
  path (``WORKBENCH_CHROMIUM`` overrides it); ``console_errors`` collects the
  page's JavaScript console errors and uncaught exceptions.
* ``open_app`` opens an app in ``page``; ``open_other`` opens one in another tab
  of the same browser (its own server session), its console errors collected too.
* ``widget_values(page)`` reads the Bokeh widget values by title.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--mute-audio"]


def pytest_collection_modifyitems(config, items):
    no_cuda = pytest.mark.skip(reason="needs CUDA; none on this machine")
    no_browser = pytest.mark.skip(reason="no Chromium found (install Debian's chromium or set WORKBENCH_CHROMIUM)")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(no_cuda)
        if "browser" in item.keywords and not CHROMIUM:
            if os.environ.get("CI"):
                raise pytest.UsageError("CI needs Chromium for the browser tests; `make test` installs it")
            item.add_marker(no_browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


SERVER_LOGS: list[Path] = []  # the served workbench's log (see ``panel_server_log``)


@pytest.fixture
def panel_server_log(panel_server) -> Path:
    """The log file of the ``panel_server`` process (its stdout and stderr)."""
    return SERVER_LOGS[-1]


@pytest.fixture(scope="session")
def panel_server(tmp_path_factory):
    """Base URL of one ``panel serve`` of every app (index at ``/``)."""
    from workbench.serve import command

    port = free_port()
    log = tmp_path_factory.mktemp("server") / "panel.log"
    env = {**os.environ, "WORKBENCH_DEVICE": os.environ.get("WORKBENCH_DEVICE", "cpu"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    base = f"http://localhost:{port}"
    SERVER_LOGS.append(log)
    with running(command(port=port, address="127.0.0.1"), log, f"{base}/index", 180, "panel serve",
                 cwd=ROOT, env=env):
        yield base


@contextlib.contextmanager
def running(cmd: list[str], log: Path, ready_url: str, timeout: float, what: str, stop_timeout: float = 15,
            **popen):
    """Run ``cmd`` (output to ``log``) until the block ends, once ``ready_url`` answers 200."""
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, **popen)
    try:
        wait_http(ready_url, timeout=timeout, proc=proc)
    except Exception:
        proc.kill()
        raise RuntimeError(f"{what} did not start:\n{log.read_text()[-4000:]}") from None
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


def watch_console(page, errors: list[str]) -> None:
    """Append ``page``'s JavaScript console errors and uncaught page errors to ``errors``."""
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))


@pytest.fixture
def console_errors(page):
    """JavaScript console errors and uncaught page errors seen by ``page`` (and ``open_other`` tabs)."""
    errors: list[str] = []
    watch_console(page, errors)
    return errors


WIDGET_VALUES_JS = """() => {
  const out = {};
  for (const doc of Bokeh.documents)
    for (const m of doc.all_models)
      if (/Slider|Select|TextInput|Spinner/.test(m.constructor.__name__) && m.title)
        out[m.title] = m.value;
  return out;
}"""


@pytest.fixture
def widget_values():
    """``widget_values(page)``: {title: value} of the page's sliders, selects, text inputs and spinners."""
    return lambda page: page.evaluate(WIDGET_VALUES_JS)


def wait_rendered(page, timeout: float = 60_000) -> None:
    """Wait until Bokeh has rendered the served document and the page is idle."""
    page.wait_for_function("() => window.Bokeh !== undefined && Bokeh.documents.length > 0", timeout=timeout)
    page.wait_for_load_state("networkidle", timeout=timeout)


@pytest.fixture
def open_app(page, panel_server, console_errors):
    """``open_app("slug", "?a=1")`` navigates and waits for the render; returns the page."""
    def _open(slug: str, query: str = ""):
        page.goto(f"{panel_server}/{slug}{query}", timeout=120_000)
        wait_rendered(page)
        return page
    return _open


@pytest.fixture
def open_other(page, panel_server, console_errors):
    """``open_other("slug", "?a=1")``: the app in a new tab of ``page``'s browser context (a second session)."""
    def _open(slug: str, query: str = ""):
        other = page.context.new_page()
        watch_console(other, console_errors)
        other.goto(f"{panel_server}/{slug}{query}", timeout=120_000)
        wait_rendered(other)
        return other
    return _open


@pytest.fixture
def one_torch_thread():
    """Small test arrays: one torch thread avoids OpenMP hand-off costs on a busy 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
