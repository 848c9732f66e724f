"""Waiting for a turn to end: the ``send_and_wait`` waiter and the ``stream`` iterator.

Both subscribe to the session *before* the message is sent (PROTOCOL §7) and see events
on the session's event thread in two steps: ``observe`` (before user handlers run) notes
the outcome, ``release`` (after they ran) wakes the caller. So when ``send_and_wait``
returns, every ``on()`` handler has already seen the ``session.idle`` that ended it, and
a handler that disconnects the session on that idle does not spoil the result.

Stale events of an earlier turn must not end this one. So events already received when
the subscription started (``seq <= baseline``) are ignored, and a ``session.idle`` ends
the turn only once the turn has started: its ``user.message`` was seen, or an ``abort``
arrived after the CLI accepted the send (an aborted message may never get a
``user.message``). This matters after ``abort()``: the aborted turn's idle can arrive
after the next ``send`` subscribed. Events of sub-agents (with an ``agentId``) never end
or answer a turn.

Also here: ``_TurnEnd`` (when the CLI is done with a send's turn, for ``wait_for_idle`` and
the ``send_async`` queue in ``_futures.py``) and ``_TextCollector`` (``send_and_collect``).
"""

from __future__ import annotations

import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Iterator

from ._timeouts import WAIT_SLICE, wait_interruptibly
from ._errors import CopilotTimeoutError, SessionError

if TYPE_CHECKING:
    from ._events import SessionEvent

__all__ = ["TurnWaiter", "EventStream", "TurnAbortedError", "session_error_from"]


class TurnAbortedError(SessionError):
    """The turn ended with an aborted ``session.idle`` (``abort()`` was called) before it completed."""


def session_error_from(event: SessionEvent) -> SessionError:
    data = event.raw.get("data")
    message = data.get("message") if isinstance(data, dict) else None
    return SessionError(f"Session error: {message or 'unknown error'}", event=event)


_NOT_SENT = float("inf")


class _TurnTracker:
    """Decides which events belong to the turn of one send (see the module docstring)."""

    __slots__ = ("baseline", "sent_seq", "started")

    def __init__(self, baseline: int) -> None:
        self.baseline = baseline
        self.sent_seq: float = _NOT_SENT  # events received by the time the send RPC returned
        self.started = False

    def mark_sent(self, received: int) -> None:
        self.sent_seq = received

    def feed(self, seq: int, event: SessionEvent) -> BaseException | bool | None:
        """Record one event; return the turn's outcome if this event ends the turn.

        Returns ``False`` for an event that is not part of this turn at all.
        """
        if seq <= self.baseline:
            return False
        if event.agent_id:
            return None
        raw_type = event.raw_type
        if raw_type == "user.message" or (raw_type == "abort" and seq > self.sent_seq):
            self.started = True
        elif raw_type == "session.idle" and not self.started:
            return False  # the idle of an earlier turn
        return _outcome_of(event)


def _outcome_of(event: SessionEvent) -> BaseException | bool | None:
    """True when the event ends the turn normally; an exception when it ends it badly."""
    raw_type = event.raw_type
    if raw_type == "session.idle":
        data = event.raw.get("data")
        if isinstance(data, dict) and data.get("aborted"):
            return TurnAbortedError("the turn was aborted before it completed", event=event)
        return True
    if raw_type == "session.error":
        return session_error_from(event)
    return None


class TurnWaiter:
    """The subscription behind ``send_and_wait``."""

    __slots__ = ("tracker", "_signal", "_lock", "last", "last_with_text", "outcome", "_woken")

    def __init__(self, baseline: int) -> None:
        self.tracker = _TurnTracker(baseline)
        self._signal = threading.Lock()
        self._signal.acquire()
        self._lock = threading.Lock()
        self.last: SessionEvent | None = None
        self.last_with_text: SessionEvent | None = None
        self.outcome: BaseException | bool | None = None
        self._woken = False

    def observe(self, seq: int, event: SessionEvent) -> None:
        if self.outcome is not None:
            return
        outcome = self.tracker.feed(seq, event)
        if outcome is False or event.agent_id:
            return
        if event.raw_type == "assistant.message":
            if not self.tracker.started:
                return  # a late message of an earlier turn
            self.last = event
            data = event.raw.get("data")
            if isinstance(data, dict) and data.get("content"):
                self.last_with_text = event
            return
        if outcome is not None:
            with self._lock:
                if self.outcome is None:
                    self.outcome = outcome

    def release(self, seq: int, event: SessionEvent) -> None:
        if self.outcome is not None:
            self._wake()

    def fail(self, error: BaseException) -> None:
        """End the wait from outside the event thread (connection lost, session closed)."""
        with self._lock:
            if self.outcome is None:
                self.outcome = error
        self._wake()

    def fail_pending(self, error: BaseException) -> None:
        """Like :meth:`fail`, but a wait whose outcome is already decided ends normally (its
        release comes after the event's handlers, as usual)."""
        with self._lock:
            if self.outcome is not None:
                return
            self.outcome = error
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            if self._woken:
                return
            self._woken = True
        self._signal.release()

    def wait(self, timeout: float | None) -> SessionEvent | None:
        if not wait_interruptibly(self._signal, timeout):
            raise CopilotTimeoutError(f"Timeout after {timeout}s waiting for session.idle")
        outcome = self.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return self.last_with_text or self.last


