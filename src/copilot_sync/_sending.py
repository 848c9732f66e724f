"""The turn-taking methods of :class:`CopilotSession`: ``send``, ``send_and_wait``,
``stream``, ``send_async``, ``wait_for_idle``, ``send_and_collect`` and ``abort``.

One order per session: ``send_and_wait``, ``stream``, ``send_and_collect`` and
``send_async`` are all turns in the session's FIFO queue (:mod:`._turn_queue`); the SDK
sends a turn's message only once the previous turn's own ``session.idle`` arrived,
because one idle can cover several messages (docs/FUTURES.md). ``send()`` alone
stays outside the queue. Every ``timeout`` is checked (:func:`check_timeout`) before
anything is sent, and a blocking call has one :class:`Deadline`, time in the queue
included; an ``idle_timeout`` (:mod:`._idle_timeout`) counts only the session's silence
since the send. Blocking calls that can never complete from where they are made raise
:class:`ReentrancyError` at once (:mod:`._reentrancy`). The per-message options
(``agent_mode``, ``request_headers``, ``display_prompt``, ``source``) are checked and put
on the wire by :mod:`._send_options`.

Ctrl-C: the except clauses below hand the abort off in a loop that retries on
``KeyboardInterrupt``, written out in each clause: a loop in a helper function could be
cut short by a second interrupt before its first line runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from ._futures import TurnFuture, new_turn_future
from ._idle_timeout import IdleTimeout
from ._send_options import AgentMode, SendMode, send_params
from ._structured import OutputFormat, StructuredTurnFuture, new_structured_future, output_format
from ._turns import EventStream, StreamSink, TextCollector, interrupt_stream, no_reply_error
from ._wire.reentrancy import blocking
from ._wire.reentrancy import check as check_reentrancy
from ._wire.timeouts import Deadline, check_timeout

if TYPE_CHECKING:
    from ._session import CopilotSession
    from ._turn_queue import SessionTurns
    from .generated.rpc import SessionRpc
    from .generated.session_events import AssistantMessageEvent

__all__ = ["TurnMethods", "send_params"]

T = TypeVar("T")


class TurnMethods:
    """Mixed into :class:`CopilotSession`; see the module docstring."""

    session_id: str
    _turns: SessionTurns

    if TYPE_CHECKING:

        def _check_open(self) -> None: ...

        def _rpc(
            self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None
        ) -> Any: ...

        @property
        def rpc(self) -> SessionRpc: ...

    def send(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = 60.0,
    ) -> str:
        """Send a message at once and return its message id, without waiting for the reply.

        Fire and forget: ``send()`` is not part of the session's queue of turns. If a
        turn is running (sent by ``send_and_wait``, ``send_async``... or another client),
        the CLI queues this message behind it and one ``session.idle`` then covers both:
        the caller waiting on the running turn wakes only at that shared idle, and its
        reply may be this message's. For turns that each get their own reply, use
        :meth:`send_async` or :meth:`send_and_wait`. ``mode="immediate"`` asks the CLI to
        steer the running turn with the message instead. ``timeout`` bounds the request
        only. Safe to call from any handler, this session's own included.

        Per-message options (every sending method takes them; ``None`` leaves them out,
        and a wrong one raises ``TypeError``/``ValueError`` before anything is sent):

        * ``agent_mode``: the UI mode the message is sent in, ``"interactive"``,
          ``"plan"``, ``"autopilot"`` or ``"shell"`` (default: the session's). The
          ``user.message`` event carries it; the session's mode does not change.
        * ``request_headers``: HTTP headers (``{name: value}``) added to this turn's
          model requests, over the provider's own.
        * ``display_prompt``: what the ``user.message`` event and the history show
          instead of ``prompt`` (the model still gets ``prompt``).
        * ``source``: the message's provenance, copied to its ``user.message``:
          ``"user"``, ``"system"``, ``"command-<id>"``, ``"schedule-<n>"`` or
          ``"agent-<id>"``.
        """
        params = send_params(
            prompt, attachments, mode,
            agent_mode=agent_mode, request_headers=request_headers, display_prompt=display_prompt, source=source,
        )  # fmt: skip
        timeout = check_timeout(timeout)
        result: object = self._rpc("session.send", params, timeout=timeout)
        if not isinstance(result, dict):
            return ""
        message_id = cast("dict[str, Any]", result).get("messageId", "")
        return message_id if isinstance(message_id, str) else ""

    @overload
    def send_and_wait(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = 60.0,
        idle_timeout: float | None = None,
        response_format: None = None,
    ) -> AssistantMessageEvent: ...

    @overload
    def send_and_wait(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = 60.0,
        idle_timeout: float | None = None,
        response_format: type[T],
    ) -> T: ...

    @overload
    def send_and_wait(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = 60.0,
        idle_timeout: float | None = None,
        response_format: Mapping[str, Any] | Any,
    ) -> Any: ...

    def send_and_wait(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = 60.0,
        idle_timeout: float | None = None,
        response_format: Any = None,
    ) -> Any:
        """Send a message and block until its turn is over; return its reply.

        Returns the turn's final ``assistant.message`` event, an
        :class:`AssistantMessageEvent` (the last top-level one with text, else the last
        one): ``reply.data.content`` is the text. A turn that ends without any assistant
        message (the model only asked for a tool and the permission handler rejected it
        without feedback, or it produced nothing) raises :class:`NoReplyError`; it never
        returns ``None``. Raises :class:`SessionError` on ``session.error``, and
        :class:`TurnAbortedError` as soon as the CLI reports the turn aborted
        (:meth:`abort` from any thread, or another client): the caller does not wait for
        the aborted turn's ``session.idle``.

        Many threads may call it on one session at once: each call's turn waits its
        turn in the session's queue (shared with ``stream``, ``send_and_collect`` and
        ``send_async``, in call order) and its message is sent only once the previous
        turn ended, so each caller gets the reply to its own prompt.

        ``timeout`` (seconds; ``None`` = no limit) is one deadline for the whole call,
        time in the queue included: :class:`CopilotTimeoutError` then says either that
        the call was still waiting for earlier turns (its message was dropped and never
        sent) or that its turn is still running on the CLI (nothing is aborted; call
        :meth:`abort` for that). ``idle_timeout`` (seconds; ``None`` = none) raises the
        same error, saying so, only once no event of the session has arrived for that
        long since the message was sent (while one of this session's handlers runs, a
        tool for example, the clock stands still); the turn goes on likewise. With both,
        whichever comes first. Ctrl-C drops a queued message, or aborts the running turn,
        and re-raises. From inside a handler of this session's running turn (a tool, an
        ``on()`` handler...) it can never complete, and raises :class:`ReentrancyError` at
        once; use :meth:`send_async` or :meth:`send` there. Per-message options: :meth:`send`.

        ``response_format=T`` asks for structured output (docs/STRUCTURED_OUTPUT.md): ``T`` is
        a dataclass, TypedDict, Enum, ``Literal[...]``, ``list[int]``..., a pydantic v2 model,
        or a JSON Schema dict. Its schema goes to the CLI with the message, and the call
        returns the reply parsed and converted to ``T`` (the parsed JSON for a dict schema)
        instead of the event, or raises :class:`StructuredOutputError`. Not with
        ``mode="immediate"``.
        """
        params = send_params(
            prompt, attachments, mode,
            agent_mode=agent_mode, request_headers=request_headers, display_prompt=display_prompt, source=source,
        )  # fmt: skip
        output = _output(params, response_format)
        deadline = Deadline.checked(timeout)
        idle = _idle(idle_timeout, self)
        self._check_open()
        with blocking(self, "send_and_wait()"):
            turn = self._turns.new_turn(
                {"sessionId": self.session_id, **params}, call_deadline=deadline, idle=idle
            )
            try:
                self._turns.submit(turn)
                reply = self._turns.wait(turn, deadline, "send_and_wait()")
                if output is not None:
                    return output.convert_reply(reply)
                if reply is None:
                    raise no_reply_error(turn.waiter)
                return reply
            except KeyboardInterrupt:
                while (
                    True
                ):  # hand the abort off; a second Ctrl-C during the hand-off must not cancel it
                    try:
                        self._turns.interrupt(turn)
                        break
                    except KeyboardInterrupt:
                        continue
                raise

    def stream(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = None,
        idle_timeout: float | None = None,
        buffer_size: int = 10_000,
    ) -> EventStream:
        """Queue a message and return a blocking iterator over its turn's events.

        ``for event in session.stream("hi"): ...`` yields every event of the turn, from
        the moment its message is sent up to and including ``session.idle``; it raises
        like :meth:`send_and_wait` (an aborted turn: its ``abort`` event, then
        :class:`TurnAbortedError`). The turn takes its place in the session's queue like
        a ``send_and_wait`` turn: sent at once when nothing is ahead of it, else when the
        turns ahead have ended (``stream.message_id`` is set once the CLI accepted it).
        ``timeout`` bounds the whole call, from here to the idle; ``idle_timeout`` as in
        :meth:`send_and_wait`. Closing the stream before its message was sent drops it
        from the queue. Per-message options: :meth:`send`.
        """
        params = send_params(
            prompt, attachments, mode,
            agent_mode=agent_mode, request_headers=request_headers, display_prompt=display_prompt, source=source,
        )  # fmt: skip
        deadline = Deadline.checked(timeout)
        idle = _idle(idle_timeout, self)
        size = cast(object, buffer_size)  # checked: callers may pass anything
        if isinstance(size, bool) or not isinstance(size, int) or size < 2:
            raise ValueError("buffer_size must be an integer of at least 2")
        self._check_open()
        check_reentrancy(self, "stream()")  # it would be iterated right here, forever
        turn = self._turns.new_turn(
            {"sessionId": self.session_id, **params},
            sink=StreamSink(buffer_size),
            call_deadline=deadline,
            idle=idle,
        )
        stream = EventStream(self, turn, deadline)
        try:
            self._turns.submit(turn)
        except KeyboardInterrupt:
            while True:
                try:
                    interrupt_stream(stream)
                    break
                except KeyboardInterrupt:
                    continue
            raise
        except BaseException:
            stream.close()
            raise
        return stream

    @overload
    def send_async(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = None,
        idle_timeout: float | None = None,
        response_format: None = None,
    ) -> TurnFuture: ...

    @overload
    def send_async(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = None,
        idle_timeout: float | None = None,
        response_format: type[T],
    ) -> StructuredTurnFuture[T]: ...

    @overload
    def send_async(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = None,
        idle_timeout: float | None = None,
        response_format: Mapping[str, Any] | Any,
    ) -> TurnFuture: ...

    def send_async(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = None,
        idle_timeout: float | None = None,
        response_format: Any = None,
    ) -> TurnFuture:
        """Queue a message without blocking; return a :class:`TurnFuture` of its turn.

        The future's result is what :meth:`send_and_wait` would return, and its exception
        what it would raise; ``timeout`` (seconds, ``None`` = no limit) counts from the
        moment the message is sent and, as there, does not abort the turn; neither does
        ``idle_timeout``, which fails the future once no event of the session has arrived
        for that long since the send. The turn joins
        the session's queue, shared with ``send_and_wait``, ``stream`` and
        ``send_and_collect``: turns run one at a time in call order, the next message
        sent only when the previous turn's ``session.idle`` arrived (one idle can cover
        several queued messages), so each future gets its own turn's reply. Plain
        :meth:`send` is not part of the queue.

        ``future.cancel()`` drops a turn still queued here, or aborts a running one (the
        future ends cancelled). Futures complete on the session's event thread; closing
        the session, stopping the client or the CLI exiting fails every queued and running
        one. Argument errors, and a closed session, raise here. It may be called from any
        handler, this session's own included. Per-message options: :meth:`send`.

        ``response_format=T`` as in :meth:`send_and_wait`: the future is then a
        :class:`TurnFuture` whose ``result()`` is the reply converted to ``T``, and whose
        exception is :class:`StructuredOutputError` for a reply that does not fit.
        """
        params = send_params(
            prompt, attachments, mode,
            agent_mode=agent_mode, request_headers=request_headers, display_prompt=display_prompt, source=source,
        )  # fmt: skip
        output = _output(params, response_format)
        timeout = check_timeout(timeout)
        idle = _idle(idle_timeout, self)
        self._check_open()
        session, payload = cast("CopilotSession", self), {"sessionId": self.session_id, **params}
        future: TurnFuture
        if output is None:
            future, turn = new_turn_future(session, self._turns, prompt, payload, timeout, idle)
        else:
            future, turn = new_structured_future(
                session, self._turns, prompt, payload, timeout, idle, output
            )
        self._turns.submit(turn)
        return future

    def wait_for_idle(self, timeout: float | None = None) -> None:
        """Block until the session is idle: its queue of turns drained (``send_and_wait``,
        ``stream``, ``send_and_collect``, ``send_async``), no plain :meth:`send` turn
        running, and no turn of another client running. Returns at once if it already is.

        A turn runs from its ``session.send`` (or its ``user.message`` or
        ``assistant.turn_start``, for turns of other clients) to its ``session.idle``;
        when this returns, the ``on()`` handlers have seen that idle and the done callbacks
        of the futures it ended have run. Raises
        :class:`CopilotTimeoutError` after ``timeout`` seconds, :class:`SessionClosedError`
        (or the connection's error) if the session closes, and :class:`ReentrancyError`
        at once from inside a handler of this session's running turn. Nothing is aborted,
        not even by Ctrl-C (which just propagates).
        """
        deadline = Deadline.checked(timeout)
        self._check_open()
        with blocking(self, "wait_for_idle()"):
            self._turns.wait_idle(deadline)

    def send_and_collect(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: SendMode | None = None,
        agent_mode: AgentMode | None = None,
        request_headers: Mapping[str, str] | None = None,
        display_prompt: str | None = None,
        source: str | None = None,
        timeout: float | None = 60.0,
        idle_timeout: float | None = None,
        on_text: Callable[[str], Any] | None = None,
    ) -> str:
        """Send a message, block until the turn ends, and return the reply's text: the
        content of the message :meth:`send_and_wait` would return (``""`` if none).

        ``on_text(chunk)``, if given, gets the assistant's text as it arrives, each
        character exactly once whether streaming is on or not: the deltas when the
        session streams, and whatever part of each message its deltas did not cover
        (all of it without streaming). Every top-level message of the turn is passed on
        (text before a tool call too); sub-agents' messages are not. It runs on the
        calling thread; if it raises, the exception propagates (the turn goes on).
        Queued, timed and interrupted like :meth:`send_and_wait` (one deadline for the
        whole call, ``idle_timeout`` from the send; Ctrl-C drops or aborts the turn and
        re-raises). Per-message options: :meth:`send`.
        """
        if on_text is not None and not callable(on_text):
            raise TypeError(
                f"on_text must be a callable taking a string, not {type(on_text).__name__}"
            )
        check_reentrancy(self, "send_and_collect()")
        collector = TextCollector(on_text)
        stream = self.stream(
            prompt, attachments=attachments, mode=mode, agent_mode=agent_mode, request_headers=request_headers,
            display_prompt=display_prompt, source=source, timeout=timeout, idle_timeout=idle_timeout,
        )  # fmt: skip
        try:
            for event in stream:
                collector.feed(event)
        except KeyboardInterrupt:
            while True:  # interrupted in on_text: abort as iteration would (idempotent)
                try:
                    interrupt_stream(stream)
                    break
                except KeyboardInterrupt:
                    continue
            raise
        finally:
            stream.close()
        return collector.final_text

    def abort(self, *, timeout: float | None = 30.0) -> bool:
        """Abort the turn in progress. The session stays usable. Returns the CLI's ``success``.

        Any thread may call it. The caller blocked on the running turn (``send_and_wait``,
        ``send_and_collect``, a ``stream`` or a ``TurnFuture``) gets
        :class:`TurnAbortedError` as soon as the CLI reports the abort (its ``abort``
        event, which comes before this call returns). Turns still queued in the SDK are
        not touched: the next one is sent once the aborted turn's idle arrived.
        Aborting an idle session does nothing."""
        timeout = check_timeout(timeout)
        result = self.rpc.abort(timeout=timeout)
        success = getattr(result, "success", True)
        return success if isinstance(success, bool) else True


def _output(params: dict[str, Any], response_format: Any) -> OutputFormat | None:
    """The structured-output format asked for (its ``responseFormat`` put in ``params``),
    or ``None``; ``TypeError``/``ValueError`` for a wrong one, before anything is sent."""
    if response_format is None:
        return None
    if params.get("mode") == "immediate":
        raise ValueError(
            'response_format cannot be combined with mode="immediate": a steering message '
            'has the running turn\'s format; send it with mode="enqueue" (the default)'
        )
    output = output_format(response_format)
    params["responseFormat"] = output.wire()
    return output


def _idle(idle_timeout: Any, session: Any) -> IdleTimeout | None:
    """The idle clock for ``idle_timeout`` (checked like every timeout), or ``None``."""
    idle_timeout = check_timeout(idle_timeout, "idle_timeout")
    return None if idle_timeout is None else IdleTimeout(idle_timeout, session)
