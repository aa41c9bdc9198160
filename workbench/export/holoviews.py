"""Any HoloViews object as a paper figure (the fall-back when no designed figure exists).

The object is rendered through HoloViews' matplotlib backend in a preset's
style and resized to the preset's page exactly (no tight cropping), so the
page width is the column width even for views without a designed figure.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")  # export never needs a display

import matplotlib.pyplot as plt  # noqa: E402

from . import presets  # noqa: E402


def render(obj: Any, *, preset: str | presets.Preset = "single", width: str | None = None,
           height_in: float | None = None) -> plt.Figure:
    """A matplotlib Figure of a HoloViews object, ``preset``'s page size and style."""
    import holoviews as hv
    import holoviews.plotting.mpl  # noqa: F401  registers the matplotlib backend, keeps the current one

    p, w, h = presets.page(preset, width, height_in, aspect=1 / 1.5)
    rc = {**p.rc(), "figure.constrained_layout.use": False}  # HoloViews positions its own axes
    with plt.rc_context(rc):
        fig = hv.render(obj, backend="matplotlib")
        fig.set_size_inches(w, h)
    return fig
