"""Shareable state: a view's parameters in the URL, and as JSON to save and load.

:class:`ShareState` syncs the named parameters of a component to the page's
query string (``?t=0.5&beta=10``), so a copied link reopens the same view and
recomputes it; it also offers the same parameters as a JSON download and
loads them back from an uploaded JSON file (size-limited, validated through
the component's own bounded parameters: a bad value is refused with the
parameter's own error and nothing is changed).

State from a link or a file is applied as one unit: every value is checked first (the
parameter's own type and bounds, then the component's ``check_state`` for rules between
parameters), and only then are all set together, so the order of the query string does not
matter and a refused link or file changes nothing (the page then shows the values in use).

Given the app's :class:`~workbench.ui.ExportButtons` (``export=``), it also
hands them the same parameters, so a downloaded data file carries the view it
came from in ``attrs["app_state"]``.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

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


MAX_DEPTH = 8  # nesting of a value in a parameters file (lists of lists ...); deeper is refused


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list | tuple):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _checker(component: param.Parameterized, names: Sequence[str]) -> type[param.Parameterized]:
    """A bare Parameterized class with copies of ``names``' parameter declarations: constructing it
    runs each parameter's own type and bounds checks (public API) without touching ``component``."""
    attrs = {}
    for name in names:
        declared = copy.copy(component.param[name])
        declared.allow_refs = False
        attrs[name] = declared
    return type(f"{type(component).__name__}State", (param.Parameterized,), attrs)


def check_state(component: param.Parameterized, state: Any, names: Sequence[str],
                source: str = "parameters file") -> dict[str, Any]:
    """The values of ``state`` converted and checked against the component's parameters (nothing set).

    Unknown keys are refused; each value goes through its parameter's checks, then the
    component's own ``check_state(values)`` (when it has one) sees them all together, with the
    component's other values, for rules that tie parameters to each other. Errors name the
    parameter: ``"<source>: <name>: <why>"``.
    """
    if not isinstance(state, dict):
        raise ValueError(f"{source} must hold a JSON object")
    unknown = sorted(set(state) - set(names))
    if unknown:
        raise ValueError(f"{source} has unknown keys {unknown}; allowed: {sorted(names)}")
    if _depth(state) > MAX_DEPTH:
        raise ValueError(f"{source} is nested more than {MAX_DEPTH} levels deep")
    values = {k: tuple(v) if isinstance(component.param[k], param.Range | param.NumericTuple)
              and isinstance(v, list) else v for k, v in state.items()}
    checker = _checker(component, list(values))
    for key, value in values.items():
        try:
            checker(**{key: value})
        except Exception as exc:
            raise ValueError(f"{source}: {key}: {exc}") from None
    check = getattr(component, "check_state", None)
    if check is not None:
        try:
            check({**state_of(component, names), **values})
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{source}: {exc}") from None
    return values


def apply_state(component: param.Parameterized, state: Any, names: Sequence[str],
                source: str = "parameters file") -> dict[str, Any]:
    """Check ``state`` (:func:`check_state`), then set it all at once; a bad state changes nothing."""
    values = check_state(component, state, names, source)
    component.param.update(**values)
    return values


def link_state(component: param.Parameterized, names: Sequence[str], query: dict[str, Any]) -> dict[str, Any]:
    """The shared parameters named in a parsed query string, deserialised as Panel's URL sync does."""
    out = {}
    for name in names:
        if name not in query:
            continue
        value = query[name]
        if isinstance(value, str):
            try:
                value = component.param[name].deserialize(value)
            except Exception:  # left as text: the parameter's own check names what is wrong
                pass
        out[name] = value
    return out


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
            self._sync_url(pn.state.location)
        if export is not None:
            export.state = self.state
        self._download = pn.widgets.FileDownload(callback=self._dump, filename=f"{filename}.json",
                                                 label="Download parameters (JSON)", sizing_mode="stretch_width",
                                                 css_classes=["wb-download-params"])
        self._upload = pn.widgets.FileInput(accept=".json", multiple=False, sizing_mode="stretch_width",
                                            css_classes=["wb-upload-params"])
        self._upload.param.watch(self._load, "value")

    def _sync_url(self, location: Any) -> None:
        """Apply the link's values as one checked unit, then keep the URL in step with the view.
        A refused link leaves the view as it was, says why, and the URL shows the values in use."""
        query = location.query_params
        try:
            apply_state(self.component, link_state(self.component, self.names, query), self.names, source="link")
        except ValueError as exc:
            if self.status is not None:
                self.status.error(exc)
            kept = {k: v for k, v in query.items() if k not in self.names}
            location.search = "?" + urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in kept.items()})
        location.sync(self.component, {n: n for n in self.names})

    def state(self) -> dict[str, Any]:
        """The current values of the shared parameters."""
        return state_of(self.component, self.names)

    def _dump(self) -> io.BytesIO:
        return io.BytesIO(json.dumps(self.state(), indent=1).encode())

    def load_bytes(self, data: bytes) -> dict[str, Any]:
        if len(data) > MAX_UPLOAD_BYTES:  # checked before decoding
            raise ValueError(f"parameters file must be at most {MAX_UPLOAD_BYTES // 1024} KiB; got {len(data)} bytes")
        try:
            state = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(f"parameters file is not valid JSON: {type(exc).__name__}") from None
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
