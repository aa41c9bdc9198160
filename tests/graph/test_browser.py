"""Served app: moving the labels-per-class slider recomputes GL/WNLL and redraws the eigenmap."""

import re

import pytest

# the eigenmap's title carries WNLL's accuracy on the unlabelled points
EIGENMAP_TITLE_JS = """() => {
  for (const doc of Bokeh.documents)
    for (const m of doc.all_models)
      if (m.constructor.__name__ === 'Title' && m.text && m.text.startsWith('WNLL prediction')) return m.text;
  return null;
}"""


@pytest.mark.browser
def test_moving_labels_per_class_redraws_the_eigenmap(open_app, console_errors):
    page = open_app("graph_laplacian", "?labels_per_class=1&k=20&draws=2&max_labels=2")
    page.get_by_text(re.compile(r"1 label\(s\) per class, k = 20, .*WNLL [0-9.]+%")).first.wait_for(timeout=120_000)
    page.wait_for_function(f"() => ({EIGENMAP_TITLE_JS})() !== null", timeout=60_000)
    before = page.evaluate(EIGENMAP_TITLE_JS)
    handle = page.locator(".wb-graph-labels-per-class .noUi-handle").first
    handle.focus()
    for _ in range(4):  # keyboard steps of 1: 1 -> 5 labels per class
        handle.press("ArrowRight")
    page.get_by_text(re.compile(r"5 label\(s\) per class, k = 20, .*WNLL [0-9.]+%")).first.wait_for(timeout=120_000)
    page.wait_for_function("() => /[?&]labels_per_class=5/.test(document.location.search)", timeout=30_000)
    page.wait_for_function(f"(before) => ({EIGENMAP_TITLE_JS})() !== before", arg=before, timeout=60_000)
    after = page.evaluate(EIGENMAP_TITLE_JS)
    assert re.search(r"\(\d+\.\d%\)", after) and after != before
    assert not console_errors
