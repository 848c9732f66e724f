"""The bounded pool of named worker threads that runs user handlers.

Tools, hooks, permission, user-input, command, elicitation and system-message-transform
handlers, and every answer to a server-to-client request, run here, never on the
reader thread. Threads are started on demand up to ``max_workers`` and named
``copilot-worker-<n>`` (``copilot-worker-<client>-<n>`` for a process's second and later
clients). Work waits in a bounded queue; when the queue is full a submitter blocks
(back-pressure) with a logged warning, except the reader thread, which must never block:
its jobs (answers to the CLI's direct requests, whose number the CLI itself bounds) are
queued past the bound. Nothing is dropped while the pool runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_MAX_WORKERS", "WorkerPool", "check_max_workers"]

logger = logging.getLogger("copilot_sync.workers")

DEFAULT_MAX_WORKERS = 16


def check_max_workers(max_workers: object) -> int:
    """``max_workers`` as a positive int (``None`` means the default); ``ValueError`` otherwise."""
    if max_workers is None:
        return DEFAULT_MAX_WORKERS
    if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
        raise ValueError(f"max_workers must be a positive integer, not {max_workers!r}")
    return max_workers


class WorkerPool:
    """A fixed-size pool of daemon threads fed by a bounded FIFO queue."""

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        queue_size: int | None = None,
        name: str = "copilot-worker",
    ) -> None:
        max_workers = check_max_workers(max_workers)
        self.max_workers = max_workers
        self.queue_size = queue_size if queue_size is not None else max(1024, 64 * max_workers)
        self._jobs: deque[Any] = deque()
        self._name = name
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._has_jobs = threading.Condition(self._lock)
        self._has_room = threading.Condition(self._lock)
        self._shutdown = False
        self._saturated_warned = False

    def __repr__(self) -> str:
        return (
            f"<WorkerPool {self._name} workers={len(self._threads)}/{self.max_workers} "
            f"queued={len(self._jobs)}{' shut down' if self._shutdown else ''}>"
        )

    @property
    def pending(self) -> int:
        """How many submitted jobs are waiting for a worker."""
        return len(self._jobs)

    @property
    def busy(self) -> int:
        """How many workers are running a job right now."""
        return len(self._threads) - self._idle

    def submit(self, fn: Callable[..., Any], *args: Any, wait: bool = True) -> bool:
        """Queue ``fn(*args)``. Returns False (and logs) if the pool is shut down.

        When the queue is full, waits for room (``wait=True``) or queues the job anyway
        (``wait=False``: for the reader thread, which must never block). Either way the
        job is not dropped and a warning is logged.
        """
        with self._lock:
            if self._shutdown:
                logger.warning("worker pool is shut down; dropped %r", fn)
                return False
            if self._idle <= len(self._jobs):
                if len(self._threads) < self.max_workers:
                    self._start_worker()
                elif not self._saturated_warned:
                    self._saturated_warned = True
                    logger.warning(
                        "all %d workers are busy; new work waits in the queue (raise max_workers if this persists)",
                        self.max_workers,
                    )
            if len(self._jobs) >= self.queue_size:
                if wait:
                    logger.warning(
                        "worker queue is full (%d jobs); waiting for a free slot", self.queue_size
                    )
                    while len(self._jobs) >= self.queue_size and not self._shutdown:
                        self._has_room.wait(0.5)
                    if self._shutdown:
                        logger.warning("worker pool shut down while waiting; dropped %r", fn)
                        return False
                else:
                    logger.warning(
                        "worker queue is full (%d jobs); queued one more from a thread that cannot wait",
                        self.queue_size,
                    )
            self._jobs.append((fn, args))
            self._has_jobs.notify()
        return True

    def _start_worker(self) -> None:
        thread = threading.Thread(
            target=self._run, name=f"{self._name}-{len(self._threads) + 1}", daemon=True
        )
        self._threads.append(thread)
        self._idle += 1
        thread.start()

    def _run(self) -> None:
        jobs = self._jobs
        while True:
            with self._lock:
                while not jobs and not self._shutdown:
                    self._has_jobs.wait()
                if self._shutdown:
                    return
                fn, args = jobs.popleft()
                self._idle -= 1
                self._has_room.notify()
            try:
                fn(*args)
            except BaseException:  # a user's bug must never kill a worker
                logger.exception("unhandled error in worker job %r", fn)
            finally:
                fn = args = None
                with self._lock:
                    self._idle += 1
                    if self._idle == len(self._threads) and not jobs:
                        self._saturated_warned = False

    def shutdown(self, *, wait: float | None = 5.0) -> None:
        """Stop accepting work, drop queued jobs that never started, let workers finish
        their current job, and join them.

        Never joins the calling thread (a handler may stop its own client). Workers stuck
        in a hung handler are daemon threads and are left behind after ``wait`` seconds.
        """
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            dropped = len(self._jobs)
            self._jobs.clear()
            threads = list(self._threads)
            self._has_jobs.notify_all()
            self._has_room.notify_all()
        if dropped:
            logger.debug("worker pool shut down with %d queued jobs not started", dropped)
        if wait is None:
            return
        current = threading.current_thread()
        deadline = time.monotonic() + wait
        for thread in threads:
            if thread is current:
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            thread.join(remaining)
        stuck = [t.name for t in threads if t.is_alive() and t is not current]
        if stuck:
            logger.warning("worker threads still busy after shutdown: %s", ", ".join(stuck))
