"""The compiled CPU time step: one fused numba kernel per SSP-RK3 stage.

On the CPU the torch step spends its time moving (B, N, N) temporaries
through memory (about sixty per stage). This kernel computes, row by row and
in one pass, exactly what :func:`.solver.rhs` does — WENO5 one-sided
derivatives (:mod:`.weno`), the Lax–Friedrichs or Godunov numerical
Hamiltonian (:mod:`.hamiltonians`) of the model's ``H`` (:mod:`.models`),
the explicit second-order terms by central differences — and the stage's
convex combination

    out = α u₀ + β (u + Δt L(u))          (SSP-RK3: (α, β) = (0, 1), (¾, ¼), (⅓, ⅔)),

so each stage reads ``u`` and the flow once and writes ``out`` once. Rows
are read from a copy of ``u`` with three periodic ghost cells on each side,
so the inner loops have no index wrap and vectorise; rows run in parallel
(numba ``prange``). The torch path stays the reference and the GPU path;
a test holds the two to rounding in float64 for every model and scheme.
"""

from __future__ import annotations

import numpy as np
import torch

try:  # numba is a dependency; the torch path remains without it
    from numba import njit, prange
except ImportError:  # pragma: no cover
    njit = None

GHOST = 3
RK3 = ((0.0, 1.0), (0.75, 0.25), (1.0 / 3.0, 2.0 / 3.0))  # (α, β) of the three stages


def available() -> bool:
    return njit is not None


if njit is not None:
    @njit(cache=True, fastmath=True, inline="always")
    def _blend(v1, v2, v3, v4, v5, F):  # pragma: no cover - compiled
        # the weights of :func:`.weno._blend` with one division: smoothness indicators are scaled
        # by 1/max v² (so ε becomes 10⁻⁶ and the products below stay in range), and
        # ω_k ∝ γ_k/t_k with t_k = (S_k + ε)² is ω ∝ (γ₁t₂t₃, γ₂t₁t₃, γ₃t₁t₂)
        big = max(max(v1 * v1, v2 * v2), max(max(v3 * v3, v4 * v4), v5 * v5))
        inv = F(1) / (big + F(1e-30))
        c13, c4 = F(13.0 / 12.0), F(0.25)
        s1 = (c13 * (v1 - F(2) * v2 + v3) ** 2 + c4 * (v1 - F(4) * v2 + F(3) * v3) ** 2) * inv + F(1e-6)
        s2 = (c13 * (v2 - F(2) * v3 + v4) ** 2 + c4 * (v2 - v4) ** 2) * inv + F(1e-6)
        s3 = (c13 * (v3 - F(2) * v4 + v5) ** 2 + c4 * (F(3) * v3 - F(4) * v4 + v5) ** 2) * inv + F(1e-6)
        t1, t2, t3 = s1 * s1, s2 * s2, s3 * s3
        a1 = F(0.1) * t2 * t3
        a2 = F(0.6) * t1 * t3
        a3 = F(0.3) * t1 * t2
        phi1 = F(1.0 / 3.0) * v1 - F(7.0 / 6.0) * v2 + F(11.0 / 6.0) * v3
        phi2 = F(-1.0 / 6.0) * v2 + F(5.0 / 6.0) * v3 + F(1.0 / 3.0) * v4
        phi3 = F(1.0 / 3.0) * v3 + F(5.0 / 6.0) * v4 - F(1.0 / 6.0) * v5
        return (a1 * phi1 + a2 * phi2 + a3 * phi3) / (a1 + a2 + a3)

    @njit(cache=True, parallel=True)
    def _pad(u, up):  # pragma: no cover - compiled
        nb, n, _ = u.shape
        g = GHOST
        for r in prange(nb * (n + 2 * g)):
            b = r // (n + 2 * g)
            jj = r % (n + 2 * g)
            src = u[b, (jj - g) % n]
            dst = up[b, jj]
            for i in range(n):
                dst[i + g] = src[i]
            for i in range(g):
                dst[i] = src[n - g + i]
                dst[n + g + i] = src[i]

    @njit(cache=True, parallel=True, fastmath=True)
    def _stage(up, u0, vx, vy, sa, sb, out, P0, P1, s_l, strain, curv, visc, dt, alpha, beta, h,
               godunov, second, F):  # pragma: no cover - compiled
        # F is the array's scalar type: every constant is cast to it, so float32 stays float32
        nb, n = out.shape[0], out.shape[1]
        g = GHOST
        ih = F(1.0 / h)
        ih2 = F(1.0 / (h * h))
        half, zero = F(0.5), F(0)
        P0, P1, s_l, alpha, beta = F(P0), F(P1), F(s_l), F(alpha), F(beta)
        eps = F(np.finfo(out.dtype).eps)
        for r in prange(nb * n):
            b = r // n
            j = r % n
            jj = j + g
            lrow = np.empty(n, out.dtype)
            ds = strain[b]
            rm3, rm2, rm1, r0 = up[b, jj - 3], up[b, jj - 2], up[b, jj - 1], up[b, jj]
            rp1, rp2, rp3 = up[b, jj + 1], up[b, jj + 2], up[b, jj + 3]
            fvx, fvy, fa, fb = vx[b, j], vy[b, j], sa[b, j], sb[b, j]
            for i in range(n):
                ii = i + g
                # x: forward differences D+u at i-3 .. i+2
                dm3 = (r0[ii - 2] - r0[ii - 3]) * ih
                dm2 = (r0[ii - 1] - r0[ii - 2]) * ih
                dm1 = (r0[ii] - r0[ii - 1]) * ih
                d0 = (r0[ii + 1] - r0[ii]) * ih
                dp1 = (r0[ii + 2] - r0[ii + 1]) * ih
                dp2 = (r0[ii + 3] - r0[ii + 2]) * ih
                pxm = _blend(dm3, dm2, dm1, d0, dp1, F)
                pxp = _blend(dp2, dp1, d0, dm1, dm2, F)
                # y: the same down the column
                em3 = (rm2[ii] - rm3[ii]) * ih
                em2 = (rm1[ii] - rm2[ii]) * ih
                em1 = (r0[ii] - rm1[ii]) * ih
                e0 = (rp1[ii] - r0[ii]) * ih
                ep1 = (rp2[ii] - rp1[ii]) * ih
                ep2 = (rp3[ii] - rp2[ii]) * ih
                pym = _blend(em3, em2, em1, e0, ep1, F)
                pyp = _blend(ep2, ep1, e0, em1, em2, F)
                v1, v2 = fvx[i], fvy[i]
                if godunov:
                    qxm, qxp, qym, qyp = P0 + pxm, P0 + pxp, P1 + pym, P1 + pyp
                    tr = (v1 * qxm if v1 > zero else v1 * qxp) + (v2 * qym if v2 > zero else v2 * qyp)
                    gx = max(max(qxm, zero) ** 2, min(qxp, zero) ** 2)
                    gy = max(max(qym, zero) ** 2, min(qyp, zero) ** 2)
                    lrow[i] = -(tr + s_l * np.sqrt(gx + gy))
                else:
                    qx = P0 + half * (pxm + pxp)
                    qy = P1 + half * (pym + pyp)
                    norm = np.sqrt(qx * qx + qy * qy)
                    ham = v1 * qx + v2 * qy + s_l * norm
                    extra = zero
                    if ds != zero:  # the strain term (evaluated only where on, like the torch path)
                        a, bb = fa[i], fb[i]
                        ham += ds * (a * (qx * qx - qy * qy) + F(2) * bb * qx * qy) / max(norm, eps)
                        extra = F(3) * ds * np.sqrt(a * a + bb * bb)
                    ax = abs(v1) + s_l + extra
                    ay = abs(v2) + s_l + extra
                    lrow[i] = -(ham - half * (ax * (pxp - pxm) + ay * (pyp - pym)))
            if second:
                cc, cv = curv[b], visc[b]
                for i in range(n):
                    ii = i + g
                    uxx = (r0[ii + 1] - F(2) * r0[ii] + r0[ii - 1]) * ih2
                    uyy = (rp1[ii] - F(2) * r0[ii] + rm1[ii]) * ih2
                    ux = (r0[ii + 1] - r0[ii - 1]) * half * ih
                    uy = (rp1[ii] - rm1[ii]) * half * ih
                    uxy = ((rp1[ii + 1] - rp1[ii - 1]) - (rm1[ii + 1] - rm1[ii - 1])) * F(0.25) * ih2
                    qx, qy = P0 + ux, P1 + uy
                    q2 = max(qx * qx + qy * qy, eps)
                    kappa = (uxx * qy * qy - F(2) * qx * qy * uxy + uyy * qx * qx) / q2
                    lrow[i] += cc * kappa + cv * (uxx + uyy)
            dtb = dt[b]
            orow = out[b, j]
            urow = u0[b, j]
            for i in range(n):
                orow[i] = alpha * urow[i] + beta * (r0[i + g] + dtb * lrow[i])


