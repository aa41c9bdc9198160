"""Every served page renders in a real headless Chromium without console errors."""

import pytest

from workbench.serve import catalog

APPS = catalog()
pytestmark = pytest.mark.browser


def test_index_lists_every_app(open_app, console_errors):
    page = open_app("")
    for entry in APPS:
        link = page.locator(f"a[href='./{entry.slug}']", has_text=entry.title).first
        link.wait_for(state="attached", timeout=30_000)  # CSS and text selectors pierce the shadow DOM
        assert page.get_by_text(entry.description[:40]).count() >= 1
    assert console_errors == []


@pytest.mark.parametrize("slug", [e.slug for e in APPS])
def test_app_loads_without_console_errors(open_app, console_errors, slug):
    page = open_app(slug)
    page.wait_for_timeout(1500)  # let deferred renders (plots, fonts) settle
    entry = next(e for e in APPS if e.slug == slug)
    assert page.title() == entry.title
    page.locator(".wb-status").first.wait_for(state="attached", timeout=30_000)  # the Explorer's status line
    canvas = page.locator("canvas:visible").first  # a plot rendered with a size (hidden views have none)
    canvas.wait_for(state="visible", timeout=60_000)
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 50 and box["height"] > 50
    assert console_errors == [], console_errors


def _external(url: str) -> bool:
    from urllib.parse import urlparse

    return not url.startswith(("data:", "blob:", "about:")) and urlparse(url).hostname not in ("localhost", "127.0.0.1")


def test_pages_request_nothing_outside_the_server(page, open_app, console_errors):
    """Offline use: every script, stylesheet and font comes from the server itself."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_app("")
    open_app("hj_landscapes", "?dim=2&n=64")
    page.wait_for_timeout(1000)
    assert requests and not [u for u in requests if _external(u)]
    assert console_errors == [], console_errors


def test_websocket_session_stylesheets_are_local(panel_server):
    """A session Bokeh creates from a websocket connection alone (no HTML page: an expired first
    session, a bokeh.client) points its stylesheets at the server too, not at a CDN."""
    import asyncio
    import threading

    import panel.models  # noqa: F401  the document holds Panel's models
    from bokeh.client import pull_session
    from bokeh.models import ImportedStyleSheet

    urls: list[str] = []

    def pull() -> None:  # in a thread of its own: bokeh.client runs its own event loop
        asyncio.set_event_loop(asyncio.new_event_loop())
        session = pull_session(url=f"{panel_server}/hj_landscapes", arguments={"dim": "2", "n": "64"})
        try:
            urls.extend(m.url for m in session.document.models if isinstance(m, ImportedStyleSheet))
        finally:
            session.close()

    thread = threading.Thread(target=pull)
    thread.start()
    thread.join(120)
    assert urls and not [u for u in urls if u.startswith("http")], urls[:5]
