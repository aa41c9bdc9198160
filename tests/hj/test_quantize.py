"""BinaryRelax: projections onto Q (brute force), the relaxed prox (grid minimisation and the
workbench's Moreau envelope), the lambda -> inf limit, and the batched trainer's guarantees."""

import itertools

import numpy as np
import pytest
import torch

from workbench.hj import moreau_envelope
from workbench.hj.quantize import nets
from workbench.hj.quantize.relax import Continuation, relaxed_prox
from workbench.hj.quantize.sets import nearest, project, quant_set, twn
from workbench.hj.quantize.train import _Run, check, train

from .helpers import cnn_reference

SETS = [("binary", 1, 6), ("ternary", 2, 6), ("uniform", 1, 5), ("uniform", 2, 5), ("uniform", 4, 4)]


def brute_force_distance(w, q):
    """min over every code c in L^n and alpha >= 0 of |w - alpha c|^2 = |w|^2 - max_{<w,c> > 0} <w,c>^2/<c,c>."""
    codes = torch.tensor(list(itertools.product(q.levels().tolist(), repeat=w.shape[1])), dtype=torch.float64)
    ip, cc = w @ codes.T, (codes ** 2).sum(1)
    gain = torch.where((ip > 0) & (cc > 0), ip ** 2 / cc.clamp_min(1e-300), torch.zeros_like(ip))
    return (w ** 2).sum(1) - gain.max(1).values


@pytest.mark.parametrize("name,bits,n", SETS)
def test_projection_is_the_nearest_point_of_q_by_brute_force(name, bits, n):
    q = quant_set(name, bits)
    w = torch.randn(25, n, dtype=torch.float64, generator=torch.Generator().manual_seed(bits * 10 + n))
    p, alpha = project(w, q)
    # p is a point of Q: alpha times levels of L, and it attains the brute-force minimum over all of Q
    codes = p / alpha[:, None]
    assert torch.all((codes[..., None] - q.levels()).abs().min(-1).values < 1e-12)
    torch.testing.assert_close(((w - p) ** 2).sum(1), brute_force_distance(w, q), rtol=0, atol=1e-12)


