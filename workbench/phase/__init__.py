"""Phase retrieval: reconstruction histograms of ER, HIO, RAAR, OSS and GPS over many random starts.

Layout, one concept per module:

* :mod:`~workbench.phase.phantoms` -- vesicle, nanorice, Shepp-Logan, image files;
* :mod:`~workbench.phase.physics` -- oversampled diffraction with Poisson noise and a beamstop,
  measured data (.npy/.npz/HDF5), the Fourier operator :class:`FourierMagnitude` (real or complex FFTs);
* :mod:`~workbench.phase.cxi` -- CXI files in the CXIDB layout (data, mask, support, reconstructions);
* :mod:`~workbench.phase.fidelity` -- GPS's data-fidelity proxes (least squares, Poisson);
* :mod:`~workbench.phase.support` -- shrink-wrap support updates;
* :mod:`~workbench.phase.crossvalidation` -- free pixels and the free log-likelihood;
* :mod:`~workbench.phase.resolution` -- PRTF and the averaged final image;
* :mod:`~workbench.phase.expression` -- schedules typed as text, parsed safely;
* :mod:`~workbench.phase.projections` -- ``P_M`` and ``P_S``;
* :mod:`~workbench.phase.reconstruction` -- a batch of independent runs with best-iterate tracking;
* :mod:`~workbench.phase.algorithms` -- ER, HIO, RAAR, OSS, GPS as composable operators and schedules;
* :mod:`~workbench.phase.metrics` -- R_F, aligned real-space error, FRC, good minima, cost;
* :mod:`~workbench.phase.study` -- many starts of several algorithms as one xarray Dataset.

Example::

    from workbench.phase import ER, HIO, Reconstruction, FourierMagnitude, simulate, vesicle
    data = simulate(vesicle(64), size=128, flux=1e8, seed=0)
    rec = Reconstruction(FourierMagnitude(data), runs=100, seed=0)
    rec = (ER() ** 20 * HIO(beta=0.9) ** 100) ** 5 * rec
    rec.errors()          # best R_F of each run
"""

from .algorithms import ER, GPS, HIO, OSS, RAAR, Chain, Operator, RestartFromBest, gps, oss, schedule
from .metrics import align, expected_cost, fourier_error, frc, good_fraction, real_space_error
from .phantoms import from_image, nanorice, phantom, shepp_logan, vesicle
from .physics import FourierMagnitude, Measurement, load, simulate
from .reconstruction import Reconstruction
from .study import compare, reconstruct, summary
from .support import ShrinkWrap, with_shrinkwrap
from .crossvalidation import free_pixel_mask

__all__ = ["ER", "GPS", "HIO", "OSS", "RAAR", "Chain", "FourierMagnitude", "Measurement", "Operator",
           "Reconstruction", "RestartFromBest", "align", "compare", "expected_cost", "fourier_error", "frc",
           "from_image", "good_fraction", "gps", "load", "nanorice", "oss", "phantom", "real_space_error",
           "reconstruct", "schedule", "shepp_logan", "simulate", "summary", "vesicle", "ShrinkWrap", "with_shrinkwrap",
           "free_pixel_mask"]
