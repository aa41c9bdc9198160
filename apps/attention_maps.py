"""Attention maps

Attention of a real pretrained transformer (all-MiniLM-L6-v2, offline): every layer and head, a head view, efficient variants (window, FWin, SEMA-like, linear) against full attention, and dispersion with sequence length.
"""

import panel as pn

from workbench.attention.widget import AttentionExplorer
from workbench.ui import app_template

pn.extension()

explorer = AttentionExplorer()
if pn.state.location:
    pn.state.location.sync(explorer, ["text", "layer", "head", "variant", "window", "mix", "source", "n_max", "n",
                                      "metric"])

app_template("Attention maps", explorer, sidebar=explorer.controls(),
             description="Attention maps of a real transformer, efficient variants and dispersion").servable(
    title="Attention maps")
