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
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, overload

from typing_extensions import Self

from ._errors import ConnectionLostError, JsonRpcError, SessionClosedError
from ._events import SessionEvent, parse_event
from ._fields import is_mapping, is_object
from ._futures import SessionTurns
from ._lifetime import weak_method
from ._requests.arity import check_arity
from ._requests.callbacks import SessionCallbacks
from ._requests.canvas import OpenCanvasTracker
from ._requests.define_tool import as_tool
from ._requests.elicitation import SessionUI
from ._requests.router import REACTS_TO, Request
from ._requests.shell import SHELL_EVENT_TYPES, SessionShell, ShellExit, ShellOutput
from ._requests.tools import Tool, ToolResult
from ._sending import TurnMethods
from ._types import TranscriptRecoveryReport
from ._wire.dispatch import EventDispatcher, Subscribers
from ._wire.timeouts import check_timeout

if TYPE_CHECKING:
    from ._client import CopilotClient
    from ._requests.session_fs_wire import SessionFsAdapter
    from ._requests.shell import ShellRouter
    from ._wire.connection import JsonRpcConnection
    from .generated.rpc import (
        ModelSwitchAutoTierResult,
        ModelSwitchToResult,
        OpenCanvasInstance,
        SessionRpc,
    )

__all__ = ["CopilotSession", "EventHandler", "SessionControl"]

logger = logging.getLogger("copilot_sync.session")

EventHandler = Callable[[SessionEvent], Any]
_LOG_LEVELS = ("info", "warning", "error")


class ClientLink(Protocol):
    """The client, as its sessions see it (given by the client: ``_client.SessionLink``)."""

    @property
    def shell_router(self) -> ShellRouter: ...

    @property
    def connection(self) -> JsonRpcConnection | None: ...

    def request(self, method: str, params: Any = None, *, timeout: float | None = 60.0) -> Any: ...

    def ensure_connected(self) -> JsonRpcConnection: ...

    def connection_lost(self) -> bool: ...

    def forget_session(self, session: CopilotSession) -> None: ...

    def submit(self, fn: Callable[..., Any], *args: Any) -> bool: ...


class _HandlerEntry:
    __slots__ = ("event_type", "handler")

    def __init__(self, event_type: str | None, handler: EventHandler) -> None:
        self.event_type = event_type
        self.handler = handler


