"""``CopilotSession``: one conversation with the CLI, driven by blocking calls.

Events for the session are queued by the reader thread and delivered, in arrival order,
on the session's own event thread (``copilot-events-<id>``): first the SDK's own
reactions, then every ``on()`` handler in registration order, then the callers blocked in
``send_and_wait``/``stream``. A handler that raises, even a ``BaseException`` such as
``SystemExit``, is logged and the next one runs; the waiters are released all the same.

Every turn that ``send_and_wait``, ``stream``, ``send_and_collect`` and ``send_async``
start goes through one FIFO queue per session (``_turn_queue.py``), so many threads may
share a session and each gets the reply to its own prompt. Blocking calls that can never
complete from where they are made (inside a handler of the session's own running turn)
raise :class:`ReentrancyError` at once (``_reentrancy.py``).
"""

from __future__ import annotations

import functools
import logging
import pathlib
import threading
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Union, overload

from ._callbacks import REACTS_TO, SessionCallbacks
from ._dispatch import EventDispatcher, Subscribers
from ._errors import ConnectionLostError, JsonRpcError, SessionClosedError
from ._elicitation import SessionUI
from ._events import SessionEvent, parse_event
from ._lifetime import weak_method
from ._futures import SessionTurns, TurnFuture
from ._reentrancy import blocking
from ._reentrancy import check as check_reentrancy
from ._session_config import check_arity
from ._shell import SessionShell, ShellExit, ShellOutput
from ._timeouts import Deadline, check_timeout
from ._tools import Tool, ToolResult, as_tool
from ._turns import EventStream, _StreamSink, _TextCollector

if TYPE_CHECKING:
    from ._client import CopilotClient
    from .generated.rpc import ModelSwitchToResult, SessionRpc

__all__ = ["CopilotSession", "EventHandler"]

logger = logging.getLogger("copilot_sync.session")

EventHandler = Callable[[SessionEvent], Any]
_SEND_MODES = ("enqueue", "immediate")
_LOG_LEVELS = ("info", "warning", "error")


class _HandlerEntry:
    __slots__ = ("event_type", "handler")

    def __init__(self, event_type: str | None, handler: EventHandler) -> None:
        self.event_type = event_type
        self.handler = handler


