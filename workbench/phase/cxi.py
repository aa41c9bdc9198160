"""CXI files (HDF5 in the layout of the Coherent X-ray Imaging Data Bank; Maia, Nat. Methods 9, 854, 2012).

The groups this module reads and writes (CXI 1.5, as PyNX writes them)::

    /cxi_version                                   150
    /entry_1/instrument_1/detector_1/data          intensity [ky, kx] (photons, k = 0 in the middle)
    /entry_1/instrument_1/detector_1/mask          bad or missing pixels, nonzero (uint32 bit flags)
    /entry_1/data_1/data -> detector_1/data        soft links: the CXIDB entry point
    /entry_1/data_1/mask -> detector_1/mask
    /entry_1/image_1/mask                          support (real space, object in the middle), optional
    /entry_1/image_1/data                          reconstructions [run, y, x], optional
    /entry_1/image_1/process_1/results/<name>      per-run errors of the reconstructions [run]

Reading needs only ``/entry_1/data_1/data`` (2-D, or 3-D with one frame); its mask
is ``/entry_1/data_1/mask`` or ``/entry_1/instrument_1/detector_1/mask`` and must be
integer or boolean of the data's shape. Every refusal names the path inside the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

DATA = "entry_1/data_1/data"
MASKS = ("entry_1/data_1/mask", "entry_1/instrument_1/detector_1/mask")
SUPPORT = "entry_1/image_1/mask"
IMAGES = "entry_1/image_1/data"
RESULTS = "entry_1/image_1/process_1/results"
MAX_PIXELS = 4096 * 4096


def _dataset(f: Any, path: str, filename: str) -> Any:
    import h5py

    obj = f.get(path)
    if obj is None:
        return None
    if not isinstance(obj, h5py.Dataset):
        raise ValueError(f"CXI file {filename!r}: /{path} must be a dataset, found a group")
    return obj


def _frame(ds: Any, path: str, filename: str) -> np.ndarray:
    shape = ds.shape
    if len(shape) == 3 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) != 2:
        raise ValueError(f"CXI file {filename!r}: /{path} must be 2-D (or one frame), got shape {ds.shape}")
    if shape[0] * shape[1] > MAX_PIXELS:
        raise ValueError(f"CXI file {filename!r}: /{path} has {shape[0]} x {shape[1]} pixels, "
                         f"more than {MAX_PIXELS}")
    return np.asarray(ds[()]).reshape(shape)


def _flags(ds: Any, path: str, filename: str, shape: tuple[int, ...]) -> np.ndarray:
    """A mask-like dataset (integer or boolean) of ``shape`` as bool (nonzero = set)."""
    if not (np.issubdtype(ds.dtype, np.integer) or ds.dtype == bool):
        raise ValueError(f"CXI file {filename!r}: /{path} must be integer or boolean, got dtype {ds.dtype}")
    a = _frame(ds, path, filename)
    if a.shape != shape:
        raise ValueError(f"CXI file {filename!r}: /{path} has shape {a.shape}, the data {shape}")
    return a != 0


def read_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``intensity`` and ``mask`` (centred), and ``support`` when stored, from a CXI file."""
    import h5py

    filename = str(path)
    with h5py.File(path, "r") as f:
        data = _dataset(f, DATA, filename)
        if data is None:
            raise ValueError(f"CXI file {filename!r} has no /{DATA} (the diffraction data)")
        if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
            raise ValueError(f"CXI file {filename!r}: /{DATA} must be numeric, got dtype {data.dtype}")
        intensity = _frame(data, DATA, filename).astype(np.float64)
        out = {"intensity": intensity}
        for mpath in MASKS:
            mask = _dataset(f, mpath, filename)
            if mask is not None:
                out["mask"] = _flags(mask, mpath, filename, intensity.shape)
                break
        support = _dataset(f, SUPPORT, filename)
        if support is not None:
            out["support"] = _flags(support, SUPPORT, filename, intensity.shape)
    return out


def write(path: str | os.PathLike, measurement: Any, images: np.ndarray | None = None,
          errors: dict[str, np.ndarray] | None = None, attrs: dict[str, Any] | None = None) -> Path:
    """Write ``measurement`` (data, mask, support) and optional reconstructions ``images [run, N, N]``
    with per-run ``errors`` to a CXI file (see the module docstring for the layout)."""
    import h5py

    path = Path(path)
    with h5py.File(path, "w") as f:
        f.create_dataset("cxi_version", data=150)
        entry = f.create_group("entry_1")
        entry.attrs["NX_class"] = "NXentry"
        det = entry.create_group("instrument_1").create_group("detector_1")
        det.create_dataset("data", data=measurement.centred("intensity"), compression="gzip")
        det.create_dataset("mask", data=measurement.centred("missing").astype(np.uint32), compression="gzip")
        data = entry.create_group("data_1")
        data["data"] = h5py.SoftLink("/entry_1/instrument_1/detector_1/data")
        data["mask"] = h5py.SoftLink("/entry_1/instrument_1/detector_1/mask")
        image = entry.create_group("image_1")
        image.create_dataset("mask", data=measurement.support.astype(np.uint32), compression="gzip")
        image.create_dataset("data_space", data="real")
        if images is not None:
            image.create_dataset("data", data=np.asarray(images), compression="gzip")
            image.create_dataset("data_type", data="electron density")
            results = image.create_group("process_1").create_group("results")
            for name, values in (errors or {}).items():
                results.create_dataset(name, data=np.asarray(values))
        for key, value in (attrs or {}).items():
            entry.attrs[key] = value
    return path


def read_images(path: str | os.PathLike) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    """The reconstructions ``[run, y, x]`` and their per-run errors stored in a CXI file (None if absent)."""
    import h5py

    with h5py.File(path, "r") as f:
        images = f[IMAGES][()] if IMAGES in f else None
        errors = {k: v[()] for k, v in f[RESULTS].items()} if RESULTS in f else {}
    return images, errors
