"""Deciding when a turn is over: the outcome of a turn, and the ``stream`` iterator.

Every turn a blocking call or ``send_async`` sends goes through the session's queue
(``_turn_queue.SessionTurns``), which starts watching the events *before* the message is
sent and sees them on the session's event thread in two steps: ``observe``
(before the ``on()`` handlers run) feeds the :class:`TurnWaiter` that notes the outcome,
``release`` (after they ran) wakes the caller and feeds a stream's sink. So when
``send_and_wait`` returns, every ``on()`` handler has already seen the ``session.idle``
that ended it, and a handler that disconnects the session on that idle does not spoil
the result.

Stale events of an earlier turn must not end this one. So events already received when
the message was sent (``seq <= baseline``) are ignored, and a ``session.idle`` ends
the turn only once the turn has started: its ``user.message`` was seen, or an ``abort``
arrived after the CLI accepted the send (an aborted message may never get a
``user.message``). This matters after ``abort()``: the aborted turn's idle can arrive
after the next ``send`` subscribed. Events of sub-agents (with an ``agentId``) never end
or answer a turn.

An ``abort`` of the turn decides it at once: :class:`TurnAbortedError`, whoever asked
(``session.abort()`` from any thread, another client, Ctrl-C). The CLI sends that event
before it answers ``session.abort`` and before it has wound the turn down, so the caller
need not wait for the aborted ``session.idle`` (which comes later, sometimes much later),
and never gets an aborted turn's partial reply. The queue still waits for that idle.

Also here: ``TurnEnd`` (when the CLI is done with a send's turn, for ``wait_for_idle`` and
the queue, which sends the next message only then) and ``TextCollector``
(``send_and_collect``).
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from ._errors import CopilotTimeoutError, NoReplyError, SessionError, session_error_from
from ._wire.reentrancy import blocking
from ._wire.timeouts import WAIT_SLICE, Deadline

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._events import SessionEvent
    from ._idle_timeout import IdleTimeout
    from ._turn_queue import Turn
    from .generated.session_events import AssistantMessageEvent

__all__ = [
    "EventStream",
    "TurnAbortedError",
    "TurnWaiter",
    "interrupt_stream",
    "no_reply_error",
    "session_error_from",
]


class TurnAbortedError(SessionError):
    """The turn was aborted before it completed: ``session.abort()`` (from any thread, or
    another client), Ctrl-C elsewhere... ``event`` is the CLI's ``abort`` event (or the
    aborted ``session.idle``). Raised as soon as the CLI reports the abort, without waiting
    for the turn's ``session.idle``."""


_NOT_SENT = float("inf")


class _TurnTracker:
    """Decides which events belong to the turn of one send (see the module docstring)."""

    __slots__ = ("baseline", "rejected", "sent_seq", "started")

    def __init__(self, baseline: int) -> None:
        self.baseline: int = baseline
        self.sent_seq: float = _NOT_SENT  # events received by the time the send RPC returned
        self.started: bool = False
        self.rejected: bool = False  # a tool call was just rejected, and the model not asked again

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
        if raw_type == "abort":
            if seq <= self.sent_seq and not self.started:
                return None  # before the CLI accepted this message: not this turn's abort
            self.started = True
            if self.rejected:
                return None  # how CLIs >= 1.0.9x end a turn after a bare reject: see below
            return _aborted(event)
        if raw_type == "tool.execution_complete":
            self.rejected = _was_rejected(event) or self.rejected
        elif raw_type == "assistant.turn_start":
            self.rejected = False  # the agent loop went on (a reject with feedback)
        if raw_type == "user.message":
            self.started = True
        elif raw_type == "session.idle" and not self.started:
            return False  # the idle of an earlier turn
        return _outcome_of(event)


def _data_of(event: SessionEvent) -> dict[str, Any]:
    """The event's wire ``data`` dict (``{}`` if it is not a dict): the turn logic reads
    the few keys it needs from the wire, without parsing the typed payload."""
    data: object = event.raw.get("data")
    return cast("dict[str, Any]", data) if isinstance(data, dict) else {}