class CopilotSession:
    """A conversation with the Copilot CLI. Create one with :meth:`CopilotClient.create_session`.

    Thread-safe: any thread may call any method; handlers may call back into the session.
    """

    _rpc_api: SessionRpc | None = None  # session.rpc, built on first access
    _shell: SessionShell | None = None  # shell output handlers, built on first use

    def __init__(self, client: CopilotClient, session_id: str, options: Mapping[str, Any]) -> None:
        self._client = client
        self.session_id = session_id
        self.workspace_path: pathlib.Path | None = None
        self.capabilities: dict[str, Any] = {}
        self._options = dict(options)
        self._lock = threading.RLock()
        self._handlers = Subscribers()
        self._waiters = Subscribers()
        self._received = 0  # events queued so far; written only by the reader thread
        self._closed: BaseException | None = None
        self._disconnecting = False
        on_event = options.get("on_event")
        if on_event is not None:
            self._handlers.add(_HandlerEntry(None, on_event))
        self._callbacks = SessionCallbacks(self, options)
        self._ui: SessionUI | None = None
        self._turns = SessionTurns(self)  # the queue of turns and wait_for_idle's state
        self._waiters.add(self._turns)
        # The event thread holds the session only weakly, so a session (and its client)
        # nobody holds any more can be collected; collecting it ends the thread.
        self._dispatcher = EventDispatcher(f"copilot-events-{session_id[:8]}", weak_method(self._deliver), owner=self)
        weakref.finalize(self, self._dispatcher.stop, wait=None).atexit = False

    def __repr__(self) -> str:
        """``<CopilotSession 'id' open model='gpt-5' provider='openai' tools=1 handlers=2>``:
        the id, ``open``/``disconnecting``/``closed``, then only what is set: the model and
        provider type asked for at creation (never the provider's URL or key), the tools this
        client provides and the ``on()`` handlers. Cheap, takes no lock, never raises."""
        if getattr(self, "_closed", None) is not None:
            state = "closed"
        elif getattr(self, "_disconnecting", False):
            state = "disconnecting"
        else:
            state = "open"
        parts = [f"<CopilotSession {getattr(self, 'session_id', '?')!r} {state}"]
        options = getattr(self, "_options", None) or {}
        model = options.get("model")
        if isinstance(model, str) and model:
            parts.append(f"model={model!r}")
        provider = options.get("provider")
        if isinstance(provider, Mapping) and isinstance(provider.get("type"), str):
            parts.append(f"provider={provider['type']!r}")
        for label, items in (
            ("tools", getattr(getattr(self, "_callbacks", None), "tools", None)),
            ("handlers", getattr(self, "_handlers", None)),
        ):
            try:
                count = len(items) if items is not None else 0
            except TypeError:
                count = 0
            if count:
                parts.append(f"{label}={count}")
        return " ".join(parts) + ">"

    # ------------------------------------------------------------------ state

    @property
    def client(self) -> CopilotClient:
        return self._client

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def _check_open(self) -> None:
        if self._disconnecting and self._closed is None:
            raise SessionClosedError(f"session {self.session_id} is being disconnected")
        closed = self._closed
        if closed is not None:
            if isinstance(closed, SessionClosedError):
                raise SessionClosedError(str(closed))
            raise closed

    def _apply_result(self, result: Any) -> None:
        """Take ``workspacePath`` and ``capabilities`` from a create/resume result."""
        if not isinstance(result, dict):
            return
        workspace = result.get("workspacePath")
        self.workspace_path = pathlib.Path(workspace) if isinstance(workspace, str) and workspace else None
        capabilities = result.get("capabilities")
        if isinstance(capabilities, dict):
            self.capabilities = capabilities

    @property
    def rpc(self) -> SessionRpc:
        """Every method of this session in the CLI's API, typed and blocking, by namespace:
        ``session.rpc.model.get_current()``, ``session.rpc.mode.set(mode="plan")``,
        ``session.rpc.shell.exec(command="ls")``... (``sessionId`` is filled in).

        Generated from the pinned CLI's schema (:mod:`copilot_sync.generated.rpc`) and
        loaded on first access. Keyword arguments are snake_case; each method takes
        ``timeout=`` and returns a typed result.
        """
        rpc = self._rpc_api
        if rpc is None:
            from ._rpc import session_rpc

            rpc = self._rpc_api = session_rpc(self)
        return rpc

    def _rpc(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None) -> Any:
        self._check_open()
        payload = {"sessionId": self.session_id}
        if params:
            payload.update(params)
        if method == "session.send":  # for wait_for_idle: busy from the send to its turn's idle
            return self._turns.track_send(lambda: self._client._request(method, payload, timeout=timeout))
        return self._client._request(method, payload, timeout=timeout)

    # ------------------------------------------------------------------ events

    def _enqueue(self, raw_event: Any) -> None:
        """Reader thread: queue one event for the event thread. Must stay cheap."""
        self._received += 1
        self._dispatcher.put((self._received, raw_event))

    def _deliver(self, item: tuple[int, Any] | Callable[[], None]) -> None:
        """Event thread: parse, react, call handlers, then wake waiters."""
        if not isinstance(item, tuple):  # SDK work routed to this thread (send_async answers, timeouts, aborts)
            item()
            return
        seq, raw = item
        try:
            event = parse_event(raw)
        except TypeError:
            logger.warning("session %s: skipped an event that is not an object: %.80r", self.session_id, raw)
            return
        if event.raw_type in REACTS_TO:
            try:
                self._callbacks.react(event)
            except Exception:  # a malformed request event must not cost the handlers their event
                logger.exception("session %s: could not handle %s", self.session_id, event.raw_type)
        elif event.raw_type == "capabilities.changed":
            self._merge_capabilities(event)
        waiters = self._waiters.snapshot()
        for waiter in waiters:
            waiter.observe(seq, event)
        for entry in self._handlers.snapshot():
            if entry.event_type is None or entry.event_type == event.raw_type:
                try:
                    entry.handler(event)
                except BaseException:  # even SystemExit or a test's failure: the waiters below must be released
                    logger.exception(
                        "session %s: event handler %r raised on %s", self.session_id, entry.handler, event.raw_type
                    )
        for waiter in waiters:
            waiter.release(seq, event)

    def _merge_capabilities(self, event: SessionEvent) -> None:
        data = event.raw.get("data")
        if not isinstance(data, dict):
            return
        with self._lock:
            merged = dict(self.capabilities)
            for key, value in data.items():
                if isinstance(value, dict) and isinstance(merged.get(key), dict):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
            self.capabilities = merged

    @overload
    def on(self, handler: EventHandler, /) -> Callable[[], None]: ...

    @overload
    def on(self, event_type: str, handler: EventHandler, /) -> Callable[[], None]: ...

    def on(self, event_type_or_handler: Union[str, EventHandler], handler: EventHandler | None = None, /) -> Callable[[], None]:
        """Subscribe to every event, or to one type: ``on(handler)`` / ``on("assistant.message", handler)``.

        Handlers run on the session's event thread, in arrival order, and may call any
        session or client method. Returns a callable that unsubscribes.
        """
        if handler is None:
            if not callable(event_type_or_handler):
                raise TypeError("on() takes a handler, or an event type and a handler")
            check_arity(event_type_or_handler, 1, "an event handler (it receives the SessionEvent)")
            entry = _HandlerEntry(None, event_type_or_handler)
        else:
            event_type = event_type_or_handler
            if not isinstance(event_type, str):
                raise TypeError(f"event type must be a string, not {type(event_type).__name__}")
            check_arity(handler, 1, "an event handler (it receives the SessionEvent)")
            event_type = str(getattr(event_type, "value", event_type))
            _warn_if_unknown_type(event_type)
            entry = _HandlerEntry(event_type, handler)
        return self._handlers.add(entry)

    # ------------------------------------------------------------------ sending
    #
    # One order per session: send_and_wait, stream, send_and_collect and send_async are all
    # turns in the session's FIFO queue (_turn_queue.py); the SDK sends a turn's message only
    # once the previous turn's own session.idle arrived, because one idle can cover several
    # messages (PROTOCOL §0.1 item 2). send() alone stays outside the queue.

    def send(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: str | None = None,
        timeout: float | None = 60.0,
    ) -> str:
        """Send a message at once and return its message id, without waiting for the reply.

        Fire and forget: ``send()`` is not part of the session's queue of turns. If a
        turn is running (sent by ``send_and_wait``, ``send_async``... or another client),
        the CLI queues this message behind it and one ``session.idle`` then covers both:
        the caller waiting on the running turn wakes only at that shared idle, and its
        reply may be this message's. For turns that each get their own reply, use
        :meth:`send_async` or :meth:`send_and_wait`. ``timeout`` bounds the request only.
        """
        params = _send_params(prompt, attachments, mode)
        timeout = check_timeout(timeout)
        result = self._rpc("session.send", params, timeout=timeout)
        return result.get("messageId", "") if isinstance(result, dict) else ""

    def send_and_wait(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: str | None = None,
        timeout: float | None = 60.0,
    ) -> SessionEvent | None:
        """Send a message and block until its turn is over; return its reply.

        Returns the turn's final ``assistant.message`` event (the last one with text), or
        ``None`` if the turn produced none. Raises :class:`SessionError` on
        ``session.error`` and :class:`TurnAbortedError` if the turn was aborted.

        Many threads may call it on one session at once: each call's turn waits its
        turn in the session's queue (shared with ``stream``, ``send_and_collect`` and
        ``send_async``, in call order) and its message is sent only once the previous
        turn ended, so each caller gets the reply to its own prompt.

        ``timeout`` (seconds; ``None`` = no limit) is one deadline for the whole call,
        time in the queue included: :class:`CopilotTimeoutError` then says either that
        the call was still waiting for earlier turns (its message was dropped and never
        sent) or that its turn is still running on the CLI (nothing is aborted; call
        :meth:`abort` for that). Ctrl-C drops a queued message, or aborts the running turn,
        and re-raises. From inside a handler of this session's running turn (a tool, an
        ``on()`` handler...) it can never complete, and raises :class:`ReentrancyError` at
        once; use :meth:`send_async` or :meth:`send` there.
        """
        params = _send_params(prompt, attachments, mode)
        deadline = Deadline.checked(timeout)
        self._check_open()
        with blocking(self, "send_and_wait()"):
            turn = self._turns.new_turn({"sessionId": self.session_id, **params})
            try:
                self._turns.submit(turn)
                return self._turns.wait(turn, deadline, "send_and_wait()")
            except KeyboardInterrupt:
                while True:  # hand the abort off; a second Ctrl-C during the hand-off must not cancel it
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
        mode: str | None = None,
        timeout: float | None = None,
        buffer_size: int = 10_000,
    ) -> EventStream:
        """Queue a message and return a blocking iterator over its turn's events.

        ``for event in session.stream("hi"): ...`` yields every event of the turn, from
        the moment its message is sent up to and including ``session.idle``; it raises
        like :meth:`send_and_wait`. The turn takes its place in the session's queue like
        a ``send_and_wait`` turn: sent at once when nothing is ahead of it, else when the
        turns ahead have ended (``stream.message_id`` is set once the CLI accepted it).
        ``timeout`` bounds the whole call, from here to the idle. Closing the stream
        before its message was sent drops it from the queue.
        """
        params = _send_params(prompt, attachments, mode)
        deadline = Deadline.checked(timeout)
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 2:
            raise ValueError("buffer_size must be an integer of at least 2")
        self._check_open()
        check_reentrancy(self, "stream()")  # it would be iterated right here, forever
        turn = self._turns.new_turn({"sessionId": self.session_id, **params}, sink=_StreamSink(buffer_size))
        stream = EventStream(self, turn, deadline)
        try:
            self._turns.submit(turn)
        except KeyboardInterrupt:
            while True:
                try:
                    stream._interrupted()
                    break
                except KeyboardInterrupt:
                    continue
            raise
        except BaseException:
            stream.close()
            raise
        return stream

    def send_async(
        self,
        prompt: str,
        *,
        attachments: Sequence[Mapping[str, Any]] | None = None,
        mode: str | None = None,
        timeout: float | None = None,
    ) -> TurnFuture:
        """Queue a message without blocking; return a :class:`TurnFuture` of its turn.

        The future's result is what :meth:`send_and_wait` would return, and its exception
        what it would raise; ``timeout`` (seconds, ``None`` = no limit) counts from the
        moment the message is sent and, as there, does not abort the turn. The turn joins
        the session's queue, shared with ``send_and_wait``, ``stream`` and
        ``send_and_collect``: turns run one at a time in call order, the next message
        sent only when the previous turn's ``session.idle`` arrived (one idle can cover
        several queued messages), so each future gets its own turn's reply. Plain
        :meth:`send` is not part of the queue.

        ``future.cancel()`` drops a turn still queued here, or aborts a running one (the
        future ends cancelled). Futures complete on the session's event thread; closing
        the session, stopping the client or the CLI exiting fails every queued and running
        one. Argument errors, and a closed session, raise here. It may be called from any
        handler, this session's own included.
        """
        params = _send_params(prompt, attachments, mode)
        timeout = check_timeout(timeout)
        self._check_open()
        future = TurnFuture(self, prompt)
        turn = self._turns.new_turn({"sessionId": self.session_id, **params}, future=future, timeout=timeout)
        future._turn = turn
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
        mode: str | None = None,
        timeout: float | None = 60.0,
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
        whole call; Ctrl-C drops or aborts the turn and re-raises).
        """
        if on_text is not None and not callable(on_text):
            raise TypeError(f"on_text must be a callable taking a string, not {type(on_text).__name__}")
        check_reentrancy(self, "send_and_collect()")
        collector = _TextCollector(on_text)
        stream = self.stream(prompt, attachments=attachments, mode=mode, timeout=timeout)
        try:
            for event in stream:
                collector.feed(event)
        except KeyboardInterrupt:
            while True:  # interrupted in on_text: abort as iteration would (idempotent)
                try:
                    stream._interrupted()
                    break
                except KeyboardInterrupt:
                    continue
            raise
        finally:
            stream.close()
        return collector.final_text

    def abort(self, *, timeout: float | None = 30.0) -> bool:
        """Abort the turn in progress. The session stays usable. Returns the CLI's ``success``.

        The next turn in the session's queue is sent once the aborted turn's idle arrived."""
        timeout = check_timeout(timeout)
        result = self.rpc.abort(timeout=timeout)
        success = getattr(result, "success", True)
        return success if isinstance(success, bool) else True

    # ------------------------------------------------------------------ other RPCs

    def get_messages(self, *, timeout: float | None = 60.0) -> list[SessionEvent]:
        """Every persisted event of the session so far (ephemeral ones are not kept by the CLI)."""
        timeout = check_timeout(timeout)
        result = self._rpc("session.getMessages", timeout=timeout)
        events = result.get("events", []) if isinstance(result, dict) else []
        return [parse_event(event) for event in events if isinstance(event, dict)]

    def set_model(
        self, model: str, *, reasoning_effort: str | None = None, timeout: float | None = 60.0
    ) -> ModelSwitchToResult:
        """Switch the model from the next turn on (``session.rpc.model.switch_to``).

        Returns the CLI's answer: ``result.status`` (``"applied"``), ``result.model_id``...
        For the other options (reasoning summary, context tier...) call
        ``session.rpc.model.switch_to(...)`` directly.
        """
        if not isinstance(model, str) or not model:
            raise TypeError("model must be a non-empty string")
        if reasoning_effort is not None and not isinstance(reasoning_effort, str):
            raise TypeError(f"reasoning_effort must be a string, not {type(reasoning_effort).__name__}")
        timeout = check_timeout(timeout)
        return self.rpc.model.switch_to(model_id=model, reasoning_effort=reasoning_effort, timeout=timeout)

    def log(
        self,
        message: str,
        *,
        level: str | None = None,
        ephemeral: bool | None = None,
        timeout: float | None = 60.0,
    ) -> str:
        """Write a message to the session's timeline (``session.info``/``warning``/``error``). Returns its event id."""
        if not isinstance(message, str):
            raise TypeError(f"message must be a string, not {type(message).__name__}")
        if level is not None and level not in _LOG_LEVELS:
            raise ValueError(f"level must be one of {', '.join(_LOG_LEVELS)}; got {level!r}")
        timeout = check_timeout(timeout)
        result = self.rpc.log(
            message=message, level=level, ephemeral=None if ephemeral is None else bool(ephemeral), timeout=timeout
        )
        event_id = getattr(result, "event_id", None)
        return event_id if isinstance(event_id, str) else ""

    # ------------------------------------------------------------------ shell commands

    def on_shell_output(self, handler: Callable[[ShellOutput], Any], /) -> Callable[[], None]:
        """Call ``handler(ShellOutput)`` for each chunk of output (``process_id``, ``stream``
        ``"stdout"``/``"stderr"``, ``data``) of the commands this session starts with
        ``session.rpc.shell.exec(command=...)``. Handlers run in order on the session's
        ``copilot-shell-<id>`` thread. Returns a callable that unsubscribes."""
        check_arity(handler, 1, "on_shell_output handler")
        return self._shell_handlers().output_handlers.add(handler)

    def on_shell_exit(self, handler: Callable[[ShellExit], Any], /) -> Callable[[], None]:
        """Call ``handler(ShellExit)`` (``process_id``, ``exit_code``) when a command this
        session started with ``session.rpc.shell.exec(...)`` ends (after its last output).
        Returns a callable that unsubscribes."""
        check_arity(handler, 1, "on_shell_exit handler")
        return self._shell_handlers().exit_handlers.add(handler)

    def _shell_handlers(self) -> SessionShell:
        with self._lock:
            if self._shell is None:
                self._shell = SessionShell(self.session_id)
            return self._shell

    def _claim_process(self, process_id: Any) -> None:
        """After ``shell.exec`` answered: its output and exit belong to this session."""
        self._client._shell_router.claim(process_id, self._shell_handlers())

    # ------------------------------------------------------------------ requests from the CLI

    def _handle_request(self, method: str, params: dict[str, Any]) -> Any:
        """Worker thread: answer a session-scoped server-to-client request."""
        return self._callbacks.answer_request(method, params)

    # ------------------------------------------------------------------ tools and UI

    def get_tools(self) -> list[Tool]:
        """The tools this client provides to the session (not the CLI's built-in ones)."""
        return list(self._callbacks.tools.values())

    def register_tool(self, tool: Tool | Mapping[str, Any], *, timeout: float | None = 60.0) -> None:
        """Add a tool (or replace the one with its name) while the session runs.

        The CLI offers it to the model from the next model request on. Raises like any
        RPC if the CLI refuses; the session's tools are then unchanged.
        """
        self._callbacks.add_tool(as_tool(tool), timeout=check_timeout(timeout))

    def unregister_tool(self, name: str, *, timeout: float | None = 60.0) -> None:
        """Remove a tool this client provides; ``KeyError`` if there is none by that name.

        A model request already in flight may still call it; such a call is not answered
        by this client (abort the turn, or remove tools while the session is idle).
        """
        self._callbacks.remove_tool(name, timeout=check_timeout(timeout))

    def invoke_tool(self, name: str, arguments: Any = None, *, tool_call_id: str | None = None) -> ToolResult:
        """Run a tool's handler here, as if the model had called it, and return the
        :class:`ToolResult` the model would get (arguments validated the same way).
        Nothing is sent to the CLI: this is for testing your tools."""
        return self._callbacks.invoke_tool(name, {} if arguments is None else arguments, tool_call_id)

    @property
    def ui(self) -> SessionUI:
        """Dialogs for a user through the CLI (``confirm``, ``select``, ``input``, ``elicitation``)."""
        if self._ui is None:
            self._ui = SessionUI(self)
        return self._ui

    # ------------------------------------------------------------------ closing

    def disconnect(self, *, timeout: float | None = 10.0) -> None:
        """Release the session: ``session.destroy`` on the CLI (its data stays on disk, so it
        can be resumed), fail this session's waiters with :class:`SessionClosedError`, and
        remove it from its client. Idempotent; safe to call from a handler.
        """
        timeout = check_timeout(timeout)
        with self._lock:
            if self._disconnecting or self._closed is not None:
                return
            self._disconnecting = True
        # Waiters learn why before the CLI aborts their turn (its aborted idle would say "aborted").
        closing = SessionClosedError(f"session {self.session_id} was disconnected")
        for waiter in self._waiters.snapshot():
            waiter.fail_pending(closing)
        error: BaseException | None = None
        try:
            if not self._client._connection_lost():
                self._client._request("session.destroy", {"sessionId": self.session_id}, timeout=timeout)
        except (ConnectionLostError, JsonRpcError) as exc:
            logger.debug("session %s: session.destroy failed: %s", self.session_id, exc)
        except BaseException as exc:  # timeout or Ctrl-C: still close locally, then re-raise
            error = exc
        wait = 2.0 if timeout is None else max(0.0, min(2.0, timeout))
        self._close(closing, wait=wait)
        if error is not None:
            raise error

    def destroy(self) -> None:
        """Deprecated alias of :meth:`disconnect`."""
        warnings.warn("CopilotSession.destroy() is deprecated; use disconnect()", DeprecationWarning, stacklevel=2)
        self.disconnect()

    def _close(self, error: BaseException, *, wait: float | None = 2.0) -> None:
        """Close locally: fail waiters, stop the event thread, leave the client's registry."""
        with self._lock:
            if self._closed is not None:
                return
            self._closed = error
        for waiter in self._waiters.snapshot():
            waiter.fail(error)
        self._waiters.clear()
        self._client._forget_session(self)
        self._dispatcher.stop(wait=wait)
        shell = self._shell
        if shell is not None:
            self._client._shell_router.forget(shell)
            shell.close(wait=wait)

    def __enter__(self) -> CopilotSession:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.disconnect()


