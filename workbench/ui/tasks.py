"""Long work off the event loop, latest request wins.

:class:`LatestRunner` is the pattern every widget uses for heavy work: a
request is run in a worker thread (torch releases the GIL), the page stays
responsive, and a newer request supersedes a stale one: requests that
arrive while one is running replace each other, so only the latest is
computed next, and the running job is told to stop through the ``cancel``
event it receives (jobs that check it finish early and keep what they have, or
raise ``InterruptedError``, which is not reported as an error).

In a served app the work is scheduled on the session's event loop with
``pn.state.execute``; outside a server (a notebook cell, a test) it runs
synchronously, with the same callbacks.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError
from functools import partial
from typing import Any

import panel as pn

from .fair import BACKGROUND, HEAVY, IN_FLIGHT, INTERACTIVE, CourteousEvent, FairPool

__all__ = ["BACKGROUND", "HEAVY", "INTERACTIVE", "LatestRunner", "in_server"]
LOG = logging.getLogger("workbench")


def in_server() -> bool:
    """True inside a ``panel serve`` session (an event loop to schedule on)."""
    doc = pn.state.curdoc
    return doc is not None and getattr(doc, "session_context", None) is not None


class LatestRunner:
    """Run ``job(cancel)`` off the loop; deliver results; newest request wins.

    ``on_result(value)`` receives each finished job's result, ``on_error(exc)``
    its exception; ``on_busy(flag)`` toggles a busy indicator; ``pool`` is the shared
    :class:`~workbench.ui.fair.FairPool` where served jobs run, as the session's own
    (default :data:`INTERACTIVE`; :data:`HEAVY` for Run-button work, :data:`BACKGROUND` for
    optional refinement passes). A job that is superseded before it started is never run.
    :meth:`close` (the session has ended) cancels the running job, drops the queued one and
    stops every delivery to the page.
    """

    def __init__(self, on_result: Callable[[Any], None],
                 on_error: Callable[[BaseException], None] | None = None,
                 on_busy: Callable[[bool], None] | None = None,
                 pool: FairPool | None = None):
        self.on_result = on_result
        self.pool = pool or INTERACTIVE
        self.on_error = on_error or (lambda exc: None)
        self.on_busy = on_busy or (lambda flag: None)
        self._pending: Callable[[threading.Event], Any] | None = None
        self._cancel = threading.Event()
        self._busy = False
        self._doc = None
        self._owner = None
        self._closed = False
        self._closed_at = 0.0
        self._generation = 0
        self._handed_over = 0  # interactive results scheduled on the loop, still counted in flight
        self.completed = 0
        self.superseded = 0

    @property
    def busy(self) -> bool:
        return self._busy

    def cancel(self) -> None:
        """Ask the running job to stop and drop any pending one."""
        if self._pending is not None:
            self.superseded += 1
        self._pending = None
        self._cancel.set()

    def close(self) -> None:
        """The session has ended: stop the running job, drop the rest, deliver nothing more."""
        self._closed = True
        self._closed_at = time.monotonic()
        self.cancel()
        for _ in range(self._handed_over):  # deliveries the ended session's loop may never run
            IN_FLIGHT.leave()
        self._handed_over = 0
        dropped = self.pool.drop(self._owner)
        if self._busy or dropped:
            LOG.warning("workbench: session ended: its running job was told to stop, %d queued job(s) dropped",
                        dropped)

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, job: Callable[[threading.Event], Any]) -> None:
        """Request ``job``; it supersedes any pending or running request."""
        if self._closed:
            return
        if self._pending is not None:
            self.superseded += 1
        self._pending = job
        self._cancel.set()
        if self._busy:
            return
        if in_server():
            self._busy = True
            self._doc = self._owner = pn.state.curdoc
            pn.state.execute(self._drain)
        else:
            self._run_sync()

    def post(self, fn: Callable[..., None], *args: Any) -> None:
        """From inside a job: run ``fn(*args)`` (a partial-result view update) on the session's loop.

        Views that render new plot models must not be touched from the worker thread;
        outside a server ``fn`` runs at once. An update posted by a job is dropped if
        its job has finished or been superseded by the time it runs.
        """
        if self._doc is None:
            fn(*args)
            return
        generation = self._generation

        def run() -> None:
            if generation == self._generation and not self._closed:
                fn(*args)

        self._schedule(run)

    def _schedule(self, fn: Callable[[], None]) -> bool:
        """Run ``fn`` on the session's loop, unless the session has ended; whether it was scheduled."""
        if self._closed:
            return False
        try:
            self._doc.add_next_tick_callback(fn)
        except (AttributeError, RuntimeError):  # the document was destroyed meanwhile
            self._closed = True
            return False
        return True

    def _next(self) -> tuple[Callable[[threading.Event], Any], threading.Event, int]:
        job, self._pending = self._pending, None
        self._cancel = CourteousEvent() if self.pool.courteous else threading.Event()
        self._generation += 1
        return job, self._cancel, self._generation

    def _finish(self, generation: int, ok: bool, value: Any) -> None:
        # this job's updates posted but not yet run are stale now, unless a newer job already
        # took a new generation (its own posts must survive this job's late delivery)
        if generation == self._generation:
            self._generation += 1
        self.completed += 1
        if not ok and isinstance(value, InterruptedError):
            return  # a job that stopped on its cancel event: superseded, nothing to show
        self._deliver(ok, value)

    def _finish_in_flight(self, generation: int, ok: bool, value: Any, counted: bool) -> None:
        try:
            self._finish(generation, ok, value)
        finally:
            if counted and self._handed_over:
                self._handed_over -= 1
                IN_FLIGHT.leave()

    def _deliver(self, ok: bool, value: Any) -> None:
        if self._closed:
            return
        try:
            (self.on_result if ok else self.on_error)(value)
        except Exception as exc:  # a broken view must not kill the session
            if ok:
                self.on_error(exc)

    def _run_sync(self) -> None:
        self._busy = True
        self.on_busy(True)
        try:
            while self._pending is not None:
                job, cancel, generation = self._next()
                try:
                    value, ok = job(cancel), True
                except Exception as exc:
                    value, ok = exc, False
                self._finish(generation, ok, value)
        finally:
            self._busy = False
            self.on_busy(False)

    def _show_busy(self, flag: bool) -> None:
        """The busy indicator, changed on the session's loop under its document lock: :meth:`_drain` runs
        outside the lock, and a model changed there can break the session's pending writes (Bokeh raises
        "_pending_writes should be non-None when we have a document lock")."""
        if self._doc is None:  # driven without a session (tests)
            self.on_busy(flag)
        else:
            self._schedule(partial(self.on_busy, flag))

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        self._show_busy(True)
        try:
            while self._pending is not None and not self._closed:
                job, cancel, generation = self._next()
                counted = not self.pool.courteous  # interactive: in flight until its result is on the page
                handed_over = False
                if counted:
                    IN_FLIGHT.enter()
                try:
                    try:
                        value, ok = await loop.run_in_executor(self.pool.executor(self._owner), job, cancel), True
                    except (CancelledError, asyncio.CancelledError):  # dropped from the queue: the session ended
                        break
                    except Exception as exc:
                        value, ok = exc, False
                    if self._closed:
                        LOG.warning("workbench: a job of an ended session stopped %.1f s after the session ended",
                                    time.monotonic() - self._closed_at)
                        break
                    if self._doc is None:  # driven without a session (tests)
                        self._finish(generation, ok, value)
                    else:  # views are updated under the document lock, like any widget callback
                        handed_over = self._schedule(partial(self._finish_in_flight, generation, ok, value, counted))
                        if counted and handed_over:
                            self._handed_over += 1
                finally:
                    if counted and not handed_over:
                        IN_FLIGHT.leave()
        finally:
            self._busy = False
            if not self._closed:
                self._show_busy(False)
