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
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import panel as pn

EXECUTOR = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="workbench")


BACKGROUND_NICE = 10  # niceness of the background worker thread (Linux: per thread; 0 = the server's own)


def _background_thread() -> None:
    """The background worker: one core for its compiled kernels (numba's setting is per thread),
    and a lower CPU priority, so that a refinement pass (e.g. a local entropy: 0.4 s at 256² on one core) yields the
    cores to the event loop and the interactive passes of every session instead of delaying them.
    Under the Linux scheduler a thread at nice 10 gets ~10 % of a core against one at nice 0 and
    all of an idle one."""
    try:
        import numba

        numba.set_num_threads(1)
    except ImportError:  # pragma: no cover - numba is a dependency
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or not permitted
        pass


# one worker for optional heavy passes (e.g. a refinement computed when a slider rests): shared by all
# sessions of the server, it never takes the workers that keep the interactive views fresh
BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-background", initializer=_background_thread)


def in_server() -> bool:
    """True inside a ``panel serve`` session (an event loop to schedule on)."""
    doc = pn.state.curdoc
    return doc is not None and getattr(doc, "session_context", None) is not None


class LatestRunner:
    """Run ``job(cancel)`` off the loop; deliver results; newest request wins.

    ``on_result(value)`` receives each finished job's result, ``on_error(exc)``
    its exception; ``on_busy(flag)`` toggles a busy indicator; ``executor`` is where
    served jobs run (default :data:`EXECUTOR`; :data:`BACKGROUND` for optional heavy passes). A job that is
    superseded before it started is never run.
    """

    def __init__(self, on_result: Callable[[Any], None],
                 on_error: Callable[[BaseException], None] | None = None,
                 on_busy: Callable[[bool], None] | None = None,
                 executor: ThreadPoolExecutor | None = None):
        self.on_result = on_result
        self.executor = executor or EXECUTOR
        self.on_error = on_error or (lambda exc: None)
        self.on_busy = on_busy or (lambda flag: None)
        self._pending: Callable[[threading.Event], Any] | None = None
        self._cancel = threading.Event()
        self._busy = False
        self._doc = None
        self._generation = 0
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

    def submit(self, job: Callable[[threading.Event], Any]) -> None:
        """Request ``job``; it supersedes any pending or running request."""
        if self._pending is not None:
            self.superseded += 1
        self._pending = job
        self._cancel.set()
        if self._busy:
            return
        if in_server():
            self._busy = True
            self._doc = pn.state.curdoc
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
            if generation == self._generation:
                fn(*args)

        self._doc.add_next_tick_callback(run)

    def _next(self) -> tuple[Callable[[threading.Event], Any], threading.Event, int]:
        job, self._pending = self._pending, None
        self._cancel = threading.Event()
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

    def _deliver(self, ok: bool, value: Any) -> None:
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

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        self.on_busy(True)
        try:
            while self._pending is not None:
                job, cancel, generation = self._next()
                try:
                    value, ok = await loop.run_in_executor(self.executor, job, cancel), True
                except Exception as exc:
                    value, ok = exc, False
                if self._doc is None:  # driven without a session (tests)
                    self._finish(generation, ok, value)
                else:  # views are updated under the document lock, like any widget callback
                    self._doc.add_next_tick_callback(partial(self._finish, generation, ok, value))
        finally:
            self._busy = False
            self.on_busy(False)
