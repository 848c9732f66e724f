"""``send_async``: a session's turns as :class:`concurrent.futures.Future` objects, and
the session's busy/idle state behind ``wait_for_idle``.

One :class:`SessionTurns` per session keeps the ``send_async`` turns in a FIFO queue and
has at most one of them on the CLI at a time: one ``session.idle`` can cover several
queued messages (PROTOCOL §0.1), so the next prompt is sent only once the previous
turn's own idle arrived, and each future gets its own turn's reply.

No thread per future. The object is subscribed to the session like a ``send_and_wait``
waiter (``observe`` before the ``on()`` handlers, ``release`` after them), so a turn's
outcome is decided, its future completed, and the next prompt sent on the session's
event thread. ``session.send`` goes out with ``JsonRpcConnection.request_async``; its
answer, a timeout (one shared ``copilot-deadlines`` timer thread, alive only while a
deadline is pending) and an abort after ``cancel()`` are routed to the event thread too,
in order with the events. Only ``send_async`` (when nothing is running), ``cancel()`` of
a queued turn, and closing the session act on the calling thread.

Busy/idle: the session is busy while a ``send_async`` turn is queued or running, while a
blocking ``session.send`` (``send``, ``send_and_wait``, ``stream``...) has not seen its
turn's idle (tracked from just before the request), and from a top-level
``user.message``/``assistant.turn_start`` to the next ``session.idle`` (turns from other
clients). ``wait_for_idle`` returns after the ``on()`` handlers saw that idle.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, InvalidStateError
from typing import TYPE_CHECKING, Any, Callable

from ._connection import _fresh
from ._errors import CopilotTimeoutError
from ._timeouts import WAIT_SLICE, check_timeout
from ._turns import TurnWaiter, _TurnEnd

if TYPE_CHECKING:
    from ._events import SessionEvent
    from ._session import CopilotSession

__all__ = ["TurnFuture", "SessionTurns"]

logger = logging.getLogger("copilot_sync.session")

_QUEUED = "queued"  # waiting in the SDK's queue, not sent
_STARTING = "starting"  # next in line; about to be sent
_SENT = "sent"  # session.send written: the turn is on the CLI
_DONE = "done"  # out of the queue for good (finished, or the session closed)

_BUSY_TYPES = frozenset({"user.message", "assistant.turn_start"})


class TurnFuture(Future["SessionEvent | None"]):
    """The future of one :meth:`CopilotSession.send_async` turn.

    Its result is what :meth:`CopilotSession.send_and_wait` would return (the turn's final
    ``assistant.message`` event, or ``None``); its exception is what it would raise
    (:class:`SessionError`, :class:`TurnAbortedError`, :class:`CopilotTimeoutError`,
    :class:`SessionClosedError`, :class:`ProcessExitedError`...).

    ``cancel()``: a turn still queued in the SDK is dropped without the CLI hearing of
    it; a running one is cancelled at once and aborted on the CLI (``session.abort``,
    sent asynchronously from the session's event thread); the next queued turn is sent
    when the aborted turn's idle arrives. A finished turn, or one whose outcome is
    already known, returns ``False``.

    Done callbacks run on the thread that completes the future: normally the session's
    event thread (after the ``on()`` handlers saw the event), the cancelling thread for
    ``cancel()``, the closing thread when the session closes. Do not block on a
    ``TurnFuture`` of a session inside that session's own handlers or callbacks:
    ``result()``/``exception()`` raise ``RuntimeError`` there instead of deadlocking.

    ``session``, ``prompt`` and (once the CLI accepted the message) ``message_id`` say
    which turn it is; ``running()`` is true from the moment the message is sent.
    """

    def __init__(self, session: CopilotSession, prompt: str) -> None:
        super().__init__()
        self.session = session
        self.prompt = prompt
        self.message_id: str | None = None
        self._turn: _AsyncTurn | None = None

    def cancel(self) -> bool:
        turn = self._turn
        if turn is None:
            return super().cancel()
        return turn.owner.cancel(turn)

    def running(self) -> bool:
        turn = self._turn
        return turn is not None and turn.state == _SENT and not self.done()

    def result(self, timeout: float | None = None) -> SessionEvent | None:
        self._check_thread("result")
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._check_thread("exception")
        return super().exception(timeout)

    def _check_thread(self, name: str) -> None:
        if not self.done() and self.session._dispatcher.in_dispatcher_thread():
            raise RuntimeError(
                f"TurnFuture.{name}() cannot wait on this session's own event thread: the future "
                "is completed by that thread; use add_done_callback() instead"
            )

    def __repr__(self) -> str:
        if self.cancelled():
            state = "cancelled"
        elif self.done():
            state = "failed" if super().exception(0) is not None else "finished"
        else:
            turn = self._turn
            state = "running" if turn is not None and turn.state == _SENT else "queued"
        prompt = self.prompt if len(self.prompt) <= 40 else self.prompt[:37] + "..."
        return f"<TurnFuture session={self.session.session_id[:8]!r} {state} prompt={prompt!r}>"


class _AsyncTurn:
    """The SDK's side of one ``send_async`` turn. Guarded by its ``SessionTurns`` lock."""

    __slots__ = ("owner", "future", "payload", "timeout", "state", "waiter", "end",
                 "answered", "settled", "cancel_requested", "abort_sent", "deadline")  # fmt: skip

    def __init__(self, owner: SessionTurns, future: TurnFuture, payload: dict[str, Any], timeout: float | None) -> None:
        self.owner = owner
        self.future = future
        self.payload = payload
        self.timeout = timeout
        self.state = _QUEUED
        self.waiter: TurnWaiter | None = None  # decides the outcome, as for send_and_wait
        self.end: _TurnEnd | None = None  # tells when the CLI's turn is over
        self.answered = False  # the session.send answer (or its failure) was handled
        self.settled = False  # the future's fate is decided (set, or about to be)
        self.cancel_requested = False
        self.abort_sent = False
        self.deadline: list[Any] | None = None


class SessionTurns:
    """One session's ``send_async`` queue and busy/idle state (see the module docstring).

    Subscribed to the session's waiters for the session's whole life: ``observe`` and
    ``release`` run on the event thread; ``fail``/``fail_pending`` when it closes.
    """

    def __init__(self, session: CopilotSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: deque[_AsyncTurn] = deque()
        self._current: _AsyncTurn | None = None  # the turn on the CLI, or next in line
        self._marks: list[_TurnEnd] = []  # blocking sends whose turn has not ended
        self._busy = False  # a top-level turn started and its session.idle has not come
        self._closed: BaseException | None = None

    def __repr__(self) -> str:
        return f"<SessionTurns queued={len(self._queue)} current={self._current is not None} idle={self._idle()}>"

    # ------------------------------------------------------------------ send_async

    def submit(self, future: TurnFuture, payload: dict[str, Any], timeout: float | None) -> None:
        turn = _AsyncTurn(self, future, payload, timeout)
        future._turn = turn
        with self._lock:
            if self._closed is not None:
                raise _fresh(self._closed)
            if self._current is not None:
                self._queue.append(turn)
                return
            self._current = turn
            turn.state = _STARTING
        self._pump(turn)

    def _advance_locked(self) -> _AsyncTurn | None:
        """The current turn is over: the next queued one becomes current (to be sent by the caller)."""
        turn = self._queue.popleft() if self._queue else None
        self._current = turn
        if turn is not None:
            turn.state = _STARTING
        elif self._idle_locked():
            self._changed.notify_all()
        return turn

    def _pump(self, turn: _AsyncTurn | None) -> None:
        """Send ``turn`` (the current one); if that fails at once, or it was cancelled
        before it went out, go on with the next. Any thread; no lock held."""
        interrupted: BaseException | None = None
        session = self._session
        while turn is not None:
            with self._lock:
                if turn is not self._current:
                    return  # the session closed meanwhile
                if turn.settled:  # cancelled while next in line
                    turn.state = _DONE
                    turn = self._advance_locked()
                    continue
                baseline = session._received
                turn.waiter = TurnWaiter(baseline)
                turn.end = _TurnEnd(baseline)
                turn.state = _SENT
                if turn.timeout is not None:  # counts from the moment the message is sent
                    turn.deadline = _deadlines.add(turn.timeout, functools.partial(self._route, self._on_timeout, turn))
            try:
                session._check_open()
                connection = session._client._ensure_connected()
                connection.request_async("session.send", turn.payload, functools.partial(self._answered, turn))
                return
            except BaseException as exc:  # not sent: this turn fails, the next one goes
                error = exc
            with self._lock:
                turn.answered = True
                settle = not turn.settled
                turn.settled = True
                turn.state = _DONE
                following = self._advance_locked() if turn is self._current else None
            if settle:
                self._finish(turn, error=error)
            if not isinstance(error, Exception):
                interrupted = error  # Ctrl-C: raised once the queue moved on
            turn = following
        if interrupted is not None:
            raise interrupted

    def _route(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on the session's event thread, after the events queued so far."""
        self._session._dispatcher.put(functools.partial(fn, *args))

    def _answered(self, turn: _AsyncTurn, result: Any, error: BaseException | None) -> None:
        """Reader thread (or a closing thread): the answer to ``session.send``. Just hand it
        over, with how many events had arrived by then."""
        self._route(self._on_answer, turn, self._session._received, result, error)

    def _on_answer(self, turn: _AsyncTurn, seq: int, result: Any, error: BaseException | None) -> None:
        following = None
        settle = abort = False
        with self._lock:
            if turn is not self._current or turn.answered or turn.end is None or turn.waiter is None:
                return
            turn.answered = True
            if error is not None:  # not accepted: no turn runs on the CLI
                turn.end.ended = True
                settle = not turn.settled
                turn.settled = True
            else:
                turn.waiter.tracker.mark_sent(seq)
                turn.end.sent_seq = seq
                message_id = result.get("messageId") if isinstance(result, dict) else None
                turn.future.message_id = message_id if isinstance(message_id, str) else None
                if turn.cancel_requested and not turn.end.ended and not turn.abort_sent:
                    turn.abort_sent = abort = True
            if turn.end.ended:
                turn.state = _DONE
                following = self._advance_locked()
        if settle:
            self._finish(turn, error=error)
        if abort:
            self._send_abort()
        if following is not None:
            self._pump(following)

    def _on_timeout(self, turn: _AsyncTurn) -> None:
        """Event thread: the turn's timeout elapsed. The turn goes on (as with
        ``send_and_wait``); the next queued turn is sent when it ends."""
        with self._lock:
            if turn.settled:
                return
            turn.settled = True
            turn.deadline = None
        self._finish(turn, error=CopilotTimeoutError(f"Timeout after {turn.timeout:g}s waiting for session.idle"))

    # ------------------------------------------------------------------ cancel

    def cancel(self, turn: _AsyncTurn) -> bool:
        future = turn.future
        with self._lock:
            if future.cancelled():
                return True
            if turn.settled or future.done() or (turn.waiter is not None and turn.waiter.outcome is not None):
                return False
            turn.settled = True
            turn.cancel_requested = True
            running = turn.state == _SENT
            if turn.state == _QUEUED:
                self._queue.remove(turn)
                turn.state = _DONE
                if self._idle_locked():
                    self._changed.notify_all()
            deadline, turn.deadline = turn.deadline, None
        if deadline is not None:
            _deadlines.cancel(deadline)
        if Future.cancel(future):
            future.set_running_or_notify_cancel()  # wakes concurrent.futures.wait()/as_completed()
        if running:
            self._route(self._abort_if_running, turn)
        return True

    def _abort_if_running(self, turn: _AsyncTurn) -> None:
        """Event thread: abort a cancelled turn unless it already ended. Before its
        answer arrived it cannot be aborted yet: ``_on_answer`` does it then."""
        with self._lock:
            if turn is not self._current or not turn.answered or turn.abort_sent or turn.end is None or turn.end.ended:
                return
            turn.abort_sent = True
        self._send_abort()

    def _send_abort(self) -> None:
        session = self._session
        connection = session._client._connection
        if connection is None or connection.is_closed or session._closed is not None:
            return

        def answered(result: Any, error: BaseException | None) -> None:
            if error is not None:
                logger.debug("session %s: session.abort after cancel() failed: %s", session.session_id, error)

        try:
            connection.request_async("session.abort", {"sessionId": session.session_id}, answered)
        except Exception as exc:
            logger.debug("session %s: could not send session.abort after cancel(): %s", session.session_id, exc)

    # ------------------------------------------------------------------ completing

    def _finish(self, turn: _AsyncTurn, *, error: BaseException | None = None, outcome: Any = None) -> None:
        """Complete the future (no lock held: done callbacks run here)."""
        deadline, turn.deadline = turn.deadline, None
        if deadline is not None:
            _deadlines.cancel(deadline)
        future = turn.future
        try:
            if error is not None:
                future.set_exception(error)
            elif isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                waiter = turn.waiter
                future.set_result(None if waiter is None else (waiter.last_with_text or waiter.last))
        except InvalidStateError:  # completed by someone else (the future is public)
            pass

    # ------------------------------------------------------------------ the waiter protocol

    def observe(self, seq: int, event: SessionEvent) -> None:
        """Event thread, before the handlers."""
        root = not event.agent_id
        if self._current is None and not self._marks:
            # Nothing to feed (the hot path). Read without the lock: a turn or mark added
            # meanwhile takes a baseline that already covers this event.
            if root and event.raw_type in _BUSY_TYPES:
                self._busy = True
            return
        with self._lock:
            if root and event.raw_type in _BUSY_TYPES:
                self._busy = True
            for mark in self._marks:
                mark.feed(seq, event)
            turn = self._current
            if turn is not None and turn.waiter is not None and turn.end is not None:
                turn.waiter.observe(seq, event)
                turn.end.feed(seq, event)

    def release(self, seq: int, event: SessionEvent) -> None:
        """Event thread, after the handlers: complete a decided future, send the next turn."""
        if event.raw_type != "session.idle":
            # Only an idle ends a turn, a mark or the busy state; any other event can only
            # have decided the current turn's outcome (session.error). The hot path: no lock.
            turn = self._current
            if turn is None or turn.settled or turn.waiter is None or turn.waiter.outcome is None:
                return
        settle: _AsyncTurn | None = None
        following = None
        with self._lock:
            if event.raw_type == "session.idle" and not event.agent_id:
                self._busy = False
            if self._marks:
                self._marks = [mark for mark in self._marks if not mark.ended]
            turn = self._current
            if turn is not None and turn.waiter is not None and turn.end is not None:
                if turn.waiter.outcome is not None and not turn.settled:
                    turn.settled = True
                    settle = turn
                if turn.end.ended and turn.answered:
                    turn.state = _DONE
                    following = self._advance_locked()
            if self._idle_locked():
                self._changed.notify_all()
        if settle is not None:
            assert settle.waiter is not None
            self._finish(settle, outcome=settle.waiter.outcome)
        if following is not None:
            self._pump(following)

    def fail(self, error: BaseException) -> None:
        """The session closed (any thread): fail every queued and running future with
        ``error`` (one whose outcome is already known gets that), and every wait_for_idle."""
        finished: list[tuple[_AsyncTurn, Any]] = []
        with self._lock:
            if self._closed is None:
                self._closed = error
            turns = ([self._current] if self._current is not None else []) + list(self._queue)
            self._queue.clear()
            self._current = None
            self._marks = []
            for turn in turns:
                turn.state = _DONE
                if turn.settled:
                    continue
                turn.settled = True
                decided = turn.waiter.outcome if turn.waiter is not None else None
                finished.append((turn, decided))
            self._changed.notify_all()
        for turn, decided in finished:
            if decided is None:
                self._finish(turn, error=_fresh(error))
            else:
                self._finish(turn, outcome=decided)

    fail_pending = fail  # disconnect(): before the CLI aborts the running turn

    # ------------------------------------------------------------------ blocking sends and idle

    def track_send(self, send: Callable[[], Any]) -> Any:
        """Run a blocking ``session.send`` request; the session counts as busy from just
        before it until its turn's idle (or at once again if the request fails)."""
        session = self._session
        mark = _TurnEnd(session._received)
        with self._lock:
            self._marks.append(mark)
        try:
            result = send()
        except BaseException:
            with self._lock:
                self._marks = [m for m in self._marks if m is not mark]
                if self._idle_locked():
                    self._changed.notify_all()
            raise
        mark.sent_seq = session._received
        return result

    def _idle_locked(self) -> bool:
        return self._current is None and not self._queue and not self._marks and not self._busy

    def _idle(self) -> bool:
        with self._lock:
            return self._idle_locked()

    def wait_idle(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                if self._closed is not None:
                    raise _fresh(self._closed)
                if self._idle_locked():
                    return
                if deadline is None:
                    wait = WAIT_SLICE
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise CopilotTimeoutError(f"Timeout after {timeout:g}s waiting for the session to be idle")
                    wait = min(remaining, WAIT_SLICE)
                self._changed.wait(wait)


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
                self._thread = threading.Thread(target=self._run, name="copilot-deadlines", daemon=True)
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


_deadlines = _Deadlines()
