"""One call at the top of every notebook: ``import workbench; workbench.notebook()``.

What it does, in a Jupyter kernel (it does nothing outside one):

* **Offline resources.** Bokeh's, Panel's and HoloViews' JavaScript and CSS are
  embedded in the notebook from the local installation
  (``hv.extension("bokeh", inline=True)``, ``pn.extension(inline=True)``), so no
  plot or explorer asks a CDN for ``bokeh-*.min.js`` or ``panel.min.js``. The
  pyviz comms JupyterLab extension (``@pyviz/jupyterlab_pyviz``, shipped with
  ``pyviz_comms``) carries the live updates between the page and the kernel.
* **One-line errors.** A ``ValueError`` raised by the workbench's checks (a parameter
  out of its range, a bad formula; an explorer parameter outside its bounds, checked
  by param) shows as one line naming the parameter, through
  IPython's public custom-exception hook (``InteractiveShell.set_custom_exc``);
  any other exception keeps its full traceback.
* **Static figures** (``static=True``, or ``WORKBENCH_NOTEBOOK_STATIC=1`` as set by
  ``make notebooks``): every HoloViews object is shown as a PNG drawn by
  matplotlib instead of a live Bokeh plot, so a notebook saved with its outputs
  reads in a file viewer or on GitHub, which run no JavaScript; no JavaScript is
  embedded either (the file stays small). An explorer in such a notebook is shown
  as a picture of the figures it shows; it is live once the notebook is run with
  the default ``static=False``.

Where it works:

* **JupyterLab 4** and **Notebook 7** (the same front end): everything above, with
  nothing else to install (``pyviz_comms`` brings its extension).
* **VS Code**'s notebook view runs no JupyterLab extension; Panel detects it and
  talks through an ipywidget instead, which needs ``jupyter_bokeh`` (and its
  ``ipywidgets``) in the kernel's environment -- both are dependencies of the
  package. ipywidgets also gives tqdm (loaded by transformers) its progress
  widget, which removes tqdm's ``IProgress not found`` warning at its source.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

STATIC_ENV = "WORKBENCH_NOTEBOOK_STATIC"
STATIC_DPI = 80  # PNG resolution of static figures: legible, and a notebook of ten figures stays well under 3 MB


def notebook(static: bool | None = None) -> None:
    """Set up the running notebook for the workbench (see the module docstring); returns ``None``.

    ``static``: show figures as PNG images (for notebooks saved with outputs); default from
    ``WORKBENCH_NOTEBOOK_STATIC`` (``1``/``0``), else ``False`` (live Bokeh plots).
    """
    if static is None:
        flag = os.environ.get(STATIC_ENV, "0").strip()
        if flag not in ("0", "1"):
            raise ValueError(f"{STATIC_ENV} must be 0 or 1, got {flag!r}")
        static = flag == "1"
    if not isinstance(static, bool):
        raise ValueError(f"static must be True or False, got {static!r}")
    shell = kernel_shell()
    if shell is None:
        return None
    shell.set_custom_exc((ValueError,), one_line_error)
    if static:
        _show_static(shell)
        return None
    import holoviews as hv
    import panel as pn

    hv.extension("bokeh", inline=True, logo=False)
    pn.extension(inline=True)
    # HoloViews draws an element through Panel's renderer but skips the step of Panel's own display that
    # inlines the components' stylesheets, which then point at cdn.holoviz.org; showing it as a Panel
    # pane takes Panel's path (stylesheets inlined from the installation, live updates through comms).
    shell.display_formatter.mimebundle_formatter.for_type(
        hv.core.Dimensioned, lambda obj, include=None, exclude=None: pn.panel(obj)._repr_mimebundle_(include, exclude))
    return None


def kernel_shell():
    """The running IPython kernel's shell, or ``None`` (plain Python, a terminal IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or "IPKernelApp" not in shell.config:
        return None
    return shell


CHECKERS = ("workbench", "param")  # modules whose ValueErrors are input checks that name the parameter


def raised_by_workbench(tb: TracebackType | None) -> bool:
    """Whether the innermost frame of ``tb`` is a workbench check, or param's bounds check of an
    explorer's parameter (both raise one-line messages naming the parameter and its range)."""
    name = ""
    while tb is not None:
        name = tb.tb_frame.f_globals.get("__name__", "") or ""
        tb = tb.tb_next
    return name.split(".")[0] in CHECKERS


def one_line_error(shell, etype: type[BaseException], value: BaseException, tb: TracebackType | None,
                   tb_offset: int | None = None) -> None:
    """IPython custom-exception handler: the workbench's ``ValueError`` as one line
    (``ValueError: n must be ...``, shown as the cell's error), any other in full."""
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset, exception_only=raised_by_workbench(tb))


def _show_static(shell) -> None:
    """Display HoloViews objects, and explorers with a ``figure()``, as matplotlib PNGs."""
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  options are still written for bokeh (hv.opts.Curve(...))
    import holoviews.plotting.mpl  # noqa: F401  draws the images
    import panel as pn

    hv.Store.set_current_backend("bokeh")
    formatter = shell.display_formatter.mimebundle_formatter
    formatter.for_type(hv.core.Dimensioned, lambda obj, include=None, exclude=None: png_bundle(obj))
    for kind in (pn.viewable.Viewable, pn.viewable.Viewer):
        formatter.for_type(kind, lambda obj, include=None, exclude=None: _explorer_bundle(obj))


def png_bundle(obj) -> dict[str, object]:
    """``{"image/png": bytes, "text/plain": ...}`` of a HoloViews object drawn by matplotlib."""
    import io

    import holoviews as hv
    import matplotlib.pyplot as plt

    fig = hv.render(obj, backend="matplotlib")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=STATIC_DPI, bbox_inches="tight")
    plt.close(fig)
    return {"image/png": buf.getvalue(), "text/plain": f"<{type(obj).__name__}: figure>"}


def shown_figures(obj, depth: int = 0) -> list:
    """The HoloViews objects that a Panel object shows: its explorer's ``figure()`` when it is one, else those
    of its HoloViews panes (depth first; a layout holds an explorer as the view it returns)."""
    import panel as pn

    figure = getattr(obj, "figure", None)
    if isinstance(obj, pn.viewable.Viewer) and callable(figure):
        shown = figure()
        return [] if shown is None else [shown]
    if isinstance(obj, pn.pane.HoloViews):
        return [] if obj.object is None or not obj.visible else [obj.object]
    found = []
    for child in (getattr(obj, "objects", None) or []) if depth < 12 else []:
        found += shown_figures(child, depth + 1)
    return found


def _explorer_bundle(obj) -> dict[str, object]:
    """A Panel object in a static notebook: a picture of the figures it shows."""
    import holoviews as hv

    text = f"<{type(obj).__name__}: interactive; run the notebook to use it>"
    figures = shown_figures(obj)
    if not figures:
        return {"text/plain": text}
    return {**png_bundle(figures[0] if len(figures) == 1 else hv.Layout(figures).cols(2)), "text/plain": text}