class _TurnEnd:
    """Whether the CLI has finished the turn of one send: for ``wait_for_idle`` and for
    the ``send_async`` queue (which sends the next prompt only then).

    Unlike :class:`_TurnTracker` it ignores the outcome and waits for the turn's own
    ``session.idle``, also after a ``session.error``. The turn has started with its
    ``user.message`` or ``assistant.turn_start``, or with an ``abort`` or
    ``session.error`` received after the CLI accepted the send; an idle before that is
    an earlier turn's. Sub-agent events do not count.
    """

    __slots__ = ("baseline", "sent_seq", "started", "ended")

    def __init__(self, baseline: int) -> None:
        self.baseline = baseline
        self.sent_seq: float = _NOT_SENT
        self.started = False
        self.ended = False

    def feed(self, seq: int, event: SessionEvent) -> None:
        if self.ended or seq <= self.baseline or event.agent_id:
            return
        raw_type = event.raw_type
        if raw_type == "session.idle":
            if self.started:
                self.ended = True
        elif raw_type in _TURN_STARTS or (raw_type in _LATE_STARTS and seq > self.sent_seq):
            self.started = True


_TURN_STARTS = frozenset({"user.message", "assistant.turn_start"})
_LATE_STARTS = frozenset({"abort", "session.error"})


class _TextCollector:
    """``send_and_collect``'s view of one turn's events (from :class:`EventStream`).

    Text goes to ``on_text`` once per character: every ``assistant.message_delta`` as it
    comes, then, for each ``assistant.message``, whatever part of its ``content`` its
    deltas (matched by ``messageId``) did not already deliver; all of it when streaming
    is off. Only top-level messages count: events with an ``agentId`` or a
    ``parentToolCallId`` belong to sub-agents. As in ``send_and_wait``, text before the
    turn's ``user.message`` is a late part of an earlier turn and is ignored.
    """

    __slots__ = ("on_text", "delivered", "started", "last", "last_with_text")

    def __init__(self, on_text: Any) -> None:
        self.on_text = on_text
        self.delivered: dict[Any, int] = {}  # messageId -> characters already given to on_text
        self.started = False
        self.last: str | None = None
        self.last_with_text: str | None = None

    def feed(self, event: SessionEvent) -> None:
        if event.agent_id:
            return
        raw_type = event.raw_type
        if raw_type == "user.message":
            self.started = True
            return
        if not self.started or raw_type not in ("assistant.message_delta", "assistant.message"):
            return
        data = event.raw.get("data")
        if not isinstance(data, dict) or data.get("parentToolCallId"):
            return
        key = data.get("messageId")
        done = self.delivered.get(key, 0)
        if raw_type == "assistant.message_delta":
            chunk = data.get("deltaContent")
            if isinstance(chunk, str) and chunk:
                self.delivered[key] = done + len(chunk)
                self._emit(chunk)
            return
        content = data.get("content")
        content = content if isinstance(content, str) else ""
        self.last = content
        if content:
            self.last_with_text = content
        if len(content) > done:
            self.delivered[key] = len(content)
            self._emit(content[done:])

    def _emit(self, chunk: str) -> None:
        if self.on_text is not None:
            self.on_text(chunk)

    @property
    def final_text(self) -> str:
        """The content of the turn's final message, as ``send_and_wait`` picks it; ``""`` if none."""
        return self.last_with_text or self.last or ""


_END = object()


