"""One browser test: run a tiny sweep in the served app and see the plot change."""

import pytest


@pytest.mark.browser
def test_run_sweep_draws_points(panel_server, page, console_errors):
    page.goto(f"{panel_server}/gequation_sweeps?grid=16&crossings=2&n_A=2&models=%5B%22inviscid%22%5D",
              timeout=60_000)
    page.wait_for_selector(".wb-gq-run button", timeout=60_000)
    speeds = page.locator(".wb-gq-speeds")
    before = speeds.inner_html()
    page.locator(".wb-gq-run button").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && "
        "e.shadowRoot.textContent.includes('sweep done'))", timeout=120_000)
    assert speeds.inner_html() != before
    assert not console_errors
