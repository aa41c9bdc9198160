"""G-equation flame speeds: inviscid, viscous, curvature and strain models in
periodic cellular and shear flows (Liu, Xin & Yu, Physica D 2013).

>>> from workbench.gequation import flame_speed
>>> ds = flame_speed("inviscid", "shear", 2.0, grid=32)   # s_T = s_l + A = 3
"""

from .flows import FLOWS, get_flow
from .models import MODELS, get_model
from .solver import BlowUpError, flame_speed
from .sweep import quenching_amplitude, speed_chunk, sweep

__all__ = ["FLOWS", "MODELS", "BlowUpError", "flame_speed", "get_flow", "get_model",
           "quenching_amplitude", "speed_chunk", "sweep"]
