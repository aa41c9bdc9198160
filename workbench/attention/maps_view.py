"""The model-maps tab: the overview of all 72 maps, the chosen layer's heads, one head with its head view.

Every map is one rasterised ``hv.Image`` (never one glyph per cell). The enlarged head and
its head view are built from the same map and the same selected query rows and set in the
same call, so the two never show different tokens. (Not inside ``pn.io.hold``: held updates
of image data leave Bokeh's images unpainted in the served page.)
"""

from __future__ import annotations

from collections.abc import Callable

import holoviews as hv
import panel as pn
import xarray as xr

from . import plots
from .model import N_HEADS, N_LAYERS


class MapsView:
    """Panes of the model-maps tab and what a click on the overview selects."""

    def __init__(self) -> None:
        self.grid = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="grid")
        self.layer_heads = pn.pane.HoloViews(None, name="layer_heads")
        self.heat = pn.pane.HoloViews(None, name="head")
        self.view = pn.pane.HoloViews(None, name="headview")
        self.panel = pn.Column(self.grid, self.layer_heads, pn.Row(self.heat, self.view))

    def show_grid(self, maps: xr.DataArray, on_tap: Callable) -> None:
        """The overview of every layer and head; a click calls ``on_tap(x=, y=)``."""
        grid = plots.grid_image(maps)
        hv.streams.Tap(source=grid, x=None, y=None).add_subscriber(on_tap)
        self.grid.object = grid

    def show_layer(self, maps: xr.DataArray, layer: int) -> None:
        self.layer_heads.object = plots.layer_images(maps, layer)

    def show_head(self, maps: xr.DataArray, layer: int, head: int, queries: tuple[int, int]) -> None:
        # both from the same map and rows, in the same call: never different tokens
        self.heat.object, self.view.object = self.head_pair(maps, layer, head, queries)

    @staticmethod
    def head_pair(maps: xr.DataArray, layer: int, head: int, queries: tuple[int, int]) -> tuple:
        return plots.head_pair(maps.isel(layer=layer, head=head), f"layer {layer}, head {head}", queries)

    @staticmethod
    def tile_at(maps: xr.DataArray, x: float, y: float) -> tuple[int, int] | None:
        """(layer, head) of the overview's tile under a click at (x, y), or None between tiles."""
        step = plots.tile_cells(maps.sizes["query"]) + plots.GAP
        top = N_LAYERS * step - plots.GAP
        head, layer = int(x // step), int((top - y) // step)
        return (layer, head) if 0 <= head < N_HEADS and 0 <= layer < N_LAYERS else None
