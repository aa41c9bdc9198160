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

from . import cliutil

USER_ERRORS = cliutil.USER_ERRORS
parse_range = cliutil.parse_range  # kept importable from here; family CLIs use workbench.cliutil


def _info(args: argparse.Namespace) -> int:
    from . import runtime

    data = runtime.info(args.device)
    if args.json:
        print(json.dumps(cliutil.strict_json(data), allow_nan=False))
    else:
        for key, value in data.items():
            print(f"{key:>15}: {value}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(port=args.port, address=args.address, show=args.show,
                 allow_websocket_origin=args.allow_websocket_origin,
                 pools={"interactive": args.interactive_workers, "heavy": args.heavy_workers,
                        "per_session": args.heavy_per_session})


def _figure(args: argparse.Namespace) -> int:
    """``workbench figure FILE.nc``: redraw an exported figure from its netCDF alone."""
    from . import export

    out = export.regenerate(args.file, args.out, preset=args.preset, width=args.width)
    print(f"figure: {out}")
    return 0


def _register_figure(sub: Any) -> None:
    p = sub.add_parser("figure", help="redraw an exported figure from its netCDF (nothing recomputed)")
    p.add_argument("file", type=Path, help="netCDF written by a workbench figure export")
    p.add_argument("--out", type=Path, default=None, help="FIG.pdf, FIG.svg or FIG.png (default: FILE.pdf)")
    p.add_argument("--preset", default="single", help="page style: single, double, aps, siam (default single)")
    p.add_argument("--width", default=None, help="column: single or double (default: the preset's)")
    p.set_defaults(func=_figure)


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
    p.add_argument("--interactive-workers", type=int, default=None, metavar="N",
                   help="threads for slider-driven work, shared by all sessions (default: cores, at least 2)")
    p.add_argument("--heavy-workers", type=int, default=None, metavar="N",
                   help="threads for Run-button work, shared by all sessions (default: cores, at least 2)")
    p.add_argument("--heavy-per-session", type=int, default=None, metavar="N",
                   help="Run-button jobs one session may run at once (default 1)")
    p.set_defaults(func=_serve)

    _register_figure(sub)

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
    from . import budget

    try:
        cliutil.check_out(getattr(args, "out", None))
        with budget.time_limit(None if getattr(args, "allow_long", False) else budget.CLI_TIME_LIMIT_S):
            return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        prog = " ".join(["workbench", *(a for a in [args.command, getattr(args, "action", None)] if a)])
        print(f"{prog}: error: {cliutil.user_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
