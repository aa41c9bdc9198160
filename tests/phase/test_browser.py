"""Served app: Run fills the histograms and the table; a click on a bar opens that algorithm's gallery."""

import pytest

# Each quad renderer of the histogram overlay, by legend label: its bins (left, right, top), and the
# screen position of the plot frame, to turn a data point into a click.
BARS_JS = """() => {
  const out = {bars: {}, frame: null};
  for (const doc of Bokeh.documents) {
    for (const m of doc.all_models) {
      if (m.constructor.__name__ !== "Figure" || !m.title || !String(m.title.text).startsWith("Final R_F")) continue;
      const view = Bokeh.index.find_one(m);
      if (!view) continue;  // a figure an update has replaced
      const rect = view.canvas_view.el.getBoundingClientRect();
      const bbox = view.frame.bbox;
      out.frame = {left: rect.left + bbox.left, top: rect.top + bbox.top, width: bbox.width, height: bbox.height,
                   x0: m.x_range.start, x1: m.x_range.end, y0: m.y_range.start, y1: m.y_range.end};
      for (const r of m.renderers) {
        const d = r.data_source && r.data_source.data;
        if (!d || !d.top || !r.name) continue;
        out.bars[r.name] = {left: Array.from(d.left), right: Array.from(d.right), top: Array.from(d.top)};
      }
    }
  }
  return out;
}"""


def _click_point(bars: dict, name: str) -> tuple[float, float]:
    """A point just below the top of one of ``name``'s bars where no other bar has the same height."""
    mine = bars[name]
    others = [b for k, b in bars.items() if k != name]
    for i, top in sorted(enumerate(mine["top"]), key=lambda it: -it[1]):
        if top >= 1 and all(o["top"][i] != top for o in others):
            return (mine["left"][i] + mine["right"][i]) / 2, top - 0.1
    pytest.skip(f"every bar of {name} has the height of another algorithm's bar")


@pytest.mark.browser
def test_run_fills_histograms_and_a_bar_click_shows_that_algorithms_runs(open_app, console_errors):
    page = open_app("phase_retrieval", "?size=32&runs=4&iterations=20&chunk=2")
    page.locator(".wb-phase-run button").click()
    # rows stream in per chunk of starts; wait for the end of the run
    page.get_by_text("done: 4 runs per algorithm").first.wait_for(timeout=120_000)
    cells = page.locator(".wb-phase-table td").all_inner_texts()  # an HTML table, not raw markdown
    # one row per default algorithm with its run count
    assert "oss" in cells and "gps" in cells
    assert cells[cells.index("oss") + 1] == "4" and cells[cells.index("gps") + 1] == "4"
    page.wait_for_timeout(1000)
    info = page.evaluate(BARS_JS)
    assert set(info["bars"]) >= {"oss", "gps"}, info["bars"].keys()
    for name in ["gps", "oss"]:
        x, y = _click_point(info["bars"], name)
        f = info["frame"]
        px = f["left"] + (x - f["x0"]) / (f["x1"] - f["x0"]) * f["width"]
        py = f["top"] + (f["y1"] - y) / (f["y1"] - f["y0"]) * f["height"]
        page.mouse.click(px, py)
        line = page.get_by_text(f"{name}, R_F in [").first
        line.wait_for(timeout=30_000)
        shown = line.inner_text()
        assert shown.startswith(f"{name}, R_F in [") and "0 reconstruction(s)" not in shown
    page.screenshot(path="/tmp/phase_gallery.png", full_page=True)
    assert not console_errors
