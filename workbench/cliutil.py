"""What every ``workbench`` subcommand shares: common options, ranges, output, user errors.

Both the top-level command (:mod:`workbench.cli`) and each family's ``cli``
module import from here, so neither imports the other's helpers.

* :func:`add_common` adds ``--device``, ``--seed``, ``--json``, ``--out`` and
  ``--allow-long``;
* :func:`parse_range` reads ``START:STOP:NUM`` or a comma list, and checks the
  number of values against a cap *before* expanding it;
* :func:`check_out` refuses an ``--out`` that is a folder or cannot be written,
  before the computation;
* :func:`emit` saves the result and prints the summary; ``--json`` is strict JSON
  (a non-finite float is written as ``null``, never ``Infinity``/``NaN``);
* :data:`USER_ERRORS` and :func:`user_error_line` turn every error a user can cause
  into one line (the CLI exits with status 2).
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
from pathlib import Path
from typing import Any

MAX_RANGE = 10_000
"""Default cap on the number of values one ``START:STOP:NUM`` or comma list may give."""

USER_ERRORS = (ValueError, TypeError, MemoryError, OSError, RuntimeError, OverflowError, FloatingPointError,
               RecursionError, ArithmeticError)
"""Exception classes a user's input can cause; the CLI prints them as one line and exits 2.

``OSError`` covers unreachable hosts, folders given as files, full disks and
permissions; ``RuntimeError`` covers allocations torch refuses.
"""


def family_command(subparsers: Any, name: str, help: str, description: str = "") -> Any:
    """A family's subcommand ``workbench <name> ACTION``; returns its actions' subparsers (an
    action is required: without one, argparse names the choices and exits with status 2)."""
    parser = subparsers.add_parser(name, help=help, description=description or help)
    return parser.add_subparsers(dest="action", metavar="ACTION", required=True)


def add_common(parser: argparse.ArgumentParser, *, seed: bool = True, out: bool = True) -> None:
    """The options every computing subcommand shares: --device, --seed, --json, --out, --allow-long."""
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default: WORKBENCH_DEVICE or auto)")
    if seed:
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print a one-object JSON summary")
    if out:
        parser.add_argument("--out", type=Path, default=None, help="write the result to this netCDF file")
    parser.add_argument("--allow-long", action="store_true",
                        help="run a workload estimated to take more than an hour (refused otherwise)")


def parse_range(name: str, text: str, *, cap: int = MAX_RANGE) -> list[float]:
    """``START:STOP:NUM`` (inclusive, NUM points) or a comma list, as floats; at most ``cap`` values.

    The count is checked before anything is expanded, so ``1:2:1000000000`` is
    refused at once.
    """
    import numpy as np

    text = str(text)
    if len(text) > 64 * cap:  # a comma list of at most `cap` numbers is never longer
        raise ValueError(f"{name} must give at most {cap} values; got a list of {len(text)} characters")
    try:
        if ":" in text:
            start, stop, num = text.split(":")
            n = int(num)
            if n < 1:
                raise ValueError
            if n > cap:
                raise OverflowError
            lo, hi = float(start), float(stop)
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError
            return [float(v) for v in np.linspace(lo, hi, n)]
        values = [float(v) for v in text.split(",") if v.strip()]
    except OverflowError:
        raise ValueError(f"{name} must give at most {cap} values; got NUM = {num.strip()}") from None
    except ValueError:
        raise ValueError(f"{name} must be START:STOP:NUM with NUM >= 1 or a comma list; got {text[:80]!r}") from None
    if len(values) > cap:
        raise ValueError(f"{name} must give at most {cap} values; got {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must hold only finite numbers; got {text[:80]!r}")
    return values


def check_out(path: Path | None) -> None:
    """Refuse an ``--out`` path that is a folder or whose folder cannot be written (before any work)."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "out is a folder, give a file name", str(path))
    parent = path.parent if str(path.parent) else Path(".")
    probe = parent
    while not probe.exists() and probe != probe.parent:  # the nearest folder that exists
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "out: a part of the path is a file", str(probe))
    if not os.access(probe, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(errno.EACCES, "out is not writable", str(path))


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (strict JSON has no Infinity/NaN)."""
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def emit(summary: dict[str, Any], args: argparse.Namespace, result: Any = None) -> int:
    """Save ``result`` to ``--out`` if given; print ``summary`` as strict JSON or as lines."""
    if getattr(args, "out", None) is not None and result is not None:
        from . import results

        results.save(result, args.out)
        summary = {**summary, "out": str(args.out)}
    if getattr(args, "json", False):
        print(json.dumps(strict_json(summary), allow_nan=False))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


def user_error_line(exc: BaseException) -> str:
    """One line describing ``exc``: its message (an OSError with its file), never a traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
        if exc.filename:
            text = f"{text}: {str(exc.filename)!r}"
    elif isinstance(exc, RecursionError):
        text = "the input is nested too deeply"
    else:
        text = str(exc) or type(exc).__name__
    if isinstance(exc, RuntimeError) and not isinstance(exc, RecursionError) and "memory" in text.lower():
        text = f"not enough memory: {text}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[0] if lines else type(exc).__name__
    return line if len(line) <= 500 else line[:497] + "..."
