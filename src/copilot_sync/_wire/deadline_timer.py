"""The timer behind ``send_async`` timeouts: one thread (``copilot-deadlines``) for the
whole process, alive only while a deadline is pending. A callback only queues work (on a
session's event thread), so one slow session never delays another's timeout."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["deadlines"]

logger = logging.getLogger("copilot_sync.session")


class _Deadlines:
    """One timer thread for every ``send_async`` timeout (``copilot-deadlines``). It runs
    only while a deadline is pending. Callbacks must be quick: they only queue work."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[list[Any]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, delay: float, fn: Callable[[], None]) -> list[Any]:
        entry = [time.monotonic() + delay, next(self._order), fn]
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="copilot-deadlines", daemon=True
                )
                self._thread.start()
            else:
                self._cond.notify()
        return entry

    def cancel(self, entry: list[Any]) -> None:
        with self._cond:
            if entry[2] is None:
                return
            entry[2] = None
            try:
                self._heap.remove(entry)
            except ValueError:
                return
            heapq.heapify(self._heap)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if not self._heap:
                        self._thread = None
                        return
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        entry = heapq.heappop(self._heap)
                        fn, entry[2] = entry[2], None
                        break
                    self._cond.wait(delay)
            if fn is None:
                continue
            try:
                fn()
            except Exception:
                logger.exception("a send_async timeout could not be handled")


#: The process-wide timer of every ``send_async`` timeout.
deadlines = _Deadlines()
