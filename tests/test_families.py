"""Checks every declared family and dashboard passes, whoever declared it (the workbench's own
families and those of other installed packages alike), and a toy family in a package of its own
is picked up by the CLI, the server's index and these tests with no other file changed."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import panel as pn
import pytest
from bokeh.document import Document

from workbench.family import Dashboard, Family, dashboards, families
from workbench.ui import Explorer, check_state, state_of

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = dashboards()


def test_declarations_are_complete_and_unique():
    fams = families()
    assert len({f.name for f in fams}) == len(fams)
    slugs = [d.slug for d in DASHBOARDS]
    assert len(set(slugs)) == len(slugs) and all(s.isidentifier() for s in slugs)
    for fam in fams:
        assert isinstance(fam, Family) and fam.title and fam.dashboards
        for dash in fam.dashboards:
            assert dash.title and dash.description and ":" in dash.explorer


@pytest.mark.parametrize("dash", DASHBOARDS, ids=[d.slug for d in DASHBOARDS])
def test_dashboard_explorer_builds_renders_and_shares_its_state(dash: Dashboard, one_torch_thread):
    explorer = dash.make_explorer(**dash.quick)
    assert isinstance(explorer, Explorer)
    assert explorer.shared and all(name in explorer.param for name in explorer.shared)
    root = pn.panel(explorer).get_root(Document())  # the notebook/test view renders to Bokeh models
    assert root is not None
    state = state_of(explorer, explorer.shared)
    assert check_state(explorer, state, explorer.shared).keys() == state.keys()  # its own state is valid
    assert explorer.status.kind != "danger", explorer.status.message


def document_texts(url: str) -> list[str]:
    """The text of every model of a served page's document, pulled over its websocket as a browser does."""
    import asyncio
    import threading

    import panel.models  # noqa: F401  the document holds Panel's models
    from bokeh.client import pull_session

    texts: list[str] = []

    def pull() -> None:  # in a thread of its own: bokeh.client runs its own event loop
        asyncio.set_event_loop(asyncio.new_event_loop())
        session = pull_session(url=url)
        try:
            texts.extend(str(m.text) for m in session.document.models if isinstance(getattr(m, "text", None), str))
        finally:
            session.close()

    thread = threading.Thread(target=pull)
    thread.start()
    thread.join(120)
    return texts


TOY_FAMILY = {
    "toyfam/__init__.py": "",
    "toyfam/family.py": '''
        from workbench.family import Dashboard, Family

        FAMILY = Family(
            name="toy",
            title="Toy family",
            cli="toyfam.cli:register",
            dashboards=(Dashboard(slug="toy_view", title="Toy view", description="A toy dashboard of a toy family",
                                  explorer="toyfam.widget:ToyExplorer", quick={"x": 2.0}),),
        )
    ''',
    "toyfam/cli.py": '''
        import json


        def register(subparsers):
            p = subparsers.add_parser("toy", help="a toy family's command")
            p.add_argument("--x", type=float, default=1.0)
            p.set_defaults(func=lambda args: print(json.dumps({"square": args.x ** 2})) or 0)
    ''',
    "toyfam/widget.py": '''
        import panel as pn
        import param

        from workbench.ui import Explorer


        class ToyExplorer(Explorer):
            shared = ("x",)
            filename = "toy"
            x = param.Number(default=1.0, bounds=(0.0, 4.0), doc="a number")

            def body(self):
                return pn.pane.HTML("x squared")
    ''',
    "toyfam-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: toyfam\nVersion: 0.1\n",
    "toyfam-0.1.dist-info/entry_points.txt": "[workbench.families]\ntoy = toyfam.family:FAMILY\n",
}


@pytest.fixture(scope="module")
def toy_env(tmp_path_factory):
    """The environment of a Python that has the toy package installed (on its path, with metadata)."""
    folder = tmp_path_factory.mktemp("toy")
    for name, text in TOY_FAMILY.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}


def test_toy_family_is_on_the_command_line(toy_env):
    run = lambda *a: subprocess.run([sys.executable, "-m", "workbench.cli", *a], capture_output=True, text=True,  # noqa: E731
                                    env=toy_env, timeout=300)
    assert "    toy" in run("--help").stdout
    out = run("toy", "--x", "3")
    assert out.returncode == 0 and out.stdout.strip() == '{"square": 9.0}'


def test_toy_family_is_picked_up_by_the_shared_tests(toy_env):
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(Path(__file__)),
                          "-k", "toy_view and dashboard_explorer"], capture_output=True, text=True, env=toy_env,
                         cwd=ROOT, timeout=600)
    assert "1 passed" in out.stdout, out.stdout[-2000:]


def test_toy_family_is_served_and_on_the_index(toy_env, tmp_path):
    from conftest import free_port, wait_http

    port = free_port()
    # the command line as `workbench serve` makes it, in the environment that has the toy package
    make = (f"import json; from workbench.serve import command; "
            f"print(json.dumps(command(port={port}, address='127.0.0.1', pages={str(tmp_path)!r})))")
    cmd = json.loads(subprocess.run([sys.executable, "-c", make], capture_output=True, text=True, env=toy_env,
                                    check=True, timeout=300).stdout)
    proc = subprocess.Popen(cmd, env=toy_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/index", 240, proc)
        index = html.unescape(" ".join(document_texts(f"http://127.0.0.1:{port}/index")))
        assert 'href="./toy_view"' in index and "A toy dashboard of a toy family" in index
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/toy_view", timeout=60) as resp:
            assert resp.status == 200 and "Toy view" in resp.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
