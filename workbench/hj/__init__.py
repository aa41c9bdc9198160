"""Hamilton-Jacobi / local-entropy smoothing of non-convex landscapes.

Conventions (Chaudhari, Oberman, Osher, Soatto, Carlier, "Deep Relaxation", 2018;
Osher, Heaton, Wu Fung, "A Hamilton-Jacobi-based proximal operator", PNAS 2023):

* viscous HJ / local entropy: ``u_t + |grad u|^2/2 = (1/(2 beta)) Laplace u``,
  ``u(x, 0) = f(x)``, solved by Cole-Hopf: :func:`local_entropy`;
* inviscid limit (beta -> infinity): Hopf-Lax / Moreau envelope, whose argmin is
  ``prox_{t f}``: :func:`moreau_envelope`;
* HJ-prox: a sampling estimate of the prox: :func:`hj_prox`;
* optimizers that follow (GD, proximal point, Entropy-SGD, HJ-prox descent), batched
  over many starts: :func:`compare_optimizers`.
"""

from .compare import compare_optimizers, random_starts
from .hj_prox import HJProxResult, hj_prox, hj_prox_abs_exact, soft_threshold
from .landscapes import LANDSCAPES, GridSample, Landscape, from_formula, sample
from .landscapes import get as get_landscape
from .local_entropy import local_entropy
from .moreau import moreau_envelope
from .network import NetworkSlice, mlp_digits  # registers the 'mlp_digits' landscape
from .optimizers import METHODS, Settings

__all__ = ["LANDSCAPES", "METHODS", "GridSample", "HJProxResult", "Landscape", "Settings",
           "compare_optimizers", "from_formula", "get_landscape", "hj_prox", "hj_prox_abs_exact",
           "local_entropy", "mlp_digits", "moreau_envelope", "NetworkSlice", "random_starts", "sample", "soft_threshold"]
