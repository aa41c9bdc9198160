"""Download buttons: the figure (PDF/SVG/PNG) and the data behind it (netCDF).

When the explorer's ``data()`` Dataset names its figure (``attrs["figure"]``,
see :mod:`workbench.export`), the figure downloaded is that family's paper
figure drawn from exactly that Dataset, in the chosen page preset and column
width, and the netCDF downloaded is that Dataset: ``workbench figure FILE.nc``
redraws the same figure from it. Otherwise the HoloViews object of
``figure()`` is rendered at the same page size.

The netCDF download carries the result's own provenance (``parameters``,
versions, device, seed, ...) and, when the buttons are given a ``state``
callable, the dashboard's parameters too: ``attrs["app_state"]`` holds them as
JSON, so a downloaded file says which view it was exported from
(:class:`~workbench.ui.ShareState` sets ``state`` for the apps).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import panel as pn
import param
import xarray as xr

from .. import export, results

APP_STATE_ATTR = "app_state"


def with_app_state(ds: xr.Dataset | xr.DataArray, state: dict[str, Any]) -> xr.Dataset | xr.DataArray:
    """A shallow copy of ``ds`` whose ``attrs["app_state"]`` is ``state`` as JSON (``ds`` is unchanged)."""
    out = ds.copy(deep=False)
    out.attrs = {**ds.attrs, APP_STATE_ATTR: results.dumps(state)}
    return out


class ExportButtons(pn.viewable.Viewer):
    """"download figure" in a chosen format, and "download data" as netCDF.

    ``figure`` and ``data`` are callables returning the current HoloViews
    object and Dataset; they are called only when a button is pressed.
    ``state``, when set (argument or attribute), returns the app's parameters
    as a JSON-able dict; the data file then carries it in ``attrs["app_state"]``.
    """

    fmt = param.Selector(default="pdf", objects=list(export.FORMATS), doc="figure format")
    width = param.Selector(default="single", objects=list(export.WIDTHS), doc="journal column width")
    preset = param.Selector(default="single", objects=list(export.PRESETS),
                            doc="page style: generic, Physical Review (aps) or SIAM")

    def __init__(self, figure: Callable[[], Any], data: Callable[[], xr.Dataset | None],
                 filename: str = "figure", state: Callable[[], dict[str, Any]] | None = None, **params: Any):
        super().__init__(**params)
        self._figure, self._data, self._stem = figure, data, filename
        self.state = state
        self._fig_btn = pn.widgets.FileDownload(callback=self._figure_file, filename=f"{filename}.pdf",
                                                label="Download figure", color="primary",
                                                sizing_mode="stretch_width", css_classes=["wb-download-figure"])
        self._data_btn = pn.widgets.FileDownload(callback=self._data_file, filename=f"{filename}.nc",
                                                 label="Download data (netCDF)",
                                                 sizing_mode="stretch_width", css_classes=["wb-download-data"])

    @param.depends("fmt", watch=True)
    def _rename(self) -> None:
        self._fig_btn.filename = f"{self._stem}.{self.fmt}"

    def _figure_file(self) -> io.BytesIO:
        ds = self._data()
        obj = ds if export.names_figure(ds) else self._figure()
        if obj is None:
            raise ValueError("nothing to export yet: run a computation first")
        return io.BytesIO(export.figure_bytes(obj, self.fmt, preset=self.preset, width=self.width))

    def _data_file(self) -> io.BytesIO:
        ds = self._data()
        if ds is None:
            raise ValueError("no data yet: run a computation first")
        if self.state is not None:
            ds = with_app_state(ds, self.state())
        return io.BytesIO(results.to_bytes(ds))

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Card(
            pn.Row(pn.widgets.RadioButtonGroup.from_param(self.param.fmt, name="format",
                                                          css_classes=["wb-export-format"]),
                   pn.widgets.RadioButtonGroup.from_param(self.param.width, name="width",
                                                          css_classes=["wb-export-width"])),
            pn.widgets.Select.from_param(self.param.preset, name="style", css_classes=["wb-export-preset"]),
            self._fig_btn, self._data_btn, title="Export", collapsed=False,
            sizing_mode="stretch_width")
