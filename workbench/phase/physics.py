"""Oversampled far-field diffraction: simulation, measured data, and the Fourier operator.

Forward model (unitary DFT ``F`` on an ``N x N`` array, origin at pixel (0, 0)
as in PyNX)::

    I(k) ~ Poisson( flux * |F u(k)|^2 / sum_k |F u(k)|^2 ),    M(k) = sqrt(I(k))

The object ``u`` (real, >= 0) of size ``n x n`` sits in the middle of the
array; the linear oversampling ratio ``N / n`` must be at least 2 per axis so
that the autocorrelation fits and the phases are determined (Miao, Sayre,
Chapman 1998). The true object is stored scaled so that ``|F u|^2`` sums to
the flux, i.e. in the units of the data.

A beamstop hides the centre of the pattern: pixels within ``beamstop`` of
``k = 0`` are *missing* (not measured), and the algorithms leave them free.

:class:`FourierMagnitude` is the operator the algorithms use: real-input FFTs
(``rfft2``/``irfft2``, half the work of complex FFTs) on the half plane
``N x (N/2 + 1)``. For a real object ``|F u(k)| = |F u(-k)|`` (Friedel), so the
magnitudes used for the projection are the Friedel average of ``M(k)`` and
``M(-k)`` (where only one of the pair is measured, that one). For an algorithm
whose iterate is a real image (ER, HIO, RAAR, OSS, and GPS with ``sigma = 0``
on Friedel-symmetric data) this is exactly what ``Re F^-1`` of a full complex
projection gives. It is *not* exact for GPS with ``sigma > 0`` on noisy data:
its Fourier-space variable ``z`` persists between iterations and, with the raw
magnitudes, is not Hermitian; ``FourierMagnitude(..., fft="complex")`` is that
path (full-plane complex FFTs on the raw ``M``). The Fourier error ``R_F`` is
evaluated against the raw ``M`` on all fitted pixels in both.

Masked pixels (``missing``, and free pixels left out for cross-validation) are
free in the magnitude projection: ``P_M`` leaves ``z(k)`` unchanged there
rather than setting it to zero, in every algorithm.

Data files: ``.npy`` (intensity), ``.npz`` and HDF5 (``intensity`` or
``data``, optional ``mask`` and ``support``), and CXI files in the CXIDB
layout (:mod:`~workbench.phase.cxi`). Patterns in files are centred
(``k = 0`` in the middle, as on a detector); ``mask`` nonzero marks bad or
missing pixels (the PyNX convention).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import runtime, validate
from .fidelity import PROXES
from .projections import constraint_weight, magnitude_projection, modulus, squared_modulus, support_projection

MAX_FLUX = 1e15
MIN_ARRAY, MAX_ARRAY = 16, 4096


def centrosymmetric(a: np.ndarray) -> np.ndarray:
    """``a(-k)`` for an array in FFT order (origin at [0, 0])."""
    return np.roll(a[::-1, ::-1], 1, axis=(0, 1))


def frequency_radius2(shape: tuple[int, int], half: bool = False) -> np.ndarray:
    """``|k|^2`` in pixel units of the (r)FFT grid of ``shape`` (origin at [0, 0])."""
    ny, nx = shape
    ky = np.fft.fftfreq(ny) * ny
    kx = np.fft.rfftfreq(nx) * nx if half else np.fft.fftfreq(nx) * nx
    return ky[:, None] ** 2 + kx[None, :] ** 2


def beamstop_mask(size: int, radius: float) -> np.ndarray:
    """Missing pixels (True) within ``radius`` of ``k = 0``, FFT order; none for radius 0."""
    validate.number("beamstop", radius, lo=0, hi=size / 4)
    return frequency_radius2((size, size)) <= radius**2 if radius > 0 else np.zeros((size, size), bool)


def detector_gaps(size: int, width: int) -> np.ndarray:
    """Missing pixels (True, FFT order) of the gaps of a four-module detector: a horizontal and a
    vertical band ``|k| <= width / 2`` through ``k = 0`` (``2 floor(width / 2) + 1`` pixels); none for 0."""
    validate.integer("gap_width", width, lo=0, hi=size // 4)
    k = np.abs(np.fft.fftfreq(size) * size)
    band = k <= width / 2 if width else np.zeros(size, bool)
    return band[:, None] | band[None, :]


def with_mask(m: "Measurement", beamstop: float = 0.0, gap_width: int = 0) -> "Measurement":
    """``m`` with a beamstop of radius ``beamstop`` and detector gaps of ``gap_width`` pixels added to its mask."""
    missing = m.missing | beamstop_mask(m.size, beamstop) | detector_gaps(m.size, gap_width)
    return Measurement(intensity=m.intensity, missing=missing, support=m.support, truth=m.truth, flux=m.flux,
                       noise=m.noise)


def poisson_intensity(expected: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Photon counts ``I ~ Poisson(expected)`` (mean and variance both equal ``expected``)."""
    return torch.poisson(expected, generator=generator)


