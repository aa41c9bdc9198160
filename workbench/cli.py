"""The ``workbench`` command.

``workbench info [--json]`` prints the runtime; ``workbench serve`` serves the
dashboards; each declared method family (:mod:`workbench.family`: ``hj``,
``gequation``, ``phase``, ``attention``, ...) adds its subcommand through the
``register(subparsers)`` function its declaration names. Every subcommand validates its arguments and exits with
status 2 and a one-line message naming the bad parameter.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

USER_ERRORS = (ValueError, TypeError, MemoryError, FileNotFoundError, PermissionError)


def add_common(parser: argparse.ArgumentParser, *, seed: bool = True, out: bool = True) -> None:
    """The options every computing subcommand shares: --device, --seed, --json, --out."""
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default: WORKBENCH_DEVICE or auto)")
    if seed:
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print a one-object JSON summary")
    if out:
        parser.add_argument("--out", type=Path, default=None, help="write the result to this netCDF file")


def emit(summary: dict[str, Any], args: argparse.Namespace, result: Any = None) -> int:
    """Save ``result`` to ``--out`` if given; print ``summary`` as JSON or as lines."""
    if getattr(args, "out", None) is not None and result is not None:
        from . import results

        results.save(result, args.out)
        summary = {**summary, "out": str(args.out)}
    if getattr(args, "json", False):
        print(json.dumps(summary, default=_json_default))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def parse_range(name: str, text: str) -> list[float]:
    """``START:STOP:NUM`` (inclusive, NUM points) or a comma list, as floats."""
    import numpy as np

    try:
        if ":" in text:
            start, stop, num = text.split(":")
            n = int(num)
            if n < 1:
                raise ValueError
            return [float(v) for v in np.linspace(float(start), float(stop), n)]
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be START:STOP:NUM with NUM >= 1 or a comma list; got {text!r}") from None


def _info(args: argparse.Namespace) -> int:
    from . import runtime

    data = runtime.info(args.device)
    if args.json:
        print(json.dumps(data))
    else:
        for key, value in data.items():
            print(f"{key:>15}: {value}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(port=args.port, address=args.address, show=args.show,
                 allow_websocket_origin=args.allow_websocket_origin)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="package, torch and device information")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--device", default=None, help="device to report (default: auto)")
    p.set_defaults(func=_info)

    p = sub.add_parser("serve", help="serve every dashboard with an index page")
    p.add_argument("--port", type=int, default=5006)
    p.add_argument("--address", default="localhost", help="interface to bind (default: localhost only)")
    p.add_argument("--show", action="store_true", help="open a browser")
    p.add_argument("--allow-websocket-origin", action="append", default=None, metavar="HOST[:PORT]",
                   help="another host name allowed as Host header and websocket origin, named explicitly "
                        "(never a wildcard; default: localhost only)")
    p.set_defaults(func=_serve)

    from .family import families

    for family in families():
        family.register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        prog = " ".join(["workbench", *(a for a in [args.command, getattr(args, "action", None)] if a)])
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
