"""One browser test: run a tiny sweep in the served app and see the plot change."""

import re

import pytest


@pytest.mark.browser
def test_run_sweep_draws_points(open_app, console_errors):
    page = open_app("gequation_sweeps", "?grid=16&crossings=2&n_A=2&A_max=2.0")
    page.locator(".wb-gq-speeds").first.wait_for(timeout=60_000)
    page.get_by_text("Run a sweep, then click a point.").first.wait_for(timeout=60_000)
    page.locator(".wb-gq-run button").first.click()
    # on 16² every point is flagged under-resolved: the sweep ends saying so instead of "sweep done"
    page.get_by_text(re.compile("sweep done|hollow points are not results")).first.wait_for(timeout=180_000)
    # the last point was selected: its front and <u>(t) are drawn and summarised
    page.get_by_text("s_T =").first.wait_for(timeout=60_000)
    assert page.get_by_text("Run a sweep, then click a point.").count() == 0
    assert not [e for e in console_errors if "favicon" not in e]
