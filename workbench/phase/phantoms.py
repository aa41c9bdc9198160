"""Test objects for coherent diffraction imaging.

Every phantom is a real, non-negative image on an ``n x n`` grid with peak
value 1, drawn in normalised coordinates ``x, y`` in ``[-1, 1]`` (pixel
centres). They are placed into a larger, oversampled array by
:func:`workbench.phase.physics.simulate`.

* :func:`vesicle` -- a thin elongated shell with internal density variation,
  like the simulated vesicle of the OSS and GPS papers (Rodriguez et al. 2013,
  Pham et al. 2019).
* :func:`nanorice` -- a few rice-grain-like rods (capsules) of different
  density and orientation.
* :func:`shepp_logan` -- the modified Shepp-Logan head (Toft's intensities),
  whose sum of signed ellipses is non-negative.
* :func:`from_image` -- any PNG/JPEG/TIFF file, converted to grey and resampled.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import validate

MIN_SIZE, MAX_SIZE = 8, 2048


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    n = validate.integer("object size", n, lo=MIN_SIZE, hi=MAX_SIZE)
    c = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    y, x = np.meshgrid(c, c, indexing="ij")
    return x, y


def _rotate(x: np.ndarray, y: np.ndarray, x0: float, y0: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in the frame of an ellipse centred at (x0, y0) rotated by ``angle`` (rad)."""
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = x - x0, y - y0
    return c * dx + s * dy, -s * dx + c * dy


def vesicle(n: int = 64, seed: int = 0, thickness: float = 0.08) -> np.ndarray:
    """A thin elongated shell (density 1) around an interior of smoothly varying density.

    The shell is the set ``1 - thickness <= r_e <= 1`` of the elliptical radius
    ``r_e = sqrt((x'/a)^2 + (y'/b)^2)`` with ``a = 0.9, b = 0.5`` rotated by 25 deg;
    the interior is ``0.25 + 0.35 * g(x, y)`` with ``g`` a normalised sum of six
    Gaussian blobs whose centres and widths are drawn from ``seed``.
    """
    validate.number("thickness", thickness, lo=0.01, hi=0.5)
    x, y = _grid(n)
    xr, yr = _rotate(x, y, 0.0, 0.0, np.deg2rad(25.0))
    r = np.sqrt((xr / 0.9) ** 2 + (yr / 0.5) ** 2)
    rng = np.random.default_rng(seed)
    g = np.zeros_like(x)
    for _ in range(6):
        cx, cy = rng.uniform(-0.6, 0.6), rng.uniform(-0.3, 0.3)
        w = rng.uniform(0.12, 0.3)
        bx, by = _rotate(x, y, 0.0, 0.0, np.deg2rad(25.0))
        g += rng.uniform(0.5, 1.0) * np.exp(-((bx - cx) ** 2 + (by - cy) ** 2) / (2 * w**2))
    g /= g.max()
    out = np.where(r <= 1.0 - thickness, 0.25 + 0.35 * g, 0.0)
    out = np.where((r > 1.0 - thickness) & (r <= 1.0), 1.0, out)
    return out


def nanorice(n: int = 64, seed: int = 0, count: int = 5) -> np.ndarray:
    """``count`` capsule-shaped rods (length 0.5-0.9, radius 0.06-0.1, density 0.5-1).

    A capsule is the set of points within radius ``rho`` of a segment; where
    rods overlap the larger density wins. Rod centres lie in the disc of radius 0.55.
    """
    count = validate.integer("count", count, lo=1, hi=50)
    x, y = _grid(n)
    rng = np.random.default_rng(seed)
    out = np.zeros_like(x)
    for _ in range(count):
        radius, angle = rng.uniform(0.0, 0.55), rng.uniform(0, 2 * np.pi)
        x0, y0 = radius * np.cos(angle), radius * np.sin(angle)
        half, rho = rng.uniform(0.25, 0.45), rng.uniform(0.06, 0.1)
        xr, yr = _rotate(x, y, x0, y0, rng.uniform(0, np.pi))
        along = np.clip(xr, -half, half)
        dist = np.sqrt((xr - along) ** 2 + yr**2)
        out = np.maximum(out, np.where(dist <= rho, rng.uniform(0.5, 1.0), 0.0))
    return out / out.max()


