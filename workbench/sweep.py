"""One runner for parameter grids, local or on dask.distributed.

A *grid* is the cartesian product of named 1-D coordinates, e.g.
``{"A": [1, 2, 4, 8], "d": [0.1, 0.2]}``. Its points are laid out in C order
and cut into chunks. A *chunk function* computes one chunk at once, batched::

    def fn(params: dict[str, np.ndarray], **fixed) -> xr.Dataset
        # params["A"], params["d"]: 1-D arrays, one entry per point of the chunk
        # returns a Dataset whose variables have leading dim "point"

Results must not depend on how the grid is chunked (derive any randomness
from the parameters, e.g. sweep over a ``seed`` coordinate).

:func:`run_sweep` streams each finished chunk to callbacks (progress bar,
live plot), checkpoints it to ``<checkpoint>/chunk-NNNNN.nc`` and merges all
chunks into one Dataset over the grid's coords. Restarted with the same
checkpoint it loads the finished chunks and computes only the missing ones.
A chunk that raises is retried point by point, so only the points that fail
alone are recorded as failed: variable ``failed`` holds the reason per point
('' when fine); there float values are NaN and integers, booleans and strings
hold their type's zero (0, False, ''), documented in :func:`missing_like`. The
rest of the sweep completes. A checkpoint folder remembers the chunk function
(qualified name and source hash), the grid, the fixed parameters and the
workbench version, and refuses a resume with anything different.

Scale-out: pass ``client=`` a :class:`distributed.Client`, a scheduler
address, or ``"local"`` for a :class:`distributed.LocalCluster`. Chunks are
submitted as dask futures (with retries) and streamed back with
``as_completed``; a worker lost mid-sweep has its chunks rescheduled by the
dask scheduler, and chunks already received are checkpointed by the client.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import __version__, results, validate

POINT = "point"
ChunkFn = Callable[..., xr.Dataset]


@dataclass(frozen=True)
class ParameterGrid:
    """The cartesian product of named 1-D parameter coordinates (C order) a sweep runs over
    (not a spatial grid: that is :class:`workbench.gequation.grid.Grid`)."""

    coords: dict[str, np.ndarray]

    @classmethod
    def from_mapping(cls, grid: Mapping[str, Sequence[Any]]) -> "ParameterGrid":
        if not grid:
            raise ValueError("grid must name at least one coordinate")
        coords = {}
        for name, values in grid.items():
            arr = np.atleast_1d(np.asarray(values))
            if arr.ndim != 1:
                raise ValueError(f"sweep axis {name!r} must be 1-D, got shape {arr.shape}")
            validate.non_empty(f"sweep axis {name!r}", arr)
            if len(np.unique(arr)) != len(arr):
                raise ValueError(f"sweep axis {name!r} has repeated values")
            coords[str(name)] = arr
        return cls(coords)

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.coords)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.coords.values())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def points(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Parameter values at the given flat (C-order) indices."""
        idx = np.unravel_index(flat, self.shape)
        return {name: self.coords[name][i] for name, i in zip(self.dims, idx)}

    def to_json(self) -> dict[str, list]:
        return {k: v.tolist() for k, v in self.coords.items()}


@dataclass
class ChunkEvent:
    """What a callback receives when a chunk has finished (or failed)."""

    chunk: int
    n_chunks: int
    done_points: int
    total_points: int
    params: dict[str, np.ndarray]
    result: xr.Dataset | None
    error: str = ""
    from_checkpoint: bool = False
    elapsed: float = 0.0

    @property
    def fraction(self) -> float:
        return self.done_points / max(self.total_points, 1)


def function_identity(fn: Callable[..., Any]) -> dict[str, str]:
    """What names a chunk function in a checkpoint: its qualified name and a hash of its source.

    The hash is of the source text when it can be read (so an edited function is
    another function), else of the compiled code (bytecode, constants, names).
    """
    target = fn.func if hasattr(fn, "func") and callable(getattr(fn, "func")) else fn  # functools.partial
    module = getattr(target, "__module__", None) or type(target).__module__
    qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
    try:
        text = inspect.getsource(target).encode()
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        text = repr((code.co_code, code.co_consts, code.co_names)).encode() if code else repr(target).encode()
    return {"name": f"{module}.{qualname}", "sha256": hashlib.sha256(text).hexdigest()[:16]}


