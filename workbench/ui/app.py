"""One dashboard page around an explorer: its controls and Share card in the sidebar,
the shared template, served. Every app in ``apps/`` is this call."""

from __future__ import annotations

from collections.abc import Sequence

import panel as pn

from .layout import app_template
from .share import ShareState


def explorer_app(title: str, explorer: pn.viewable.Viewer, names: Sequence[str], description: str,
                 filename: str) -> pn.template.BaseTemplate:
    """Serve ``explorer`` as a page; ``names`` are its parameters shared through the URL,
    the parameters JSON (``<filename>_parameters.json``) and the provenance of exported data."""
    share = ShareState(explorer, names, filename=f"{filename}_parameters", status=explorer.status,
                       export=explorer.export)
    sidebar = pn.Column(explorer.controls(), share, sizing_mode="stretch_width")
    return app_template(title, explorer, sidebar=sidebar, description=description).servable(title=title)