def _was_rejected(event: SessionEvent) -> bool:
    """A ``tool.execution_complete`` for a call the permission handler rejected.

    A ``reject`` without feedback stops the agent loop. CLI 1.0.81 then just goes idle;
    1.0.102 also sends an ``abort`` (``user_initiated``) first. Either way the turn ended
    because the application said no, not because anyone aborted it: ``send_and_wait``
    returns the turn's last assistant message on every CLI, as the official SDK does."""
    error: object = _data_of(event).get("error")
    return isinstance(error, dict) and cast("dict[str, Any]", error).get("code") == "rejected"


def _aborted(event: SessionEvent) -> TurnAbortedError:
    """The outcome of a turn the CLI reports aborted (its ``abort`` event)."""
    reason = _data_of(event).get("reason")
    because = f" ({reason})" if isinstance(reason, str) and reason else ""
    return TurnAbortedError(f"the turn was aborted{because} before it completed", event=event)


def _outcome_of(event: SessionEvent) -> BaseException | bool | None:
    """True when the event ends the turn normally; an exception when it ends it badly."""
    raw_type = event.raw_type
    if raw_type == "session.idle":
        if _data_of(event).get("aborted"):
            return TurnAbortedError("the turn was aborted before it completed", event=event)
        return True
    if raw_type == "session.error":
        return session_error_from(event)
    return None


class TurnWaiter:
    """Decides one turn's outcome and remembers its answer (for ``send_and_wait``, a
    ``TurnFuture`` and the turn behind a stream). Fed on the event thread, before the
    ``on()`` handlers (``observe``); its owner acts on ``outcome`` after them."""

    __slots__ = ("ended_by", "last", "last_with_text", "outcome", "recent", "tracker")

    def __init__(self, baseline: int) -> None:
        self.tracker: _TurnTracker = _TurnTracker(baseline)
        self.last: AssistantMessageEvent | None = None
        self.last_with_text: AssistantMessageEvent | None = None
        self.outcome: BaseException | bool | None = None
        self.ended_by: SessionEvent | None = None  # the event that decided the outcome
        # the turn's last top-level events, for NoReplyError (references, no copies)
        self.recent: deque[SessionEvent] = deque(maxlen=_RECENT_EVENTS)

    def observe(self, seq: int, event: SessionEvent) -> None:
        if self.outcome is not None:
            return
        outcome = self.tracker.feed(seq, event)
        if outcome is False or event.agent_id:
            return
        if self.tracker.started:
            self.recent.append(event)
        if event.type == "assistant.message":
            if not self.tracker.started:
                return  # a late message of an earlier turn
            self.last = event
            if _data_of(event).get("content"):
                self.last_with_text = event
            return
        if outcome is not None:
            self.outcome = outcome
            self.ended_by = event

    @property
    def answer(self) -> AssistantMessageEvent | None:
        """What ``send_and_wait`` returns: the last root message with text, else the last
        one; ``None`` if the turn had none (``send_and_wait`` then raises
        :func:`no_reply_error`)."""
        return self.last_with_text or self.last


_RECENT_EVENTS = 8


def no_reply_error(waiter: TurnWaiter | None) -> NoReplyError:
    """The error for a turn that ended normally without an ``assistant.message``, saying
    why if the waiter knows (a bare permission reject ended it)."""
    if waiter is None:
        return NoReplyError("the turn ended without an assistant message")
    rejected = waiter.tracker.rejected or any(
        event.raw_type == "tool.execution_complete" and _was_rejected(event)
        for event in waiter.recent
    )
    if rejected:
        message = (
            "the turn ended without an assistant message: a tool call was rejected by the"
            " permission handler, which ends the turn (reject with feedback to let the model"
            " go on and answer)"
        )
    else:
        message = "the turn ended without an assistant message (the model produced none)"
    return NoReplyError(
        message,
        event=waiter.ended_by,
        reason="tool_rejected" if rejected else "empty",
        events=list(waiter.recent),
    )


class TurnEnd:
    """Whether the CLI has finished the turn of one send: for ``wait_for_idle`` and for
    the ``send_async`` queue (which sends the next prompt only then).

    Unlike :class:`_TurnTracker` it ignores the outcome and waits for the turn's own
    ``session.idle``, also after a ``session.error``. The turn has started with its
    ``user.message`` or ``assistant.turn_start``, or with an ``abort`` or
    ``session.error`` received after the CLI accepted the send; an idle before that is
    an earlier turn's. Sub-agent events do not count.
    """

    __slots__ = ("baseline", "ended", "sent_seq", "started")

    def __init__(self, baseline: int) -> None:
        self.baseline: int = baseline
        self.sent_seq: float = _NOT_SENT
        self.started: bool = False
        self.ended: bool = False

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


