"""``python -m workbench.precompile`` (run at install): every kernel's entry point runs, and a second
process then finds the CNN pass in numba's cache instead of compiling it."""

import subprocess
import sys
import time


def test_precompile_runs_every_kernel_and_the_cache_serves_the_next_process():
    out = subprocess.run([sys.executable, "-m", "workbench.precompile"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    for name in ("lower_envelope", "compiled", "fused_particles", "fused_cnn"):
        assert f"({name}) compiled or loaded" in out.stderr
    code = ("import time, torch; from workbench.hj.quantize import fused_cnn, nets; "
            "x, y = nets.data(torch.float32, torch.device('cpu'))[:2]; "
            "p = [torch.stack(q) for q in zip(*[nets.init('cnn', torch.Generator().manual_seed(s), torch.float32) "
            "for s in range(2)])]; t = time.perf_counter(); fused_cnn.loss_and_accuracy(p, x, y); "
            "print(time.perf_counter() - t)")
    start = time.perf_counter()
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert float(second.stdout.split()[-1]) < 10, "the CNN pass compiled again (a first compile takes ~25 s)"
    assert time.perf_counter() - start < 60
