"""Worker pools shared by every session of a server, taken in turn by the sessions.

A :class:`FairPool` keeps one queue per *owner* (a served session, or ``None`` outside a
server) and its worker threads take jobs round-robin over the owners that have work,
never running more than ``per_owner`` jobs of one owner at a time. One visitor who
starts the largest allowed jobs in a session therefore holds at most ``per_owner`` of
the pool's workers; the other sessions' jobs are taken in turn beside it, instead of
queueing behind everything that visitor asked for. :meth:`FairPool.drop` removes an
owner's queued jobs (its session has ended); the running ones are told to stop through
their cancel events by the runners that own them (see :class:`~workbench.ui.tasks.LatestRunner`).

Three pools serve the explorers (their sizes are settings of ``workbench serve``, read
from the environment when the server starts):

* :data:`INTERACTIVE`: what a slider or a text box asks for (milliseconds to a second);
* :data:`HEAVY`: what a *Run* button asks for (sweeps, many reconstructions, training),
  at a lower CPU priority so that the interactive work of every session comes first;
* :data:`BACKGROUND`: optional refinement passes (e.g. a local entropy once a slider rests),
  one worker on one core at a lower priority.

Interactive work first, under the GIL too. A lower CPU priority is not enough on its own: a
heavy job's Python code between its torch or numba calls holds the GIL, and every thread of
the server shares one GIL, so two heavy jobs took about two thirds of it from the event loop
and the interactive workers (a polite slider's p95 of 1–2 s beside two of the largest jobs).
So the jobs of the :data:`HEAVY` and :data:`BACKGROUND` pools get a :class:`CourteousEvent` as
their cancel event: each time a job checks it (once per step, as every long job does to be
cancellable), it first waits, without the GIL, while an interactive request is in flight
(:data:`IN_FLIGHT`: from its submission until its result is on the page), at most
:data:`PATIENCE` seconds per check, so heavy work still advances under a constant stream of
slider moves.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future
from typing import Any

LOW_PRIORITY_NICE = 10  # Linux: a thread at nice 10 gets ~10 % of a core against one at nice 0
PATIENCE = 0.25  # s a low-priority job waits per cancel check while interactive work is in flight
POLL = 0.005  # s between looks at the in-flight count while waiting (the GIL's own switch interval)


def _env_int(name: str, default: int, lo: int, hi: int) -> int:
    text = os.environ.get(name, "")
    try:
        value = int(text) if text.strip() else default
    except ValueError:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {text!r}") from None
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value}")
    return value


def lower_priority(single_core: bool = False) -> Callable[[], None]:
    """A thread initializer: nice the worker thread (Linux: per thread), and optionally keep its
    compiled (numba) kernels on one core, so that it yields the cores to the event loop and to the
    interactive work of every session."""
    def init() -> None:
        if single_core:
            try:
                import numba

                numba.set_num_threads(1)
            except ImportError:  # pragma: no cover - numba is a dependency
                pass
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOW_PRIORITY_NICE)
        except (AttributeError, OSError):  # pragma: no cover - not Linux, or not permitted
            pass
    return init


class InFlight:
    """A count of interactive requests between their submission and their result on the page."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self._n += 1

    def leave(self) -> None:
        with self._lock:
            self._n = max(0, self._n - 1)

    @property
    def busy(self) -> bool:
        return self._n > 0


IN_FLIGHT = InFlight()


class CourteousEvent(threading.Event):
    """A cancel event whose :meth:`is_set` first lets interactive work pass (module docstring).

    ``busy()``: whether to wait; waiting releases the GIL and ends early when the event is set."""

    def __init__(self, busy: Callable[[], bool] = lambda: IN_FLIGHT.busy, patience: float = PATIENCE):
        super().__init__()
        self._busy_now, self._patience = busy, patience

    def is_set(self) -> bool:
        if self._busy_now():
            deadline = time.monotonic() + self._patience
            while self._busy_now() and time.monotonic() < deadline:
                if self.wait(POLL):
                    break
        return super().is_set()


