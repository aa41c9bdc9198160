"""Served app: choosing a variant re-renders the comparison with the model's real Q/K/V."""

import pytest


@pytest.mark.browser
def test_variant_select_updates_comparison(open_app, console_errors):
    page = open_app("attention_maps", "?text=The+cat+sat+on+the+mat.&variant=sliding&window=3")
    page.get_by_text("Variant vs full").click()
    page.wait_for_selector(".wb-attention-compare-info >> text=sliding vs full", timeout=60_000)
    page.locator(".wb-attention-variant select").select_option("block")
    done = page.wait_for_selector(".wb-attention-compare-info >> text=block vs full", timeout=60_000)
    # the new line names the variant and the computed difference to full attention
    assert "relative output difference" in done.evaluate("e => e.closest('div').textContent")
    assert not console_errors
