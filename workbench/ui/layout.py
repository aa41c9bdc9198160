"""Template, theme, device badge and status line shared by every dashboard."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .. import runtime
from .resources import serve_resources_locally
from .text import as_text, error_text

ACCENT = "#1f5f8b"
ALERT_COLORS = {"light": ("#fcfcfd", "#141619", "#e3e3e6"), "danger": ("#f8d7da", "#842029", "#f5c2c7")}


def device_badge(device: Any = None) -> pn.pane.HTML:
    """A small badge naming the compute device of the server process."""
    try:
        label = runtime.describe(device)
    except ValueError as exc:
        label = f"device error: {exc}"
    return pn.pane.HTML(
        f'<span class="wb-device" style="padding:2px 8px;border-radius:8px;'
        f'background:rgba(255,255,255,0.2);font-size:0.9em">device: {label}</span>',
        margin=(12, 10), width=280, height=30, name="device")


class Status(pn.viewable.Viewer):
    """Progress bar plus a message line; errors show here and the app stays usable.

    Messages are text: they are escaped (:func:`~workbench.ui.text.as_text`) and shown in a
    ``StaticText`` styled as a Bootstrap alert, so a message quoting user input never renders
    markup. A widget, not an HTML pane: a new message sends only the widget's ``text``, while an
    HTML pane re-sends all its properties, stylesheets included, which in a notebook carry
    Panel's CDN addresses (a request that leaves the machine on every message)."""

    value = param.Integer(default=-1, bounds=(-1, 100), doc="progress in %, -1 when idle")
    message = param.String(default="", doc="last message shown")

    def __init__(self, **params: Any):
        super().__init__(**params)
        # shown only while something runs: an idle indeterminate bar would look busy
        self._bar = pn.indicators.Progress(value=-1, active=False, visible=False, sizing_mode="stretch_width",
                                           height=10, bar_color="primary", margin=(5, 10))
        self._alert = pn.widgets.StaticText(value="", visible=False, sizing_mode="stretch_width", margin=(5, 10),
                                   css_classes=["wb-status"])
        self.kind = "light"
        self._busy = False

    def busy(self, flag: bool) -> None:
        self._busy = flag
        self._bar.active = flag and self.value < 0
        if not flag and self.value < 0:
            self._bar.value = -1
        self._bar.visible = flag or self.value >= 0

    def progress(self, fraction: float | None, text: str = "") -> None:
        if fraction is None:
            self.value = -1
            self._bar.value = -1
            self._bar.active = self._busy
        else:
            self.value = int(round(100 * min(max(fraction, 0.0), 1.0)))
            self._bar.value = self.value
            self._bar.active = False
        self._bar.visible = self._busy or self.value >= 0
        if text:
            self.info(text)

    def _show(self, text: str, kind: str) -> None:
        self.message, self.kind = text, kind
        colors = ALERT_COLORS[kind]
        self._alert.value = (f'<div class="alert alert-{kind}" role="alert" style="margin:0;padding:8px 12px;'
                              f'border-radius:6px;border:1px solid {colors[2]};background:{colors[0]};'
                              f'color:{colors[1]};white-space:pre-wrap">{as_text(text)}</div>')
        self._alert.visible = bool(text)

    def info(self, text: str) -> None:
        self._show(text, "light")

    def error(self, exc: BaseException | str) -> None:
        self._show(error_text(exc), "danger")

    def clear(self) -> None:
        self.info("")

    def clear_error(self) -> None:
        """Remove an error message once its cause is gone; other messages stay."""
        if self.kind == "danger":
            self.clear()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._bar, self._alert, sizing_mode="stretch_width")


_THEME_JS = """
const url = new URL(window.location.href);
url.searchParams.set('theme', url.searchParams.get('theme') === 'dark' ? 'default' : 'dark');
window.location.href = url.toString();
"""


def theme_toggle() -> pn.widgets.Button:
    """A header button switching light/dark (``?theme=dark``), keeping the other query parameters."""
    button = pn.widgets.Button(label="light / dark", width=110, margin=(12, 10),
                               css_classes=["wb-theme-toggle"])
    button.js_on_click(code=_THEME_JS)
    return button


def app_template(title: str, main: Any, sidebar: Any = None, description: str = "") -> pn.template.BaseTemplate:
    """The one template every app uses: header with device badge, light/dark toggle."""
    serve_resources_locally()  # before the template and the app create their models
    # Bootstrap design: every resource is bundled with Panel, so a served workbench never reaches
    # out to a font CDN (offline labs, clean consoles).
    tmpl = pn.template.BootstrapTemplate(
        title=title,
        header_background=ACCENT,
        header=[pn.Row(device_badge(), theme_toggle())],
        sidebar=[sidebar] if sidebar is not None else [],
        main=[main],
        sidebar_width=340,
        # each app shows its own progress (Status); Panel's global busy spinner would be updated
        # in every open session on every event of any session
        busy_indicator=None,
    )
    if description:
        tmpl.meta_description = description
    return tmpl