@dataclass
class _Plan:
    grid: ParameterGrid
    chunk_size: int
    fixed: dict[str, Any] = field(default_factory=dict)
    function: dict[str, str] = field(default_factory=dict)

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.grid.size / self.chunk_size)

    def flat(self, chunk: int) -> np.ndarray:
        start = chunk * self.chunk_size
        return np.arange(start, min(start + self.chunk_size, self.grid.size))

    def manifest(self, name: str) -> dict[str, Any]:
        return {"name": name, "grid": self.grid.to_json(), "chunk_size": self.chunk_size,
                "fixed": json.loads(results.dumps(self.fixed)), "function": self.function,
                "workbench": __version__}


def _schema(ds: xr.Dataset) -> dict[str, list[str]]:
    """The variables of a chunk and their dims: every chunk of one sweep has the same."""
    return {str(k): [str(d) for d in v.dims] for k, v in sorted(ds.data_vars.items())}


_WHAT = {"name": "the sweep name", "grid": "the grid", "chunk_size": "the chunk size",
         "fixed": "the fixed parameters", "function": "the chunk function", "workbench": "the workbench version"}


def _difference(saved: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    """A short description of how two manifests differ (the first differing entry)."""
    for key in ("function", "workbench", "name", "grid", "fixed", "chunk_size"):
        a, b = saved.get(key), now.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict) and key in ("grid", "fixed"):
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            return f"{_WHAT[key]} differ in {', '.join(map(repr, keys))}"
        if key == "function" and isinstance(a, dict) and isinstance(b, dict):
            if a.get("name") != b.get("name"):
                return f"the chunk function differs (saved {a.get('name')!r}, now {b.get('name')!r})"
            return f"the chunk function {b.get('name')!r} has changed (its source differs)"
        shown = lambda v: json.dumps(v)[:60]  # noqa: E731
        return f"{_WHAT[key]} differs (saved {shown(a)}, now {shown(b)})"
    return "the manifests differ"


class Checkpoint:
    """A folder of finished chunks: ``manifest.json`` plus ``chunk-NNNNN.nc``.

    The manifest pins the grid, chunk size, fixed parameters, the chunk function
    (qualified name and source hash) and the workbench version; a folder that holds
    another sweep is refused, naming what differs, rather than mixed in. Each chunk
    file carries the manifest's digest and its index; a chunk file that cannot be
    read, fails its checksum, or belongs elsewhere is set aside (renamed
    ``*.nc.rejected``), reported with a :class:`SweepWarning`, and recomputed.
    """

    def __init__(self, path: str | os.PathLike, manifest: dict[str, Any]):
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ValueError(f"checkpoint path {str(self.path)!r} is not writable: {exc.strerror}") from None
        self.manifest_file = self.path / "manifest.json"
        text = json.dumps(manifest, sort_keys=True)
        self.digest = hashlib.sha1(text.encode()).hexdigest()[:12]
        self.variables: dict[str, list[str]] | None = None
        if self.manifest_file.exists():
            try:
                saved = json.loads(self.manifest_file.read_text())
                if not isinstance(saved, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ValueError(f"checkpoint manifest {str(self.manifest_file)!r} is corrupt "
                                 f"({str(exc).splitlines()[0][:80]}); remove it or use a new path") from None
            self.variables = saved.pop("variables", None)
            if saved != json.loads(text):
                raise ValueError(f"checkpoint path {str(self.path)!r} holds a different sweep: "
                                 f"{_difference(saved, json.loads(text))}; use a new path")
        else:
            self.manifest_file.write_text(text)
        self._manifest = json.loads(text)

    def file(self, chunk: int) -> Path:
        return self.path / f"chunk-{chunk:05d}.nc"

    def set_schema(self, variables: dict[str, list[str]]) -> None:
        """Record the chunks' variables (once, with the first chunk written)."""
        if self.variables is None:
            self.variables = variables
            results.write_text_atomic(self.manifest_file,
                                      json.dumps({**self._manifest, "variables": variables}, sort_keys=True))

    def _reject(self, f: Path, why: str) -> None:
        aside = f.with_name(f.name + ".rejected")
        os.replace(f, aside)
        warnings.warn(f"checkpoint chunk {str(f)!r} {why}; set aside as {aside.name!r}, recomputing it",
                      SweepWarning, stacklevel=3)

    def finished(self, plan: "_Plan") -> dict[int, xr.Dataset]:
        """The valid chunk files, by chunk index; invalid ones are set aside."""
        out = {}
        for f in sorted(self.path.glob("chunk-*.nc")):
            try:
                c = int(f.stem.split("-")[1])
            except ValueError:
                continue
            try:
                ds = results.load(f)
            except Exception as exc:  # unreadable, truncated, checksum mismatch
                self._reject(f, f"cannot be read ({type(exc).__name__})")
                continue
            if ds.attrs.get("sweep_digest") != self.digest or ds.attrs.get("sweep_chunk") != c:
                self._reject(f, "belongs to another sweep or chunk")
            elif not 0 <= c < plan.n_chunks or ds.sizes.get(POINT) != len(plan.flat(c)):
                self._reject(f, f"does not hold chunk {c}'s {POINT}s")
            elif self.variables is not None and _schema(ds) != self.variables:
                self._reject(f, f"holds other variables ({', '.join(ds.data_vars)})")
            else:
                out[c] = ds
        return out

    def write(self, chunk: int, ds: xr.Dataset) -> None:
        self.set_schema(_schema(ds))
        results.save(ds.assign_attrs(sweep_digest=self.digest, sweep_chunk=chunk), self.file(chunk))


class SweepWarning(UserWarning):
    """A checkpoint problem the sweep recovered from (a chunk file set aside and recomputed)."""


class ChunkContractError(TypeError):
    """The chunk function broke its contract (wrong type or length): not retried point by point."""


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _call_chunk(fn: ChunkFn, params: dict[str, np.ndarray], fixed: dict[str, Any]) -> xr.Dataset:
    """Run one chunk and check its shape (runs on a dask worker too)."""
    n = len(next(iter(params.values())))
    ds = fn(params, **fixed)
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name or "value")
    if not isinstance(ds, xr.Dataset):
        raise ChunkContractError(f"the chunk function must return an xarray Dataset, got {type(ds).__name__}")
    if ds.sizes.get(POINT) != n:
        raise ChunkContractError(f"the chunk function must return a leading dim {POINT!r} of length {n}")
    return ds