class _StreamSink:
    """The subscribed half of a stream. It holds no reference to the iterator the user
    holds, so dropping that iterator lets it be collected, which closes this sink."""

    __slots__ = ("tracker", "queue", "closed", "finished", "unsubscribe")

    def __init__(self, baseline: int, buffer_size: int) -> None:
        self.tracker = _TurnTracker(baseline)
        self.queue: queue.Queue[Any] = queue.Queue(buffer_size)
        self.closed = False
        self.finished = False  # the terminal item has been queued
        self.unsubscribe: Any = None

    def observe(self, seq: int, event: SessionEvent) -> None:
        pass

    def release(self, seq: int, event: SessionEvent) -> None:
        if self.closed:
            self.detach()
            return
        if self.finished:
            return
        outcome = self.tracker.feed(seq, event)
        if outcome is False:
            return
        if isinstance(outcome, BaseException) and not isinstance(outcome, TurnAbortedError):
            self._put(outcome)  # session.error: raised, not yielded
        else:
            self._put(event)
        if outcome is not None:
            self.finished = True
            if isinstance(outcome, TurnAbortedError):
                self._put(outcome)
            self._put(_END)
            self.detach()

    def fail(self, error: BaseException) -> None:
        if self.finished or self.closed:
            return
        self.finished = True
        self.detach()
        for item in (error, _END):
            while True:
                try:
                    self.queue.put_nowait(item)
                    break
                except queue.Full:  # the consumer is behind: the error matters more than old events
                    try:
                        self.queue.get_nowait()
                    except queue.Empty:
                        pass

    fail_pending = fail  # a stream that already ended ignores it anyway

    def _put(self, item: Any) -> None:
        while not self.closed:
            try:
                self.queue.put(item, timeout=WAIT_SLICE)
                return
            except queue.Full:
                continue

    def detach(self) -> None:
        unsubscribe, self.unsubscribe = self.unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()


class EventStream:
    """A blocking iterator over one turn's events, up to and including ``session.idle``.

    Returned by :meth:`CopilotSession.stream`; the message is already sent. Iterate it
    (``for event in stream``), or use it as a context manager to make sure it is closed.
    ``session.error`` raises :class:`SessionError` and an aborted idle raises
    :class:`TurnAbortedError`, as in ``send_and_wait``; ``timeout`` bounds the whole turn.
    The buffer is bounded: when the consumer falls behind, the session's event thread
    waits (the reader thread never does). Closing the stream, or dropping it, releases it.
    """

    def __init__(self, session: Any, sink: _StreamSink, *, timeout: float | None) -> None:
        self._session = session
        self._sink = sink
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._timeout = timeout
        self._done = False
        self.message_id: str | None = None

    def __repr__(self) -> str:
        state = "closed" if self._done else ("finished" if self._sink.finished else "open")
        return f"<EventStream session={self._session.session_id!r} {state} buffered={self._sink.queue.qsize()}>"

    def __iter__(self) -> Iterator[SessionEvent]:
        return self

    def __next__(self) -> SessionEvent:
        if self._done:
            raise StopIteration
        try:
            item = self._get()
        except KeyboardInterrupt:
            self._interrupted()
            raise
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item

    def _get(self) -> Any:
        get = self._sink.queue.get
        while True:
            if self._deadline is None:
                wait = WAIT_SLICE
            else:
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    try:
                        return self._sink.queue.get_nowait()
                    except queue.Empty:
                        self.close()
                        raise CopilotTimeoutError(f"Timeout after {self._timeout}s waiting for session.idle") from None
                wait = min(remaining, WAIT_SLICE)
            try:
                return get(timeout=wait)
            except queue.Empty:
                continue

    def _interrupted(self) -> None:
        """Ctrl-C while iterating: abort the turn, then let KeyboardInterrupt propagate."""
        finished = self._sink.finished
        self.close()
        if not finished:
            self._session._abort_quietly()

    def collect(self) -> list[SessionEvent]:
        """Drain the stream into a list (raising like iteration does)."""
        return list(self)

    @property
    def closed(self) -> bool:
        return self._done

    def close(self) -> None:
        """Stop listening. Undelivered events are dropped; the turn itself goes on."""
        if self._done:
            return
        self._done = True
        self._sink.closed = True
        self._sink.detach()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # Only a flag: the session's event thread detaches the sink when it next looks.
        sink = getattr(self, "_sink", None)
        if sink is not None:
            sink.closed = True
