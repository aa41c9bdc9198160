"""Served transport explorer: Run fills D_eff, the cloud's time slider redraws the cloud, fronts draw."""

import re

import pytest

# the particle cloud's title carries the snapshot's time
CLOUD_TITLE_JS = """() => {
  for (const doc of Bokeh.documents)
    for (const m of doc.all_models)
      if (m.constructor.__name__ === 'Title' && m.text && m.text.startsWith('particles at t =')) return m.text;
  return null;
}"""


@pytest.mark.browser
def test_run_fills_the_curve_and_the_time_slider_moves_the_cloud(open_app, console_errors):
    page = open_app("transport", "?flow=cellular&n_points=2&particles=400&t_final=4&front_n_A=2&realisations=2"
                                 "&front_grid=16&periods=2")
    page.get_by_text("Press Run: D_eff fills point by point.").first.wait_for(timeout=60_000)
    page.locator(".wb-tr-run button").first.click()
    page.get_by_text(re.compile("sweep done: 2 point")).first.wait_for(timeout=180_000)
    page.get_by_text(re.compile(r"D_eff,xx = [0-9.]+ ± ")).first.wait_for(timeout=60_000)
    page.wait_for_function(f"() => ({CLOUD_TITLE_JS})() !== null", timeout=120_000)
    assert page.evaluate(CLOUD_TITLE_JS).startswith("particles at t = 4 ")  # the last snapshot: the horizon
    handle = page.locator(".wb-tr-time .noUi-handle").first
    handle.focus()
    handle.press("Home")  # the first snapshot: t = 0
    page.wait_for_function("() => /[?&]time=0(&|$)/.test(document.location.search)", timeout=30_000)
    page.wait_for_function(f"() => ({CLOUD_TITLE_JS})().startsWith('particles at t = 0 ')", timeout=60_000)
    page.locator(".wb-tr-run-fronts button").first.click()
    page.get_by_text(re.compile("fronts done: 2 amplitudes, 2 realisations")).first.wait_for(timeout=240_000)
    assert not [e for e in console_errors if "favicon" not in e]