def missing_like(template: xr.Dataset, n: int) -> xr.Dataset:
    """``n`` points shaped like ``template`` holding missing values.

    Floats and complex numbers are NaN, datetimes NaT; integers, booleans and
    strings have no missing value, so they hold their type's zero (0, False, '').
    The sweep's ``failed`` variable, not these values, says which points failed.
    """
    one = template.isel({POINT: [0] * n})
    for name, var in one.data_vars.items():
        if POINT not in var.dims:
            continue
        kind = var.dtype.kind
        fill: Any = np.nan if kind in "fc" else np.datetime64("NaT") if kind == "M" else \
            np.timedelta64("NaT") if kind == "m" else "" if kind in "SUO" else 0
        one[name] = var.copy(data=np.full(var.shape, fill, dtype=var.dtype))
    return one


def _run_chunk(fn: ChunkFn, params: dict[str, np.ndarray],
               fixed: dict[str, Any]) -> tuple[xr.Dataset | None, list[str]]:
    """One chunk, and per point the reason it failed ('' when fine).

    A chunk that raises is retried point by point, so only the points that fail
    themselves are marked failed (their values missing, see :func:`missing_like`).
    """
    n = len(next(iter(params.values())))
    try:
        return _call_chunk(fn, params, fixed), [""] * n
    except (ChunkContractError, InterruptedError) as exc:  # a broken contract or a cancel: not retried
        return None, [_reason(exc)] * n
    except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
        if n == 1:
            return None, [_reason(exc)]
    parts: list[xr.Dataset | None] = []
    reasons = []
    for i in range(n):
        try:
            parts.append(_call_chunk(fn, {k: v[i:i + 1] for k, v in params.items()}, fixed))
            reasons.append("")
        except Exception as exc:  # noqa: BLE001
            parts.append(None)
            reasons.append(_reason(exc))
    good = [p for p in parts if p is not None]
    if not good:
        return None, reasons
    filled = [p if p is not None else missing_like(good[0], 1) for p in parts]
    return xr.concat(filled, dim=POINT, data_vars="all", coords="minimal", compat="override", join="override"), reasons


