"""Attention maps

Attention of a real pretrained transformer (all-MiniLM-L6-v2, offline): every layer and head, a head view, efficient variants (window, FWin, SEMA-like, linear) against full attention, and dispersion with sequence length.
"""

import panel as pn

from workbench.attention.widget import AttentionExplorer
from workbench.ui.app import explorer_app

pn.extension()

# the view's parameters: in the URL, in the parameters JSON and in exported data
NAMES = ["text", "layer", "head", "variant", "window", "mix", "source", "dispersion_window", "n_max", "n",
         "metric"]

explorer = AttentionExplorer()
explorer_app("Attention maps", explorer, NAMES, filename="attention_maps",
             description="Attention maps of a real transformer, efficient variants and dispersion")
