"""One session's queue of turns, and its busy/idle state behind ``wait_for_idle``.

Why a queue: one ``session.idle`` can cover several messages (docs/FUTURES.md). A
message sent while a turn runs is queued by the CLI and answered before the one idle, so
two callers whose messages overlap would both wake at that idle, and the first would get
the second's reply. So every turn a blocking call or ``send_async`` starts
(``send_and_wait``, ``stream``, ``send_and_collect``, ``send_async``) takes its place in
one FIFO queue per session, and the SDK has at most one of them on the CLI at a time: the
next message is sent only once the previous turn's own idle arrived. A blocking call is
a queued turn plus a wait on its outcome; a stream is a queued turn whose events feed the
stream's bounded buffer from the moment its message is sent. ``wait_for_idle`` waits for
the queue to drain. Plain ``send()`` is not part of the queue: it goes out at once, and
if a turn is running the CLI queues the message behind it and that turn's one idle
covers both (the caller waiting on that turn wakes at the shared idle).

No thread per call. This object is subscribed to the session like an event handler
(``observe`` before the ``on()`` handlers, ``release`` after them), so a turn's outcome
is decided, its caller woken, and the next message sent on the session's event thread.
``session.send`` goes out with ``JsonRpcConnection.request_async``; its answer, a
``send_async`` timeout (one shared ``copilot-deadlines`` timer thread, alive only while
a deadline is pending) and an abort after ``cancel()`` are routed to the event thread
too, in order with the events. A call whose turn is first in line sends it from the
calling thread.

Timeouts: a blocking call has one deadline for the whole call, time in the queue
included. If it passes while the turn is still queued, the turn leaves the queue without
being sent; if the turn was sent, it goes on (``session.abort()`` stops it) and the queue
waits for its idle. A ``send_async`` timeout counts from the moment its message is sent,
and so does every ``idle_timeout`` (:mod:`._idle_timeout`), which fires only once the
session has been quiet that long, and then leaves the turn running just the same.

Aborts: a turn that the CLI reports aborted (its ``abort`` event, whoever asked for it)
is decided at once (:class:`TurnAbortedError`, see :mod:`._turns`); the queue still waits
for its own idle before it sends the next message.

Ctrl-C: a queued turn is dropped without being sent; a sent one is aborted. The abort is
handed to a short-lived thread (``copilot-abort-<id>``) in one step that a second Ctrl-C
cannot undo, and the caller re-raises at once.

Busy/idle: the session is busy while a turn is queued or running, while a plain
``session.send`` has not seen its turn's idle (tracked from just before the request),
and from a top-level ``user.message``/``assistant.turn_start`` to the next
``session.idle`` (turns from other clients).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import TYPE_CHECKING, Any, Protocol

from ._errors import CopilotTimeoutError
from ._fields import is_object
from ._idle_timeout import wait_turn
from ._turn_state import DONE, NEW, QUEUED, SENT, STARTING, Turn
from ._turns import StreamSink, TurnEnd, TurnWaiter, queued_timeout, running_timeout
from ._wire.deadline_timer import deadlines as _deadlines
from ._wire.messages import fresh
from ._wire.timeouts import WAIT_SLICE, Deadline, wait_interruptibly

if TYPE_CHECKING:
    from ._events import SessionEvent
    from ._futures import TurnFuture
    from ._idle_timeout import IdleTimeout
    from ._wire.connection import JsonRpcConnection

__all__ = ["SENT", "QueueSession", "SessionTurns", "Turn"]

logger = logging.getLogger("copilot_sync.session")

_BUSY_TYPES = frozenset({"user.message", "assistant.turn_start"})


class QueueSession(Protocol):
    """The session, as its queue of turns sees it (given by the session: ``_session._QueueLink``).
    ``received``: how many events the reader thread queued for it so far; ``route(fn)``: run
    ``fn()`` on its event thread, after those; ``check_open()``: raise if it is closed or
    being disconnected."""

    @property
    def session_id(self) -> str: ...
    @property
    def received(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    @property
    def connection(self) -> JsonRpcConnection | None: ...
    def check_open(self) -> None: ...
    def route(self, fn: Callable[[], None]) -> None: ...
    def ensure_connected(self) -> JsonRpcConnection: ...


class SessionTurns:
    """One session's queue of turns and busy/idle state (see the module docstring).

    Subscribed to the session's waiters for the session's whole life: ``observe`` and
    ``release`` run on the event thread; ``fail``/``fail_pending`` when it closes.
    """

    def __init__(self, session: QueueSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: deque[Turn] = deque()
        self._current: Turn | None = None  # the turn on the CLI, or next in line
        self._marks: list[TurnEnd] = []  # plain sends whose turn has not ended
        self._busy = False  # a top-level turn started and its session.idle has not come
        self._reporting = 0  # outcomes being reported (done callbacks running): not idle yet
        self._closed: BaseException | None = None

    def __repr__(self) -> str:
        return f"<SessionTurns queued={len(self._queue)} current={self._current is not None} idle={self._idle()}>"

    # ------------------------------------------------------------------ submitting

    def new_turn(
        self,
        payload: dict[str, Any],
        *,
        future: TurnFuture | None = None,
        sink: StreamSink | None = None,
        timeout: float | None = None,
        call_deadline: Deadline | None = None,
        idle: IdleTimeout | None = None,
    ) -> Turn:
        return Turn(
            self,
            payload,
            future=future,
            sink=sink,
            timeout=timeout,
            call_deadline=call_deadline,
            idle=idle,
        )

    def submit(self, turn: Turn) -> None:
        """Queue ``turn``, or send it from this thread if nothing is ahead of it."""
        with self._lock:
            if self._closed is not None:
                raise fresh(self._closed)
            if turn.state != NEW or turn.settled or turn.interrupted:
                return  # dropped (Ctrl-C, a closed stream) before it was queued
            if self._current is not None:
                turn.state = QUEUED
                self._queue.append(turn)
                return
            self._current = turn
            turn.state = STARTING
        self._pump(turn)

    def _advance_locked(self) -> Turn | None:
        """The current turn is over: the next queued one becomes current (to be sent by the caller)."""
        turn = self._queue.popleft() if self._queue else None
        self._current = turn
        if turn is not None:
            turn.state = STARTING
        elif self._idle_locked():
            self._changed.notify_all()
        return turn

    def _pump(self, turn: Turn | None) -> None:
        """Send ``turn`` (the current one); if that fails at once, or it was dropped before
        it went out, go on with the next. Any thread; no lock held."""
        interrupted: BaseException | None = None
        session = self._session
        while turn is not None:
            with self._lock:
                if turn is not self._current:
                    return  # the session closed meanwhile
                if turn.settled or turn.interrupted or (turn.sink is not None and turn.sink.closed):
                    turn.state = (
                        DONE  # cancelled, timed out, interrupted or closed while next in line
                    )
                    turn = self._advance_locked()
                    continue
                baseline = session.received
                turn.waiter = TurnWaiter(baseline)
                turn.end = TurnEnd(baseline)
                if turn.sink is not None:
                    turn.sink.start(baseline)  # the stream's events count from here
                turn.state = SENT
                first = (
                    turn.timeout if turn.idle is None else turn.idle.start(session, turn.timeout)
                )
                if (
                    first is not None and turn.future is not None
                ):  # send_async: counts from the moment the message is sent
                    turn.deadline = _deadlines.add(
                        first, functools.partial(self._route, self._on_timeout, turn)
                    )
            try:
                session.check_open()
                connection = session.ensure_connected()
                # The write is bounded like the turn: by the blocking caller's deadline, or
                # by send_async's timeout (which counts from here).
                write_timeout = (
                    turn.timeout if turn.call_deadline is None else turn.call_deadline.remaining()
                )
                connection.request_async(
                    "session.send",
                    turn.payload,
                    functools.partial(self._answered, turn),
                    write_timeout=None if write_timeout is None else max(write_timeout, 0.001),
                )
                return
            except BaseException as exc:  # not sent: this turn fails, the next one goes
                error = exc
            with self._lock:
                turn.answered = True
                settle = not turn.settled
                turn.settled = True
                turn.state = DONE
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
        self._session.route(functools.partial(fn, *args))

    def _answered(self, turn: Turn, result: Any, error: BaseException | None) -> None:
        """Reader thread (or a closing thread): the answer to ``session.send``. Just hand it
        over, with how many events had arrived by then."""
        self._route(self._on_answer, turn, self._session.received, result, error)

    def _on_answer(self, turn: Turn, seq: int, result: Any, error: BaseException | None) -> None:
        following = None
        settle = abort = False
        with self._lock:
            if (
                turn is not self._current
                or turn.answered
                or turn.end is None
                or turn.waiter is None
            ):
                return
            turn.answered = True
            if error is not None:  # not accepted: no turn runs on the CLI
                turn.end.ended = True
                settle = not turn.settled
                turn.settled = True
            else:
                turn.waiter.tracker.mark_sent(seq)
                turn.end.sent_seq = seq
                if turn.sink is not None and turn.sink.tracker is not None:
                    turn.sink.tracker.mark_sent(seq)
                message_id = result.get("messageId") if is_object(result) else None
                turn.message_id = message_id if isinstance(message_id, str) else None
                if turn.future is not None:
                    turn.future.message_id = turn.message_id
                if turn.cancel_requested and not turn.end.ended and not turn.abort_sent:
                    turn.abort_sent = abort = True
            if turn.end.ended:
                turn.state = DONE
                following = self._advance_locked()
        if settle:
            self._finish(turn, error=error)
        if abort:
            self._send_abort()
        if following is not None:
            self._pump(following)

    def _on_timeout(self, turn: Turn) -> None:
        """Event thread: a ``send_async`` timeout elapsed, or its idle timeout is due a look.
        The turn goes on (as with ``send_and_wait``); the next queued turn is sent when it ends."""
        with self._lock:
            if turn.settled:
                return
            error = running_timeout(turn.timeout) if turn.idle is None else turn.idle.check()
            if not isinstance(error, BaseException):  # the session is active: look again then
                turn.deadline = _deadlines.add(
                    error, functools.partial(self._route, self._on_timeout, turn)
                )
                return
            turn.settled = True
            turn.deadline = None
        self._finish(turn, error=error)

    # ------------------------------------------------------------------ the blocking caller

    def wait(self, turn: Turn, deadline: Deadline, call: str) -> SessionEvent | None:
        """Block until ``turn`` (a blocking one) has its outcome, or ``deadline`` passes.
        Ctrl-C propagates; the caller hands the abort off with :meth:`interrupt`. With an
        idle timeout, also until the session has been quiet that long since the send."""
        idle = turn.idle
        if not wait_turn(turn.signal, deadline, idle):
            where = self._expire(turn)
            if where == "withdrawn":
                raise queued_timeout(deadline.timeout, call, self._session.session_id)
            if where == "running":
                raise (
                    idle.error()
                    if idle is not None and idle.fired
                    else running_timeout(deadline.timeout)
                )
            wait_interruptibly(turn.signal, None)  # decided just now: the answer is on its way
        outcome: SessionEvent | BaseException | None = turn.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _expire(self, turn: Turn) -> str:
        """The blocking caller's deadline passed: ``"withdrawn"`` (it never left the queue,
        and now never will), ``"running"`` (it was sent and goes on; nobody waits for its
        outcome any more) or ``"settled"`` (its outcome was decided meanwhile)."""
        with self._lock:
            if turn.settled:
                return "settled"
            turn.settled = True
            if self._withdraw_locked(turn):
                return "withdrawn"
            return "running"

    def withdraw(self, turn: Turn) -> bool:
        """Drop ``turn`` if it was not sent yet (a stream closed or timed out); True if so."""
        with self._lock:
            if turn.state in (NEW, QUEUED, STARTING):
                turn.settled = True
            return self._withdraw_locked(turn)

    def _withdraw_locked(self, turn: Turn) -> bool:
        if turn.state == QUEUED:
            self._queue.remove(turn)
            turn.state = DONE
            if self._idle_locked():
                self._changed.notify_all()
            return True
        # NEW: submit() will not queue a settled turn; STARTING: the pump skips it
        return turn.state in (NEW, STARTING)

    def interrupt(self, turn: Turn) -> None:
        """Ctrl-C in the caller of ``turn``: drop it if it is queued, abort it if it runs.

        The caller calls this in a loop that retries on KeyboardInterrupt, so it must be
        idempotent. The flag keeps the pump from sending the turn from now on; the rest
        happens on a thread of its own, so no second Ctrl-C can cut it short."""
        turn.interrupted = True
        try:
            threading.Thread(
                target=self._on_interrupt,
                args=(turn,),
                name=f"copilot-abort-{self._session.session_id[:8]}",
                daemon=True,
            ).start()
        except RuntimeError:  # no thread to be had (interpreter shutting down, limits): do it here
            self._on_interrupt(turn)

    def _on_interrupt(self, turn: Turn) -> None:
        abort = False
        with self._lock:
            if turn.cancel_requested:
                return  # handed off twice: once is enough
            turn.cancel_requested = True
            turn.settled = True
            self._withdraw_locked(turn)
            if (
                turn.state == SENT
                and turn.answered
                and turn.end is not None
                and not turn.end.ended
                and not turn.abort_sent
            ):
                turn.abort_sent = abort = True
            # sent but not yet accepted: _on_answer aborts it as soon as the CLI accepts it
        if turn.sink is not None:
            turn.sink.closed = True
        if abort:
            self._send_abort()

    # ------------------------------------------------------------------ cancel (TurnFuture)

    def cancel(self, turn: Turn) -> bool:
        future = turn.future
        assert future is not None
        with self._lock:
            if future.cancelled():
                return True
            if (
                turn.settled
                or future.done()
                or (turn.waiter is not None and turn.waiter.outcome is not None)
            ):
                return False
            turn.settled = True
            turn.cancel_requested = True
            running = turn.state == SENT
            self._withdraw_locked(turn)
            deadline, turn.deadline = turn.deadline, None
        if deadline is not None:
            _deadlines.cancel(deadline)
        if Future.cancel(future):  # pyright: ignore[reportUnknownMemberType]  # base-class cancel
            future.set_running_or_notify_cancel()  # wakes concurrent.futures.wait()/as_completed()
        if running:
            self._route(self._abort_if_running, turn)
        return True

    def _abort_if_running(self, turn: Turn) -> None:
        """Event thread: abort a cancelled turn unless it already ended. Before its
        answer arrived it cannot be aborted yet: ``_on_answer`` does it then."""
        with self._lock:
            if (
                turn is not self._current
                or not turn.answered
                or turn.abort_sent
                or turn.end is None
                or turn.end.ended
            ):
                return
            turn.abort_sent = True
        self._send_abort()

    def _send_abort(self) -> None:
        session = self._session
        connection = session.connection
        if connection is None or connection.is_closed or session.closed:
            return

        def answered(result: Any, error: BaseException | None) -> None:
            if error is not None:
                logger.debug("session %s: session.abort failed: %s", session.session_id, error)

        try:
            connection.request_async("session.abort", {"sessionId": session.session_id}, answered)
        except Exception as exc:
            logger.debug("session %s: could not send session.abort: %s", session.session_id, exc)

    # ------------------------------------------------------------------ completing

    def _finish(
        self, turn: Turn, *, error: BaseException | None = None, outcome: Any = None
    ) -> None:
        """Report the outcome (no lock held: done callbacks run here). Called once per
        turn, by whoever set ``settled``."""
        deadline, turn.deadline = turn.deadline, None
        if deadline is not None:
            _deadlines.cancel(deadline)
        if turn.sink is not None and error is not None:
            turn.sink.fail(error)  # events end the stream otherwise
        if isinstance(outcome, BaseException) and error is None:
            error = outcome
        answer = None if turn.waiter is None else turn.waiter.answer
        future = turn.future
        if future is not None:
            try:
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(answer)
            except InvalidStateError:  # completed by someone else (the future is public)
                pass
        elif turn.signal is not None:
            turn.outcome = error if error is not None else answer
            turn.signal.release()

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
        """Event thread, after the handlers: feed a stream, report a decided outcome, send
        the next turn."""
        fed: StreamSink | None = None
        if event.raw_type != "session.idle":
            # Only an idle ends a turn, a mark or the busy state; any other event can only
            # feed a stream or decide the current turn's outcome (session.error). No lock.
            turn = self._current
            if turn is None or turn.waiter is None:
                return
            if turn.sink is not None:
                fed = turn.sink
                fed.release(seq, event)
            if turn.settled or turn.waiter.outcome is None:
                return
        settle: Turn | None = None
        sink: StreamSink | None = None
        following = None
        with self._lock:
            if event.raw_type == "session.idle" and not event.agent_id:
                self._busy = False
            if self._marks:
                self._marks = [mark for mark in self._marks if not mark.ended]
            turn = self._current
            if turn is not None and turn.waiter is not None and turn.end is not None:
                sink = turn.sink  # taken before the turn may end below: it gets this event too
                if turn.waiter.outcome is not None and not turn.settled:
                    turn.settled = True
                    settle = turn
                    self._reporting += 1  # wait_for_idle returns only after its done callbacks ran
                if turn.end.ended and turn.answered:
                    turn.state = DONE
                    following = self._advance_locked()
            if self._idle_locked():
                self._changed.notify_all()
        if sink is not None and sink is not fed:
            sink.release(seq, event)
        if settle is not None:
            assert settle.waiter is not None
            try:
                self._finish(settle, outcome=settle.waiter.outcome)
            finally:
                with self._lock:
                    self._reporting -= 1
                    if self._idle_locked():
                        self._changed.notify_all()
        if following is not None:
            self._pump(following)

    def fail(self, error: BaseException) -> None:
        """The session closed (any thread): fail every queued and running turn with
        ``error`` (one whose outcome is already known gets that), and every wait_for_idle."""
        self._fail(error, keep_decided=False)

    def fail_pending(self, error: BaseException) -> None:
        """``disconnect()`` started: like :meth:`fail`, before the CLI aborts the running
        turn (its aborted idle would say "aborted"), except that a turn whose outcome is
        already decided is left to its ``release`` after the handlers, as usual (or to the
        ``fail`` that closing the session ends with)."""
        self._fail(error, keep_decided=True)

    def _fail(self, error: BaseException, *, keep_decided: bool) -> None:
        finished: list[tuple[Turn, Any]] = []
        with self._lock:
            if self._closed is None:
                self._closed = error
            turns = ([self._current] if self._current is not None else []) + list(self._queue)
            self._queue.clear()
            self._current = None
            self._marks = []
            for turn in turns:
                decided = turn.waiter.outcome if turn.waiter is not None else None
                if keep_decided and decided is not None and not turn.settled:
                    self._current = turn  # only the running turn can be decided
                    continue
                turn.state = DONE
                if turn.settled:
                    continue
                turn.settled = True
                finished.append((turn, decided))
            self._changed.notify_all()
        for turn, decided in finished:
            if decided is None:
                self._finish(turn, error=fresh(error))
            else:
                if turn.sink is not None:
                    turn.sink.fail(
                        fresh(error)
                    )  # decided, but its stream may not have had the last event
                self._finish(turn, outcome=decided)

    # ------------------------------------------------------------------ plain sends and idle

    def track_send(self, send: Callable[[], Any]) -> Any:
        """Run a plain ``session.send`` request (not queued); the session counts as busy
        from just before it until its turn's idle (or at once again if the request fails)."""
        session = self._session
        mark = TurnEnd(session.received)
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
        mark.sent_seq = session.received
        return result

    def _idle_locked(self) -> bool:
        return (
            self._current is None
            and not self._queue
            and not self._marks
            and not self._busy
            and not self._reporting
        )

    def _idle(self) -> bool:
        with self._lock:
            return self._idle_locked()

    def wait_idle(self, deadline: Deadline) -> None:
        with self._changed:
            while True:
                if self._closed is not None:
                    raise fresh(self._closed)
                if self._idle_locked():
                    return
                remaining = deadline.remaining()
                if remaining is not None and remaining <= 0:
                    raise CopilotTimeoutError(
                        f"Timeout after {deadline.timeout:g}s waiting for the session to be idle "
                        "(nothing was aborted)"
                    )
                self._changed.wait(WAIT_SLICE if remaining is None else min(remaining, WAIT_SLICE))
