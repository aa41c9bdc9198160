"""Served app: pressing Run at a tiny size fills the histograms and the summary table."""

import pytest


@pytest.mark.browser
def test_run_fills_histograms(open_app, console_errors):
    page = open_app("phase_retrieval", "?size=32&runs=4&iterations=20&chunk=2")
    page.locator(".wb-phase-run button").click()
    # rows stream in per chunk of starts; wait for the end of the run
    page.get_by_text("done: 4 runs per algorithm").first.wait_for(timeout=120_000)
    cells = page.locator(".wb-phase-table td").all_inner_texts()  # an HTML table, not raw markdown
    # one row per default algorithm with its run count
    assert "oss" in cells and "gps" in cells
    assert cells[cells.index("oss") + 1] == "4" and cells[cells.index("gps") + 1] == "4"
    assert not console_errors
