"""Served app: the 512-token view renders, its head view and heat map show the same tokens, variants update."""

import pytest

# the labelled rows of the enlarged heat map and the query labels of its head view, as BokehJS holds them
PAIR_TOKENS_JS = """() => {
  const col = (data, k) => data instanceof Map ? data.get(k) : data[k];
  const plots = [];
  for (const doc of Bokeh.documents)
    for (const m of doc.all_models)
      if (m.title && m.title.text !== undefined && m.renderers) plots.push(m);
  const heat = plots.find(p => /^layer \\d+, head \\d+$/.test(p.title.text));
  const view = plots.find(p => p.title.text.startsWith("head view:"));
  if (!heat || !view) return null;
  const ov = heat.left[0].major_label_overrides;
  const entries = ov instanceof Map ? [...ov.entries()] : Object.entries(ov || {});
  const rows = entries.sort((a, b) => Number(a[0]) - Number(b[0])).map(e => String(e[1]));
  let left = null;
  for (const r of view.renderers) {
    const data = r.data_source && r.data_source.data;
    const tok = data && col(data, "token"), xs = data && col(data, "x");
    if (tok && xs && xs.length && xs[0] < 0.5) left = Array.from(tok).map(String);
  }
  const images = heat.renderers.filter(r => r.glyph && r.glyph.type === "Image").length;
  return {rows, left, images};
}"""


@pytest.mark.browser
def test_512_token_view_and_the_head_view_shows_the_heat_maps_tokens(open_app, console_errors):
    page = open_app("attention_maps", "?text=" + "+".join(["a"] * 510))
    page.get_by_text("512 tokens, 6 layers").first.wait_for(state="attached", timeout=300_000)
    page.wait_for_function(f"() => {{ const r = ({PAIR_TOKENS_JS})(); return r && r.left; }}", timeout=120_000)
    pair = page.evaluate(PAIR_TOKENS_JS)
    assert pair["images"] == 1   # the 512 x 512 map is one image, not 262,144 glyphs
    assert pair["rows"] == pair["left"] == ["0 [CLS]"] + [f"{i} a" for i in range(1, 16)]
    # a new text: both views move to the new tokens together
    box = page.locator(".wb-attention-text textarea").first
    box.fill("The cat sat on the mat.")
    box.press("Tab")
    page.get_by_text("9 tokens, 6 layers").first.wait_for(state="attached", timeout=120_000)
    page.wait_for_function(f"() => {{ const r = ({PAIR_TOKENS_JS})(); return r && r.left && r.left.length == 9; }}",
                           timeout=120_000)
    pair = page.evaluate(PAIR_TOKENS_JS)
    assert pair["rows"] == pair["left"] == ["0 [CLS]", "1 the", "2 cat", "3 sat", "4 on", "5 the", "6 mat", "7 .",
                                            "8 [SEP]"]
    assert not console_errors


@pytest.mark.browser
def test_variant_select_updates_comparison(open_app, console_errors):
    page = open_app("attention_maps", "?text=The+cat+sat+on+the+mat.&variant=sliding&window=3")
    page.get_by_text("Variant vs full").click()
    page.wait_for_selector(".wb-attention-compare-info >> text=sliding vs full", timeout=120_000)
    page.locator(".wb-attention-variant select").select_option("block")
    done = page.wait_for_selector(".wb-attention-compare-info >> text=block vs full", timeout=120_000)
    # the new line names the variant and the computed difference to full attention
    assert "relative output difference" in done.evaluate("e => e.closest('div').textContent")
    assert not console_errors