class CopilotSession(TurnMethods):
    """A conversation with the Copilot CLI. Create one with :meth:`CopilotClient.create_session`.

    Thread-safe: any thread may call any method, and many threads may share one session
    (its turns run one at a time, in call order). Handlers may call back into the session;
    a blocking call that could never complete from a handler raises
    :class:`ReentrancyError` at once.
    """

    _rpc_api: SessionRpc | None = None  # session.rpc, built on first access
    _shell: SessionShell | None = None  # shell output handlers, built on first use

    def __init__(
        self,
        client: CopilotClient,
        session_id: str,
        options: Mapping[str, Any],
        link: ClientLink | None = None,
    ) -> None:
        self._client = client
        # _DirectLink provides ClientLink through __getattr__
        self._link: ClientLink = link if link is not None else cast(ClientLink, _DirectLink(client))
        self.session_id = session_id
        self.workspace_path: pathlib.Path | None = None
        self.capabilities: dict[str, Any] = {}
        self._canvases = OpenCanvasTracker()
        #: What ``resume_session`` repaired in a damaged transcript (``None``: nothing, or
        #: a created session); ask for repair with ``allow_transcript_recovery=True``.
        self.transcript_recovery: TranscriptRecoveryReport | None = None
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
        self._callbacks = SessionCallbacks(_RequestLink(self), options)
        self._ui: SessionUI | None = None
        self._turns = SessionTurns(_QueueLink(self))  # the queue of turns and wait_for_idle's state
        self._waiters.add(self._turns)
        # The event thread holds the session only weakly, so a session (and its client)
        # nobody holds any more can be collected; collecting it ends the thread.
        self._dispatcher = EventDispatcher(
            f"copilot-events-{session_id[:8]}", weak_method(self._deliver), owner=self
        )
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
        options: Mapping[str, Any] = getattr(self, "_options", None) or {}
        model = options.get("model")
        if isinstance(model, str) and model:
            parts.append(f"model={model!r}")
        provider = options.get("provider")
        if is_mapping(provider) and isinstance(provider.get("type"), str):
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
        """The :class:`CopilotClient` this session belongs to."""
        return self._client

    @property
    def closed(self) -> bool:
        """``True`` once the session is disconnected (or its client stopped); calls then raise ``SessionClosedError``."""
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
        if not is_object(result):
            return
        workspace = result.get("workspacePath")
        self.workspace_path = (
            pathlib.Path(workspace) if isinstance(workspace, str) and workspace else None
        )
        capabilities = result.get("capabilities")
        if is_object(capabilities):
            self.capabilities = capabilities
        self._canvases.replace(result.get("openCanvases"))
        recovery = result.get("transcriptRecovery")
        if is_object(recovery):
            self.transcript_recovery = TranscriptRecoveryReport.from_dict(recovery)

    @property
    def open_canvases(self) -> list[OpenCanvasInstance]:
        """The canvases open in this session (experimental), oldest first: from the resume
        result, then kept by the ``session.canvas.opened``/``closed`` events. Pass them as
        ``open_canvases=`` when resuming the session in another process."""
        return self._canvases.snapshot()

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

            rpc = self._rpc_api = session_rpc(self.session_id, self._rpc, self._claim_process)
        return rpc

    def _rpc(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None
    ) -> Any:
        self._check_open()
        payload = {"sessionId": self.session_id}
        if params:
            payload.update(params)
        if method == "session.send":  # for wait_for_idle: busy from the send to its turn's idle
            return self._turns.track_send(
                lambda: self._link.request(method, payload, timeout=timeout)
            )
        return self._link.request(method, payload, timeout=timeout)

    # ------------------------------------------------------------------ events

    def _enqueue(self, raw_event: Any) -> None:
        """Reader thread: queue one event for the event thread. Must stay cheap."""
        self._received += 1
        self._dispatcher.put((self._received, raw_event))

    def _deliver(self, item: tuple[int, Any] | Callable[[], None]) -> None:
        """Event thread: parse, react, call handlers, then wake waiters."""
        if not isinstance(
            item, tuple
        ):  # SDK work routed to this thread (send_async answers, timeouts, aborts)
            item()
            return
        seq, raw = cast("tuple[int, Any]", item)
        try:
            event = parse_event(raw)
        except TypeError:
            logger.warning(
                "session %s: skipped an event that is not an object: %.80r", self.session_id, raw
            )
            return
        if event.raw_type in REACTS_TO:
            try:
                self._callbacks.react(event)
            except Exception:  # a malformed request event must not cost the handlers their event
                logger.exception("session %s: could not handle %s", self.session_id, event.raw_type)
        elif event.raw_type == "capabilities.changed":
            self._merge_capabilities(event)
        elif event.raw_type in OpenCanvasTracker.EVENTS:
            self._canvases.observe(event.raw_type, event.raw.get("data"))
        if event.raw_type in SHELL_EVENT_TYPES:
            shell = self._shell
            if shell is not None:  # only once someone asked for shell output
                shell.on_event(event.raw_type, event.raw.get("data"))
        waiters = self._waiters.snapshot()
        for waiter in waiters:
            waiter.observe(seq, event)
        for entry in self._handlers.snapshot():
            if entry.event_type is None or entry.event_type == event.raw_type:
                try:
                    entry.handler(event)
                except (
                    BaseException
                ):  # even SystemExit or a test's failure: the waiters below must be released
                    logger.exception(
                        "session %s: event handler %r raised on %s",
                        self.session_id,
                        entry.handler,
                        event.raw_type,
                    )
        for waiter in waiters:
            waiter.release(seq, event)

    def _merge_capabilities(self, event: SessionEvent) -> None:
        data = event.raw.get("data")
        if not is_object(data):
            return
        with self._lock:
            merged = dict(self.capabilities)
            for key, value in data.items():
                if is_object(value) and isinstance(merged.get(key), dict):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
            self.capabilities = merged

    @overload
    def on(self, handler: EventHandler, /) -> Callable[[], None]: ...

    @overload
    def on(self, event_type: str, handler: EventHandler, /) -> Callable[[], None]: ...

    def on(
        self, event_type_or_handler: str | EventHandler, handler: EventHandler | None = None, /
    ) -> Callable[[], None]:
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

    # ------------------------------------------------------------------ other RPCs

    def get_messages(self, *, timeout: float | None = 60.0) -> list[SessionEvent]:
        """Every persisted event of the session so far (ephemeral ones are not kept by the CLI)."""
        timeout = check_timeout(timeout)
        result = self._rpc("session.getMessages", timeout=timeout)
        events: Any = result.get("events", []) if is_object(result) else []
        return [parse_event(event) for event in events if is_object(event)]

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
            raise TypeError(
                f"reasoning_effort must be a string, not {type(reasoning_effort).__name__}"
            )
        timeout = check_timeout(timeout)
        return self.rpc.model.switch_to(
            model_id=model, reasoning_effort=reasoning_effort, timeout=timeout
        )

    def log(
        self,
        message: str,
        *,
        level: Literal["info", "warning", "error"] | None = None,
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
            message=message,
            level=level,
            ephemeral=None if ephemeral is None else bool(ephemeral),
            timeout=timeout,
        )
        event_id = getattr(result, "event_id", None)
        return event_id if isinstance(event_id, str) else ""

    # ------------------------------------------------------------------ shell commands

    def on_shell_output(self, handler: Callable[[ShellOutput], Any], /) -> Callable[[], None]:
        """Call ``handler(ShellOutput)`` for each chunk of output of this session's shell
        commands: ``process_id``, ``stream`` (``"stdout"``, ``"stderr"`` or ``"terminal"``),
        ``data``, and, for output that came from a session event, ``tool_call_id`` and
        ``sequence``.

        Which commands depends on the CLI (docs/CLI_VERSIONS.md): up to 1.0.89, those started
        with ``session.rpc.shell.exec(command=...)``; from 1.0.92 on, those run with
        ``session.rpc.shell.execute_user_requested(request_id=..., command=...)`` and by the
        agent's own shell tool (``process_id`` is then the tool call id). CLI 1.0.92 and later
        report nothing about ``exec``'d commands: calling ``exec`` there with shell handlers
        registered logs one warning per session.

        Handlers run in order on the session's ``copilot-shell-<id>`` thread; one that raises
        is logged and the next one (and the next chunk) still runs. Returns a callable that
        unsubscribes."""
        check_arity(handler, 1, "on_shell_output handler")
        shell = self._shell_handlers()
        unsubscribe = shell.output_handlers.add(handler)
        shell.warn_if_unobservable()
        return unsubscribe

    def on_shell_exit(self, handler: Callable[[ShellExit], Any], /) -> Callable[[], None]:
        """Call ``handler(ShellExit)`` (``process_id``, ``exit_code``, and ``tool_call_id`` for
        an exit that came from a session event) when one of this session's shell commands
        ends, after its last output. The same commands as :meth:`on_shell_output`: up to CLI
        1.0.89 those started with ``session.rpc.shell.exec(...)`` (a ``shell.exit``
        notification); from 1.0.92 on those run with
        ``session.rpc.shell.execute_user_requested(...)`` or by the agent's shell tool (a
        ``tool.execution_complete`` event with ``shellExecution``). Runs on the
        ``copilot-shell-<id>`` thread, in order with the output. Returns a callable that
        unsubscribes."""
        check_arity(handler, 1, "on_shell_exit handler")
        shell = self._shell_handlers()
        unsubscribe = shell.exit_handlers.add(handler)
        shell.warn_if_unobservable()
        return unsubscribe

    def _shell_handlers(self) -> SessionShell:
        with self._lock:
            if self._shell is None:
                self._shell = SessionShell(self.session_id)
            return self._shell

    def _claim_process(self, process_id: Any) -> None:
        """After ``shell.exec`` answered: its output and exit belong to this session (CLI
        <= 1.0.89; a later CLI reports neither, which the shell warns about once)."""
        shell = self._shell_handlers()
        self._link.shell_router.claim(process_id, shell)
        shell.note_exec(getattr(self._client, "server_version", None))

    # ------------------------------------------------------------------ requests from the CLI

    def _handle_request(self, request: Request, method: str, params: dict[str, Any]) -> Any:
        """Worker thread: answer a session-scoped server-to-client request."""
        return self._callbacks.answer_request(request, method, params)

    # ------------------------------------------------------------------ tools and UI

    def get_tools(self) -> list[Tool]:
        """The tools this client provides to the session (not the CLI's built-in ones)."""
        return list(self._callbacks.tools.values())

    def register_tool(
        self, tool: Tool | Mapping[str, Any], *, timeout: float | None = 60.0
    ) -> None:
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

    def set_tools(
        self, tools: Iterable[Tool | Mapping[str, Any]], *, timeout: float | None = 60.0
    ) -> None:
        """Replace every tool this client provides to the session (``[]`` removes them all;
        built-in, MCP and other clients' tools are unaffected). The new handlers take over
        once the CLI accepts the list; if it refuses, the tools are unchanged and the error
        is raised. Calls from several threads apply in order.

        The model sees the new tools from its next request, which may fall inside a running
        turn: a request already in flight may still call a removed tool, and this client
        does not answer it. Replace tools while the session is idle to avoid that.
        """
        if isinstance(tools, (str, bytes)) or is_mapping(tools) or not isinstance(tools, Iterable):
            raise TypeError(f"tools must be a list, not {type(tools).__name__}")
        self._callbacks.set_tools(list(tools), timeout=check_timeout(timeout))

    def set_auto_tier(
        self, auto_tier: str | None, *, timeout: float | None = 60.0
    ) -> ModelSwitchAutoTierResult:
        """Ask for an Auto routing preference (``"fast"``...) for the ``auto`` model without
        changing the selected model; ``None`` returns to the provider's default routing.

        The CLI records the request and commits it only when a later turn on the ``auto``
        model gets a usable model: the result's ``"pending"`` status means accepted, not
        applied. The outcome arrives as a ``session.model_change`` event, or the ephemeral
        ``session.auto_tier_switch_failed``. The latest request wins. (Experimental in the CLI.)
        """
        if auto_tier is not None and (not isinstance(auto_tier, str) or not auto_tier):
            raise TypeError("auto_tier must be a non-empty string or None")
        return self.rpc.model.switch_auto_tier(auto_tier=auto_tier, timeout=check_timeout(timeout))

    def invoke_tool(
        self, name: str, arguments: Any = None, *, tool_call_id: str | None = None
    ) -> ToolResult:
        """Run a tool's handler here, as if the model had called it, and return the
        :class:`ToolResult` the model would get (arguments validated the same way).
        Nothing is sent to the CLI: this is for testing your tools."""
        return self._callbacks.invoke_tool(
            name, {} if arguments is None else arguments, tool_call_id
        )

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
            if not self._link.connection_lost():
                self._link.request(
                    "session.destroy", {"sessionId": self.session_id}, timeout=timeout
                )
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
        warnings.warn(
            "CopilotSession.destroy() is deprecated; use disconnect()",
            DeprecationWarning,
            stacklevel=2,
        )
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
        self._link.forget_session(self)
        self._dispatcher.stop(wait=wait)
        shell = self._shell
        if shell is not None:
            self._link.shell_router.forget(shell)
            shell.close(wait=wait)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disconnect()


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
        logger.warning(
            "on(%r): not an event type this SDK knows; the handler runs only if the CLI sends it",
            event_type,
        )


