"""Resolution of a set of reconstructions: the phase retrieval transfer function, and the final image.

PRTF (Chapman et al., JOSA A 23, 1179, 2006): align the selected runs to a reference
(translation and twin, :func:`~workbench.phase.metrics.align`), and compare, ring by
ring, the modulus of their mean spectrum with their mean modulus::

    PRTF(r) = sum_{|k| in ring r} | < F u_j(k) >_j |  /  sum_{|k| in ring r} < |F u_j(k)| >_j

1 where every run retrieves the same phase, falling towards ``1 / sqrt(runs)`` where
the phases are random. The final image is the average of the aligned runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import xarray as xr

from . import metrics


def aligned_runs(images: torch.Tensor, reference: int = 0) -> torch.Tensor:
    """``images [R, N, N]`` aligned (shift, twin) to ``images[reference]``."""
    aligned, _, _ = metrics.align(images, images[reference])
    return aligned


def prtf(images: torch.Tensor, reference: int = 0) -> tuple[np.ndarray, torch.Tensor]:
    """(spatial frequency in cycles/pixel [N/2], PRTF [N/2]) of runs ``images [R, N, N]`` (see the module)."""
    if images.ndim != 3 or images.shape[0] < 1:
        raise ValueError(f"images must be [runs, N, N] with at least one run, got shape {tuple(images.shape)}")
    n = images.shape[-1]
    spectra = torch.fft.fft2(aligned_runs(images, reference))
    coherent = spectra.mean(0).abs()
    incoherent = spectra.abs().mean(0)
    values = metrics.ring_sum(coherent) / metrics.ring_sum(incoherent).clamp_min(torch.finfo(incoherent.dtype).tiny)
    return np.arange(n // 2) / n, values


def average(images: torch.Tensor, reference: int = 0) -> torch.Tensor:
    """The final image: the mean of the runs aligned to ``images[reference]``."""
    return aligned_runs(images, reference).mean(0)


def selected(ds: Any, algorithm: str, count: int) -> np.ndarray:
    """Indices of the ``count`` best runs of ``algorithm`` in a study: by free log-likelihood when
    the study has free pixels (cross-validation), else by ``R_F``."""
    sub = ds.sel(algorithm=algorithm)
    score = sub["free_llk"].values if "free_llk" in sub else sub["error"].values
    score = np.where(np.isfinite(score), score, np.inf)
    return np.argsort(score, kind="stable")[:max(1, min(int(count), score.size))]


def full_frame(ds: Any, algorithm: str, index: np.ndarray) -> torch.Tensor:
    """The stored (cropped) reconstructions ``index`` of ``algorithm`` back in the ``N x N`` frame."""
    sub = ds.sel(algorithm=algorithm)
    n = int(ds.sizes["xx"]) if "xx" in ds.sizes else int(ds.attrs.get("size", 0))
    out = np.zeros((len(index), n, n))
    y, x = sub["y"].values, sub["x"].values
    out[:, y[0]:y[-1] + 1, x[0]:x[-1] + 1] = np.nan_to_num(sub["reconstruction"].values[index])
    return torch.as_tensor(out)


def study_prtf(ds: Any, fraction: float = 0.5) -> xr.Dataset:
    """PRTF over the best ``fraction`` of each algorithm's runs (see :func:`selected`) and the
    averaged final image, as a Dataset over ``(algorithm, frequency)`` and ``(algorithm, y, x)``."""
    names = [str(a) for a in ds["algorithm"].values]
    curves, images = [], []
    for name in names:
        runs = int(np.isfinite(ds["error"].sel(algorithm=name).values).sum())
        frames = full_frame(ds, name, selected(ds, name, max(1, round(fraction * runs))))
        freq, curve = prtf(frames)
        curves.append(curve.numpy())
        images.append(average(frames).numpy())
    n = len(freq) * 2
    return xr.Dataset(
        {"prtf": (("algorithm", "frequency"), np.stack(curves), {"long_name": "PRTF", "units": "1"}),
         "average": (("algorithm", "yy", "xx"), np.stack(images),
                     {"long_name": "average of the aligned selected runs", "units": "sqrt(photons)"})},
        coords={"algorithm": names, "frequency": ("frequency", freq, {"units": "1/pixel"}),
                "yy": np.arange(n), "xx": np.arange(n)},
        attrs={"selected_fraction": float(fraction)})
