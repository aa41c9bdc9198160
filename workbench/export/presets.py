"""Page presets for paper figures: column widths, fonts, sizes, line widths, dpi.

A preset is a journal's house style; ``width`` picks one of its columns.

========  =====================  =========================================  =====
preset    columns (in)           fonts                                      size
========  =====================  =========================================  =====
single    3.4 / 7.0 (single)     DejaVu Sans, mathtext DejaVu Sans          8 pt
double    3.4 / 7.0 (double)     DejaVu Sans, mathtext DejaVu Sans          8 pt
aps       3.375 / 7.0            Times-like (STIX), mathtext STIX           8 pt
siam      5.125 / 5.125          Computer Modern (cmr10), mathtext CM       8 pt
========  =====================  =========================================  =====

Physical Review (APS): one column 3 3/8 in (8.6 cm), two columns 7 in (17.8 cm),
Times text ("Physical Review Style and Notation Guide", figure section).
SIAM journals: text block 5 1/8 in wide, Computer Modern (the SIAM LaTeX
class ``siamart``): both "columns" are the text width.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import validate

WIDTHS = ("single", "double")
POINTS_PER_INCH = 72.0


@dataclass(frozen=True)
class Preset:
    """A page style: ``columns`` maps ``single``/``double`` to a width in inches."""

    name: str
    columns: dict[str, float]
    default_width: str = "single"
    family: str = "sans-serif"
    fonts: tuple[str, ...] = ("DejaVu Sans",)
    mathtext: str = "dejavusans"
    fontsize: float = 8.0
    small: float = 7.0  # ticks, legends, colour-bar ticks
    linewidth: float = 1.0
    axeswidth: float = 0.6
    dpi: int = 300
    extra: dict[str, Any] = field(default_factory=dict)

    def width_in(self, width: str | None = None) -> float:
        """The page width in inches of column ``width`` (the preset's default when None)."""
        width = self.default_width if width is None else width
        return self.columns[validate.choice("width", width, WIDTHS)]

    def rc(self) -> dict[str, Any]:
        """matplotlib rcParams of this style (fonts embedded as TrueType in PDF and as text in SVG)."""
        fam = "serif" if self.family == "serif" else "sans-serif"
        return {
            "font.family": fam,
            f"font.{fam}": list(self.fonts),
            "font.size": self.fontsize,
            "axes.titlesize": self.fontsize,
            "axes.labelsize": self.fontsize,
            "figure.titlesize": self.fontsize,
            "xtick.labelsize": self.small,
            "ytick.labelsize": self.small,
            "legend.fontsize": self.small,
            "legend.title_fontsize": self.small,
            "mathtext.fontset": self.mathtext,
            "axes.linewidth": self.axeswidth,
            "lines.linewidth": self.linewidth,
            "patch.linewidth": self.axeswidth,
            "xtick.major.width": self.axeswidth,
            "ytick.major.width": self.axeswidth,
            "xtick.minor.width": self.axeswidth * 0.75,
            "ytick.minor.width": self.axeswidth * 0.75,
            "xtick.major.size": 3.0,
            "ytick.major.size": 3.0,
            "legend.frameon": False,
            "legend.handlelength": 1.6,
            "axes.titlepad": 3.0,
            "axes.labelpad": 2.0,
            "figure.dpi": 100,
            "savefig.dpi": self.dpi,
            "savefig.bbox": None,  # never "tight": the page is the preset's width exactly
            "savefig.pad_inches": 0.0,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.fonttype": "path",  # glyphs as paths: the SVG renders the same without the fonts
            "image.cmap": "viridis",
            "figure.constrained_layout.use": True,
            "figure.constrained_layout.h_pad": 0.02,
            "figure.constrained_layout.w_pad": 0.02,
            **self.extra,
        }


_COLUMNS = {"single": 3.4, "double": 7.0}
PRESETS: dict[str, Preset] = {
    "single": Preset("single", dict(_COLUMNS), "single"),
    "double": Preset("double", dict(_COLUMNS), "double"),
    "aps": Preset("aps", {"single": 3.375, "double": 7.0}, "single", family="serif",
                  fonts=("STIXGeneral", "Liberation Serif", "DejaVu Serif"), mathtext="stix"),
    # cmr10 has no Unicode minus: tick labels go through mathtext (the CM minus)
    "siam": Preset("siam", {"single": 5.125, "double": 5.125}, "single", family="serif",
                   fonts=("cmr10", "DejaVu Serif"), mathtext="cm",
                   extra={"axes.formatter.use_mathtext": True, "axes.unicode_minus": True}),
}


def get(preset: str | Preset) -> Preset:
    """The preset named ``preset`` (a :class:`Preset` passes through)."""
    if isinstance(preset, Preset):
        return preset
    return PRESETS[validate.choice("preset", preset, PRESETS)]


def page(preset: str | Preset, width: str | None = None, height_in: float | None = None,
         aspect: float = 0.62) -> tuple[Preset, float, float]:
    """(preset, width_in, height_in); the height defaults to ``aspect`` x width, bounded to 1-9.5 in."""
    p = get(preset)
    w = p.width_in(width)
    h = w * aspect if height_in is None else validate.number("height_in", height_in, lo=1.0, hi=9.5)
    return p, w, float(min(max(h, 1.0), 9.5))
