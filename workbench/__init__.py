"""workbench: an interactive research workbench for PDE and optimization views
of learning and imaging.

Four method families live in sub-packages:

* :mod:`workbench.hj` -- Hamilton-Jacobi / local-entropy landscapes,
* :mod:`workbench.gequation` -- G-equation turbulent flame speeds,
* :mod:`workbench.phase` -- phase-retrieval reconstruction histograms,
* :mod:`workbench.attention` -- transformer attention maps.

The spine shared by all of them: :mod:`workbench.runtime` (device, dtype,
seeds), :mod:`workbench.results` (xarray with provenance),
:mod:`workbench.sweep` (parameter grids, local or on dask.distributed),
:mod:`workbench.export` (paper figures) and :mod:`workbench.ui` (Panel pieces).

In a notebook, ``workbench.notebook()`` (first cell) loads the plotting libraries'
JavaScript from the local installation and shows the workbench's errors as one line.
"""

from .notebook import notebook

__version__ = "0.1.0"
