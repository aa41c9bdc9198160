"""Committed notebooks carry the outputs of a full run (``make notebooks``), readable without running.

Checked for every notebook (:data:`WITH_OUTPUTS`): the provenance (package version, device,
date, not quick mode), every code cell executed in order by one kernel, every cell whose last
statement is an expression (a figure, a table) shows an output, no error output, the file
under 3 MB, a full run of at most 5 minutes, and its run time stated at the top.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import pytest

from workbench.notebook_run import MADE_BY, MAX_BYTES, MAX_SECONDS

ROOT = Path(__file__).resolve().parents[1]
WITH_OUTPUTS = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}  # every notebook


def made_by_make_notebooks(path: Path) -> bool:
    return json.loads(path.read_text())["metadata"].get("workbench", {}).get("made_by") == MADE_BY


CHECKED = sorted({p.name for p in (ROOT / "notebooks").glob("*.ipynb") if made_by_make_notebooks(p)} | WITH_OUTPUTS)


def shows_a_value(source: str) -> bool:
    """Whether a cell ends in an expression that Jupyter displays (not a call to print, not ``;``-silenced)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    if not body or not isinstance(body[-1], ast.Expr):
        return False
    last = body[-1].value
    if isinstance(last, ast.Call) and isinstance(last.func, ast.Name) and last.func.id in ("print", "display"):
        return False
    return not source.rstrip().endswith(";")


def test_expression_detection():
    assert shows_a_value("x = 1\nplots.pattern(x)")
    assert shows_a_value("table")
    assert not shows_a_value("print(1)")
    assert not shows_a_value("x = f()")
    assert not shows_a_value("if a:\n    display(b)")
    assert not shows_a_value("fig;")


@pytest.mark.parametrize("name", CHECKED)
def test_committed_notebook_has_full_run_outputs(name):
    path = ROOT / "notebooks" / name
    assert path.stat().st_size < MAX_BYTES, f"{name}: {path.stat().st_size} bytes"
    nb = json.loads(path.read_text())
    meta = nb["metadata"].get("workbench")
    assert meta, f"{name}: no workbench metadata: run `make notebooks`"
    assert meta["made_by"] == MADE_BY and meta["quick"] is False
    assert meta["version"] and meta["device"]
    dt.datetime.strptime(meta["date"], "%Y-%m-%dT%H:%M:%SZ")
    assert meta["seconds"] <= MAX_SECONDS, f"{name}: the full run took {meta['seconds']} s"
    intro = "".join(next(c for c in nb["cells"] if c["cell_type"] == "markdown")["source"])
    assert "Run time of the full notebook" in intro and "2-core CPU" in intro and "GPU" in intro, name
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert all(isinstance(n, int) for n in counts), f"{name}: unexecuted code cells {counts}"
    assert counts == list(range(1, len(code) + 1)), f"{name}: not one run in order: {counts}"
    for i, cell in enumerate(code):
        outputs = cell["outputs"]
        source = "".join(cell["source"])
        assert not [o for o in outputs if o["output_type"] == "error"], f"{name} code cell {i}: error output"
        assert not [o for o in outputs if o.get("name") == "stderr"], f"{name} code cell {i}: stderr output"
        if shows_a_value(source):
            shown = [o for o in outputs if o["output_type"] in ("execute_result", "display_data")]
            assert shown, f"{name} code cell {i} draws a figure or table but has no output"
            kinds = set().union(*(o["data"] for o in shown))
            assert kinds & {"image/png", "text/html", "text/plain"}, f"{name} code cell {i}: outputs {kinds}"
