"""Shareable state: a view's parameters in the URL, and as JSON to save and load.

:class:`ShareState` syncs the named parameters of a component to the page's
query string (``?t=0.5&beta=10``), so a copied link reopens the same view and
recomputes it; it also offers the same parameters as a JSON download and
loads them back from an uploaded JSON file (size-limited, validated through
the component's own bounded parameters: a bad value is refused with the
parameter's own error and nothing is changed).

Given the app's :class:`~workbench.ui.ExportButtons` (``export=``), it also
hands them the same parameters, so a downloaded data file carries the view it
came from in ``attrs["app_state"]``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import panel as pn
import param

MAX_UPLOAD_BYTES = 64 * 1024


def state_of(component: param.Parameterized, names: Sequence[str]) -> dict[str, Any]:
    """The values of ``names`` on ``component``, JSON-able."""
    out = {}
    for name in names:
        value = getattr(component, name)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def apply_state(component: param.Parameterized, state: Any, names: Sequence[str]) -> dict[str, Any]:
    """Validate ``state`` against the component's parameters, then set it all at once.

    Unknown keys are refused; each value goes through the parameter's own
    bounds and type checks before any is set, so a bad file changes nothing.
    """
    if not isinstance(state, dict):
        raise ValueError("parameters file must hold a JSON object")
    unknown = sorted(set(state) - set(names))
    if unknown:
        raise ValueError(f"parameters file has unknown keys {unknown}; allowed: {sorted(names)}")
    values = {k: tuple(v) if isinstance(component.param[k], param.Range | param.NumericTuple) else v
              for k, v in state.items()}
    for key, value in values.items():
        try:
            component.param[key]._validate(value)  # the parameter's own bounds and type checks
        except Exception as exc:
            raise ValueError(f"parameters file: {key}: {exc}") from None
    component.param.update(**values)
    return values


class ShareState(pn.viewable.Viewer):
    """URL sync plus "download parameters" / "load parameters" for a component.

    ``names`` are the component's parameters that make up the view; ``status``
    (a :class:`~workbench.ui.Status`) reports loads and refused files;
    ``export`` (an :class:`~workbench.ui.ExportButtons`) gets ``state`` set so
    its data downloads carry the same parameters.
    """

    def __init__(self, component: param.Parameterized, names: Sequence[str], filename: str = "parameters",
                 status: Any = None, export: Any = None, **params: Any):
        super().__init__(**params)
        self.component, self.names, self.status = component, list(names), status
        unknown = [n for n in self.names if n not in component.param]
        if unknown:
            raise ValueError(f"names {unknown} are not parameters of {type(component).__name__}")
        if pn.state.location is not None:
            pn.state.location.sync(component, {n: n for n in self.names})
        if export is not None:
            export.state = self.state
        self._download = pn.widgets.FileDownload(callback=self._dump, filename=f"{filename}.json",
                                                 label="Download parameters (JSON)", sizing_mode="stretch_width",
                                                 css_classes=["wb-download-params"])
        self._upload = pn.widgets.FileInput(accept=".json", multiple=False, sizing_mode="stretch_width",
                                            css_classes=["wb-upload-params"])
        self._upload.param.watch(self._load, "value")

    def state(self) -> dict[str, Any]:
        """The current values of the shared parameters."""
        return state_of(self.component, self.names)

    def _dump(self) -> io.BytesIO:
        return io.BytesIO(json.dumps(self.state(), indent=1).encode())

    def load_bytes(self, data: bytes) -> dict[str, Any]:
        if len(data) > MAX_UPLOAD_BYTES:
            raise ValueError(f"parameters file must be at most {MAX_UPLOAD_BYTES // 1024} KiB; got {len(data)} bytes")
        try:
            state = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"parameters file is not valid JSON: {exc}") from None
        return apply_state(self.component, state, self.names)

    def _load(self, event: Any) -> None:
        if not event.new:
            return
        try:
            self.load_bytes(event.new)
            if self.status is not None:
                self.status.info("parameters loaded")
        except ValueError as exc:
            if self.status is not None:
                self.status.error(exc)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Card(self._download, pn.pane.Markdown("Load parameters (JSON):", margin=(0, 10)),
                       self._upload, title="Share", collapsed=True, sizing_mode="stretch_width")