class FairPool:
    """``workers`` threads; per-owner FIFO queues served round-robin, ``per_owner`` running at most."""

    def __init__(self, workers: int, per_owner: int = 1, name: str = "workbench",
                 initializer: Callable[[], None] | None = None, courteous: bool = False):
        if not 1 <= workers <= 256:
            raise ValueError(f"workers must be in [1, 256], got {workers}")
        if not 1 <= per_owner <= workers:
            raise ValueError(f"per_owner must be in [1, workers={workers}], got {per_owner}")
        self.workers, self.per_owner, self.name = workers, per_owner, name
        self.courteous = courteous  # its jobs yield to interactive work (CourteousEvent)
        self._initializer = initializer
        self._queues: OrderedDict[Hashable, deque] = OrderedDict()
        self._running: dict[Hashable, int] = {}
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []

    # ---- submitting -------------------------------------------------------------------------------

    def submit(self, owner: Hashable, fn: Callable[..., Any], *args: Any) -> Future:
        """Queue ``fn(*args)`` for ``owner``; the returned future holds its value or exception."""
        future: Future = Future()
        with self._cond:
            self._queues.setdefault(owner, deque()).append((future, fn, args))
            self._start_threads()
            self._cond.notify()
        return future

    def executor(self, owner: Hashable) -> Executor:
        """An :class:`~concurrent.futures.Executor` whose jobs are ``owner``'s in this pool
        (for ``loop.run_in_executor``)."""
        return _OwnerExecutor(self, owner)

    def drop(self, owner: Hashable) -> int:
        """Cancel ``owner``'s queued jobs (not the running ones); returns how many were dropped."""
        with self._cond:
            queue = self._queues.pop(owner, deque())
        for future, _fn, _args in queue:
            future.cancel()
        return len(queue)

    def queued(self, owner: Hashable | None = None) -> int:
        """Jobs waiting (of ``owner``, or of everyone)."""
        with self._cond:
            if owner is not None:
                return len(self._queues.get(owner, ()))
            return sum(len(q) for q in self._queues.values())

    def running(self, owner: Hashable) -> int:
        with self._cond:
            return self._running.get(owner, 0)

    # ---- workers ----------------------------------------------------------------------------------

    def _start_threads(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _take(self) -> tuple[Hashable, Future, Callable[..., Any], tuple]:
        """The next job: the first owner in turn with queued work and a free slot; that owner then
        goes to the back of the turn."""
        with self._cond:
            while True:
                for owner, queue in self._queues.items():
                    if queue and self._running.get(owner, 0) < self.per_owner:
                        future, fn, args = queue.popleft()
                        if not queue:
                            del self._queues[owner]
                        else:
                            self._queues.move_to_end(owner)
                        if not future.set_running_or_notify_cancel():
                            break  # cancelled while queued: look again
                        self._running[owner] = self._running.get(owner, 0) + 1
                        return owner, future, fn, args
                else:
                    self._cond.wait()

    def _work(self) -> None:
        if self._initializer is not None:
            self._initializer()
        while True:
            owner, future, fn, args = self._take()
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # delivered to whoever waits on the future
                future.set_exception(exc)
            finally:
                with self._cond:
                    left = self._running[owner] - 1
                    if left:
                        self._running[owner] = left
                    else:
                        del self._running[owner]
                    self._cond.notify_all()


class _OwnerExecutor(Executor):
    def __init__(self, pool: FairPool, owner: Hashable):
        self.pool, self.owner = pool, owner

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if kwargs:
            return self.pool.submit(self.owner, lambda: fn(*args, **kwargs))
        return self.pool.submit(self.owner, fn, *args)


_CORES = os.cpu_count() or 2
INTERACTIVE = FairPool(_env_int("WORKBENCH_INTERACTIVE_WORKERS", max(2, _CORES), 1, 64),
                       per_owner=1, name="workbench")
HEAVY = FairPool(_env_int("WORKBENCH_HEAVY_WORKERS", max(2, _CORES), 1, 64),
                 per_owner=_env_int("WORKBENCH_HEAVY_PER_SESSION", 1, 1, 64), name="workbench-heavy",
                 initializer=lower_priority(), courteous=True)
BACKGROUND = FairPool(1, per_owner=1, name="workbench-background", initializer=lower_priority(single_core=True),
                      courteous=True)
POOLS = {"interactive": INTERACTIVE, "heavy": HEAVY, "background": BACKGROUND}