class CompiledStep:
    """``step(u, t)``: one SSP-RK3 step of the explicit part on the CPU, by :func:`_stage`.

    ``field(t)`` gives the flow at the stage times (called once for a steady
    flow); ``coefficients`` are the per-element strain, curvature and
    explicit-viscosity coefficients (zeros switch a term off).
    """

    def __init__(self, problem, field, dt: torch.Tensor, strain, curvature, viscosity, godunov: bool):
        if problem.grid.device.type != "cpu":
            raise ValueError(f"the fused kernel runs on the CPU, not on {problem.grid.device}")
        self.problem = problem
        dtype = problem.grid.dtype
        n = problem.grid.n
        self.steady = field is not None
        self.nb = len(problem.A)
        self.field = self._arrays(field) if field is not None else None
        np_dtype = torch.empty((), dtype=dtype).numpy().dtype
        self.scalar = np_dtype.type
        as_np = lambda v: v.detach().cpu().numpy().astype(np_dtype)  # noqa: E731
        self.coef = [as_np(c) for c in (strain, curvature, viscosity)]
        self.second = bool((curvature != 0).any() or (viscosity != 0).any())
        self.dt = dt
        self.dt_np = as_np(dt)
        self.godunov = bool(godunov)
        self.P = (float(problem.P[0]), float(problem.P[1]))
        self.s_l = float(problem.s_l)
        self.h = float(problem.grid.h)
        self.pad = np.empty((self.nb, n + 2 * GHOST, n + 2 * GHOST), self.dt_np.dtype)

    def _arrays(self, f):
        shape = (self.nb, self.problem.grid.n, self.problem.grid.n)
        return tuple(np.ascontiguousarray(c.expand(shape).cpu().numpy()) for c in f)

    def __call__(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        u0 = np.ascontiguousarray(u.numpy())
        times = (t, t + self.dt, t + 0.5 * self.dt)
        cur = u0
        for (alpha, beta), ts in zip(RK3, times):
            f = self.field if self.steady else self._arrays(self.problem.field(ts))
            _pad(cur, self.pad)
            out = np.empty_like(u0)
            _stage(self.pad, u0, *f, out, *self.P, self.s_l, *self.coef, self.dt_np, alpha, beta,
                   self.h, self.godunov, self.second, self.scalar)
            cur = out
        return torch.from_numpy(cur)