def _send_params(prompt: Any, attachments: Any, mode: Any) -> dict[str, Any]:
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, not {type(prompt).__name__}")
    params: dict[str, Any] = {"prompt": prompt}
    if attachments is not None:
        if isinstance(attachments, (str, Mapping)) or not isinstance(attachments, Sequence):
            raise TypeError("attachments must be a list of attachment dicts")
        for attachment in attachments:
            if not isinstance(attachment, Mapping) or not isinstance(attachment.get("type"), str):
                raise TypeError(f"each attachment must be a dict with a 'type'; got {attachment!r}")
        params["attachments"] = [dict(a) for a in attachments]
    if mode is not None:
        if mode not in _SEND_MODES:
            raise ValueError(f"mode must be one of {', '.join(_SEND_MODES)}; got {mode!r}")
        params["mode"] = mode
    return params


_unknown_warned: set[str] = set()


@functools.lru_cache(maxsize=1)
def _known_event_types() -> frozenset[str]:
    from ._events import event_type_names

    return frozenset(event_type_names())


def _warn_if_unknown_type(event_type: str) -> None:
    if event_type in _unknown_warned:
        return
    if event_type not in _known_event_types():
        _unknown_warned.add(event_type)
        logger.warning("on(%r): not an event type this SDK knows; the handler runs only if the CLI sends it", event_type)
