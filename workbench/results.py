"""Results as xarray with provenance.

Every public computation returns an :class:`xarray.Dataset` with named dims
and coords, whose ``attrs`` carry where it came from:

========== ==============================================================
key        meaning
========== ==============================================================
parameters JSON object of the call's parameters (:func:`parameters` reads it)
workbench  package version
torch      torch version
device     device the computation ran on (``cpu``, ``cuda:0``)
seed       integer seed, or -1 when the computation is deterministic
elapsed_s  wall-clock seconds of the computation
created    UTC time, ISO 8601
kind       what the dataset is (e.g. ``hj.moreau_envelope``)
========== ==============================================================

Attributes are restricted to netCDF's types (str, int, float, 1-D numeric
arrays) at stamping time, so that :func:`save` followed by :func:`load`
round-trips the dataset exactly, attrs included.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from . import __version__

NETCDF_ENGINE = "h5netcdf"


def to_numpy(value: Any) -> np.ndarray:
    """A NumPy array from a tensor (any device) or array-like."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").numpy()
    return np.asarray(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        value = to_numpy(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (torch.device, torch.dtype, Path)):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in provenance")


def dumps(params: Mapping[str, Any]) -> str:
    """JSON text of a parameter mapping (tensors, arrays, numpy scalars allowed)."""
    return json.dumps(dict(params), default=_jsonable, sort_keys=True)


def _attr(value: Any) -> Any:
    """Coerce one attribute to a type netCDF stores and returns unchanged."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str):
        return str(value)  # plain str: subclasses such as TorchVersion do not store
    if isinstance(value, int | float | np.integer | np.floating):
        return value
    if value is None:
        return ""
    if isinstance(value, np.ndarray | list | tuple) and np.asarray(value).dtype.kind in "iuf":
        return np.asarray(value)
    return json.dumps(value, default=_jsonable, sort_keys=True)


def clean_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes restricted to netCDF types (see the module docstring)."""
    return {str(k): _attr(v) for k, v in attrs.items()}


def provenance(params: Mapping[str, Any] | None = None, *, kind: str = "",
               seed: int | None = None, device: Any = None,
               elapsed: float | None = None) -> dict[str, Any]:
    """The provenance attributes of a result (see the module docstring)."""
    return {
        "kind": kind,
        "parameters": dumps(params or {}),
        "workbench": __version__,
        "torch": str(torch.__version__),
        "device": str(device) if device is not None else "cpu",
        "seed": -1 if seed is None else int(seed),
        "elapsed_s": float(elapsed) if elapsed is not None else float("nan"),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def stamp(obj: xr.Dataset | xr.DataArray, params: Mapping[str, Any] | None = None, *,
          kind: str = "", seed: int | None = None, device: Any = None,
          elapsed: float | None = None, **extra: Any) -> Any:
    """Return ``obj`` with provenance attrs added (``extra`` keys too); cleans all attrs."""
    attrs = dict(obj.attrs)
    attrs.update(provenance(params, kind=kind, seed=seed, device=device, elapsed=elapsed))
    attrs.update(extra)
    obj = obj.copy(deep=False)
    obj.attrs = clean_attrs(attrs)
    if isinstance(obj, xr.Dataset):
        for name in obj.variables:
            obj[name].attrs = clean_attrs(obj[name].attrs)
    return obj


def parameters(obj: xr.Dataset | xr.DataArray) -> dict[str, Any]:
    """The parameters a result was computed with (decoded from ``attrs['parameters']``)."""
    return json.loads(obj.attrs.get("parameters", "{}"))


def dataset(data_vars: Mapping[str, tuple], coords: Mapping[str, Any] | None = None, *,
            params: Mapping[str, Any] | None = None, kind: str = "", seed: int | None = None,
            device: Any = None, elapsed: float | None = None, **extra: Any) -> xr.Dataset:
    """Build a stamped Dataset from tensors.

    ``data_vars`` maps a name to ``(dims, values)`` or ``(dims, values, attrs)``;
    values may be torch tensors on any device. Coordinates likewise.
    """
    def conv(spec: Any) -> Any:
        if isinstance(spec, tuple):
            return (spec[0], to_numpy(spec[1]), *spec[2:])
        return to_numpy(spec)

    ds = xr.Dataset({k: conv(v) for k, v in data_vars.items()},
                    coords={k: conv(v) for k, v in (coords or {}).items()})
    return stamp(ds, params, kind=kind, seed=seed, device=device, elapsed=elapsed, **extra)


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t['elapsed']`` holds the seconds (CUDA synchronised)."""
    out = {"elapsed": float("nan")}
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    try:
        yield out
    finally:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        out["elapsed"] = time.perf_counter() - start


CHECKSUM_ATTR = "checksum"
"""Attribute holding ``sha256:<hex>`` of a saved file's data (variables and coordinates)."""


def checksum(obj: xr.Dataset) -> str:
    """``sha256:<hex>`` over every variable's name, shape and values (coordinates included).

    Strings hash as their text and everything else as its little-endian bytes, so the
    value survives the netCDF round trip (which may change a string's dtype).
    """
    h = hashlib.sha256()
    for name in sorted(map(str, obj.variables)):
        values = np.asarray(obj[name].values)
        h.update(f"{name}|{values.shape}|".encode())
        if values.dtype.kind in "USO":
            h.update("\x1f".join(map(str, values.ravel().tolist())).encode("utf-8", "surrogatepass"))
        else:
            h.update(values.dtype.str.lstrip("<>|=").encode())
            h.update(np.ascontiguousarray(values.astype(values.dtype.newbyteorder("<"), copy=False)).tobytes())
    return "sha256:" + h.hexdigest()


def _enospc(path: Path) -> OSError:
    return OSError(errno.ENOSPC, "no space left on the device while writing (the partial file was removed)",
                   str(path))


def save(obj: xr.Dataset | xr.DataArray, path: str | os.PathLike) -> Path:
    """Write ``obj`` to netCDF atomically (a finished result is never half-written).

    The data's :func:`checksum` goes into ``attrs['checksum']``, which :func:`load`
    verifies. The file is written to a ``.part`` file beside the target and renamed;
    on any error (a full disk included) the ``.part`` file is removed and the error
    names the target, not the temporary file.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "cannot write a results file over a folder", str(path))
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot create the folder of the results file ({exc.strerror})",
                        str(path)) from None
    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name=obj.name or "data", promote_attrs=True)
    obj = obj.copy(deep=False)
    obj.attrs = clean_attrs(obj.attrs)
    obj.attrs[CHECKSUM_ATTR] = checksum(obj)
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = None
    if free is not None and obj.nbytes + 64 * 1024 > free:
        raise OSError(errno.ENOSPC, f"no space left on the device: the results file needs about "
                                    f"{obj.nbytes / 2**20:.1f} MiB, {free / 2**20:.1f} MiB free", str(path))
    try:
        fd, tmp = tempfile.mkstemp(suffix=".nc.part", prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write the results file ({exc.strerror})", str(path)) from None
    os.close(fd)
    try:
        obj.to_netcdf(tmp, engine=NETCDF_ENGINE)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC or "No space left" in str(exc):
            raise _enospc(path) from None
        raise OSError(exc.errno, f"cannot write the results file ({exc.strerror or type(exc).__name__})",
                      str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> None:
    """Write a small text file through a temporary file and a rename (never half-written)."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror or "cannot write", str(path)) from None


def to_bytes(obj: xr.Dataset | xr.DataArray) -> bytes:
    """The netCDF file of ``obj`` as bytes (for downloads)."""
    with tempfile.TemporaryDirectory() as tmp:
        return save(obj, Path(tmp) / "data.nc").read_bytes()


def load(path: str | os.PathLike) -> xr.Dataset:
    """Read a netCDF result fully into memory (the file is closed on return).

    A file written by :func:`save` carries a checksum of its data; a file whose
    data no longer matches it (a flipped bit, a truncated write) is refused with a
    ``ValueError`` naming the file, as is a file that is not netCDF at all.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path {str(path)!r} does not exist")
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a results file was expected, not a folder", str(path))
    try:
        ds = xr.load_dataset(path, engine=NETCDF_ENGINE)
    except Exception as exc:  # h5py/netCDF raise many types for damaged files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise ValueError(f"results file {str(path)!r} cannot be read as netCDF ({first})") from None
    saved = ds.attrs.pop(CHECKSUM_ATTR, None)
    if saved is not None and str(saved) != checksum(ds):
        raise ValueError(f"results file {str(path)!r} is corrupt: its data does not match the checksum "
                         "written when it was saved")
    return ds
