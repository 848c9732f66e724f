"""``idle_timeout=``: give up on a turn only once its session has gone quiet.

A fixed ``timeout`` also ends a long turn that is busy all the way. ``idle_timeout=s``
(``send_and_wait``, ``stream``, ``send_and_collect``, ``send_async``) fails the call only
when no event of the session has arrived for ``s`` seconds:

* the clock starts when the turn's message is sent, not while it waits in the session's
  queue of turns;
* every event the reader thread receives for the session winds it back (any type,
  sub-agents' and ephemeral ones included), and so does every moment one of the
  session's own handlers runs (a tool, a permission request, user input, a hook...):
  the CLI waits for those, and a slow tool is not a silent CLI;
* when it fires, the caller gets :class:`CopilotTimeoutError` saying so and, as with
  ``timeout``, the turn goes on (``session.abort()`` stops it; the next queued turn is
  sent when it ends). With both, whichever comes first wins.

Activity is sampled, not pushed, so the reader thread's hot path stays one increment:
whoever waits compares the session's event count (``QueueSession.received``) every
``step`` seconds (a quarter of the idle time, from 50 ms to 1 s). The timeout therefore
fires between ``s`` and ``s + step`` seconds after the last event, never before. A
blocking caller samples while it waits; a ``send_async`` turn is sampled by the shared
``copilot-deadlines`` timer, on the session's event thread.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from ._errors import CopilotTimeoutError
from ._turns import running_timeout
from ._wire.reentrancy import handlers_running
from ._wire.timeouts import WAIT_SLICE, Deadline, wait_interruptibly

__all__ = ["IdleTimeout", "wait_turn"]

_monotonic = time.monotonic


class _Counter(Protocol):
    @property
    def received(self) -> int: ...


class IdleTimeout:
    """The idle clock of one turn (see the module docstring). Started by the queue when
    the turn's message is sent; sampled by one thread at a time (the waiting caller, a
    stream's consumer, or the event thread for ``send_async``)."""

    __slots__ = ("count", "counter", "end", "fired", "limit", "session", "since", "step", "timeout")

    def __init__(self, timeout: float, session: Any) -> None:
        self.timeout: float = timeout
        self.session: Any = session  # whose running handlers count as activity
        self.step: float = min(max(timeout / 4, 0.05), 1.0)
        self.counter: _Counter | None = None
        self.count: int = 0
        self.since: float | None = None  # the last sign of activity; None until sent
        self.limit: float | None = None  # send_async's timeout, which also counts from the send
        self.end: float | None = None
        self.fired: bool = False

    def __repr__(self) -> str:
        state = "not started" if self.since is None else ("fired" if self.fired else "running")
        return f"<IdleTimeout {self.timeout:g}s {state}>"

    def start(self, counter: _Counter, limit: float | None = None) -> float:
        """The message is being sent: start the clock (and ``limit``, ``send_async``'s own
        timeout). Returns when to sample first."""
        now = _monotonic()
        self.counter = counter
        self.count = counter.received
        self.limit = limit
        self.end = None if limit is None else now + limit
        self.since = now  # last: a sampler that sees it set sees the rest
        return self.step if limit is None else min(self.step, limit)

    def left(self) -> float | None:
        """Seconds until it fires (``<= 0``: it has), sampling activity; ``None`` while the
        message has not been sent."""
        since = self.since
        counter = self.counter
        if since is None or counter is None:
            return None
        now = _monotonic()
        count = counter.received
        if count != self.count or handlers_running(self.session):
            self.count = count
            self.since = since = now
        return since + self.timeout - now

    def check(self) -> CopilotTimeoutError | float:
        """``send_async``'s timer: the error to fail the future with (its ``timeout`` or
        this one), or how many seconds to wait before sampling again."""
        end = self.end
        if end is not None and _monotonic() >= end:
            return running_timeout(self.limit)
        left = self.left()
        if left is None:  # not started: cannot happen once armed
            return self.step
        if left <= 0:
            self.fired = True
            return self.error()
        wait = min(self.step, left)
        if end is not None:
            wait = min(wait, end - _monotonic())
        return max(wait, 0.001)

    def error(self) -> CopilotTimeoutError:
        return CopilotTimeoutError(
            f"Idle timeout: no event from the session for {self.timeout:g}s (idle_timeout) while "
            "waiting for session.idle: the turn is still running on the CLI (nothing was aborted; "
            "call session.abort() to stop it)"
        )


def wait_turn(signal: Any, deadline: Deadline, idle: IdleTimeout | None) -> bool:
    """Acquire ``signal`` (a held lock, released once with the outcome) before ``deadline``
    passes and before ``idle`` fires. ``False`` if one of them came first (``idle.fired``
    then says which). Sliced like :func:`wait_interruptibly`, so Ctrl-C gets through."""
    if idle is None:
        return wait_interruptibly(signal, deadline.remaining())
    while True:
        remaining = deadline.remaining()
        if remaining is not None and remaining <= 0:
            return bool(signal.acquire(blocking=False))
        left = idle.left()
        if left is not None and left <= 0:
            if signal.acquire(blocking=False):
                return True
            idle.fired = True
            return False
        wait = WAIT_SLICE if remaining is None else min(remaining, WAIT_SLICE)
        if left is not None:
            wait = min(wait, idle.step, left)
        if signal.acquire(timeout=max(wait, 0.001)):
            return True
