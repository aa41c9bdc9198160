"""``workbench attention ...``: maps of the real model, variant comparison, dispersion against n.

    workbench attention maps --text "The cat sat on the mat." [--layer L --head H] [--out maps.nc] [--json]
    workbench attention variants --text "..." --layer 2 --window 4 [--out v.nc] [--json]
    workbench attention dispersion --n 64:4096:7 --variants full,sliding,linear [--source gaussian] [--json]
    workbench attention replace --variant sliding --layers 0-2 --window 4 [--texts FILE | --text T] [--json]
    workbench attention rollout --text "..." [--no-flow] [--out r.nc] [--json]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .. import validate
from ..cliutil import add_common, emit, family_command, parse_range

MAX_LENGTHS = 64  # sequence lengths per dispersion run


def _maps(args: argparse.Namespace) -> int:
    from .fwin import block_diagonal_invertibility
    from .model import N_HEADS, N_LAYERS, model_attention

    if (args.layer is None) != (args.head is None):
        raise ValueError("--layer and --head go together (layer 0..5, head 0..11)")
    if args.layer is not None:
        validate.integer("layer", args.layer, lo=0, hi=N_LAYERS - 1)
        validate.integer("head", args.head, lo=0, hi=N_HEADS - 1)
    validate.integer("window", args.window, lo=0)
    da = model_attention(args.text, device=args.device)
    entropy = -(da * np.log(da.where(da > 0, 1.0))).sum("key").mean("query")
    summary: dict[str, Any] = {
        "tokens": [str(t) for t in da["query_token"].values],
        "n_tokens": int(da.sizes["query"]),
        "layers": int(da.sizes["layer"]), "heads": int(da.sizes["head"]),
        "max_row_sum_error": float(abs(da.sum("key") - 1).max()),
        "mean_row_entropy_per_layer": [round(float(x), 4) for x in entropy.mean("head").values],
        "elapsed_s": round(float(da.attrs["elapsed_s"]), 4),
    }
    if args.window:
        bdi = block_diagonal_invertibility(da, args.window)
        summary["bdi_window"] = args.window
        summary["bdi_fraction_heads"] = bdi.attrs["fraction"]
    if args.layer is not None and args.head is not None:
        one = da.isel(layer=args.layer, head=args.head)
        summary["map"] = np.round(one.values, 4).tolist()
    return emit(summary, args, da.to_dataset())


def _variants(args: argparse.Namespace) -> int:
    from .model import layer_qkv
    from .variants import compare_variants

    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    _check_variant_options(names, args)  # before the model loads
    x = layer_qkv(args.text, args.layer, device=args.device)
    ds = compare_variants(x.q, x.k, x.v, names, window=args.window, mix=args.mix, tokens=x.tokens,
                          params={"text": args.text, "layer": args.layer})
    summary = {"n_tokens": len(x.tokens), "layer": args.layer, "window": args.window,
               "relative_error_to_full": {str(v): round(float(ds["relative_error"].sel(variant=v).mean()), 6)
                                          for v in ds["variant"].values},
               "max_map_residual": float(ds["map_residual"].max())}
    return emit(summary, args, ds)


def _check_variant_options(names: list[str], args: argparse.Namespace) -> None:
    from .model import MAX_POSITIONS, N_LAYERS
    from .variants import VARIANTS, WINDOWED

    for name in validate.non_empty("variants", names):
        validate.choice("variant", name, VARIANTS)
    validate.integer("layer", args.layer, lo=0, hi=N_LAYERS - 1)
    if any(v in WINDOWED for v in names):
        validate.integer("window", args.window, lo=1, hi=MAX_POSITIONS)
    validate.number("mix", args.mix, lo=0, hi=1)


def _dispersion(args: argparse.Namespace) -> int:
    from .dispersion import dispersion, loglog_slope

    ns = [int(round(v)) for v in parse_range("n", args.n, cap=MAX_LENGTHS)]
    if args.log_spaced and ":" in args.n:
        start, stop, num = args.n.split(":")
        ns = sorted({int(round(v)) for v in np.geomspace(float(start), float(stop), int(num))})
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    ds = dispersion(ns, variants=variants, source=args.source, window=args.window, mix=args.mix,
                    heads=args.heads, d=args.d, layer=args.layer, max_rows=args.max_rows,
                    score_bound=args.score_bound, seed=args.seed, device=args.device, client=args.client)
    n = ds["n"].values
    summary = {"n": n.tolist(), "source": args.source,
               "max_weight_loglog_slope": {str(v): round(loglog_slope(n, ds["max_weight"].sel(variant=v).values), 4)
                                           for v in ds["variant"].values} if len(n) > 1 else {},
               "max_weight": {str(v): ds["max_weight"].sel(variant=v).values.tolist() for v in ds["variant"].values},
               "elapsed_s": round(float(ds.attrs["elapsed_s"]), 3)}
    return emit(summary, args, ds)


def _replace(args: argparse.Namespace) -> int:
    from .replace import parse_layers, replace_attention
    from .texts import check_text, read_texts

    if args.text is not None and args.texts is not None:
        raise ValueError("give --text or --texts, not both")
    parse_layers(args.layers)
    texts = (read_texts(args.texts, "texts") if args.texts is not None
             else [check_text("text", args.text)] if args.text is not None else None)  # None: the built-in set
    ds = replace_attention(texts, args.variant, args.layers, window=args.window, mix=args.mix, device=args.device)
    per_layer = ds.mean("text")
    summary = {"variant": args.variant, "layers": [int(v) for v in ds["layer"].values[ds["replaced"].values]],
               "window": args.window, "n_texts": int(ds.sizes["text"]),
               "n_tokens": [int(v) for v in ds["n_tokens"].values],
               "hidden_change_per_layer": [round(float(v), 6) for v in per_layer["hidden_change"].values],
               "attention_error_per_layer": [round(float(v), 6) for v in per_layer["attention_error"].values],
               "embedding_cosine_mean": round(float(ds["embedding_cosine"].mean()), 6),
               "embedding_cosine_min": round(float(ds["embedding_cosine"].min()), 6),
               "similarity_spearman": (None if np.isnan(float(ds["similarity_spearman"]))
                                       else round(float(ds["similarity_spearman"]), 6)),
               "elapsed_s": round(float(ds.attrs["elapsed_s"]), 3)}
    return emit(summary, args, ds)


def _rollout(args: argparse.Namespace) -> int:
    import xarray as xr

    from .aggregates import MAX_FLOW_TOKENS, attention_flow, head_summary, rollout
    from .model import model_attention
    from .texts import check_text

    maps = model_attention(check_text("text", args.text), device=args.device)
    r = rollout(maps)
    heads = head_summary(maps)
    n = int(maps.sizes["query"])
    tokens = [str(t) for t in maps["query_token"].values]
    summary: dict[str, Any] = {"tokens": tokens, "n_tokens": n,
                               "rollout_cls_last_layer": np.round(r.isel(layer=-1, query=0).values, 5).tolist(),
                               "mean_entropy_per_layer": np.round(heads["entropy"].mean("head").values, 4).tolist(),
                               "mean_k90_per_layer": np.round(heads["k90"].mean("head").values, 3).tolist(),
                               "mean_diagonal_distance_per_layer":
                                   np.round(heads["diagonal_distance"].mean("head").values, 3).tolist()}
    ds = xr.Dataset({"rollout": r, **heads.data_vars}, attrs=r.attrs)
    if args.flow and n <= MAX_FLOW_TOKENS:
        f = attention_flow(maps)
        summary["flow_cls"] = np.round(f.isel(query=0).values, 5).tolist()
        ds["flow"] = f.rename(query="flow_query").drop_vars("query_token")
    elif args.flow:
        summary["flow_cls"] = f"skipped: {n} tokens > {MAX_FLOW_TOKENS} (one max-flow problem per key)"
    return emit(summary, args, ds)


def register(subparsers: Any) -> None:
    """Add ``workbench attention`` with the actions maps, variants, dispersion."""
    sub = family_command(subparsers, "attention", "transformer attention maps, variants, dispersion")

    p = sub.add_parser("maps", help="attention maps of all-MiniLM-L6-v2 for a text (offline)")
    p.add_argument("--text", required=True, help="input text (at most 512 tokens with [CLS]/[SEP])")
    p.add_argument("--layer", type=int, default=None, help="with --head: print this layer's map (0..5)")
    p.add_argument("--head", type=int, default=None, help="with --layer: print this head's map (0..11)")
    p.add_argument("--window", type=int, default=0, help="also check FWin's BDI condition for this window")
    add_common(p, seed=False)
    p.set_defaults(func=_maps)

    p = sub.add_parser("variants", help="compare attention variants on a real layer's Q/K/V")
    p.add_argument("--text", required=True)
    p.add_argument("--layer", type=int, default=0, help="layer 0..5 (default 0)")
    p.add_argument("--variants", default="full,sliding,block,fwin,sema,linear")
    p.add_argument("--window", type=int, default=4, help="window size w, 1..n (default 4)")
    p.add_argument("--mix", type=float, default=0.5, help="SEMA's weight of the global average, 0..1")
    add_common(p, seed=False)
    p.set_defaults(func=_variants)

    p = sub.add_parser("dispersion", help="entropy, max weight, k90 of attention rows against n")
    p.add_argument("--n", default="64,128,256,512,1024,2048,4096",
                   help="sequence lengths: comma list or START:STOP:NUM (see --log-spaced)")
    p.add_argument("--log-spaced", action="store_true", help="START:STOP:NUM spaced geometrically")
    p.add_argument("--variants", default="full,sliding,linear", help="comma list of full,sliding,block,sema,linear")
    p.add_argument("--source", default="gaussian", help="gaussian, sphere (bounded scores) or model (real Q/K)")
    p.add_argument("--window", type=int, default=32)
    p.add_argument("--mix", type=float, default=0.5)
    p.add_argument("--heads", type=int, default=4, help="random heads (model: all 12)")
    p.add_argument("--d", type=int, default=32, help="head dimension of random inputs")
    p.add_argument("--layer", type=int, default=0, help="model layer for --source model")
    p.add_argument("--max-rows", type=int, default=256, help="query rows sampled per head")
    p.add_argument("--score-bound", type=float, default=2.0, help="R for --source sphere")
    p.add_argument("--client", default=None, help="run on dask: 'local' or a scheduler address (default: in process)")
    add_common(p)
    p.set_defaults(func=_dispersion)

    from .variants import VARIANTS

    p = sub.add_parser("replace", help="run the model with a variant in place of softmax attention in chosen layers")
    p.add_argument("--variant", required=True, help=f"one of {', '.join(VARIANTS)}")
    p.add_argument("--layers", default="all", help="layers to replace: all, 0,2,4 or 0-2 (0..5; default all)")
    p.add_argument("--window", type=int, default=None,
                   help="window w: 1..n for block/fwin, 1..2n-1 for sliding/sema (n: the shortest text)")
    p.add_argument("--mix", type=float, default=0.5, help="SEMA's weight of the global average, 0..1")
    p.add_argument("--text", default=None, help="one text (at most 20,000 characters and 512 tokens)")
    p.add_argument("--texts", type=Path, default=None,
                   help="UTF-8 file, one text per line (at most 1 MiB, 256 lines); default: 24 built-in sentences")
    add_common(p, seed=False)
    p.set_defaults(func=_replace)

    p = sub.add_parser("rollout", help="attention rollout, attention flow and head summaries for a text")
    p.add_argument("--text", required=True, help="input text (at most 20,000 characters and 512 tokens)")
    p.add_argument("--no-flow", dest="flow", action="store_false", help="skip attention flow (max-flow per key)")
    add_common(p, seed=False)
    p.set_defaults(func=_rollout)
