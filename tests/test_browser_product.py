"""The served workbench as a shared lab tool: shareable links, errors that stay inside
the app, and sessions that do not disturb each other."""

import pytest

pytestmark = pytest.mark.browser


def test_shared_link_opens_the_same_view(open_app, console_errors, widget_values):
    page = open_app("hj_landscapes", "?landscape=ackley&dim=1&t=0.5&beta=20")
    page.wait_for_function("() => document.location.search.includes('t=0.5')")
    values = widget_values(page)
    assert values["Landscape"] == "ackley"
    assert values["t"] == pytest.approx(0.5)
    assert values["beta"] == pytest.approx(20)
    # the view was recomputed for those parameters, not only the widgets set
    page.get_by_text("envelopes on 256 points").first.wait_for(timeout=60_000)
    assert console_errors == []


def test_bad_formula_is_reported_and_the_app_recovers(open_app, console_errors, page, panel_server):
    page = open_app("hj_landscapes", "?landscape=formula&dim=1")
    formula = page.locator(".wb-hj-formula input").first
    formula.fill("__import__('os').system('true')")
    formula.press("Enter")
    # the Status line turns into a danger alert naming the parameter
    page.locator(".alert-danger", has_text="formula").first.wait_for(timeout=30_000)
    # another session is unaffected and the server is alive
    other = page.context.new_page()
    other.goto(f"{panel_server}/hj_landscapes?dim=1&t=0.2", timeout=120_000)
    other.get_by_text("envelopes on").first.wait_for(timeout=60_000)
    other.close()
    # the first session recovers with a valid formula
    formula.fill("x**2 + sin(3*x)")
    formula.press("Enter")
    page.get_by_text("envelopes on").first.wait_for(timeout=60_000)
    assert page.locator(".alert-danger").count() == 0
    assert console_errors == []
