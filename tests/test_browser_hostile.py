"""The served workbench under a careless or hostile visitor: a closed tab's work stops, a visitor
running the largest allowed jobs in two sessions does not starve another session, and markup in
any text field or link parameter is shown as text, never run."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

pytestmark = pytest.mark.browser

HUGE = "?landscape=rastrigin&dim=2&n=64&n_starts=100000&n_steps=1000&t=0.3"  # the largest allowed HJ study


def start_largest_job(page):
    page.locator(".wb-hj-run button").first.click()
    page.get_by_text("running 100000 starts").first.wait_for(timeout=60_000)


def test_a_closed_tab_stops_its_work(open_app, open_other, panel_server_log, console_errors):
    page = open_app("hj_landscapes", "?dim=1&n=64")
    hog = open_other("hj_landscapes", HUGE)
    start_largest_job(hog)
    hog.close()  # the visitor leaves mid-run
    deadline = time.monotonic() + 90
    pattern = re.compile(r"a job of an ended session stopped ([0-9.]+) s after the session ended")
    while time.monotonic() < deadline and not pattern.search(panel_server_log.read_text()):
        time.sleep(1)
    found = pattern.search(panel_server_log.read_text())
    assert found, "the closed session's job was not stopped"
    assert float(found.group(1)) < 30  # it stopped soon after the session was found ended
    assert "_change_callbacks" not in panel_server_log.read_text()
    page.close()
    assert console_errors == []


def test_two_sessions_running_the_largest_jobs_do_not_starve_another(open_app, open_other, console_errors):
    polite = open_app("hj_landscapes", "?dim=1&n=256&t=0.1&viscous=false")
    polite.get_by_text(re.compile(r"t = 0\.1: Moreau envelope on 256 points")).first.wait_for(timeout=90_000)
    hogs = [open_other("hj_landscapes", HUGE) for _ in range(2)]
    try:
        for hog in hogs:
            start_largest_job(hog)
        handle = polite.locator(".wb-hj-t .noUi-handle").first
        handle.focus()
        latencies = []
        for step in range(1, 21):  # keyboard steps of 0.001, one a second as a person would
            start = time.monotonic()
            handle.press("ArrowRight")
            t = f"{0.1 + 0.001 * step:.3g}".replace(".", r"\.")
            polite.get_by_text(re.compile(rf"t = {t}: Moreau envelope")).first.wait_for(timeout=30_000)
            latencies.append(time.monotonic() - start)
            polite.wait_for_timeout(max(0, 1000 - 1000 * latencies[-1]))
        still = [h.get_by_text("optimizers done").count() == 0 for h in hogs]
    finally:  # the large jobs must not outlive the test (later tests share the server)
        for hog in hogs:
            hog.locator(".wb-hj-cancel button").first.click()
            hog.close()
    p95 = float(np.percentile(latencies, 95))
    print(f"polite HJ slider beside two largest jobs: p50 {np.median(latencies):.3f} s, p95 {p95:.3f} s")
    assert all(still), "the large jobs finished before the check"
    # answered within a second each (a session queued behind the large jobs would wait minutes: 59 s without
    # an update before the fair pools). Measured p95 0.31 s beside the two jobs (0.36 s with none) on a 2-core
    # machine with three Chromium pages rendering beside the server; it was 1.1-1.7 s while every step
    # re-rendered the 1-D plots instead of updating their data in place
    assert p95 < 1.0, latencies
    assert console_errors == []


PAYLOADS = ['<img src=x onerror="window.__xss=1">', '"><script>window.__xss=1</script>',
            "[link](javascript:window.__xss=1)", "<svg onload=window.__xss=1>"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_links_and_fields_is_text(open_app, console_errors, payload):
    from urllib.parse import quote

    page = open_app("hj_landscapes", f"?landscape=formula&dim=1&formula={quote(payload)}")
    page.locator(".alert-danger", has_text="formula").first.wait_for(timeout=60_000)
    formula = page.locator(".wb-hj-formula input").first
    formula.fill(payload + " + x")
    formula.press("Enter")
    page.wait_for_timeout(1500)
    assert page.locator(".alert-danger", has_text="formula").count() >= 1
    for slug, name in (("gequation_sweeps", "flow"), ("phase_retrieval", "phantom"), ("attention_maps", "variant")):
        other = open_app(slug, f"?{name}={quote(payload)}")
        other.wait_for_timeout(1000)
        assert other.evaluate("() => window.__xss") is None
    assert page.evaluate("() => window.__xss") is None
    assert not [e for e in console_errors if "__xss" in e]
