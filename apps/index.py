"""Workbench

The index page: every dashboard with its title and one-line description.
"""

from pathlib import Path

import panel as pn

from workbench.serve import catalog
from workbench.ui import app_template

pn.extension()


def card(entry):
    thumb = entry.path.with_name("thumbnails") / f"{entry.slug}.png"
    items = []
    if thumb.exists():
        items.append(pn.pane.PNG(str(thumb), width=300, link_url=f"./{entry.slug}"))
    items.append(pn.pane.Markdown(f"### [{entry.title}](./{entry.slug})\n\n{entry.description}",
                                  css_classes=["wb-app-card"]))
    return pn.Card(*items, title=entry.title, collapsible=False, width=340, margin=10)


intro = pn.pane.Markdown(
    "Interactive views of PDE and optimization methods in learning and imaging. "
    "Every result can be exported as a paper figure together with the data it came from.")
grid = pn.FlexBox(*[card(e) for e in catalog(Path(__file__).parent) if e.slug != "index"])
app_template("Workbench", pn.Column(intro, grid, sizing_mode="stretch_width"),
             description="Index of the workbench dashboards").servable(title="Workbench")