class TextCollector:
    """``send_and_collect``'s view of one turn's events (from :class:`EventStream`).

    Text goes to ``on_text`` once per character: every ``assistant.message_delta`` as it
    comes, then, for each ``assistant.message``, whatever part of its ``content`` its
    deltas (matched by ``messageId``) did not already deliver; all of it when streaming
    is off. Only top-level messages count: events with an ``agentId`` or a
    ``parentToolCallId`` belong to sub-agents. As in ``send_and_wait``, text before the
    turn's ``user.message`` is a late part of an earlier turn and is ignored.
    """

    __slots__ = ("delivered", "last", "last_with_text", "on_text", "started")

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
        raw_data: object = event.raw.get("data")
        if not isinstance(raw_data, dict):
            return
        data = cast("dict[str, Any]", raw_data)
        if data.get("parentToolCallId"):
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


def running_timeout(timeout: float | None, what: str = "session.idle") -> CopilotTimeoutError:
    """The timeout of a turn that was sent: it goes on, and says how to stop it."""
    return CopilotTimeoutError(
        f"Timeout after {timeout:g}s waiting for {what}: the turn is still running on the CLI "
        "(nothing was aborted; call session.abort() to stop it)"
    )


def queued_timeout(timeout: float | None, call: str, session_id: str) -> CopilotTimeoutError:
    """The timeout of a turn that never left the SDK's queue."""
    return CopilotTimeoutError(
        f"Timeout after {timeout:g}s: {call} was still waiting for earlier turns of session "
        f"{session_id} to finish; its message was removed from the queue and never sent"
    )


_END = object()


class StreamSink:
    """The queue between a stream's turn and its iterator. ``SessionTurns`` feeds it on the
    session's event thread (``release``, after the ``on()`` handlers), from the moment the
    turn's message is sent (``start``). It holds no reference to the iterator the user
    holds, so dropping that iterator lets it be collected, which closes this sink."""

    __slots__ = ("closed", "finished", "queue", "tracker")

    def __init__(self, buffer_size: int) -> None:
        self.tracker: _TurnTracker | None = None  # set when the message is sent
        self.queue: queue.Queue[Any] = queue.Queue(buffer_size)
        self.closed: bool = False
        self.finished: bool = False  # the terminal item has been queued

    def start(self, baseline: int) -> None:
        self.tracker = _TurnTracker(baseline)

    def release(self, seq: int, event: SessionEvent) -> None:
        tracker = self.tracker
        if self.closed or self.finished or tracker is None:
            return
        outcome = tracker.feed(seq, event)
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

    def fail(self, error: BaseException) -> None:
        """End the stream with ``error`` (the send failed, the session closed). Any thread."""
        if self.finished or self.closed:
            return
        self.finished = True
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

    def _put(self, item: Any) -> None:
        # Bounded: when the consumer falls behind, the session's event thread waits here
        # (the reader thread never does); closing the stream lets it go within a slice.
        while not self.closed:
            try:
                self.queue.put(item, timeout=WAIT_SLICE)
                return
            except queue.Full:
                continue


