"""The one place that reads Panel's, Bokeh's and Tornado's internals, and why.

:func:`writes_idle` decides whether a :class:`~workbench.ui.live_image.LiveImage` update (the
image, its contours, colour range and title) may go out as one patch message under Panel's
public ``hold()``. Panel then sends the held batch at once if nothing is being written to the
session's socket, and otherwise queues it behind the write and retries; under a saturated
server (20 sessions updating back to back on 2 cores) a batch queued that way waited for the
session's next change (seconds). So a batch is held only when the socket is idle; otherwise
the changes go out one message each, in order, which is always correct. What it buys: one
websocket message per map update instead of four (image, contours, colour range, title), one
of the changes with which ``benchmarks/load_test.py`` (20 sessions, 1 s pauses, 2 cores) met its
p95 < 250 ms goal (README, load test). No public API says whether a session's socket is
busy: this reads

* ``panel.io.document._WRITE_BLOCK`` and ``_WRITE_MSGS`` (Panel's own per-document write queue),
* ``doc.session_context._session._subscribed_connections`` (Bokeh's connections of a session),
* ``connection._socket.write_lock._block._value`` (Tornado's websocket write lock).

:func:`probe` reports which of them are present for a served document; a test runs it against
a real served session and fails loudly when a Panel, Bokeh or Tornado release changes them.
Where one is missing, :func:`writes_idle` answers "busy" (one message per change).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any


def _connections(doc: Any) -> tuple[Any, ...] | None:
    session = getattr(getattr(doc, "session_context", None), "_session", None)
    if session is None:
        return None
    return tuple(getattr(session, "_subscribed_connections", ()))


def probe(doc: Any) -> dict[str, bool]:
    """Which of the internals :func:`writes_idle` reads exist for ``doc`` (a served document
    with a connected websocket: every value should be True)."""
    out = {}
    try:
        from panel.io.document import _WRITE_BLOCK, _WRITE_MSGS  # noqa: F401

        out["panel write queue"] = isinstance(_WRITE_BLOCK, MutableMapping) and isinstance(_WRITE_MSGS, MutableMapping)
    except ImportError:
        out["panel write queue"] = False
    conns = _connections(doc)
    out["bokeh session connections"] = bool(conns)
    locks = [getattr(getattr(c, "_socket", None), "write_lock", None) for c in conns or ()]
    out["tornado write lock"] = bool(locks) and all(
        hasattr(getattr(lock, "_block", None), "_value") for lock in locks)
    return out


def writes_idle(doc: Any) -> bool:
    """True when nothing is being written to this session's sockets (see the module docstring)."""
    try:
        from panel.io.document import _WRITE_BLOCK, _WRITE_MSGS

        if doc in _WRITE_MSGS or doc in _WRITE_BLOCK:
            return False
        for conn in _connections(doc) or ():
            lock = getattr(conn._socket, "write_lock", None)
            if lock is not None and lock._block._value == 0:
                return False
    except (ImportError, AttributeError, TypeError):
        return False
    return True