def test_binary_scale_is_bwn_and_ternary_is_the_papers_top_t_formula():
    w = torch.randn(40, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    p, alpha = project(w, quant_set("binary", 1))
    torch.testing.assert_close(alpha, w.abs().mean(1), rtol=1e-14, atol=0)  # BWN: alpha = mean|w|
    torch.testing.assert_close(p, alpha[:, None] * torch.sign(w), rtol=0, atol=0)
    # Yin et al.: keep the t* largest |w_i|, t* = argmax_t S_t^2 / t, alpha = S_t* / t*
    s = torch.cumsum(w.abs().sort(1, descending=True).values, 1)
    t = torch.arange(1, 51, dtype=torch.float64)
    star = (s ** 2 / t).argmax(1)
    p, alpha = project(w, quant_set("ternary", 2))
    torch.testing.assert_close(alpha, s.gather(1, star[:, None])[:, 0] / (star + 1), rtol=1e-12, atol=0)
    assert torch.equal((p != 0).sum(1), star + 1)


def test_twn_heuristic_and_that_the_exact_ternary_projection_is_never_farther():
    w = torch.tensor([[0.1, -0.5, 2.0, -1.0]], dtype=torch.float64)
    p, alpha = twn(w)  # Delta = 0.7 * 0.9 = 0.63: keep -1 and 2, alpha = 1.5
    torch.testing.assert_close(alpha, torch.tensor([1.5], dtype=torch.float64))
    torch.testing.assert_close(p, torch.tensor([[0.0, 0.0, 1.5, -1.5]], dtype=torch.float64))
    w = torch.randn(100, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    exact = ((w - project(w, quant_set("ternary", 2))[0]) ** 2).sum(1)
    assert torch.all(exact <= ((w - twn(w)[0]) ** 2).sum(1) + 1e-12)


@pytest.mark.parametrize("lam", [0.5, 3.0, 20.0])
def test_relaxed_prox_minimises_the_moreau_penalty_on_a_fine_grid(lam):
    """Q = alpha L in 1-D (fixed alpha): (lam p + y)/(lam + 1) minimises 1/2 (x - y)^2 + (lam/2) dist(x, Q)^2."""
    q, alpha = quant_set("ternary", 2), torch.tensor([0.8], dtype=torch.float64)
    h = 1e-4
    grid = torch.arange(-3.0, 3.0 + h / 2, h, dtype=torch.float64)
    dist2 = (grid - nearest(grid[None], alpha, q)[0]) ** 2
    ys = torch.linspace(-2.5, 2.5, 41, dtype=torch.float64)
    prox = relaxed_prox(ys, nearest(ys[None], alpha, q)[0], lam)
    objective = 0.5 * (grid[None] - ys[:, None]) ** 2 + 0.5 * lam * dist2[None]
    # the grid minimiser is within one grid step of the exact one (the objective is piecewise quadratic,
    # strictly convex near its minimiser); y = +-alpha/2 ties are avoided by the choice of ys
    assert (grid[objective.argmin(1)] - prox).abs().max() <= h
    # the workbench's discrete Hopf-Lax envelope of g = (lam/2) dist^2 at t = 1: its argmin is the prox,
    # its value lam/(2(1 + lam)) dist(y, Q)^2; the grid min differs from the exact one by <= (lam+1) h^2 / 2
    env, arg = moreau_envelope(0.5 * lam * dist2, h, 1.0, return_argmin=True, method="numba")  # linear-time scan
    on = ((ys - grid[0]) / h).round().long()
    assert (grid[arg[on, 0]] - prox).abs().max() <= 2 * h
    closed = lam / (2 * (1 + lam)) * (grid[on] - nearest(grid[on][None], alpha, q)[0]) ** 2
    assert (env[on] - closed).abs().max() <= (lam + 1) * h ** 2 / 2 + 1e-12


def test_large_lambda_gives_the_projection():
    w = torch.randn(8, 100, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    p, _ = project(w, quant_set("uniform", 4))
    eps = torch.finfo(torch.float64).eps
    for lam in (1e2, 1e6, 1e12):  # |x - proj_Q(y)| = |y - proj_Q(y)| / (lam + 1)
        gap = (relaxed_prox(w, p, lam) - p).norm(dim=1)
        # up to rounding of x near p: a few ulps of |p| per entry, times sqrt(n) in the norm
        torch.testing.assert_close(gap, (w - p).norm(dim=1) / (lam + 1), rtol=1e-12,
                                   atol=4 * eps * float(p.abs().max()) * 10)
    assert Continuation(1.0, 2.0, 1).lam(10_000) == pytest.approx(1e30)  # capped, never overflows


TINY = dict(network="mlp", epochs=3, batch_size=256, seeds=[0, 5], dtype="float64", device="cpu")


@pytest.fixture(scope="module")
def binary_run():
    return train(quantizer="binary", bits=1, phase_switch=2, **TINY)


def test_binaryrelax_phase_two_is_binaryconnect_and_huge_lambda_iterates_are_on_q():
    # Phase II from the start: the same updates as BinaryConnect with the exact projection, bit for bit
    ds = train(quantizer="uniform", bits=2, methods=["binaryconnect", "binaryrelax"], phase_switch=0, **TINY)
    bc, br = ds.sel({"method": "binaryconnect"}), ds.sel({"method": "binaryrelax"})
    np.testing.assert_array_equal(bc.test_accuracy.values, br.test_accuracy.values)
    np.testing.assert_array_equal(br.weights.values, bc.weights.values)
    # Phase I with lambda0 = 1e12: the iterate the gradient is taken at is proj_Q(y) to 1e-12 |y - proj_Q(y)|
    # (the trajectories then part: Adam's first step, lr * g/|g|, turns rounding-level gradient differences into
    # steps of size lr, so whole runs are not compared)
    cfg = check("mlp", "uniform", 2, ["binaryrelax"], [0, 5], 3, lambda0=1e12, phase_switch=3)
    run = _Run(cfg, "binaryrelax", torch.device("cpu"), torch.float64)
    q, _ = run.quantized()
    for x, p, y in zip(run.iterate(0), q, run.y):
        assert (x - p).abs().max() <= 1e-12 * (y - p).abs().max() + 1e-15


def test_phase_two_and_binaryconnect_weights_lie_exactly_on_q(binary_run):
    ds, q = binary_run, quant_set("binary", 1)
    frac = ds.on_grid_fraction
    assert np.all(frac.sel({"method": "binaryconnect"}).values == 1.0)
    br = frac.sel({"method": "binaryrelax"}).values
    assert np.all(br[:, :2] < 0.01) and np.all(br[:, 2:] == 1.0)  # Phase I relaxed, Phase II on Q
    assert np.all(frac.sel({"method": "float"}).values < 0.01)
    for method in ("binaryconnect", "binaryrelax"):
        for qi, name in enumerate(ds.qlayer.values):
            w = torch.tensor(ds.weights.sel({"method": method}).values[:, ds.layer.values == name])
            alpha = torch.tensor(ds.scale.sel({"method": method}).values[:, qi])
            assert torch.equal(nearest(w, alpha, q), w)  # every entry is +-alpha exactly
            assert len(np.unique(w.abs().numpy())) == len(alpha)  # one magnitude per seed


def test_test_accuracy_is_that_of_the_stored_quantized_weights(binary_run):
    """An independent torch.nn forward of the stored (on-Q) weights reproduces the recorded accuracy."""
    ds = binary_run
    _, _, x_te, y_te = nets.data(torch.float64, torch.device("cpu"))
    for method in ds.method.values:
        for si in range(ds.sizes["seed"]):
            flat = torch.tensor(ds.weights.sel({"method": method}).values[si])
            parts = torch.split(flat, [int(np.prod(layer.shape)) for layer in nets.LAYERS["mlp"]])
            w1, b1, w2, b2 = (p.reshape(layer.shape) for p, layer in zip(parts, nets.LAYERS["mlp"]))
            model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)).double()
            with torch.no_grad():
                for mod, w, b in ((model[0], w1, b1), (model[2], w2, b2)):
                    mod.weight.copy_(w)
                    mod.bias.copy_(b)
                acc = float((model(x_te).argmax(1) == y_te).double().mean())
            assert acc == pytest.approx(float(ds.test_accuracy.sel({"method": method}).values[si, -1]), abs=1e-12)


@pytest.mark.parametrize("network", ["mlp", "cnn"])
def test_a_batch_of_seeds_equals_the_seeds_one_by_one(network):
    # float64 (CPU convolutions in float64 are slow: the CNN runs BinaryRelax only, 2 steps per epoch);
    # epoch 1 is Phase I, epoch 2 Phase II
    kw = dict(TINY, network=network, epochs=2, quantizer="ternary", bits=2, phase_switch=1)
    kw.pop("seeds")
    seeds = [0, 5, 9] if network == "mlp" else [0, 5]
    if network == "cnn":
        kw.update(methods=["binaryrelax"], batch_size=512)
    batch = train(seeds=seeds, **kw)
    for s in seeds:
        one = train(seeds=[s], **kw).sel(seed=s)
        b = batch.sel(seed=s)
        for var in ("test_accuracy", "train_accuracy", "on_grid_fraction"):
            np.testing.assert_array_equal(b[var].values, one[var].values)
        # float64: batched and single-seed kernels differ only in summation order (~1e-15 per step)
        np.testing.assert_allclose(b.train_loss.values, one.train_loss.values, rtol=1e-9)
        np.testing.assert_allclose(b.weights.values, one.weights.values, rtol=0, atol=1e-9)


@pytest.mark.parametrize("shared", [True, False])
def test_cnn_logits_and_gradients_match_torch_nn(shared):
    """The batched matmul CNN (im2col, convolution matrix, window-major pool) is each seed's torch.nn CNN:
    float64, so the only difference is summation order (a few ulps: tolerance 1e-12 relative)."""
    s = 3
    params = [torch.stack(ps) for ps in zip(*[nets.init("cnn", torch.Generator().manual_seed(i), torch.float64)
                                               for i in range(s)])]
    params[1], params[3] = params[1] + 0.1, params[3] - 0.05  # non-zero biases
    params = [p.requires_grad_() for p in params]
    gen = torch.Generator().manual_seed(1)
    # shared: more images than one block (nets.SEED_IMAGES // s), so the blocks are stitched together
    x = torch.rand(700, 64, dtype=torch.float64, generator=gen) if shared else \
        torch.rand(s, 7, 64, dtype=torch.float64, generator=gen)
    out = nets.logits("cnn", params, x)
    assert out.shape == (s, len(x) if shared else 7, 10)
    weight = torch.rand(out.shape, dtype=torch.float64, generator=gen)
    grads = torch.autograd.grad((out * weight).sum(), params)
    for i in range(s):
        mine = [p[i].detach().clone().requires_grad_() for p in params]
        ref = cnn_reference(*mine, x if shared else x[i])
        torch.testing.assert_close(out[i], ref, rtol=1e-12, atol=1e-12)
        for g, g_ref in zip(grads, torch.autograd.grad((ref * weight[i]).sum(), mine)):
            torch.testing.assert_close(g[i], g_ref, rtol=1e-12, atol=1e-12)


def test_max_pool_sends_the_gradient_to_the_first_maximum_like_max_pool2d():
    """Small integers make ties in most windows; the gradient must be max_pool2d's (row-major first maximum)."""
    from workbench.hj.quantize.conv import pool
    z = torch.randint(0, 3, (2, 3, 8, 8, 5), generator=torch.Generator().manual_seed(0)).double()
    g = torch.randn(2, 3, 4, 4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    window_major = z.reshape(2, 3, 4, 2, 4, 2, 5).permute(0, 1, 3, 5, 2, 4, 6).contiguous().requires_grad_()
    (grad,) = torch.autograd.grad((pool(window_major) * g).sum(), window_major)
    plain = z.permute(0, 1, 4, 2, 3).reshape(6, 5, 8, 8).requires_grad_()  # (S C, B, H, W) for max_pool2d
    ref = torch.nn.functional.max_pool2d(plain, 2)
    (grad_ref,) = torch.autograd.grad((ref * g.permute(0, 1, 4, 2, 3).reshape(6, 5, 4, 4)).sum(), plain)
    assert torch.equal(pool(window_major).permute(0, 1, 4, 2, 3).reshape(6, 5, 4, 4), ref)
    grad = grad.permute(0, 1, 6, 4, 2, 5, 3).reshape(6, 5, 8, 8)  # back to (S C, B, H, W)
    assert torch.equal(grad, grad_ref)
    assert (z.reshape(2, 3, 4, 2, 4, 2, 5) == z.reshape(2, 3, 4, 2, 4, 2, 5).amax((3, 5), keepdim=True)).sum() > z.numel() / 4


@pytest.mark.parametrize("kwargs,message", [
    (dict(quantizer="uniform", bits=3), "bits must be one of 1, 2, 4"),
    (dict(quantizer="binary", bits=2), "bits must be 1 for the binary quantizer"),
    (dict(lambda0=0.0), "lambda0 must be in (0"),
    (dict(rho=0.99), "rho must be in [1.0"),
    (dict(epochs=5, phase_switch=6), "phase_switch must be in [0, 5]"),
    (dict(seeds=0), "seeds must be in [1, 256]"),
    (dict(seeds=[]), "seeds must be 1 to 256 distinct seeds"),
    (dict(methods=["float", "sgd"]), "methods must be one of"),
    (dict(network="resnet"), "network must be one of"),
])
def test_bad_input_is_refused_in_one_line_before_training(kwargs, message):
    called = []
    with pytest.raises(ValueError) as err:
        train(**{**dict(epochs=2, seeds=1), **kwargs}, on_epoch=lambda *a: called.append(a))
    assert message in str(err.value) and "\n" not in str(err.value) and not called
    with pytest.raises(ValueError):
        check(**{**dict(epochs=2, seeds=1), **kwargs})


def test_loss_slice_passes_through_both_networks_and_its_envelope_lies_below(binary_run):
    from workbench.hj.quantize.landscape import N_EVAL, loss_slice

    w_f = binary_run.weights.sel({"method": "float"}).values[0]
    w_q = binary_run.weights.sel({"method": "binaryrelax"}).values[0]
    sl = loss_slice("mlp", w_f, w_q, n=5, a_range=(0.0, 1.0), b_range=(-0.5, 0.5), t=0.1)
    x_tr, y_tr, _, _ = nets.data(torch.float32, torch.device("cpu"))
    pick = torch.randperm(len(x_tr), generator=torch.Generator().manual_seed(0))[:N_EVAL]
    for a, w in ((0.0, w_f), (1.0, w_q)):  # (a, b) = (0, 0) is the float network, (1, 0) the quantized one
        params = [p[None] for p in torch.split(torch.tensor(w, dtype=torch.float32),
                                               [int(np.prod(layer.shape)) for layer in nets.LAYERS["mlp"]])]
        params = [p.reshape(1, *layer.shape) for p, layer in zip(params, nets.LAYERS["mlp"])]
        direct = torch.nn.functional.cross_entropy(nets.logits("mlp", params, x_tr[pick])[0], y_tr[pick])
        assert float(sl.loss.sel(a=a, b=0.0)) == pytest.approx(float(direct), rel=1e-5)  # float32 sums
    # Hopf-Lax invariants on the grid: u <= f, and min u = min f
    assert np.all(sl.envelope.values <= sl.loss.values + 1e-12)
    assert float(sl.envelope.min()) == pytest.approx(float(sl.loss.min()), abs=1e-12)


def test_freed_memory_is_kept_so_a_batched_cnn_step_does_not_fault_its_activations_in_again():
    """glibc's default thresholds hand a step's ~20 MB of freed activations back to the kernel, and the next step
    faults them in again (~870 minor faults per step at 16 seeds, measured); with :func:`keep_freed_memory` the
    warm steps reuse the heap. Bound: 100 faults per step over 20 warm steps (0-25 measured; 280-760 without)."""
    import platform
    import resource

    from workbench.hj.quantize.heap import keep_freed_memory
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt thresholds are glibc's")
    assert keep_freed_memory()
    s = 16
    params = [torch.stack(ps).requires_grad_() for ps in zip(*[nets.init("cnn", torch.Generator().manual_seed(i),
                                                                         torch.float32) for i in range(s)])]
    x = torch.rand(s, 64, 64, generator=torch.Generator().manual_seed(0))

    def step():
        torch.autograd.grad(nets.logits("cnn", params, x).square().sum(), params)

    for _ in range(10):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        step()
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20 < 100
