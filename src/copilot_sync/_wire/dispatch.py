"""Ordered delivery of notifications on a thread of their own.

The reader thread puts items into an unbounded queue (it must never block); one
dispatcher thread per session (``copilot-events-<id>``), and one for client lifecycle
events (``copilot-lifecycle``), takes them out in arrival order and calls the deliver
function. A handler that raises is logged by the deliver function; a handler that hangs
delays only its own session.

A session's dispatcher thread belongs to that session for its whole life (``owner``):
it only runs that session's handlers and the SDK's own work for it, so it is marked as
running the session's handlers (:mod:`._reentrancy`), and a blocking call on the same
session from an ``on()`` handler or a done callback fails at once instead of hanging.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .reentrancy import EVENT, handler_scope

__all__ = ["EventDispatcher", "Subscribers"]

logger = logging.getLogger("copilot_sync.session")

_STOP = object()


class EventDispatcher:
    """One thread that delivers queued items, in order, to ``deliver``."""

    def __init__(self, name: str, deliver: Callable[[Any], None], *, owner: Any = None) -> None:
        self.name = name
        self._owner = (
            None if owner is None else weakref.ref(owner)
        )  # weak: the thread must not keep it alive
        self._deliver = deliver
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.put = self._queue.put  # the reader's hot path: a bound C method
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<EventDispatcher {self.name} queued={self._queue.qsize()}{' stopped' if self._stopped else ''}>"

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def in_dispatcher_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def _run(self) -> None:
        if self._owner is None:
            self._loop()
            return
        with handler_scope(self._owner, EVENT):
            self._loop()

    def _loop(self) -> None:
        get = self._queue.get
        deliver = self._deliver
        while True:
            item = get()
            if item is _STOP:
                return
            try:
                deliver(item)
            except BaseException:  # deliver logs handler errors itself; this is a last guard
                logger.exception("event delivery failed in %s", self.name)

    def stop(self, *, wait: float | None = 2.0) -> None:
        """Deliver what is queued, then end the thread. Never joins itself."""
        if self._stopped:
            return
        self._stopped = True
        self._queue.put(_STOP)
        if wait and not self.in_dispatcher_thread():
            self._thread.join(wait)

    def join(self, timeout: float | None = None) -> None:
        if not self.in_dispatcher_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


class Subscribers:
    """A copy-on-write list of handlers: cheap to iterate on the hot path, safe to change anywhere."""

    __slots__ = ("_items", "_lock")

    def __init__(self) -> None:
        self._items: tuple[Any, ...] = ()
        self._lock = threading.Lock()

    def add(self, item: Any) -> Callable[[], None]:
        with self._lock:
            self._items = (*self._items, item)

        def remove() -> None:
            self.remove(item)

        return remove

    def remove(self, item: Any) -> None:
        with self._lock:
            items = list(self._items)
            for index, existing in enumerate(items):
                if existing is item:
                    del items[index]
                    self._items = tuple(items)
                    return

    def clear(self) -> None:
        with self._lock:
            self._items = ()

    def snapshot(self) -> tuple[Any, ...]:
        return self._items

    def __len__(self) -> int:
        return len(self._items)
