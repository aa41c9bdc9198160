"""Benchmark of the batched BinaryRelax trainer: seeds x steps per second, batched vs a loop over seeds.

    .venv/bin/python benchmarks/bench_quantize.py [--quick] [--threads N] [--seeds S]

For each network (the digits MLP and the small CNN) BinaryRelax trains S seeds
(default 16; quick: 4) for a few epochs two ways in the same process: all seeds as
one batch (the seed a tensor axis: batched matmuls; the CNN's convolutions as im2col
and convolution-matrix products over the seed axis, :mod:`workbench.hj.quantize.conv`; on the CPU in
float32 the fused pass of :mod:`workbench.hj.quantize.fused_cnn`, seeds in parallel over the threads)
and one seed at a time (the same function with one seed, looped in Python). Both
include what ``train`` does per epoch besides the steps: the loss and accuracy of the
deployed network on all 1797 digits, for every seed. It prints seed-steps/s for both
and their ratio (goal: >= 5x on the CPU at 16 seeds), then the same on CUDA when a
GPU is present. A last row times one CNN step's loss gradient for all seeds, the fused
pass against the torch path it replaces on the CPU. Threads are fixed and printed. Times are the minimum over repeats
after a warm-up run (the machine may be shared); quote ratios.
"""

from __future__ import annotations

import argparse

import numba
import torch
from bench_hj import best_time  # the benchmarks' shared timing loop (warm-up, then min over repeats)

from workbench.hj.quantize import nets
from workbench.hj.quantize.train import loss_gradient, train


def row(network: str, seeds: int, epochs: int, batch_size: int, device: str, repeats: int) -> float:
    kw = dict(network=network, quantizer="binary", bits=1, methods=["binaryrelax"], epochs=epochs,
              batch_size=batch_size, device=device, dtype="float32")
    n_train = len(nets.data(torch.float32, torch.device("cpu"))[0])
    steps = epochs * (n_train // batch_size)
    batched = best_time(lambda: train(seeds=seeds, **kw), repeats)
    looped = best_time(lambda: [train(seeds=[s], **kw) for s in range(seeds)], repeats)
    rate_b, rate_l = seeds * steps / batched, seeds * steps / looped
    print(f"{network:>4} {device:>5} seeds={seeds:<3} steps={steps:<4} batched {rate_b:9.0f} seed-steps/s "
          f"({batched:6.2f} s)   loop over seeds {rate_l:8.0f} seed-steps/s ({looped:6.2f} s)   "
          f"ratio {looped / batched:5.1f}x")
    return looped / batched


def step_row(seeds: int, repeats: int) -> float:
    """One CNN training step's loss gradient for all seeds (mini-batch 64 each): the fused pass against the
    torch path (convolutions as batched matmuls, autograd), float32, same inputs."""
    x, y = nets.data(torch.float32, torch.device("cpu"))[:2]
    gen = torch.Generator().manual_seed(0)
    params = [torch.stack(p) for p in zip(*[nets.init("cnn", torch.Generator().manual_seed(s), torch.float32)
                                            for s in range(seeds)])]
    idx = torch.randint(0, len(x), (seeds, 64), generator=gen)
    fused = best_time(lambda: [loss_gradient("cnn", params, x, idx, y, fused=True) for _ in range(20)], repeats) / 20
    plain = best_time(lambda: [loss_gradient("cnn", params, x, idx, y, fused=False) for _ in range(20)], repeats) / 20
    print(f" cnn   cpu seeds={seeds:<3} one step's loss gradient: fused {seeds / fused:9.0f} seed-steps/s "
          f"({fused * 1e3:5.2f} ms)   torch matmuls + autograd {seeds / plain:8.0f} seed-steps/s "
          f"({plain * 1e3:5.2f} ms)   ratio {plain / fused:5.1f}x")
    return plain / fused


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="4 seeds, 1 epoch (seconds)")
    ap.add_argument("--threads", type=int, default=1, help="torch and numba threads (default 1)")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per batch (default 16; quick 4)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)  # the fused CNN pass (seeds in parallel)
    seeds = args.seeds or (4 if args.quick else 16)
    epochs, repeats = (1, 1) if args.quick else (2, 3)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch / {numba.get_num_threads()} numba thread(s); "
          f"BinaryRelax binary, "
          f"mini-batch 64, {epochs} epoch(s), float32")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for network in ("mlp", "cnn"):
            row(network, seeds, epochs, 64, device, repeats)
    step_row(seeds, repeats)


if __name__ == "__main__":
    main()
