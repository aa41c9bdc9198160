"""The notebooks in a real JupyterLab, offline, in headless Chromium.

One JupyterLab server (127.0.0.1, no token, its own settings, workspace and runtime
folders, serving a temporary copy of ``notebooks/``) is started for the module; its
kernels inherit ``WORKBENCH_QUICK=1``. For each notebook the page runs all cells
(JupyterLab's ``notebook:run-all-cells`` command), waits until the kernel is idle
with every code cell executed, and checks:

* every output that holds a HoloViews/Bokeh/Panel view has rendered a canvas of
  non-zero size;
* no output is an error (traceback) or a stderr stream;
* no browser console error, and no request leaves 127.0.0.1 (each is routed and logged).

The explorers are then driven through the rendered controls: in ``01`` the HJ
explorer's ``t`` slider (the envelope curves are read back from the page's Bokeh
models), in ``00`` the same slider, where a plot of the user's own bound with
``pn.bind`` must follow, in ``02`` the flame-speed explorer's Run (the s_T plot fills),
in ``04`` the attention explorer's head slider (the enlarged map changes).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import ROOT, free_port, running

pytestmark = pytest.mark.browser

# Every notebook (this is where `make test` executes them; nbval's run without a browser would only repeat
# it). WORKBENCH_LAB_NOTEBOOKS=00,04 picks some by their number.
ALL_NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
PICKED = [p.strip() for p in os.environ.get("WORKBENCH_LAB_NOTEBOOKS", "").split(",") if p.strip()]
NOTEBOOKS = [n for n in ALL_NOTEBOOKS if not PICKED or n.split("_")[0] in PICKED]
VIEW_MIME = "application/vnd.holoviews_exec.v0+json"
RUN_TIMEOUT_MS = 300_000  # one notebook in quick mode on a busy 2-core machine: 10-60 s


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """Base URL of a JupyterLab serving a temporary copy of ``notebooks/``."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "data", tmp / "data")  # beside the notebooks, as in the repository (05 reads ../data)
    settings = tmp / "settings"
    for plugin, values in {
        # every cell rendered (no virtual scrolling), no news or update checks
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    env = {**os.environ, "WORKBENCH_QUICK": "1", "WORKBENCH_DEVICE": os.environ.get("WORKBENCH_DEVICE", "cpu"),
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    env.pop("WORKBENCH_NOTEBOOK_STATIC", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
           "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI runners
        cmd.append("--allow-root")
    with running(cmd, tmp / "jupyterlab.log", f"http://127.0.0.1:{port}/api/status", 120, "JupyterLab",
                 stop_timeout=20, cwd=tmp, env=env):
        yield f"http://127.0.0.1:{port}"


def offline(page, base: str) -> list[str]:
    """Abort and record every request that does not go to ``base``; returns the record."""
    outside: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(base) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    page.route("**/*", route)
    return outside


ALL_EXECUTED_JS = """() => {
  const app = window.jupyterapp, nb = app && app.shell.currentWidget;
  if (!nb || !nb.content || !nb.sessionContext.session || !nb.sessionContext.session.kernel) return false;
  if (nb.sessionContext.session.kernel.status !== 'idle') return false;
  // a cell that raised stops "run all": done, and the error is reported from the outputs
  if (nb.content.node.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')) return true;
  const cells = nb.content.widgets.filter(c => c.model.type === 'code');
  return cells.length > 0 && cells.every(c => c.model.executionCount !== null && !c.node.querySelector(
    '.jp-InputPrompt').textContent.includes('*'));
}"""

# Per code cell: its error/stderr outputs, and for each view output the largest canvas inside it (shadow DOMs
# included), so that "rendered" means a drawn canvas of non-zero size.
OUTPUTS_JS = """(mime) => {
  const nb = window.jupyterapp.shell.currentWidget;
  const biggest = (root) => {
    let best = 0;
    const walk = (node) => {
      if (node.tagName === 'CANVAS') { const r = node.getBoundingClientRect(); best = Math.max(best, r.width * r.height); }
      if (node.shadowRoot) walk(node.shadowRoot);
      for (const child of node.children || []) walk(child);
    };
    walk(root);
    return best;
  };
  return nb.content.widgets.filter(c => c.model.type === 'code').map((c, i) => ({
    index: i,
    source: c.model.sharedModel.getSource().slice(0, 80),
    errors: [...c.node.querySelectorAll('.jp-OutputArea-output')].filter(o =>
      o.dataset.mimeType === 'application/vnd.jupyter.stderr' || o.dataset.mimeType ===
      'application/vnd.jupyter.error').map(o => o.innerText.slice(0, 2000)),
    mimes: [...c.node.querySelectorAll('.jp-OutputArea-output')].map(o => o.dataset.mimeType || o.className),
    views: [...c.node.querySelectorAll('.jp-OutputArea-output')].filter(o => o.querySelector('[data-root-id]'))
      .map(o => biggest(o)),
  }));
}"""

# Count and sum of squares of the numbers in the ColumnDataSources of the page's Bokeh documents (all
# columns, or those named; images included): a fingerprint of what the plots show.
PLOTTED_JS = """(names) => {
  let total = 0, n = 0;
  const add = (v) => {  // numbers, and the arrays inside a column (an image is an array of values)
    if (Number.isFinite(v)) { total += v * v; n += 1; }
    else if (v && typeof v === 'object' && typeof v.length === 'number') for (const x of v) add(x);
  };
  for (const doc of Bokeh.documents)
    for (const m of doc.all_models)
      if (m.constructor.__name__ === 'ColumnDataSource')
        for (const [k, col] of m.data.entries ? m.data.entries() : Object.entries(m.data))
          if (!names || names.includes(k)) add(col);
  return [n, total];
}"""


def run_notebook(page, base: str, name: str, console: list[str]) -> list[dict]:
    page.goto(f"{base}/lab/tree/{name}?reset", timeout=120_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.isReady", timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function(ALL_EXECUTED_JS, timeout=RUN_TIMEOUT_MS, polling=500)
    except PlaywrightTimeout:  # say what the outputs show (a stderr line, a view) before the timeout
        assert_clean(page.evaluate(OUTPUTS_JS, VIEW_MIME), name)
        raise
    page.wait_for_timeout(1500)  # the last view's render after the kernel went idle
    return page.evaluate(OUTPUTS_JS, VIEW_MIME)


def assert_clean(cells: list[dict], name: str) -> None:
    errors = [(c["index"], c["source"], e) for c in cells for e in c["errors"]]
    assert not errors, f"{name}: outputs with a traceback or stderr: {errors}"
    # the first cell (workbench.notebook()) only loads the libraries: its Bokeh root is an empty comm manager
    empty = [(c["index"], c["source"]) for c in cells[1:] for size in c["views"] if size <= 0]
    assert not empty, f"{name}: views that did not render a canvas: {empty}"


# Panel's notebook comm manager (panel/models/comm_manager.ts) sends a page change to the kernel and then
# holds later changes until the kernel acknowledges it, or until `timeout` (5 s) has passed and another change
# comes. A change sent while the page renders is sometimes never acknowledged (seen in the attention
# explorer's output under load), so a key pressed within 5 s of it waits for a second one: a user's first
# slider step right after "run all" can show nothing. The test gives the page that time before it presses.
COMM_HOLD_MS = 5_500


def settle(page, selector: str):
    """The control at ``selector``, scrolled into view, after the comm hold (COMM_HOLD_MS)."""
    control = page.locator(selector).first
    control.scroll_into_view_if_needed()
    page.wait_for_timeout(COMM_HOLD_MS)
    return control


def press(page, selector: str, steps: int, settled: bool = False) -> None:
    """Press ArrowRight ``steps`` times on the slider handle at ``selector`` (settled first unless it is)."""
    handle = page.locator(selector).first if settled else settle(page, selector)
    handle.focus()
    for _ in range(steps):
        handle.press("ArrowRight")


def move_t(page, steps: int) -> None:
    """Press ArrowRight ``steps`` times on the HJ explorer's t slider (steps of 0.001)."""
    press(page, ".wb-hj-t .noUi-handle", steps)


def plotted(page, names: list[str] | None = None) -> list[float]:
    return page.evaluate(PLOTTED_JS, names)


def wait_changed(page, before, names: list[str] | None = None, timeout: float = 60_000):
    page.wait_for_function(f"(names) => ({PLOTTED_JS})(names)[1] !== {json.dumps(before[1])}",
                           arg=names, timeout=timeout, polling=250)
    return plotted(page, names)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_renders_in_jupyterlab(page, jupyterlab, console_errors, name):
    outside = offline(page, jupyterlab)
    started = time.monotonic()
    cells = run_notebook(page, jupyterlab, name, console_errors)
    print(f"{name}: ran all cells in {time.monotonic() - started:.1f} s")
    assert_clean(cells, name)
    assert sum(len(c["views"]) for c in cells[1:]) > 0, f"{name}: no view shown"
    assert not outside, f"{name}: requests outside 127.0.0.1: {sorted(set(outside))[:10]}"
    assert not console_errors, f"{name}: console errors {console_errors[:5]}"
    if name == "01_hj_local_entropy.ipynb":  # the HJ explorer: t moves, the envelopes are recomputed
        page.get_by_text(re.compile(r"t = 0\.1: envelopes on 128 points")).first.wait_for(timeout=90_000)
        before = plotted(page)
        move_t(page, 20)
        page.get_by_text(re.compile(r"t = 0\.1[0-9]*[1-9]: envelopes on 128 points")).first.wait_for(timeout=90_000)
        after = wait_changed(page, before)
        assert after[0] > 0 and after[1] != before[1]
        assert_clean(page.evaluate(OUTPUTS_JS, VIEW_MIME), name)  # no traceback from the slider steps
    if name == "00_tour.ipynb":  # the user's own plot follows the explorer's t through pn.bind
        title = page.locator(".wb-own-plot").first
        title.wait_for(timeout=60_000)
        before = plotted(page, ["G"])  # the heat kernel's values (its vdim is named G)
        move_t(page, 50)
        after = wait_changed(page, before, ["G"])
        assert before[0] > 0 and after[1] != before[1]
        assert_clean(page.evaluate(OUTPUTS_JS, VIEW_MIME), name)
    if name == "02_gequation.ipynb":  # the flame-speed explorer: Run fills the s_T(A) plot
        run = settle(page, ".wb-gq-run button")
        before = plotted(page)
        run.click()
        after = wait_changed(page, before, timeout=180_000)
        assert after[0] > before[0]
        assert_clean(page.evaluate(OUTPUTS_JS, VIEW_MIME), name)
    if name == "04_attention.ipynb":  # the attention explorer: the next head, another enlarged map
        settle(page, ".wb-attention-head .noUi-handle")
        before = plotted(page)
        press(page, ".wb-attention-head .noUi-handle", 1, settled=True)
        after = wait_changed(page, before)
        assert after[1] != before[1]
        assert_clean(page.evaluate(OUTPUTS_JS, VIEW_MIME), name)
    # after the controls moved too: nothing leaves 127.0.0.1 and the console stays clean (the status
    # line is a widget, so a new message does not re-send Panel's stylesheets with their CDN addresses)
    assert not outside, f"{name}: requests outside 127.0.0.1 after the controls moved: {sorted(set(outside))[:10]}"
    assert not console_errors, f"{name}: console errors after the controls moved: {console_errors[:5]}"
