"""Graph build and GL/WNLL solve time against the number of points, beside scikit-learn's LabelSpreading.

    python benchmarks/bench_graph.py [--quick] [--threads 2] [--sizes 1000,10000,100000]

Rows: digits (1797 points) and ``make_classification`` data (32-D, 10 classes)
of growing size; 10 labels per class, one draw. For each size: the kNN graph
(k = 20, exact up to ``EXACT_MAX_POINTS``, faiss's inverted-file search above) and the weights,
then the GL and WNLL solves (batched Jacobi-PCG, relative residual 1e-6, all 10
classes in one block), then ``LabelSpreading`` (Zhou et al. 2004; alpha = 0.2,
tol = 1e-3, run to convergence; and alpha = 0.99, Zhou's value, nearer the
harmonic extension) fitted on *the same* symmetrised weight matrix
(a callable kernel returning it) and the same labels, in the same process.
Printed: wall seconds, and the process CPU seconds (all threads) of the graph
and the WNLL solve, which a loaded shared machine inflates less; the 1-minute
load average when the row started; accuracy on the unlabelled points, the ratio
LabelSpreading / WNLL, and the scaling exponent of each time (least squares of
log t on log n).
Thread count fixed by ``--threads`` and printed. ``--quick`` runs in seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only (seconds)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default=None, help="comma list of synthetic sizes")
    ap.add_argument("--labels-per-class", type=int, default=10)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import torch
    from sklearn.semi_supervised import LabelSpreading
    from threadpoolctl import threadpool_limits

    from workbench.graph import data
    from workbench.graph.classify import label_draws, one_hot
    from workbench.graph.knn import EXACT_MAX_POINTS, knn_graph
    from workbench.graph.laplace import harmonic_extension
    from workbench.graph.weights import symmetrised, weight_matrix

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [1000, 3000] if args.quick else [1000, 3000, 10_000, 30_000, 100_000])
    print(f"threads: {args.threads}  k = 20, sigma = 10th neighbour, {args.labels_per_class} labels/class, "
          f"exact kNN up to {EXACT_MAX_POINTS} points")
    print(f"{'data':>10} {'n':>7} {'load':>5} {'search':>6} {'graph s':>8} {'cpu s':>6} {'GL s':>7} {'WNLL s':>7} "
          f"{'cpu s':>6} {'LS s':>7} "
          f"{'LS/WNLL':>7} {'acc GL':>7} {'acc WNLL':>8} {'acc LS':>7} {'total s':>8} {'LS.99 s':>8} "
          f"{'LS.99/WN':>9} {'acc LS.99':>8}")
    rows = []
    cases = [("digits", None)] + [("synthetic", n) for n in sizes]
    for name, n in cases:
        X, y = data.load(name, n=n)
        n = len(y)
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        graph = knn_graph(X, 20, n_jobs=args.threads)
        W = weight_matrix(graph, 10)
        t_graph, c_graph = time.perf_counter() - t0, time.process_time() - c0
        classes = np.unique(y)
        mask = label_draws(y, args.labels_per_class, 1, seed=0)
        g = one_hot(y, classes)
        acc, secs, cpu = {}, {}, {}
        for method in ("gl", "wnll"):
            t0, c0 = time.perf_counter(), time.process_time()
            ext = harmonic_extension(W, mask, g, method)
            secs[method], cpu[method] = time.perf_counter() - t0, time.process_time() - c0
            pred = classes[ext.u[0].argmax(axis=1)]
            acc[method] = float((pred == y)[~mask[0]].mean())
        affinity = symmetrised(W).tocoo()
        y_ls = np.where(mask[0], y, -1)
        for key, alpha in (("ls", 0.2), ("ls99", 0.99)):
            spreading = LabelSpreading(kernel=lambda a, b: affinity, alpha=alpha, tol=1e-3, max_iter=100_000)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spreading.fit(X, y_ls)
            secs[key] = time.perf_counter() - t0
            acc[key] = float((spreading.transduction_ == y)[~mask[0]].mean())
        total = t_graph + secs["wnll"]
        rows.append((name, n, t_graph, secs["gl"], secs["wnll"], secs["ls"], total, secs["ls99"],
                     c_graph + cpu["wnll"], load))
        print(f"{name:>10} {n:>7} {load:>5.1f} {graph.method[:6]:>6} {t_graph:>8.2f} {c_graph:>6.2f} "
              f"{secs['gl']:>7.2f} {secs['wnll']:>7.2f} {cpu['wnll']:>6.2f} "
              f"{secs['ls']:>7.2f} {secs['ls'] / secs['wnll']:>7.2f} {acc['gl']:>7.4f} {acc['wnll']:>8.4f} "
              f"{acc['ls']:>7.4f} {total:>8.2f} {secs['ls99']:>8.2f} {secs['ls99'] / secs['wnll']:>9.2f} "
              f"{acc['ls99']:>8.4f}", flush=True)
    synth = [r for r in rows if r[0] == "synthetic"]
    if len(synth) >= 2:
        logn = np.log([r[1] for r in synth])
        for j, label in [(2, "graph"), (3, "GL"), (4, "WNLL"), (5, "LabelSpreading"), (6, "graph + WNLL"),
                         (7, "LabelSpreading alpha=0.99")]:
            slope = np.polyfit(logn, np.log([r[j] for r in synth]), 1)[0]
            print(f"scaling exponent ({label}): time ~ n^{slope:.2f}")
    print(f"WNLL faster than LabelSpreading (alpha=0.2) at every size: {all(r[4] < r[5] for r in rows)}")
    print(f"WNLL faster than LabelSpreading (alpha=0.99) at every size: {all(r[4] < r[7] for r in rows)}")
    big = [r for r in synth if r[1] >= 100_000]
    if big:
        print(f"graph + WNLL at n = {big[-1][1]}: {big[-1][6]:.1f} s wall, {big[-1][8]:.1f} s CPU, load "
              f"{big[-1][9]:.1f} (goal < 60 s on 2 cores)")


if __name__ == "__main__":
    sys.exit(main())