def _merge(plan: _Plan, done: dict[int, xr.Dataset], reasons: np.ndarray) -> xr.Dataset:
    grid = plan.grid
    if not done:
        why = "; ".join(sorted(set(r for r in reasons.tolist() if r)))
        raise RuntimeError(f"every chunk of the sweep failed: {why}")

    def without_point_coords(ds: xr.Dataset) -> xr.Dataset:
        # per-point coords are replaced by the grid's own coords below
        return ds.drop_vars([v for v in ds.coords if POINT in ds[v].dims])

    template = without_point_coords(next(iter(done.values())))
    parts = []
    for c in range(plan.n_chunks):
        if c in done:
            parts.append(without_point_coords(done[c]))
        else:
            parts.append(missing_like(template, len(plan.flat(c))))
    merged = xr.concat(parts, dim=POINT, data_vars="all", coords="minimal", compat="override", join="override")
    out = {}
    for name, var in merged.data_vars.items():
        if POINT in var.dims:
            rest = [d for d in var.dims if d != POINT]
            data = var.transpose(POINT, *rest).values.reshape(grid.shape + tuple(var.sizes[d] for d in rest))
            out[name] = (grid.dims + tuple(rest), data, var.attrs)
        else:
            out[name] = var
    out["failed"] = (grid.dims, reasons.reshape(grid.shape).astype(str),
                     {"long_name": "reason a point failed ('' when it succeeded); there floats are NaN "
                                   "and integers, booleans, strings hold 0, False, ''"})
    coords = {k: v for k, v in merged.coords.items() if POINT not in v.dims}
    coords.update(grid.coords)
    ds = xr.Dataset(out, coords=coords)
    ds.attrs = {k: v for k, v in template.attrs.items() if k not in ("sweep_digest", "sweep_chunk")}
    return ds


class ProgressBar:
    """A terminal progress bar callback (writes to stderr; in a notebook to stdout, which is not shown as a
    warning)."""

    def __init__(self, label: str = "sweep", stream: Any = None, width: int = 30):
        from .notebook import kernel_shell

        default = sys.stdout if kernel_shell() is not None else sys.stderr
        self.label, self.stream, self.width = label, stream or default, width
        self.start = time.perf_counter()

    def __call__(self, ev: ChunkEvent) -> None:
        filled = int(self.width * ev.fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        tag = " (failed)" if ev.error else " (checkpoint)" if ev.from_checkpoint else ""
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.label} [{bar}] {ev.done_points}/{ev.total_points} "
                          f"points, {elapsed:.1f} s{tag}")
        if ev.done_points >= ev.total_points:
            self.stream.write("\n")
        self.stream.flush()


CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for a dask scheduler named by address before giving up (one line, OSError)."""


def _resolve_client(client: Any) -> tuple[Any, Callable[[], None]]:
    if client is None:
        return None, lambda: None
    from distributed import Client, LocalCluster

    if isinstance(client, Client):
        return client, lambda: None
    if client == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        c = Client(cluster)

        def close() -> None:
            c.close()
            cluster.close()
        return c, close
    if isinstance(client, str):
        try:
            c = Client(client, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise OSError(f"client {client!r}: no dask scheduler answered within {CONNECT_TIMEOUT_S:g} s "
                          f"({type(exc).__name__})") from None
        return c, c.close
    raise TypeError("client must be None, 'local', a scheduler address or a distributed.Client")


def run_sweep(fn: ChunkFn, grid: Mapping[str, Sequence[Any]], *, fixed: Mapping[str, Any] | None = None,
              chunk_size: int | None = None, checkpoint: str | os.PathLike | None = None,
              callbacks: Iterable[Callable[[ChunkEvent], None]] = (), client: Any = None,
              name: str = "sweep", progress: bool = False, retries: int = 3,
              should_stop: Callable[[], bool] | None = None) -> xr.Dataset:
    """Run ``fn`` over every point of ``grid`` and return one Dataset over the grid's coords.

    Parameters
    ----------
    fn : chunk function ``fn(params, **fixed) -> Dataset`` with leading dim ``point``.
    grid : mapping of coordinate name to a non-empty 1-D sequence of values.
    fixed : keyword arguments passed unchanged to every chunk (JSON-able).
    chunk_size : points per chunk (default: about a tenth of the grid).
    checkpoint : folder for finished chunks; a restart resumes from it (only with
        the same function, grid, fixed parameters and workbench version).
    callbacks : called with a :class:`ChunkEvent` as each chunk finishes.
    client : ``None`` (local), ``"local"`` (a 2-worker LocalCluster), a scheduler
        address (refused after :data:`CONNECT_TIMEOUT_S`), or a ``distributed.Client``.
    progress : add a terminal :class:`ProgressBar`.
    retries : dask retries per chunk.
    should_stop : polled between chunks; when it returns True the sweep stops
        and returns what has finished (the rest is marked failed: "cancelled").

    A chunk that raises is retried point by point: only the points that fail alone
    are marked in ``failed`` (their values missing, see :func:`missing_like`). A
    chunk with a failed point is not checkpointed, so a resume retries it. The
    result's ``parameters`` describe the whole sweep (the fixed parameters, each grid axis's
    values, the sweep's name and function) and
    ``elapsed_s`` is its wall-clock time; ``chunks_elapsed_s`` sums the chunks' own.
    """
    g = ParameterGrid.from_mapping(grid)
    fixed = dict(fixed or {})
    if chunk_size is None:
        chunk_size = max(1, math.ceil(g.size / 10))
    chunk_size = validate.integer("chunk_size", chunk_size, lo=1)
    plan = _Plan(g, chunk_size, fixed, function_identity(fn))
    ckpt = Checkpoint(checkpoint, plan.manifest(name)) if checkpoint is not None else None
    callbacks = list(callbacks)
    if progress:
        callbacks.append(ProgressBar(name))

    loaded: dict[int, xr.Dataset] = ckpt.finished(plan) if ckpt else {}
    done: dict[int, xr.Dataset] = {}
    reasons = np.full(g.size, "", dtype=object)
    schema: dict[str, list[str]] | None = ckpt.variables if ckpt else None
    count = 0
    t0 = time.perf_counter()

    def finish(c: int, ds: xr.Dataset | None, why: Sequence[str], from_ckpt: bool = False) -> None:
        nonlocal count, schema
        flat = plan.flat(c)
        why = list(why)
        if ds is not None:
            if schema is None:
                schema = _schema(ds)
            if _schema(ds) != schema:
                ds, why = None, [f"ChunkContractError: chunk {c} returned variables "
                                 f"{', '.join(ds.data_vars)}, other chunks {', '.join(schema)}"] * len(flat)
        if ds is not None:
            done[c] = ds
            if ckpt and not from_ckpt and not any(why):
                ckpt.write(c, ds)
        reasons[flat] = why
        count += len(flat)
        bad = [w for w in why if w]
        error = "" if not bad else bad[0] if len(bad) == len(flat) else \
            f"{len(bad)} of {len(flat)} points failed: {bad[0]}"
        ev = ChunkEvent(c, plan.n_chunks, count, g.size, g.points(flat), ds, error,
                        from_ckpt, time.perf_counter() - t0)
        for cb in callbacks:
            cb(ev)

    for c in sorted(loaded):
        finish(c, loaded[c], [""] * len(plan.flat(c)), from_ckpt=True)
    todo = [c for c in range(plan.n_chunks) if c not in done]

    def cancel_rest() -> None:
        for k in todo:
            if k not in done and not reasons[plan.flat(k)].any():
                reasons[plan.flat(k)] = "cancelled"

    dask_client, close = _resolve_client(client) if todo else (None, lambda: None)
    try:
        if dask_client is None:
            for c in todo:
                if should_stop is not None and should_stop():
                    cancel_rest()
                    break
                finish(c, *_run_chunk(fn, g.points(plan.flat(c)), fixed))
        else:
            from distributed import as_completed

            futures = {dask_client.submit(_run_chunk, fn, g.points(plan.flat(c)), fixed,
                                          retries=retries, pure=False, key=f"{name}-{c}-{time.time_ns()}"): c
                       for c in todo}
            for fut in as_completed(list(futures)):
                c = futures[fut]
                if should_stop is not None and should_stop():
                    for f in futures:
                        f.cancel()
                    cancel_rest()
                    break
                try:
                    ds, why = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker past its retries
                    ds, why = None, [_reason(exc)] * len(plan.flat(c))
                finish(c, ds, why)
    finally:
        close()

    merged = _merge(plan, done, reasons)
    manifest = plan.manifest(name)
    elapsed = time.perf_counter() - t0
    chunk_seconds = [float(d.attrs.get("elapsed_s", np.nan)) for d in done.values()]
    # the call's parameters: the fixed ones, each grid axis as its list of values, and what ran them
    merged.attrs["parameters"] = results.dumps({**manifest["fixed"], **manifest["grid"], "sweep": name,
                                                "sweep_function": manifest["function"]["name"]})
    merged.attrs["elapsed_s"] = elapsed
    merged.attrs["chunks_elapsed_s"] = float(np.nansum(chunk_seconds)) if chunk_seconds else 0.0
    merged.attrs["sweep"] = json.dumps(manifest, sort_keys=True)
    merged.attrs["sweep_failed_points"] = int((merged["failed"] != "").sum())
    merged.attrs["sweep_elapsed_s"] = elapsed
    merged.attrs["sweep_engine"] = "dask" if dask_client is not None else "local"
    return merged
