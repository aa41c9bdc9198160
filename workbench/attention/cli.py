"""``workbench attention ...``: maps of the real model, variant comparison, dispersion against n.

    workbench attention maps --text "The cat sat on the mat." [--layer L --head H] [--out maps.nc] [--json]
    workbench attention variants --text "..." --layer 2 --window 4 [--out v.nc] [--json]
    workbench attention variants --text-file F --long [--segment 510 --overlap 0] [--json]
    workbench attention dispersion --n 64:4096:7 --variants full,sliding,linear [--source gaussian] [--json]
    workbench attention dispersion --source model --text-file F --n 64,512,2048 [--overlap 0] [--json]

``--long`` and ``--source model --text-file``: inputs past the model's 512 positions by
concatenated segments (:mod:`.long_input`: positions restart per segment, so these are
the Q, K, V of independent windows laid end to end, not of a long-context model).
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
from .texts import MAX_FILE_BYTES, MAX_TEXT_CHARS, MAX_TEXTS

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


def _text(args: argparse.Namespace, required: bool = True) -> str | None:
    """The one text of ``--text`` or ``--text-file`` (bounded in characters before tokenising)."""
    from .texts import check_text, read_text

    if args.text is not None and args.text_file is not None:
        raise ValueError("give --text or --text-file, not both")
    if args.text_file is not None:
        return read_text(args.text_file, "text")
    if args.text is None and required:
        raise ValueError("give --text or --text-file")
    return None if args.text is None else check_text("text", args.text)


def _variants(args: argparse.Namespace) -> int:
    from .model import layer_qkv
    from .variants import compare_variants

    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    _check_variant_options(names, args)  # before the model loads
    text = _text(args)
    if args.long:
        return _long_variants(text, names, args)
    try:
        x = layer_qkv(text, args.layer, device=args.device)
    except ValueError as exc:
        if str(exc).endswith("shorten it"):   # past the window: name the documented route
            raise ValueError(f"{exc} or pass --long (concatenated segments)") from None
        raise
    ds = compare_variants(x.q, x.k, x.v, names, window=args.window, mix=args.mix, tokens=x.tokens,
                          params={"text": text, "layer": args.layer})
    summary = {"n_tokens": len(x.tokens), "layer": args.layer, "window": args.window,
               "relative_error_to_full": {str(v): round(float(ds["relative_error"].sel(variant=v).mean()), 6)
                                          for v in ds["variant"].values},
               "max_map_residual": float(ds["map_residual"].max())}
    return emit(summary, args, ds)


def _long_variants(text: str, names: list[str], args: argparse.Namespace) -> int:
    from .long_input import long_variants

    ds = long_variants(text, names, layer=args.layer, window=args.window, mix=args.mix, size=args.segment,
                       overlap=args.overlap, device=args.device)
    summary = {"n_tokens": int(ds["n_tokens"]), "segments": int(ds["segments"]), "segment": args.segment,
               "overlap": args.overlap, "layer": args.layer, "window": args.window,
               "relative_error_to_full": {str(v): round(float(ds["relative_error"].sel(variant=v).mean()), 6)
                                          for v in ds["variant"].values}}
    return emit(summary, args, ds)


def _check_variant_options(names: list[str], args: argparse.Namespace) -> None:
    from .long_input import MAX_LONG_TOKENS
    from .model import MAX_POSITIONS, N_LAYERS
    from .variants import VARIANTS, WINDOWED

    for name in validate.non_empty("variants", names):
        validate.choice("variant", name, VARIANTS)
    validate.integer("layer", args.layer, lo=0, hi=N_LAYERS - 1)
    if any(v in WINDOWED for v in names):   # the bound against the text's n follows once it is tokenised
        validate.integer("window", args.window, lo=1, hi=2 * MAX_LONG_TOKENS + 3 if args.long else MAX_POSITIONS)
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
                    score_bound=args.score_bound, seed=args.seed, device=args.device, client=args.client,
                    text=_text(args, required=False), overlap=args.overlap)
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


def _add_text(p: argparse.ArgumentParser, what: str = "input text") -> None:
    p.add_argument("--text", default=None, help=f"{what} (at most {MAX_TEXT_CHARS} characters)")
    p.add_argument("--text-file", type=Path, default=None, help="the same from a UTF-8 file, read as one text")
    p.add_argument("--overlap", type=int, default=0,
                   help="past 512 tokens: tokens shared by consecutive segments, 0..segment/2 (default 0)")


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
    _add_text(p)
    p.add_argument("--long", action="store_true",
                   help="past 512 tokens by concatenated segments: output errors only (no n x n maps)")
    p.add_argument("--segment", type=int, default=510, help="with --long: tokens per segment, 1..510 (default 510)")
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
    _add_text(p, "with --source model: this text's Q/K by concatenated segments of 510 tokens (default: the "
                 "bundled model card, cycled)")
    add_common(p)
    p.set_defaults(func=_dispersion)

    from .variants import VARIANTS

    p = sub.add_parser("replace", help="run the model with a variant in place of softmax attention in chosen layers")
    p.add_argument("--variant", required=True, help=f"one of {', '.join(VARIANTS)}")
    p.add_argument("--layers", default="all", help="layers to replace: all, 0,2,4 or 0-2 (0..5; default all)")
    p.add_argument("--window", type=int, default=None,
                   help="window w: 1..n for block/fwin, 1..2n-1 for sliding/sema (n: the shortest text)")
    p.add_argument("--mix", type=float, default=0.5, help="SEMA's weight of the global average, 0..1")
    p.add_argument("--text", default=None, help=f"one text (at most {MAX_TEXT_CHARS} characters and 512 tokens)")
    p.add_argument("--texts", type=Path, default=None,
                   help=f"UTF-8 file, one text per line (at most {MAX_FILE_BYTES} bytes, {MAX_TEXTS} lines); "
                        "default: 24 built-in sentences")
    add_common(p, seed=False)
    p.set_defaults(func=_replace)

    p = sub.add_parser("rollout", help="attention rollout, attention flow and head summaries for a text")
    p.add_argument("--text", required=True, help=f"input text (at most {MAX_TEXT_CHARS} characters and 512 tokens)")
    p.add_argument("--no-flow", dest="flow", action="store_false", help="skip attention flow (max-flow per key)")
    add_common(p, seed=False)
    p.set_defaults(func=_rollout)
