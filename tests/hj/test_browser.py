"""Served app: moving the t slider recomputes and redraws the envelopes."""

import re

import pytest


@pytest.mark.browser
def test_moving_t_recomputes_the_envelopes(open_app, console_errors):
    page = open_app("hj_landscapes", "?landscape=deep_relaxation&dim=1&n=128&n_starts=50&n_steps=3&t=0.1")
    page.get_by_text(re.compile(r"t = 0\.1: envelopes on 128 points")).first.wait_for(timeout=90_000)
    handle = page.locator(".wb-hj-t .noUi-handle").first
    handle.focus()
    for _ in range(25):  # keyboard steps of 0.001
        handle.press("ArrowRight")
    # the status line reports the new t once both envelopes (Moreau, local entropy) are redrawn
    done = page.get_by_text(re.compile(r"t = 0\.1[0-9]*[1-9]: envelopes on 128 points .*local entropy included"))
    done.first.wait_for(timeout=90_000)
    shown = float(re.search(r"t = ([0-9.]+):", done.first.inner_text()).group(1))
    page.wait_for_function("() => /[?&]t=0\\.1[0-9]*[1-9]/.test(document.location.search)", timeout=30_000)
    in_url = float(re.search(r"[?&]t=([0-9.]+)", page.evaluate("document.location.search")).group(1))
    assert 0.1 < shown <= 0.125 + 1e-9 and 0.1 < in_url <= 0.125 + 1e-9
    assert not console_errors