class EventStream:
    """A blocking iterator over one turn's events, up to and including ``session.idle``.

    Returned by :meth:`CopilotSession.stream`. Its turn takes its place in the session's
    queue of turns: its message is sent once every earlier turn of the session
    (``send_and_wait``, ``stream``, ``send_and_collect``, ``send_async``) has ended, and
    the stream yields the events from that moment on. Iterate it (``for event in
    stream``), or use it as a context manager to make sure it is closed.
    ``session.error`` raises :class:`SessionError`; an aborted turn yields the CLI's
    ``abort`` event, then raises :class:`TurnAbortedError` at once, as in
    ``send_and_wait``. ``timeout`` bounds the whole call, from ``stream()`` to the idle,
    time spent waiting for earlier turns included; ``idle_timeout`` fails it once the
    session has sent nothing for that long since the message went out. The buffer is
    bounded: when the consumer falls behind, the session's event thread waits (the reader
    thread never does). Closing the stream (from any thread: a consumer blocked in it then
    stops), or dropping it, releases it; a turn still queued is then dropped without being
    sent.
    """

    def __init__(self, session: Any, turn: Turn, deadline: Deadline) -> None:
        self._session = session
        self._turn = turn  # its owner is the session's queue of turns
        self._sink = cast(StreamSink, turn.sink)
        self._deadline = deadline
        self._done = False

    def __repr__(self) -> str:
        state = "closed" if self._done else ("finished" if self._sink.finished else "open")
        return f"<EventStream session={self._session.session_id!r} {state} buffered={self._sink.queue.qsize()}>"

    @property
    def message_id(self) -> str | None:
        """The CLI's id for this turn's message, once the CLI accepted it (else ``None``)."""
        return self._turn.message_id

    def __iter__(self) -> Iterator[SessionEvent]:
        return self

    def __next__(self) -> SessionEvent:
        if self._done:
            raise StopIteration
        try:
            item = self._get()
        except KeyboardInterrupt:
            while (
                True
            ):  # hand the abort off; a second Ctrl-C during the hand-off must not cancel it
                try:
                    self._interrupted()
                    break
                except KeyboardInterrupt:
                    continue
            raise
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        return cast("SessionEvent", item)

    def _get(self) -> Any:
        sink_queue = self._sink.queue
        try:
            return sink_queue.get_nowait()  # the common case while events flow: no wait, no check
        except queue.Empty:
            pass
        idle = self._turn.idle  # idle_timeout=: an IdleTimeout, started when the message is sent
        with blocking(self._session, "iterating a stream()"):
            while True:
                remaining = self._deadline.remaining()
                left = None if idle is None else idle.left()
                quiet = left is not None and left <= 0
                if quiet or (remaining is not None and remaining <= 0):
                    try:
                        return sink_queue.get_nowait()
                    except queue.Empty:
                        raise self._timed_out(idle if quiet else None) from None
                wait = WAIT_SLICE if remaining is None else min(remaining, WAIT_SLICE)
                if idle is not None and left is not None:
                    wait = min(wait, idle.step, left)
                try:
                    return sink_queue.get(timeout=wait)
                except queue.Empty:
                    if self._done:  # closed by another thread
                        return _END
                    continue

    def _timed_out(self, idle: IdleTimeout | None = None) -> CopilotTimeoutError:
        withdrawn = self._turn.owner.withdraw(self._turn)
        self.close()
        timeout = self._deadline.timeout
        if withdrawn:
            return queued_timeout(timeout, "stream()", self._session.session_id)
        if idle is not None:
            idle.fired = True
            return idle.error()
        return running_timeout(timeout)

    def _interrupted(self) -> None:
        """Ctrl-C while iterating: a queued turn is dropped, a running one aborted (handed
        to another thread, so a second Ctrl-C cannot cancel it). Idempotent."""
        finished = self._sink.finished
        self._done = True
        self._sink.closed = True
        if not finished:
            self._turn.owner.interrupt(self._turn)

    def collect(self) -> list[SessionEvent]:
        """Drain the stream into a list (raising like iteration does)."""
        return list(self)

    @property
    def closed(self) -> bool:
        """``True`` once the stream has ended (idle, error, abort, ``close()`` or a timeout)."""
        return self._done

    def close(self) -> None:
        """Stop listening. Undelivered events are dropped; a turn already sent goes on, one
        still waiting in the session's queue is dropped without being sent."""
        if self._done:
            return
        self._done = True
        self._sink.closed = True
        self._turn.owner.withdraw(self._turn)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Only a flag: the queue skips a closed stream's turn if it was not sent yet, and
        # the event thread stops feeding its sink.
        sink = getattr(self, "_sink", None)
        if sink is not None:
            sink.closed = True


def interrupt_stream(stream: EventStream) -> None:
    """Ctrl-C reached the code that started or iterates ``stream`` (``stream()``,
    ``send_and_collect``): as when it interrupts the iteration itself, a queued turn is
    dropped and a running one aborted (handed to another thread). Idempotent."""
    stream._interrupted()  # pyright: ignore[reportPrivateUsage]  # this module's own class
