"""The one base of every family's explorer.

An explorer is a :class:`param.Parameterized` view (a ``pn.viewable.Viewer``) whose bounded,
documented parameters are its controls. :class:`Explorer` owns what every explorer shares,
so a family writes only its computation hooks and its plots:

* **device**: the ``device`` parameter is read by :attr:`Explorer.compute_device` each time work
  is started, so changing it moves all later work (``''`` = ``WORKBENCH_DEVICE`` or auto).
* **status**: :attr:`status` (a :class:`~workbench.ui.Status`); every message is shown as text.
* **runners**: :meth:`runner` makes a newest-request-wins :class:`~workbench.ui.LatestRunner`
  in one of the shared pools (``"interactive"`` for what sliders ask, ``"heavy"`` for Run,
  ``"background"`` for refinements; see :mod:`workbench.ui.fair`). Jobs compute and return;
  their results (and partial views posted with ``runner.post``) reach the page only through
  the session's loop, so nothing a job does touches a widget.
* **Run and Cancel**: a class with ``run_label`` gets both buttons: Run calls :meth:`run`,
  Cancel stops every runner's job (jobs that check their cancel event keep what they have).
* **export**: :attr:`export` (figure and data buttons) calls :meth:`figure` and :meth:`data`.
* **sharing**: ``shared`` names the parameters that make up the view, in the URL, in the
  parameters JSON and in exported data; :meth:`check_state` holds rules between parameters,
  applied before a link or a file changes anything.
* **controls**: generated from the parameters' declarations (label, bounds, step, objects,
  precedence, doc as a tooltip) by Panel's own ``from_param``; ``widgets`` overrides the widget
  type or its options for a parameter where a family needs another one, ``controls_extra``
  adds family-made widgets (an upload, a player).
* **lifecycle**: served, the first computation waits for the page to load in a browser
  (:meth:`when_loaded`), so a plain GET of a link costs nothing; when the session ends every
  runner is closed: its running job is told to stop and its queued jobs are dropped.
* **rendering**: the same object is a dashboard (:meth:`app`: controls in the sidebar) and a
  notebook cell or test view (``__panel__``: controls above the plots, full width).

A subclass sets ``shared``, ``filename`` (stem of exported files), optionally ``run_label``,
``css_prefix``, ``widgets``; implements :meth:`view` (the plots), and :meth:`figure`,
:meth:`data` for export, :meth:`run` when it has a Run button.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import panel as pn
import param

from .. import runtime
from .export import ExportButtons
from .fair import POOLS
from .layout import Status, app_template
from .tasks import LatestRunner, in_server


class Explorer(pn.viewable.Viewer):
    """Base of the family explorers (see the module docstring)."""

    device = param.String(default="", precedence=-1,
                          doc="compute device: '' (WORKBENCH_DEVICE or auto), cpu, cuda or cuda:N")

    shared: ClassVar[Sequence[str]] = ()
    filename: ClassVar[str] = "figure"
    run_label: ClassVar[str | None] = None
    css_prefix: ClassVar[str] = "wb"
    widgets: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any):
        super().__init__(**params)
        unknown = [n for n in self.shared if n not in self.param]
        if unknown:
            raise ValueError(f"shared names {unknown} are not parameters of {type(self).__name__}")
        self.status = Status()
        self.export = ExportButtons(figure=self.figure, data=self.data, filename=self.filename)
        self._runners: list[LatestRunner] = []
        self._buttons: list[pn.widgets.Button] = []
        if self.run_label:
            run = pn.widgets.Button(label=self.run_label, color="primary", css_classes=[self._css("run")])
            run.on_click(lambda _e: self.run())
            cancel = pn.widgets.Button(label="Cancel", css_classes=[self._css("cancel")])
            cancel.on_click(lambda _e: self.cancel())
            self._buttons = [run, cancel]
        self.ended = False
        if in_server():
            pn.state.on_session_destroyed(self._session_ended)

    # ---- work ------------------------------------------------------------------------------------

    @property
    def compute_device(self) -> str | None:
        """The device for work started now (checked: an unknown or absent device is an error)."""
        if self.device:
            runtime.resolve_device(self.device)
        return self.device or None

    def runner(self, on_result: Callable[[Any], None], *, pool: str = "interactive", busy: bool = True,
               on_error: Callable[[BaseException], None] | None = None) -> LatestRunner:
        """A newest-request-wins runner owned by this explorer, in the shared ``pool``."""
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {sorted(POOLS)}, got {pool!r}")
        runner = LatestRunner(on_result, on_error or self.status.error, self.status.busy if busy else None,
                              pool=POOLS[pool])
        self._runners.append(runner)
        return runner

    def cancel(self) -> None:
        """Stop the running jobs (they keep what they have) and drop the queued ones."""
        for runner in self._runners:
            runner.cancel()

    def run(self) -> None:
        """The main action (the Run button)."""
        raise NotImplementedError(f"{type(self).__name__} has no Run action")

    def when_loaded(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` once the page has loaded in a browser (served), or now (notebook, test)."""
        if in_server():
            pn.state.onload(fn)
        else:
            fn()

    def _session_ended(self, _context: Any) -> None:
        self.ended = True
        for runner in self._runners:
            runner.close()

    # ---- export and sharing ----------------------------------------------------------------------

    def figure(self) -> Any:
        """The figure to export (a HoloViews object), or None before any result."""
        return None

    def data(self) -> Any:
        """The Dataset behind :meth:`figure`, or None before any result."""
        return None

    def check_state(self, values: dict[str, Any]) -> None:
        """Rules between parameters for a state about to be applied (all shared values given);
        raise ``ValueError`` naming the parameter. Default: none."""

    # ---- layout ----------------------------------------------------------------------------------

    def _css(self, name: str) -> str:
        return f"{self.css_prefix}-{name.replace('_', '-')}"

    def control_names(self) -> list[str]:
        """The parameters shown as controls: the shared ones, in declaration order."""
        return [n for n in self.param if n in self.shared and (self.param[n].precedence or 0) >= 0]

    def control(self, name: str) -> pn.widgets.Widget:
        """The widget of parameter ``name``: Panel's widget for its declaration, or the override
        in ``widgets`` (a widget class, or a dict of options with an optional ``type``)."""
        spec = self.widgets.get(name, {})
        spec = dict(spec) if isinstance(spec, dict) else {"type": spec}
        kind = spec.pop("type", None) or pn.Param.widget_type(self.param[name])
        spec.setdefault("css_classes", [self._css(name)])
        if self.param[name].doc and "description" in kind.param:
            spec.setdefault("description", self.param[name].doc)
        return kind.from_param(self.param[name], **spec)

    def controls_extra(self) -> list[Any]:
        """Family-made controls shown after the generated ones (an upload, a player ...)."""
        return []

    def controls(self) -> pn.Column:
        """Every control: generated widgets, the family's extras, Run/Cancel, export."""
        items: list[Any] = [self.control(n) for n in self.control_names()]
        items += self.controls_extra()
        if self._buttons:
            items.append(pn.Row(*self._buttons, sizing_mode="stretch_width"))
        items.append(self.export)
        return pn.Column(*items, sizing_mode="stretch_width")

    def view(self) -> pn.viewable.Viewable:
        """The plots (the main area)."""
        raise NotImplementedError

    def main(self) -> pn.Column:
        return pn.Column(self.status, self.view(), sizing_mode="stretch_width")

    def app(self, title: str, description: str = "") -> pn.template.BaseTemplate:
        """The served dashboard: controls and the Share card in the sidebar, plots in the main area."""
        from .share import ShareState

        share = ShareState(self, self.shared, filename=f"{self.filename}_parameters", status=self.status,
                           export=self.export)
        sidebar = pn.Column(self.controls(), share, sizing_mode="stretch_width")
        return app_template(title, self.main(), sidebar=sidebar, description=description)

    def __panel__(self) -> pn.viewable.Viewable:
        """Notebook and test view: the controls above the plots, over the full width."""
        controls = self.controls()
        box = pn.FlexBox(*controls.objects, flex_wrap="wrap", align_items="flex-start",
                         styles={"gap": "4px 16px"}, sizing_mode="stretch_width")
        for item in box.objects:
            if isinstance(item, pn.widgets.Widget | pn.Row):
                item.width = item.width or 220
        return pn.Column(pn.Card(box, title="Controls", collapsed=False, sizing_mode="stretch_width"),
                         self.main(), sizing_mode="stretch_width")
