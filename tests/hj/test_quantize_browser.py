"""Served BinaryRelax app: a changed control redraws the relaxation; a tiny training fills the curves."""

import re

import pytest


@pytest.mark.browser
def test_changing_q_and_training_redraws_the_plots(open_app, console_errors):
    page = open_app("binary_relax", "?epochs=2&phase_switch=1&seeds=2")
    page.get_by_text("Set Q and the continuation, then Train.").first.wait_for(timeout=90_000)
    relax, curves = page.locator(".wb-br-relax").first, page.locator(".wb-br-curves").first
    relax.locator("canvas").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    before, curves_before = relax.screenshot(), curves.screenshot()
    page.locator(".wb-br-quantizer select").first.select_option("uniform")  # 1-bit uniform: Q = {±α}
    page.locator(".wb-br-lambda0 input").first.fill("20")  # a new lambda: the penalty and the prox map change
    page.locator(".wb-br-lambda0 input").first.press("Enter")
    page.wait_for_function("() => /[?&]lambda0=20/.test(document.location.search)", timeout=30_000)
    for _ in range(30):  # the redraw reaches the canvas within a few hundred ms
        page.wait_for_timeout(500)
        if relax.screenshot() != before:
            break
    assert relax.screenshot() != before
    page.locator(".wb-br-run button").first.click()
    done = page.get_by_text(re.compile(r"trained 2 seeds × 3 methods in [0-9.]+ s; BinaryRelax [0-9.]+ %"))
    done.first.wait_for(timeout=180_000)
    # epoch 2 is Phase II: both quantized methods end exactly on Q
    page.get_by_text(re.compile(r"BinaryRelax: +[0-9.]+ ± +[0-9.]+ % +on Q 1\.00")).first.wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"BinaryConnect: +[0-9.]+ ± +[0-9.]+ % +on Q 1\.00")).first.wait_for(timeout=30_000)
    assert page.locator(".wb-br-slice canvas").count() > 0 and page.locator(".wb-br-hist canvas").count() > 0
    assert curves.screenshot() != curves_before  # the curves filled in
    assert not console_errors
