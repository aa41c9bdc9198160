"""Resolution of a set of reconstructions: the phase retrieval transfer function, and the final image.

PRTF (Chapman et al., JOSA A 23, 1179, 2006): align the selected runs to a reference
(translation and twin, :func:`~workbench.phase.metrics.align`), and compare, ring by
ring, the modulus of their mean spectrum with their mean modulus::

    PRTF(r) = sum_{|k| in ring r} | < F u_j(k) >_j |  /  sum_{|k| in ring r} < |F u_j(k)| >_j

1 where every run retrieves the same phase, falling towards ``1 / sqrt(runs)`` where
the phases are random. The final image is the average of the aligned runs.
"""

from __future__ import annotations

import numpy as np
import torch

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
