"""A bounded first-in-first-out line of whole jobs in front of one worker thread, shared by every session.

Each job runs to its end before the next starts (FIFO over whole jobs: with N people at once the last one
waits for N jobs, and everyone before them finishes earlier, instead of everyone finishing late as when
pages of all jobs interleave). A caller holds a ``Ticket``: its place in line, the fraction its job has
reported, its result. Past ``limit`` jobs (queued or running) a new one is refused with ``QueueFull``.
No Streamlit import: the page polls the ticket and draws.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Generic, TypeVar

T = TypeVar("T")


class QueueFull(RuntimeError):
    """The line already holds ``limit`` jobs."""


class Cancelled(Exception):
    """Raised inside a job (by its ``report``) once its ticket was cancelled: the job stops at its next report."""


class Ticket(Generic[T]):
    """One job in the line: ``ahead()`` is the number of jobs before it, ``fraction``/``text`` what it last
    reported, ``result()`` its return value (or its exception)."""

    def __init__(self, line: JobQueue) -> None:
        self._line = line
        self.future: Future[T] | None = None
        self.fraction, self.text = 0.0, ""
        self.started = self.cancelled = False

    def ahead(self) -> int:
        """Jobs before this one (the running one included); 0 once it runs or is done."""
        return self._line._ahead(self)

    def report(self, fraction: float, text: str = "") -> None:
        """Called by the job (on the worker thread): its progress in [0, 1] and a short line for people."""
        if self.cancelled:
            raise Cancelled()
        self.fraction, self.text = fraction, text or self.text

    def wait(self, poll: float = 0.25, update: Callable[[Ticket[T]], None] | None = None,
             keep: tuple[type[BaseException], ...] = ()) -> T:
        """Block until the job ends and return its result, calling ``update(self)`` every ``poll`` seconds.

        Leaving early (an exception in ``update``, e.g. Streamlit stopping the script) cancels the job: taken
        out of the line if it has not started, stopped at its next ``report`` if it has; except for the
        exception types in ``keep`` (e.g. a rerun that will wait on this ticket again), which keep its place."""
        assert self.future is not None
        try:
            while True:
                try:
                    return self.future.result(timeout=poll)
                except TimeoutError:
                    if update:
                        update(self)
        except keep:
            raise
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Give up this job (no effect once it has finished)."""
        self.cancelled = True
        if self.future is not None and self.future.cancel():
            self._line._leave(self)


class JobQueue:
    """Whole jobs, one at a time and in order, on ``executor`` (a one-thread executor), at most ``limit`` held."""

    def __init__(self, executor: Executor, limit: int) -> None:
        self._executor, self.limit = executor, limit
        self._lock = threading.Lock()
        self._line: list[Ticket] = []  # queued and running, oldest first

    def __len__(self) -> int:
        with self._lock:
            return len(self._line)

    def submit(self, job: Callable[[Ticket[T]], T]) -> Ticket[T]:
        """Put ``job(ticket)`` at the end of the line; ``QueueFull`` when ``limit`` jobs are already held."""
        ticket: Ticket[T] = Ticket(self)
        with self._lock:
            if len(self._line) >= self.limit:
                raise QueueFull(f"{len(self._line)} jobs are already waiting")
            self._line.append(ticket)
            ticket.future = self._executor.submit(self._run, job, ticket)
        return ticket

    def _run(self, job: Callable[[Ticket[T]], T], ticket: Ticket[T]) -> T:
        ticket.started = True
        try:
            if ticket.cancelled:
                raise Cancelled()
            return job(ticket)
        finally:
            self._leave(ticket)

    def _leave(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket in self._line:
                self._line.remove(ticket)

    def _ahead(self, ticket: Ticket) -> int:
        with self._lock:
            if ticket.started or ticket not in self._line:
                return 0
            return self._line.index(ticket)
