"""``panel serve apps/`` and ``panel serve apps/*.py``, typed literally, serve the workbench:
the index at ``/`` linking every dashboard, and each dashboard from it, with local resources."""

from __future__ import annotations

import glob
import subprocess
import sys
from urllib.parse import urlparse

import pytest
from conftest import ROOT, free_port, wait_http, wait_rendered

from workbench.family import dashboards

pytestmark = pytest.mark.browser
MODES = {"directory": ["apps/"], "files": sorted(glob.glob("apps/*.py", root_dir=ROOT))}
PATHS = {"directory": "/apps", "files": "/main"}  # where ``/`` redirects: the one page script


@pytest.fixture(params=list(MODES), scope="module")
def served(request):
    port = free_port()
    cmd = [sys.executable, "-m", "panel", "serve", *MODES[request.param], "--port", str(port),
           "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**__import__("os").environ, "WORKBENCH_DEVICE": "cpu"})
    try:
        wait_http(f"http://127.0.0.1:{port}/", 240, proc)
        yield f"http://127.0.0.1:{port}", PATHS[request.param]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_index_at_root_links_every_dashboard_and_each_opens(served, page, console_errors):
    base, _path = served
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{base}/", timeout=120_000)
    wait_rendered(page)
    assert page.title() == "Workbench"
    for dash in dashboards():
        page.locator(f"a[href='?app={dash.slug}']", has_text=dash.title).first.wait_for(state="attached",
                                                                                         timeout=30_000)
    assert page.get_by_text("Index of").count() == 0  # not Panel's generic application list
    first = dashboards()[0]
    page.locator(f"a[href='?app={first.slug}']", has_text=first.title).first.click()
    page.wait_for_url(f"**app={first.slug}**", timeout=60_000)
    wait_rendered(page)
    assert page.title() == first.title
    page.locator(".wb-status, .bk-Column").first.wait_for(state="attached", timeout=60_000)
    external = [u for u in requests if not u.startswith(("data:", "blob:", "about:"))
                and urlparse(u).hostname not in ("127.0.0.1", "localhost")]
    assert external == [] and console_errors == [], (external, console_errors)


def test_unknown_app_shows_the_index_and_says_so(served, page, console_errors):
    base, path = served
    page.goto(f"{base}{path}?app=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", timeout=120_000)
    wait_rendered(page)
    page.get_by_text("app must be one of").first.wait_for(timeout=30_000)
    assert page.locator("img[src=x]").count() == 0
    assert console_errors == []
