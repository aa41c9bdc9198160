"""Workbench

The index of every dashboard, and each dashboard at ``?app=<slug>``: what
``panel serve apps/`` and ``panel serve apps/*.py`` serve (``workbench serve`` serves each
dashboard at its own path).
"""

import panel as pn

from workbench.ui.pages import workbench_page

pn.extension()
workbench_page()
