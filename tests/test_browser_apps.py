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
    assert page.title()
    assert page.locator(".bk-panel-models-layout-Column, .bk-Column, .bk-panel-models-layout-Row").count() > 0 \
        or page.locator("div").count() > 10
    assert console_errors == [], console_errors
