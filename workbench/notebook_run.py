"""``make notebooks``: execute notebooks at full size and save them with their outputs.

``python -m workbench.notebook_run notebooks/00_tour.ipynb ...`` runs each notebook
in a fresh kernel (nbclient, one at a time) with ``WORKBENCH_NOTEBOOK_STATIC=1``, so
that ``workbench.notebook()`` shows every figure as a PNG (readable in a file viewer
or on GitHub), and writes it back in place with, in its metadata,

    "workbench": {"made_by": "make notebooks", "version": ..., "device": ...,
                  "date": ..., "quick": false, "seconds": ..., "cell_seconds": [...]}

A notebook over :data:`MAX_BYTES` or over ``--max-seconds`` is reported (exit 1);
it is still written, so that its outputs can be looked at.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

MADE_BY = "make notebooks"
MAX_BYTES = 3_000_000
MAX_SECONDS = 300.0  # a full-size notebook on a 2-core CPU


def provenance(seconds: float, cell_seconds: list[float], quick: bool) -> dict:
    """The ``workbench`` metadata entry of a notebook executed now."""
    from . import __version__, runtime

    return {"made_by": MADE_BY, "version": __version__, "device": runtime.describe(),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "quick": quick,
            "seconds": round(seconds, 1), "cell_seconds": [round(s, 1) for s in cell_seconds]}


def execute(path: Path, timeout: float = 1800.0) -> tuple[float, list[float]]:
    """Run ``path`` in place in a fresh kernel; returns (wall seconds, seconds per code cell)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_static = os.environ.get("WORKBENCH_NOTEBOOK_STATIC")
    os.environ["WORKBENCH_NOTEBOOK_STATIC"] = "1"  # the kernel inherits it
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": path.parent}})
    starts: dict[int, float] = {}
    cell_seconds: list[float] = []
    client.on_cell_execute = lambda cell, cell_index: starts.__setitem__(cell_index, time.perf_counter())
    client.on_cell_executed = lambda cell, cell_index, execute_reply: cell_seconds.append(
        time.perf_counter() - starts[cell_index])
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        if env_static is None:
            os.environ.pop("WORKBENCH_NOTEBOOK_STATIC", None)
        else:
            os.environ["WORKBENCH_NOTEBOOK_STATIC"] = env_static
    seconds = time.perf_counter() - started
    nb.metadata["workbench"] = provenance(seconds, cell_seconds, quick=_quick())
    nbformat.write(nb, path)
    return seconds, cell_seconds


def _quick() -> bool:
    from .runtime import quick

    return quick()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.notebook_run", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--max-seconds", type=float, default=MAX_SECONDS,
                        help="report a notebook that takes longer (default %(default)s s)")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"notebooks: {path} is not a notebook file")
    if not args.max_seconds > 0:
        parser.error(f"--max-seconds must be > 0, got {args.max_seconds}")
    failed = False
    for path in args.notebooks:
        seconds, cells = execute(path)
        size = path.stat().st_size
        slow = seconds > args.max_seconds
        big = size > MAX_BYTES
        failed |= slow or big
        slowest = sorted(range(len(cells)), key=cells.__getitem__)[-3:][::-1]
        print(f"{path}: {seconds:.1f} s, {size / 1e6:.2f} MB; slowest code cells "
              + ", ".join(f"#{i} {cells[i]:.1f} s" for i in slowest)
              + (" -- over the time limit" if slow else "") + (" -- over 3 MB" if big else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
