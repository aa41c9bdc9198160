"""The index page, and the one page script that serves the whole workbench.

:func:`index_page` lists every declared dashboard with its thumbnail, title and description;
:func:`workbench_page` is what ``apps/main.py`` serves under ``panel serve apps/`` and
``panel serve apps/*.py``: the index, or the dashboard named by ``?app=<slug>``, in the same
template, with the same local resources and URL state as under ``workbench serve``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import panel as pn

from ..family import dashboard, dashboards, serve_app
from .layout import app_template
from .text import as_text

THUMBNAILS = Path(__file__).resolve().parents[2] / "apps" / "thumbnails"
INTRO = ("Interactive views of PDE and optimization methods in learning and imaging. "
         "Every result can be exported as a paper figure together with the data it came from.")


def _card(dash: Any, link: str) -> pn.Card:
    href = link.format(slug=dash.slug)
    items: list[Any] = []
    thumb = THUMBNAILS / f"{dash.slug}.png"
    if thumb.exists():
        items.append(pn.pane.PNG(str(thumb), width=300, link_url=href))
    items.append(pn.pane.HTML(f'<h3><a href="{as_text(href)}">{as_text(dash.title)}</a></h3>'
                              f"<p>{as_text(dash.description)}</p>", css_classes=["wb-app-card"],
                              sizing_mode="stretch_width"))
    return pn.Card(*items, title=dash.title, collapsible=False, width=340, margin=10)


def index_page(link: str = "./{slug}") -> pn.template.BaseTemplate:
    """The index: one card per dashboard, linked by ``link`` (``{slug}`` is replaced)."""
    grid = pn.FlexBox(*[_card(d, link) for d in dashboards()])
    return app_template("Workbench", pn.Column(pn.pane.HTML(f"<p>{INTRO}</p>"), grid, sizing_mode="stretch_width"),
                        description="Index of the workbench dashboards")


def workbench_page() -> Any:
    """The index, or the dashboard of ``?app=<slug>`` (an unknown name shows the index and says so)."""
    args = pn.state.session_args or {}
    slug = (args.get("app") or [b""])[0].decode("utf-8", "replace")
    if not slug:
        return index_page("?app={slug}").servable(title="Workbench")
    try:
        dashboard(slug)
    except ValueError as exc:
        page = index_page("?app={slug}")
        page.main.insert(0, pn.pane.HTML(f'<div class="alert alert-danger">{as_text(exc)}</div>'))
        return page.servable(title="Workbench")
    return serve_app(slug)
