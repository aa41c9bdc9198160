"""BinaryRelax: training networks with quantized weights through the Moreau envelope of Q.

Yin, Zhang, Lyu, Osher, Qi, Xin, "BinaryRelax: A relaxation approach for training
deep neural networks with quantized weights", SIAM J. Imaging Sci. 11 (2018): the
indicator of the quantization set Q is replaced by its Moreau envelope
``(lambda/2) dist(x, Q)^2``, whose prox ``(lambda proj_Q(y) + y)/(lambda + 1)`` relaxes
BinaryConnect; lambda grows by rho each step, and Phase II is BinaryConnect itself.

* :mod:`.sets` - Q (binary, ternary, k-bit uniform), exact projections with the optimal scale, BWN, TWN;
* :mod:`.relax` - the relaxed prox and the continuation in lambda;
* :mod:`.nets` - the digits MLP and a small CNN with a seed axis;
* :mod:`.conv` - the CNN's convolutions and max pools as matmuls batched over the seeds;
* :mod:`.fused_cnn` - the CNN's loss and gradient in one fused CPU pass (float32, seeds in parallel);
* :mod:`.train` - float / BinaryConnect / BinaryRelax trained for many seeds at once;
* :mod:`.study` - the paper's Table 1 on these networks.
"""

from .relax import Continuation, relaxed_prox
from .sets import QuantSet, nearest, optimal_scale, project, quant_set, twn
from .train import METHODS, check, train

__all__ = ["METHODS", "Continuation", "QuantSet", "check", "nearest", "optimal_scale", "project", "quant_set",
           "relaxed_prox", "train", "twn"]
