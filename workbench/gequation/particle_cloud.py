"""Snapshots of a particle cloud in a periodic flow, with the flow's stream function at each.

:func:`particle_cloud` runs the particles of :func:`.diffusivity.particle_steps`
(the same validation, integrators and random numbers as the effective
diffusivity) and keeps the positions of the first batch at ``n_frames``
evenly spaced times, unwrapped, with the phase θ of that batch for the
stochastic flow, so the streamlines ψ = const (:func:`.particle_flows.stream_function`)
can be drawn under each snapshot (:func:`stream_on`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import xarray as xr

from .. import results, validate
from .diffusivity import particle_steps, prepare_particles, sample_steps
from .particle_flows import get_particle_flow, stream_function


def particle_cloud(flow: str = "cellular", A: float = 1.0, d0: float = 0.1, *, B: float = 1.0,
                   omega: float = 1.0, integrator: str = "splitting", particles: int = 2000,
                   t_final: float = 20.0, dt: float | None = None, n_frames: int = 41, seed: int = 0,
                   dtype: Any = None, device: Any = None) -> xr.Dataset:
    """Positions ``x``, ``y`` (frame, particle) of ``particles`` particles at ``n_frames`` times.

    The particles start uniformly on the cell [0, 2π)²; the run is one of two independent
    batches of :func:`.diffusivity.particle_steps` (the other is integrated and discarded).
    ``theta`` (frame) is the stochastic flow's phase of the kept batch (0 for the other flows).
    """
    for name, value in (("A", A), ("d0", d0), ("B", B), ("omega", omega)):
        if np.ndim(value) != 0:
            raise ValueError(f"{name} must be a number for a particle cloud, got {value!r}")
    particles = validate.integer("particles", particles, lo=2, hi=10**6)
    n_frames = validate.integer("n_frames", n_frames, lo=2, hi=1001)
    run = prepare_particles(flow, A, d0, B=B, omega=omega, integrator=integrator, particles=2 * particles,
                            batches=2, t_final=t_final, dt=dt, window=0.5, rtol=None, seed=seed, dtype=dtype,
                            device=device)
    steps = sample_steps(run.n_steps, n_frames)
    want = {int(k): j for j, k in enumerate(steps)}
    xs = np.zeros((len(steps), run.per_batch))
    ys = np.zeros_like(xs)
    theta = np.zeros(len(steps))
    with results.timer() as clock:
        for k, x, y, th in particle_steps(run):
            if k in want:
                j = want[k]
                xs[j], ys[j] = results.to_numpy(x[0, 0]), results.to_numpy(y[0, 0])
                theta[j] = float(th[0, 0, 0]) if th is not None else 0.0
    call = dict(flow=flow, A=float(A), d0=float(d0), B=float(B), omega=float(omega), integrator=integrator,
                particles=particles, t_final=float(t_final), dt=run.dt, n_frames=n_frames, seed=run.seed)
    length = {"units": "length"}
    return results.dataset(
        {"x": (("frame", "particle"), xs, {"long_name": "particle position x (unwrapped)", **length}),
         "y": (("frame", "particle"), ys, {"long_name": "particle position y (unwrapped)", **length}),
         "theta": (("frame",), theta, {"long_name": "phase θ of the stochastic flow", "units": "rad"})},
        {"time": (("frame",), steps * run.dt, {"long_name": "time t", "units": "time"})},
        params=call, kind="gequation.particle_cloud", seed=run.seed, device=run.device,
        elapsed=clock["elapsed"], flow=flow, integrator=integrator, dt=run.dt)


def stream_on(cloud: xr.Dataset, frame: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ψ of the cloud's flow at snapshot ``frame`` on the mesh ``x``, ``y``."""
    params = results.parameters(cloud)
    flow = get_particle_flow(params["flow"])
    one = torch.ones((), dtype=torch.float64)
    A, B, om = (float(params[k]) * one for k in ("A", "B", "omega"))
    t = float(cloud.time.isel(frame=frame))
    waves = flow.waves(torch.tensor(t, dtype=torch.float64), A, B, om,
                       float(cloud.theta.isel(frame=frame)) * one)
    return stream_function(waves, torch.as_tensor(x, dtype=torch.float64),
                           torch.as_tensor(y, dtype=torch.float64)).numpy()