def poisson_deviance(observed: torch.Tensor, model: torch.Tensor) -> torch.Tensor:
    """Per-pixel Poisson negative log-likelihood ratio ``I_c - I + I log(I / I_c)`` (0 at ``I_c = I``).

    This is ``-log P(I | I_c) + log P(I | I)`` for Poisson counts (PyNX's normalised LLK);
    its mean over pixels is about 1/2 when the model intensities ``I_c`` are the true ones.
    """
    tiny = torch.finfo(model.dtype).tiny
    ratio = torch.where(observed > 0, observed / model.clamp_min(tiny), 1.0)
    return model - observed + torch.xlogy(observed, ratio)


def dilate(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Binary dilation of ``mask`` by a square of half-width ``pixels``."""
    if pixels <= 0:
        return mask.copy()
    t = torch.from_numpy(mask.astype(np.float32))[None, None]
    out = torch.nn.functional.max_pool2d(t, 2 * pixels + 1, stride=1, padding=pixels)
    return out[0, 0].numpy() > 0


@dataclass
class Measurement:
    """A diffraction pattern with its mask and support (all arrays ``N x N``).

    ``intensity`` and ``missing`` are in FFT order (``k = 0`` at [0, 0]);
    ``support`` and ``truth`` are real-space images with the object in the
    middle. ``truth`` is ``None`` for measured data; ``flux`` is the total
    expected photon count.
    """

    intensity: np.ndarray
    missing: np.ndarray
    support: np.ndarray
    truth: np.ndarray | None = None
    flux: float | None = None
    noise: bool = True

    def __post_init__(self) -> None:
        check_measurement(self.intensity, self.missing, self.support)
        self.intensity = np.where(self.missing, 0.0, self.intensity).astype(np.float64)

    @property
    def size(self) -> int:
        return int(self.intensity.shape[0])

    @property
    def magnitude(self) -> np.ndarray:
        """``M = sqrt(I)`` (zero at missing pixels)."""
        return np.sqrt(self.intensity)

    def centred(self, name: str) -> np.ndarray:
        """``intensity`` or ``missing`` with ``k = 0`` moved to the middle (for display)."""
        return np.fft.fftshift(getattr(self, name))


def support_extent(support: np.ndarray) -> int:
    """The larger side of the bounding box of a (non-empty) support, in pixels."""
    rows, cols = np.nonzero(support)
    return int(max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1))


def check_measurement(intensity: np.ndarray, missing: np.ndarray, support: np.ndarray) -> None:
    """Validate shapes, values and oversampling before any reconstruction starts."""
    if intensity.ndim != 2 or intensity.shape[0] != intensity.shape[1]:
        raise ValueError(f"intensity must be a square 2-D array, got shape {intensity.shape}")
    n = intensity.shape[0]
    if not MIN_ARRAY <= n <= MAX_ARRAY or n % 2:
        raise ValueError(f"intensity size must be even and in [{MIN_ARRAY}, {MAX_ARRAY}], got {n}")
    if missing.shape != intensity.shape:
        raise ValueError(f"mask shape {missing.shape} must match the intensity shape {intensity.shape}")
    if support.shape != intensity.shape:
        raise ValueError(f"support shape {support.shape} must match the intensity shape {intensity.shape}"
                         " (a support larger than the array is not allowed)")
    measured = intensity[~missing]
    if measured.size == 0:
        raise ValueError("mask must leave at least one measured pixel")
    if not np.isfinite(measured).all():
        raise ValueError("intensity must be finite at measured pixels (found NaN or infinity; mask them)")
    if (measured < 0).any():
        raise ValueError(f"intensity must be >= 0 at measured pixels, found {measured.min():g} (mask bad pixels)")
    if measured.sum() <= 0:
        raise ValueError("intensity must have a positive total over the measured pixels")
    if not support.any():
        raise ValueError("support must contain at least one pixel")
    extent = support_extent(support)
    if 2 * extent > n:
        raise ValueError(f"oversampling must be >= 2 per axis: the support spans {extent} pixels, "
                         f"more than half the array size {n}")


def embed(obj: np.ndarray, size: int) -> np.ndarray:
    """Place ``obj`` (n x n) in the middle of a zero ``size x size`` array."""
    n0, n1 = obj.shape
    out = np.zeros((size, size), dtype=np.float64)
    a, b = (size - n0) // 2, (size - n1) // 2
    out[a:a + n0, b:b + n1] = obj
    return out


SUPPORTS = ("object", "box")


def simulate(obj: np.ndarray, size: int, flux: float = 1e9, *, noise: bool = True, beamstop: float = 0.0,
             seed: int = 0, support_margin: int = 1, support: str = "object") -> Measurement:
    """The diffraction pattern of ``obj`` embedded in a ``size x size`` array.

    ``flux`` is the total expected photon count; with ``noise`` the counts are
    Poisson. The support is the object's non-zero set (``support="object"``) or
    its bounding rectangle (``"box"``, a loose support as in the OSS paper's
    vesicle test), dilated by ``support_margin`` pixels.
    """
    obj = np.asarray(obj, dtype=np.float64)
    if obj.ndim != 2:
        raise ValueError(f"object must be a 2-D array, got shape {obj.shape}")
    validate.finite_array("object", obj)
    if (obj < 0).any():
        raise ValueError("object must be non-negative")
    size = validate.integer("size", size, lo=MIN_ARRAY, hi=MAX_ARRAY)
    if size % 2:
        raise ValueError(f"size must be even, got {size}")
    if 2 * max(obj.shape) > size:
        raise ValueError(f"oversampling must be >= 2 per axis: size {size} / object {max(obj.shape)} "
                         f"= {size / max(obj.shape):.2f}; use size >= {2 * max(obj.shape)}")
    flux = validate.number("flux", flux, lo=0, hi=MAX_FLUX, lo_open=True)
    validate.integer("support_margin", support_margin, lo=0, hi=size // 8)
    validate.choice("support", support, SUPPORTS)
    u = embed(obj, size)
    if u.sum() <= 0:
        raise ValueError("object must not be all zero")
    power = np.abs(np.fft.fft2(u, norm="ortho")) ** 2
    scale = flux / power.sum()
    truth = u * np.sqrt(scale)
    expected = torch.from_numpy(power * scale)
    intensity = poisson_intensity(expected, runtime.generator(seed, "cpu")).numpy() if noise else expected.numpy()
    footprint = u > 0
    if support == "box":
        rows, cols = np.nonzero(footprint)
        footprint = np.zeros_like(footprint)
        footprint[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = True
    support_mask = dilate(footprint, support_margin)
    if 2 * support_extent(support_mask) > size:
        support_mask = footprint  # the margin must not break the oversampling condition
    return Measurement(intensity=intensity, missing=beamstop_mask(size, beamstop), support=support_mask,
                       truth=truth, flux=flux, noise=noise)


def support_from_autocorrelation(intensity: np.ndarray, missing: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """A loose support from the measured pattern alone.

    The autocorrelation ``|F^-1 I|`` of a real object is supported on the
    object's support minus itself, twice its extent; thresholding it at
    ``threshold * max`` and shrinking by 2 about the centre gives a support
    that contains a centred object (dilated by 2 pixels). It is clipped to the central ``N/2``
    box (oversampling 2), since a missing centre broadens the autocorrelation.
    """
    validate.number("threshold", threshold, lo=0, hi=1, lo_open=True, hi_open=True)
    n = intensity.shape[0]
    auto = np.fft.fftshift(np.abs(np.fft.ifft2(np.where(missing, 0.0, intensity))))
    above = auto > threshold * auto.max()
    idx = np.clip(n // 2 + 2 * (np.arange(n) - n // 2), 0, n - 1)
    support = dilate(above[np.ix_(idx, idx)], 2)
    # a missing centre spreads the autocorrelation; never exceed the central half-size box
    box = np.zeros((n, n), bool)
    box[n // 4: n // 4 + n // 2, n // 4: n // 4 + n // 2] = True
    return support & box


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return {"intensity": np.load(path, allow_pickle=False)}
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        if suffix == ".cxi":
            from .cxi import read_arrays

            return read_arrays(path)
        if suffix in (".h5", ".hdf5", ".nxs"):
            import h5py

            out: dict[str, np.ndarray] = {}
            with h5py.File(path, "r") as f:
                def visit(name: str, obj: Any) -> None:
                    if isinstance(obj, h5py.Dataset):
                        out.setdefault(name.split("/")[-1], obj[()])
                        out.setdefault(name, out[name.split("/")[-1]])
                f.visititems(visit)
            return out
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"data file {str(path)!r} could not be read: {exc}") from None
    raise ValueError(f"data file {str(path)!r} must be .npy, .npz or HDF5 (.h5, .hdf5, .cxi, .nxs)")


def load(path: str | os.PathLike, *, intensity_key: str | None = None, mask_key: str = "mask",
         support_key: str = "support", centred: bool = True, threshold: float = 0.01) -> Measurement:
    """Read a measured pattern (and mask, support) from ``.npy``, ``.npz`` or HDF5.

    Without a stored support one is estimated with
    :func:`support_from_autocorrelation`. ``centred=False`` for files already in
    FFT order.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist")
    arrays = _read_arrays(path)
    keys = [intensity_key] if intensity_key else ["intensity", "data", "iobs"]
    found = next((k for k in keys if k in arrays), None)
    if found is None:
        raise ValueError(f"data file {str(path)!r} has no intensity array; looked for {', '.join(keys)}, "
                         f"found {', '.join(sorted(arrays)) or 'nothing'}")
    intensity = np.asarray(arrays[found], dtype=np.float64)
    if intensity.ndim != 2:
        raise ValueError(f"intensity must be a 2-D array, got shape {intensity.shape}")
    missing = np.asarray(arrays[mask_key]) != 0 if mask_key in arrays else np.zeros(intensity.shape, bool)
    if missing.shape != intensity.shape:
        raise ValueError(f"mask shape {missing.shape} must match the intensity shape {intensity.shape}")
    shift = np.fft.ifftshift if centred else (lambda a: a)
    intensity, missing = shift(intensity), shift(missing)
    if support_key in arrays:
        support = np.asarray(arrays[support_key]) != 0
    else:
        check_measurement(intensity, missing, _centre_pixel(intensity.shape))  # data first, then estimate
        support = support_from_autocorrelation(intensity, missing, threshold)
    return Measurement(intensity=intensity, missing=missing, support=support, noise=True)


def _centre_pixel(shape: tuple[int, ...]) -> np.ndarray:
    s = np.zeros(shape, bool)
    s[shape[0] // 2, shape[1] // 2] = True
    return s


FFTS = ("real", "complex")


class FourierMagnitude:
    """The operator of the measurement: ``u -> F u`` with ``P_M``, ``R_F`` and the free log-likelihood.

    ``fft="real"`` (default): real-input FFTs on the half plane ``N x (N/2+1)``
    with the Friedel-averaged magnitudes (see the module docstring). ``fft="complex"``:
    full-plane complex FFTs with the raw magnitudes ``M(k)``, the real-space iterate
    being ``Re F^-1 z``. The two give the same ER/HIO/RAAR/OSS iterates (the real part
    of a full projection is the Friedel-averaged one), and the same GPS iterates on
    Friedel-symmetric data; GPS with ``sigma > 0`` keeps its Fourier variable ``z`` between
    iterations, so on noisy data only the complex path uses the raw magnitudes.

    ``free`` (FFT order, bool) marks free pixels (:mod:`~workbench.phase.crossvalidation`):
    left out of ``P_M`` and of ``R_F``, kept for the free log-likelihood. Holds, on
    ``device`` in ``dtype``, the magnitudes ``M`` and the fitted-pixel mask on the
    (half) plane, the support ``S``, and what the exact full-plane Fourier error needs,

        R_F = sum_{k fitted} | |F u(k)| - M(k) | / sum_{k fitted} M(k).
    """

    def __init__(self, measurement: Measurement, device: Any = None, dtype: Any = None,
                 positivity: bool = True, fft: str = "real", free: np.ndarray | None = None):
        self.measurement = measurement
        self.device = runtime.resolve_device(device)
        self.dtype = runtime.resolve_dtype(dtype)
        self.positivity = bool(positivity)
        self.fft = validate.choice("fft", fft, FFTS)
        n = measurement.size
        self.shape = (n, n)
        mag = measurement.magnitude
        intensity = measurement.intensity
        meas = ~measurement.missing
        if free is not None:
            free = np.asarray(free)
            if free.shape != mag.shape or free.dtype != bool:
                raise ValueError(f"free must be a boolean array of shape {mag.shape}, got {free.dtype} {free.shape}")
            if self.fft == "real":
                free = free | centrosymmetric(free)  # a free pixel's Friedel twin must not constrain it
            free = free & meas
        self.free = free
        fit = meas if free is None else meas & ~free
        if not fit.any():
            raise ValueError("free pixels must leave at least one fitted pixel")
        if self.fft == "complex":
            self.magnitude = self._t(mag)
            self.measured = torch.as_tensor(fit, device=self.device)
            self._rf_terms = [(self._t(mag), self._t(fit))]
            self._free_terms = [] if free is None else [(self._t(intensity), self._t(free))]
        else:
            h = n // 2 + 1
            mag_r, fit_r = centrosymmetric(mag), centrosymmetric(fit)
            both = fit & fit_r
            friedel = np.where(both, 0.5 * (mag + mag_r), np.where(fit, mag, mag_r))
            self.magnitude = self._t(friedel[:, :h])
            self.measured = torch.as_tensor((fit | fit_r)[:, :h], device=self.device)
            # sums over the full plane from the half plane: columns 1..N/2-1 stand for k and -k
            twin_cols = np.zeros(h, bool)
            twin_cols[1:n // 2] = True
            self._rf_terms = [(self._t(mag[:, :h]), self._t(fit[:, :h])),
                              (self._t(mag_r[:, :h]), self._t(fit_r[:, :h] & twin_cols[None, :]))]
            self._free_terms = [] if free is None else [
                (self._t(intensity[:, :h]), self._t(free[:, :h])),
                (self._t(centrosymmetric(intensity)[:, :h]), self._t(centrosymmetric(free)[:, :h] & twin_cols))]
        self._all_measured = bool(self.measured.all())
        self._norm = float((mag * fit).sum())
        self.free_count = 0 if free is None else int(free.sum())
        self.support = torch.as_tensor(measurement.support, device=self.device)
        self.support_weight = self.support.to(self.dtype)  # 0/1 floats for the arithmetic projections
        self._filters: dict[tuple[str, float], torch.Tensor] = {}

    def _t(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float64), device=self.device).to(self.dtype)

    @property
    def size(self) -> int:
        return self.shape[0]

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """``F u`` (unitary; real input: half plane, or the full plane with ``fft="complex"``)."""
        if self.fft == "complex":
            return torch.fft.fft2(u.to(torch.complex128 if u.dtype == torch.float64 else torch.complex64),
                                  norm="ortho")
        return torch.fft.rfft2(u, norm="ortho")

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """``Re F^-1 z`` (for a Hermitian half-plane spectrum the real transform is exact)."""
        if self.fft == "complex":
            return torch.fft.ifft2(z, norm="ortho").real.contiguous()
        return torch.fft.irfft2(z, s=self.shape, norm="ortho")

    def inverse_field(self, z: torch.Tensor) -> torch.Tensor:
        """``F^-1 z`` kept complex on the complex path (GPS's real-space variables), real otherwise."""
        if self.fft == "complex":
            return torch.fft.ifft2(z, norm="ortho")
        return self.inverse(z)

    def project_magnitude(self, z: torch.Tensor) -> torch.Tensor:
        """``P_M`` in Fourier space."""
        return magnitude_projection(z, self.magnitude, None if self._all_measured else self.measured)

    def prox_fidelity(self, z: torch.Tensor, likelihood: str, t: float, sigma: float) -> torch.Tensor:
        """GPS's Fourier step ``prox_{t g_sigma}(z)`` for ``likelihood`` (:mod:`~workbench.phase.fidelity`)."""
        return PROXES[likelihood](z, self.magnitude, None if self._all_measured else self.measured, t, sigma)

    def constraint_weight(self, u: torch.Tensor) -> torch.Tensor:
        """1 where ``u`` satisfies the object constraint (support, positivity), 0 elsewhere."""
        return constraint_weight(u, self.support_weight, self.positivity)

    def project_support(self, u: torch.Tensor) -> torch.Tensor:
        """``P_S`` in real space."""
        return support_projection(u, self.support_weight, self.positivity)

    def fourier_error(self, z: torch.Tensor) -> torch.Tensor:
        """``R_F`` of spectra ``z`` (half plane), one value per leading index."""
        a = modulus(z)
        return sum(((a - m).abs() * w).sum((-2, -1)) for m, w in self._rf_terms) / self._norm

    def free_log_likelihood(self, z: torch.Tensor) -> torch.Tensor:
        """Poisson log-likelihood per free pixel of spectra ``z`` (see :func:`poisson_deviance`)."""
        if not self._free_terms:
            raise ValueError("free_log_likelihood needs free pixels (FourierMagnitude(..., free=mask))")
        model = squared_modulus(z)
        return sum((poisson_deviance(i, model) * w).sum((-2, -1)) for i, w in self._free_terms) / self.free_count

    def error_of(self, u: torch.Tensor) -> torch.Tensor:
        """``R_F`` of real-space images ``u`` (no projection applied)."""
        return self.fourier_error(self.forward(u))

    def fourier_gaussian(self, width: float) -> torch.Tensor:
        """``W(k) = exp(-|k|^2 / (2 width^2))`` on the half plane (k in pixels of the DFT)."""
        return self._filter("k", width, lambda: frequency_radius2(self.shape, half=self.fft == "real"))

    def real_gaussian(self, width: float) -> torch.Tensor:
        """``g(x) = exp(-|x - c|^2 / (2 width^2))`` centred in the array."""
        def r2() -> np.ndarray:
            c = np.arange(self.size) - self.size // 2
            return c[:, None] ** 2 + c[None, :] ** 2
        return self._filter("x", width, r2)

    def _filter(self, kind: str, width: float, radius2: Any) -> torch.Tensor:
        key = (kind, float(width))
        if key not in self._filters:
            if len(self._filters) > 64:
                self._filters.clear()
            self._filters[key] = self._t(np.exp(-0.5 * radius2() / float(width) ** 2))
        return self._filters[key]

    @cached_property
    def truth(self) -> torch.Tensor | None:
        t = self.measurement.truth
        return None if t is None else self._t(t)
