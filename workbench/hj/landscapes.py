"""Test landscapes ``f: R^d -> R`` as batched torch functions, and their grids.

Every landscape maps a tensor ``x`` of shape ``(..., d)`` to ``(...)`` and is
differentiable almost everywhere (autograd gives the optimizers their gradients).

=================  =====================================================  ==================
name               formula                                                global minimum
=================  =====================================================  ==================
rastrigin          10 d + sum(x_i^2 - 10 cos(2 pi x_i)), [-5.12, 5.12]     0 at 0
ackley             -20 exp(-0.2 sqrt(mean x_i^2)) - exp(mean cos 2 pi x_i)  0 at 0
                   + 20 + e, [-32.768, 32.768] (here [-5, 5] by default)
styblinski_tang    sum(x_i^4 - 16 x_i^2 + 5 x_i) / 2, [-5, 5]              -39.16599 d at -2.903534
double_well        sum((x_i^2 - 1)^2) + 0.3 x_i, [-2, 2]                   near x_i = -1.04
quadratic          sum(x_i^2) / 2                                          0 at 0
abs                sum |x_i|                                               0 at 0
deep_relaxation    sum x_i^2 + 1.5 sin(2 pi x_i) + n(x_i), [-3, 3]          numerical
=================  =====================================================  ==================

The Deep Relaxation toy (Chaudhari et al. 2018, the authors' ``hjb.py``) adds a
perturbation ``n``: uniform noise of amplitude 5 on 500 points of [-3, 3],
smoothed by a Gaussian of width 0.03, linearly interpolated (seeded, so it is a
fixed function). Separable landscapes (all but Ackley and user formulas) carry
their 1-D term, which the basin computation uses in any dimension.

User formulas in ``x`` (1-D) or ``x, y`` (2-D) are parsed by :mod:`workbench.expr`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import expr, validate

Fn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Landscape:
    """A landscape: batched function, default box, and what is known about its minimum.

    ``term`` is the 1-D function when ``f(x) = sum_i term(x_i)`` (None otherwise);
    ``dims`` the dimensions it is defined for (``None``: any); ``max_grid`` caps the grid
    resolution per axis that the prox map and the basin computation use.
    """

    name: str
    fn: Fn
    lo: float
    hi: float
    term: Fn | None = None
    dims: tuple[int, ...] | None = None
    minimum: float | None = None
    description: str = ""
    meta: dict = field(default_factory=dict)
    max_grid: int = 100_000  # expensive landscapes cap the grids of the prox map and basins

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    @property
    def separable(self) -> bool:
        return self.term is not None

    def check_dim(self, dim: int) -> int:
        dim = validate.integer("dim", dim, lo=1, hi=10_000)
        if self.dims is not None and dim not in self.dims:
            raise ValueError(f"dim must be one of {', '.join(map(str, self.dims))} for landscape "
                             f"{self.name!r}, got {dim}")
        return dim


def _sum_of(term: Fn) -> Fn:
    return lambda x: term(x).sum(dim=-1)


def _rastrigin_term(x):
    return x ** 2 - 10 * torch.cos(2 * math.pi * x) + 10


def _styblinski_tang_term(x):
    return 0.5 * (x ** 4 - 16 * x ** 2 + 5 * x)


def _double_well_term(x):
    return (x ** 2 - 1) ** 2 + 0.3 * x


def _ackley(x):
    d = x.shape[-1]
    r = torch.sqrt((x ** 2).sum(-1) / d + torch.finfo(x.dtype).tiny)  # finite gradient at 0
    return -20 * torch.exp(-0.2 * r) - torch.exp(torch.cos(2 * math.pi * x).sum(-1) / d) + 20 + math.e


class SmoothedNoise:
    """A fixed random perturbation: uniform noise smoothed by a Gaussian, interpolated linearly.

    As in the Deep Relaxation toy: ``amplitude`` times U(0, 1) on ``n`` points of
    ``[lo, hi]``, convolved with a normalised Gaussian of standard deviation ``width``.
    """

    def __init__(self, lo: float = -3.0, hi: float = 3.0, n: int = 500, amplitude: float = 5.0,
                 width: float = 0.03, seed: int = 0):
        rng = np.random.default_rng(seed)
        xs = np.linspace(lo, hi, n)
        noise = amplitude * rng.uniform(size=n)
        h = xs[1] - xs[0]
        k = np.arange(-int(4 * width / h) - 1, int(4 * width / h) + 2) * h
        kernel = np.exp(-0.5 * (k / width) ** 2)
        smooth = np.convolve(noise, kernel / kernel.sum(), mode="same")
        self.lo, self.hi, self.h = lo, hi, h
        self.values = torch.tensor(smooth - smooth.mean(), dtype=torch.float64)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        vals = self.values.to(device=x.device, dtype=x.dtype)
        pos = ((x.clamp(self.lo, self.hi) - self.lo) / self.h)
        i0 = pos.detach().floor().clamp(0, len(vals) - 2).long()
        w = pos - i0.to(x.dtype)
        return (1 - w) * vals[i0] + w * vals[i0 + 1]


_NOISE = SmoothedNoise()


def _deep_relaxation_term(x):
    return x ** 2 + 1.5 * torch.sin(2 * math.pi * x) + _NOISE(x)


LANDSCAPES: dict[str, Landscape] = {
    "rastrigin": Landscape("rastrigin", _sum_of(_rastrigin_term), -5.12, 5.12, _rastrigin_term,
                           minimum=0.0, description="10d + sum(x^2 - 10 cos 2 pi x)"),
    "ackley": Landscape("ackley", _ackley, -5.0, 5.0, minimum=0.0,
                        description="-20 exp(-0.2 |x|/sqrt d) - exp(mean cos 2 pi x) + 20 + e"),
    "styblinski_tang": Landscape("styblinski_tang", _sum_of(_styblinski_tang_term), -5.0, 5.0,
                                 _styblinski_tang_term, description="sum(x^4 - 16 x^2 + 5 x)/2"),
    "double_well": Landscape("double_well", _sum_of(_double_well_term), -2.0, 2.0, _double_well_term,
                             description="sum((x^2 - 1)^2 + 0.3 x)"),
    "quadratic": Landscape("quadratic", _sum_of(lambda x: 0.5 * x ** 2), -2.0, 2.0,
                           lambda x: 0.5 * x ** 2, minimum=0.0, description="|x|^2 / 2"),
    "abs": Landscape("abs", _sum_of(torch.abs), -2.0, 2.0, torch.abs, minimum=0.0, description="sum |x_i|"),
    "deep_relaxation": Landscape("deep_relaxation", _sum_of(_deep_relaxation_term), -3.0, 3.0,
                                 _deep_relaxation_term,
                                 description="x^2 + 1.5 sin(2 pi x) + smoothed noise (Deep Relaxation toy)"),
}
STYBLINSKI_TANG_MIN = -39.16599  # per dimension, at x_i = -2.903534


def from_formula(formula: str, dim: int = 2, lo: float = -3.0, hi: float = 3.0) -> Landscape:
    """A landscape from a formula typed by the user: in ``x`` (dim 1) or ``x, y`` (dim 2)."""
    dim = validate.integer("dim", dim, lo=1, hi=2)
    lo, hi = _box(lo, hi)
    parsed = expr.parse(formula, variables=("x",) if dim == 1 else ("x", "y"))
    if dim == 1:
        def fn(x):
            return parsed(x=x[..., 0])
    else:
        def fn(x):
            return parsed(x=x[..., 0], y=x[..., 1])
    return Landscape(f"formula: {parsed.text}", fn, lo, hi, dims=(dim,), description=parsed.text,
                     meta={"formula": parsed.text})


def _box(lo: float, hi: float) -> tuple[float, float]:
    lo = float(validate.number("lo", lo))
    hi = float(validate.number("hi", hi, lo=lo, lo_open=True))
    return lo, hi


def get(name: str, formula: str | None = None, dim: int = 2) -> Landscape:
    """A named landscape, or ``name='formula'`` with ``formula`` text."""
    if name == "formula":
        if not formula:
            raise ValueError("formula must be given when landscape is 'formula'")
        return from_formula(formula, dim)
    validate.choice("landscape", name, [*LANDSCAPES, "formula", *_EXTRA])
    if name in _EXTRA:
        return _EXTRA[name]()
    return LANDSCAPES[name]


_EXTRA: dict[str, Callable[[], Landscape]] = {}


def register(name: str, factory: Callable[[], Landscape]) -> None:
    """Make a landscape that is expensive to build (the network loss) available by name."""
    _EXTRA[name] = factory


@dataclass(frozen=True)
class GridSample:
    """A landscape on a uniform grid: coordinates per axis and values ``(ny, nx)`` or ``(n,)``."""

    coords: tuple[torch.Tensor, ...]
    values: torch.Tensor

    @property
    def spacing(self) -> tuple[float, ...]:
        return tuple(float(c[1] - c[0]) for c in self.coords)

    def points(self) -> torch.Tensor:
        """All grid points as ``(*shape, d)``, axis order (x, y) to match landscape inputs."""
        mesh = torch.meshgrid(*self.coords, indexing="ij")
        return torch.stack(mesh[::-1] if len(mesh) == 2 else mesh, dim=-1)


def sample(landscape: Landscape, n: int, dim: int, lo: float | None = None, hi: float | None = None,
           device=None, dtype=torch.float64) -> GridSample:
    """Evaluate ``landscape`` on an ``n`` (1-D) or ``n x n`` (2-D) uniform grid on [lo, hi]^dim.

    2-D values are indexed ``[iy, ix]`` (rows are y), the image convention.
    """
    dim = validate.integer("dim", dim, lo=1, hi=2)
    n = validate.integer("n", n, lo=3, hi=100_000 if dim == 1 else 8192)
    landscape.check_dim(dim)
    lo, hi = _box(landscape.lo if lo is None else lo, landscape.hi if hi is None else hi)
    axis = torch.linspace(lo, hi, n, dtype=dtype, device=device)
    coords = (axis,) if dim == 1 else (axis, axis.clone())  # (y, x)
    grid = GridSample(coords, torch.empty(0))
    with torch.no_grad():
        values = landscape(grid.points())
    values = torch.as_tensor(values, dtype=dtype, device=axis.device).expand(grid.points().shape[:-1])
    if torch.isnan(values).any():
        raise ValueError("formula gives NaN on part of the box (e.g. log or sqrt of a negative number); "
                         "change the formula or the box")
    return GridSample(coords, values.contiguous())
