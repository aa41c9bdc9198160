"""Served app: pressing Run at a tiny size fills the histograms and the summary table."""

import pytest


@pytest.mark.browser
def test_run_fills_histograms(open_app, console_errors):
    page = open_app("phase_retrieval", "?size=32&runs=4&iterations=20&chunk=2")
    page.locator(".wb-phase-run button").click()
    # rows stream in per algorithm; wait for the last default algorithm's row
    page.locator(".wb-phase-table td", has_text="gps").first.wait_for(timeout=120_000)
    text = page.locator(".wb-phase-table").first.text_content()
    # one row per default algorithm with its run count
    assert "oss" in text and "gps" in text and "| 4 |" not in text  # rendered as an HTML table, not raw markdown
    assert not console_errors
