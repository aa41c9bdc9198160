"""Serve every declared dashboard with an index page.

The dashboards are the families' declarations (:func:`workbench.family.dashboards`); each is
served at ``/<slug>`` by a two-line page script written for it, and the index at ``/``.
``panel serve apps/`` and ``panel serve apps/*.py`` serve the same workbench from the one page
script in ``apps/`` (``apps/main.py``: the index, and each dashboard at ``?app=<slug>``).

Served on localhost by default. Requests must name an allowed host (``Host`` header:
localhost, 127.0.0.1, [::1] and ``--allow-host`` names; a DNS-rebinding page's requests are
refused with 403) and websockets an allowed origin. The shared worker pools' sizes and the
per-session share of the heavy pool are settings (see :mod:`workbench.ui.fair`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .family import dashboards

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
HOSTS_ENV = "WORKBENCH_ALLOWED_HOSTS"
SESSION_CHECK_MS = 2000  # how often ended sessions are looked for (their work is then cancelled)
SESSION_LINGER_MS = 10000  # a session without a connection this long has ended (a closed tab)

PAGE = '''"""{title} (served by ``workbench serve``)."""

from workbench.family import serve_app

serve_app({slug!r})
'''
INDEX = '''"""Workbench index (served by ``workbench serve``)."""

from workbench.ui.pages import index_page

index_page("./{slug}").servable(title="Workbench")
'''


@dataclass(frozen=True)
class AppEntry:
    slug: str
    title: str
    description: str


def catalog() -> list[AppEntry]:
    """Every declared dashboard, with its title and description."""
    return [AppEntry(d.slug, d.title, d.description) for d in dashboards()]


def page_scripts(folder: str | os.PathLike | None = None) -> list[Path]:
    """Write the index and one page script per dashboard into ``folder`` (default: a new temporary
    folder); ``panel serve`` names each page after its file."""
    out = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="workbench-pages-"))
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "index.py"]
    files[0].write_text(INDEX)
    for entry in catalog():
        path = out / f"{entry.slug}.py"
        path.write_text(PAGE.format(title=entry.title.replace('"', "'"), slug=entry.slug))
        files.append(path)
    return files


def host_names(port: int, allow_host: list[str] | None = None) -> list[str]:
    """The ``host:port`` names that requests may carry in their Host header (and websockets as origin)."""
    extra = list(allow_host or [])
    for name in extra:
        if name.strip() in ("*", "") or "*" in name:
            raise ValueError(f"allow_host must name a host, not a wildcard; got {name!r}")
    return [h if re.search(r":\d+$", h) else f"{h}:{port}" for h in [*LOCAL_HOSTS, *(e.strip() for e in extra)]]


def command(port: int = 5006, address: str = "localhost", show: bool = False,
            allow_websocket_origin: list[str] | None = None, threads: int = 2,
            pages: str | os.PathLike | None = None) -> list[str]:
    """The ``panel serve`` command line that serves the index and every dashboard.

    ``allow_websocket_origin``: further ``host[:port]`` names allowed as Host and origin (never a
    wildcard). ``threads``: Panel runs the sessions' widget callbacks on this many threads, so one
    session's event handling overlaps another's message writing (20 websocket sessions on
    2 cores, back to back: 46 instead of 26 updates/s, latency p95 0.52 s instead of 1.0 s).
    """
    if not 1 <= int(threads) <= 64:
        raise ValueError(f"threads must be in [1, 64], got {threads}")
    if not 1 <= int(port) <= 65535:
        raise ValueError(f"port must be in [1, 65535], got {port}")
    files = [str(p) for p in page_scripts(pages)]
    cmd = [sys.executable, "-m", "panel", "serve", *files, "--index", "index",
           "--port", str(port), "--address", address, "--num-procs", "1",
           "--setup", str(Path(__file__).with_name("server_setup.py")),
           "--num-threads", str(threads), "--check-unused-sessions", str(SESSION_CHECK_MS),
           "--unused-session-lifetime", str(SESSION_LINGER_MS)]
    for origin in host_names(port, allow_websocket_origin):
        if not origin.startswith("["):  # Bokeh takes no bracketed IPv6 origin; the Host check allows it
            cmd += ["--allow-websocket-origin", origin]
    if show:
        cmd.append("--show")
    return cmd


POOL_ENV = {"interactive": ("WORKBENCH_INTERACTIVE_WORKERS", 1, 64), "heavy": ("WORKBENCH_HEAVY_WORKERS", 1, 64),
            "per_session": ("WORKBENCH_HEAVY_PER_SESSION", 1, 64)}


def environment(port: int = 5006, allow_websocket_origin: list[str] | None = None,
                pools: dict[str, int | None] | None = None) -> dict[str, str]:
    """The server's environment: the allowed Host names for the set-up script's check, and the
    shared pools' sizes (:mod:`workbench.ui.fair`; None keeps the default)."""
    env = {**os.environ, HOSTS_ENV: ",".join(host_names(port, allow_websocket_origin))}
    for key, value in (pools or {}).items():
        name, lo, hi = POOL_ENV[key]
        if value is None:
            continue
        if not lo <= int(value) <= hi:
            raise ValueError(f"{key.replace('_', '-')} must be in [{lo}, {hi}], got {value}")
        env[name] = str(int(value))
    heavy = int(env.get("WORKBENCH_HEAVY_WORKERS", max(2, os.cpu_count() or 2)))
    if int(env.get("WORKBENCH_HEAVY_PER_SESSION", 1)) > heavy:
        raise ValueError(f"heavy-per-session must be at most heavy-workers ({heavy})")
    return env


def serve(pools: dict[str, int | None] | None = None, **kwargs) -> int:
    """Run ``panel serve`` in the foreground (Ctrl-C stops it)."""
    env = environment(kwargs.get("port", 5006), kwargs.get("allow_websocket_origin"), pools)
    cmd = command(**kwargs)
    print("serving on http://{}:{}/".format(kwargs.get("address", "localhost"), kwargs.get("port", 5006)),
          file=sys.stderr)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