# Modified Shepp-Logan (Toft 1996): intensity, semi-axes a, b, centre x0, y0, angle (deg)
_SHEPP_LOGAN = (
    (1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
    (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
    (-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
    (-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
    (0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
    (0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
    (0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
    (0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
    (0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
    (0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
)


def shepp_logan(n: int = 64) -> np.ndarray:
    """The modified Shepp-Logan head: the sum of the ten signed ellipses of Toft (1996)."""
    x, y = _grid(n)
    out = np.zeros_like(x)
    for value, a, b, x0, y0, angle in _SHEPP_LOGAN:
        xr, yr = _rotate(x, -y, x0, y0, np.deg2rad(angle))
        out += np.where((xr / a) ** 2 + (yr / b) ** 2 <= 1.0, value, 0.0)
    out = np.clip(out, 0.0, None)  # rounding at coincident edges can leave -1e-16
    return out / out.max()


MAX_IMAGE_PIXELS = 4096 * 4096
"""Largest image (width x height) decoded; the size is read from the header before decoding."""


def read_grey_image(path: str | os.PathLike) -> np.ndarray:
    """A grey-scale float64 array from an image file, refusing more than :data:`MAX_IMAGE_PIXELS`.

    Pillow's ``Image.open`` reads only the header, so the pixel count is checked
    before anything is decoded (a small PNG can hold a huge image).
    """
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {str(path)!r} does not exist")
    try:
        with Image.open(path) as im:
            width, height = im.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValueError(f"image file {str(path)!r} has {width}x{height} pixels; at most "
                                 f"{MAX_IMAGE_PIXELS} ({int(MAX_IMAGE_PIXELS ** 0.5)}x{int(MAX_IMAGE_PIXELS ** 0.5)}) "
                                 "are decoded")
            if im.mode in ("P", "PA", "1", "CMYK", "YCbCr", "LAB", "HSV"):
                im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
            return np.asarray(im, dtype=np.float64)
    except ValueError:
        raise
    except Exception as exc:  # Pillow raises many types for unreadable files
        raise ValueError(f"image file {str(path)!r} could not be read as an image: {exc}") from None


def from_image(path: str | os.PathLike, n: int = 64) -> np.ndarray:
    """A grey-scale image file resampled to ``n x n`` (bilinear), scaled to peak 1."""
    import torch

    n = validate.integer("object size", n, lo=MIN_SIZE, hi=MAX_SIZE)
    img = read_grey_image(path)
    if img.ndim == 3:
        img = img[..., :3].mean(axis=-1) if img.shape[-1] >= 3 else img[..., 0]
    if img.ndim != 2 or min(img.shape) < 2:
        raise ValueError(f"image file {str(path)!r} must hold a 2-D image, got shape {img.shape}")
    t = torch.from_numpy(img)[None, None]
    out = torch.nn.functional.interpolate(t, size=(n, n), mode="bilinear", align_corners=False)[0, 0].numpy()
    out = np.clip(out, 0.0, None)
    if out.max() <= 0:
        raise ValueError(f"image file {str(path)!r} is all zero")
    return out / out.max()


PHANTOMS = {"vesicle": vesicle, "nanorice": nanorice, "shepp-logan": shepp_logan}


def phantom(name: str, n: int = 64, seed: int = 0) -> np.ndarray:
    """A phantom by name (``vesicle``, ``nanorice``, ``shepp-logan``) or an image file path."""
    if name in PHANTOMS:
        fn = PHANTOMS[name]
        return fn(n) if fn is shepp_logan else fn(n, seed=seed)
    if Path(str(name)).suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"):
        return from_image(name, n)
    validate.choice("phantom", name, [*PHANTOMS, "<image file>"])
    raise AssertionError  # unreachable: choice raised