class _RequestLink:
    """The session as its request layer sees it (:class:`~._requests.protocol.RequestSession`)."""

    __slots__ = ("owner",)

    def __init__(self, session: CopilotSession) -> None:
        self.owner = session

    @property
    def session_id(self) -> str:
        return self.owner.session_id

    @property
    def rpc(self) -> SessionRpc:
        return self.owner.rpc

    def call(self, method: str, params: Any = None, *, timeout: float | None) -> Any:
        return self.owner._rpc(method, params, timeout=timeout)

    def submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        return self.owner._link.submit(fn, *args)


class _QueueLink:
    """The session as its queue of turns sees it (:class:`~._turn_queue.QueueSession`)."""

    __slots__ = ("owner",)

    def __init__(self, session: CopilotSession) -> None:
        self.owner = session

    @property
    def session_id(self) -> str:
        return self.owner.session_id

    @property
    def received(self) -> int:
        return self.owner._received

    @property
    def closed(self) -> bool:
        return self.owner._closed is not None

    def check_open(self) -> None:
        self.owner._check_open()

    def route(self, fn: Callable[[], None]) -> None:
        self.owner._dispatcher.put(fn)

    @property
    def connection(self) -> JsonRpcConnection | None:
        return self.owner._link.connection

    def ensure_connected(self) -> JsonRpcConnection:
        return self.owner._link.ensure_connected()


class SessionControl:
    """The session as its client sees it: what :class:`CopilotClient` does to a session it
    opened (route its events and requests, apply the create/resume result, answer its
    ``sessionFs.*`` requests, close it). The client's registry holds one per session."""

    __slots__ = ("enqueue", "session")

    def __init__(self, session: CopilotSession) -> None:
        self.session = session  # the public object
        self.enqueue: Callable[[Any], None] = (
            session._enqueue
        )  # reader thread: no extra call per event

    def apply_result(self, result: Any) -> None:
        self.session._apply_result(result)

    def use_session_fs(self, handler: SessionFsAdapter) -> None:
        self.session._callbacks.session_fs = handler

    def handle_request(self, request: Request, method: str, params: dict[str, Any]) -> Any:
        return self.session._handle_request(request, method, params)

    def close(self, error: BaseException, *, wait: float | None = 2.0) -> None:
        self.session._close(error, wait=wait)


class _DirectLink:
    """A :class:`ClientLink` for a session built without one (a test's stand-in client):
    forwards to the client object's own methods of the same purpose."""

    __slots__ = ("_client",)

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, "_" + name)
