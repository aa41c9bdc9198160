"""The library internals that ``workbench/ui/internals.py`` reads exist in a real served session.

A Panel, Bokeh or Tornado release that renames them fails this test loudly (the map updates
would otherwise silently fall back to one message per change)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
import time

from conftest import ROOT, free_port, wait_http

APP = '''
import json

import panel as pn

from workbench.ui.internals import probe, writes_idle

doc = pn.state.curdoc


def check():
    found = probe(doc)
    if found["bokeh session connections"]:  # the websocket client's session, connected
        with open({out!r}, "w") as fh:
            json.dump({{**found, "idle answered": writes_idle(doc) in (True, False)}}, fh)


doc.add_periodic_callback(check, 250)
pn.pane.HTML("probe").servable()
'''


def test_internals_exist_in_a_served_session(tmp_path):
    import panel.models  # noqa: F401  the document holds Panel's models
    from bokeh.client import pull_session

    out = tmp_path / "probe.json"
    app = tmp_path / "probe_app.py"
    app.write_text(textwrap.dedent(APP.format(out=str(out))))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(app), "--port", str(port), "--address",
                             "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/probe_app", 180, proc)

        def hold_session() -> None:  # a connected websocket session, held while the app probes itself
            asyncio.set_event_loop(asyncio.new_event_loop())
            session = pull_session(url=f"http://127.0.0.1:{port}/probe_app")
            deadline = time.monotonic() + 60
            while not out.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            session.close()

        thread = threading.Thread(target=hold_session)
        thread.start()
        thread.join(90)
        assert out.exists(), ("no served session saw its websocket connection through Bokeh's "
                              "session._subscribed_connections: the internals changed")
        found = json.loads(out.read_text())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert found == {"panel write queue": True, "bokeh session connections": True, "tornado write lock": True,
                     "idle answered": True}, found
