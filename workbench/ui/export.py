"""Download buttons: the figure (PDF/SVG/PNG) and the data behind it (netCDF)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import panel as pn
import param
import xarray as xr

from .. import export, results


class ExportButtons(pn.viewable.Viewer):
    """"download figure" in a chosen format, and "download data" as netCDF.

    ``figure`` and ``data`` are callables returning the current HoloViews
    object and Dataset; they are called only when a button is pressed.
    """

    fmt = param.Selector(default="pdf", objects=list(export.FORMATS), doc="figure format")
    width = param.Selector(default="single", objects=list(export.WIDTHS_IN), doc="journal column width")
    serif = param.Boolean(default=False, doc="serif fonts")

    def __init__(self, figure: Callable[[], Any], data: Callable[[], xr.Dataset | None],
                 filename: str = "figure", **params: Any):
        super().__init__(**params)
        self._figure, self._data, self._stem = figure, data, filename
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
        obj = self._figure()
        if obj is None:
            raise ValueError("nothing to export yet: run a computation first")
        return io.BytesIO(export.figure_bytes(obj, self.fmt, width=self.width, serif=self.serif))

    def _data_file(self) -> io.BytesIO:
        ds = self._data()
        if ds is None:
            raise ValueError("no data yet: run a computation first")
        return io.BytesIO(results.to_bytes(ds))

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Card(
            pn.Row(pn.widgets.RadioButtonGroup.from_param(self.param.fmt, name="format"),
                   pn.widgets.RadioButtonGroup.from_param(self.param.width, name="width")),
            pn.widgets.Checkbox.from_param(self.param.serif),
            self._fig_btn, self._data_btn, title="Export", collapsed=False,
            sizing_mode="stretch_width")
