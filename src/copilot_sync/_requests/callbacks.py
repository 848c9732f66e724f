"""A session's answers to the CLI: its handlers, and the bookkeeping that answers each
request exactly once. What each request means lives in its family module; which module
answers which method is the table in :mod:`.router`.

Broadcast events reach :meth:`SessionCallbacks.react` on the session's
event thread, before any ``on()`` handler sees them; it only looks and schedules. Every
user handler runs on the client's worker pool, and its answer goes back as a session RPC
from that worker. The rules:

* a tool or permission request this client has no handler for gets no answer (another
  client attached to the session may have one); ``command.execute`` is always answered;
* each request id is answered at most once, even if the CLI repeats the event, and not
  at all once the CLI reports it completed (e.g. the turn was aborted);
* a handler that raises or returns junk is logged and answered with the documented
  default, so the turn never waits on a broken handler. That includes a ``BaseException``
  that is not an ``Exception`` (``SystemExit``, a ``KeyboardInterrupt`` raised by hand, a
  test framework's outcome): logged with ``logger.exception``, answered like any error,
  and the worker thread goes on;
* every handler the session's running turn waits for (tools, permissions, user input,
  hooks, transforms, the session filesystem, a dialog a tool asked for) runs inside
  :func:`~copilot_sync._wire.reentrancy.handler_scope`, so a blocking call from it that
  could never complete (waiting on its own session's turn) raises :class:`ReentrancyError`
  at once instead of hanging. Commands run beside turns, so they may block on one;
* with OpenTelemetry, every handler runs in the trace context the CLI sent with its
  request (``traceparent``/``tracestate``), if any, else in none (docs/TRACING.md).
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._errors import CopilotError, JsonRpcError
from .._fields import is_mapping, is_object
from .._session_config import transform_callbacks
from .._tracing import attached, capture, incoming, run_in
from .._wire.connection import INTERNAL_ERROR
from .._wire.reentrancy import handler_scope, run_as_handler
from . import mcp_auth, router
from .commands import as_command
from .define_tool import tool_table
from .failures import escaped_text
from .permissions import MissingPermissionHandlerWarning, notice_denial
from .session_fs_wire import SessionFsAdapter
from .tools import ANSWER_TIMEOUT, Tool, ToolInvocation, ToolResult, run_handler

if TYPE_CHECKING:
    from .._events import SessionEvent
    from .protocol import RequestSession

__all__ = ["MissingPermissionHandlerWarning", "SessionCallbacks"]

logger = logging.getLogger("copilot_sync.session")


class SessionCallbacks:
    """The handlers of one session and the code that answers the CLI with them
    (the :class:`~.protocol.RequestContext` every request family module receives)."""

    def __init__(self, session: RequestSession, options: Mapping[str, Any]) -> None:
        self.session = session
        self.tools = tool_table(options.get("tools"))
        self._tools_lock = threading.Lock()  # serialises run-time tool list changes
        self.permission_handler: Callable[..., Any] | None = options.get("on_permission_request")
        self.user_input_handler: Callable[..., Any] | None = options.get("on_user_input_request")
        self.elicitation_handler: Callable[..., Any] | None = options.get("on_elicitation_request")
        self.exit_plan_mode_handler: Callable[..., Any] | None = options.get(
            "on_exit_plan_mode_request"
        )
        self.auto_mode_switch_handler: Callable[..., Any] | None = options.get(
            "on_auto_mode_switch_request"
        )
        self.mcp_auth_handler: Callable[..., Any] | None = options.get("on_mcp_auth_request")
        self.skill_provider: Any | None = options.get("skill_provider")
        self.canvas_handler: Any | None = options.get("canvas_handler")
        hooks: Mapping[str, Any] = options.get("hooks") or {}
        self.hooks: dict[str, Callable[..., Any]] = {k: v for k, v in hooks.items() if v}
        self.commands = {c.name: c for c in map(as_command, options.get("commands") or ())}
        self.transforms = transform_callbacks(options.get("system_message"))
        self.session_fs: SessionFsAdapter | None = (
            None  # set by the client before session.create/resume
        )
        self.denial_warned = False
        self._lock = threading.Lock()
        self._pending: dict[
            str, str
        ] = {}  # request id -> what it asks (scheduled, not yet answered)
        self._done: collections.OrderedDict[str, None] = (
            collections.OrderedDict()
        )  # answered or completed

    @property
    def session_id(self) -> str:
        return self.session.session_id

    # ------------------------------------------------------------ event thread

    def react(self, event: SessionEvent) -> None:
        """Event thread: schedule the answer to a broadcast request. Never blocks on user code."""
        kind = event.raw_type
        data = event.raw.get("data")
        if not is_object(data):
            return
        if kind.endswith(".completed") or kind == mcp_auth.COMPLETED:
            request_id = data.get("requestId")
            if isinstance(request_id, str):
                self.finish(request_id)
            return
        if kind == "tool.execution_complete":
            notice_denial(self, data)
            return
        request_id = data.get("requestId")
        if not isinstance(request_id, str) or not request_id:
            return
        reaction = router.EVENTS.get(kind)
        if reaction is not None:
            with attached(incoming(data)):  # the CLI's trace context, for submit()
                reaction(self, event.raw, data, request_id)

    def take(self, request_id: str, kind: str) -> bool:
        with self._lock:
            if request_id in self._pending or request_id in self._done:
                logger.debug(
                    "session %s: %s %s seen again; already handled",
                    self.session_id,
                    kind,
                    request_id,
                )
                return False
            self._pending[request_id] = kind
            return True

    def _claim(self, request_id: str) -> bool:
        """Worker: may this answer still be sent? (Only once, and not after ``*.completed``.)"""
        with self._lock:
            if self._pending.pop(request_id, None) is None:
                return False
            self._remember(request_id)
            return True

    def finish(self, request_id: str) -> None:
        with self._lock:
            self._pending.pop(request_id, None)
            self._remember(request_id)

    def _remember(self, request_id: str) -> None:
        self._done[request_id] = None
        if len(self._done) > 4096:
            self._done.popitem(last=False)

    def submit(self, kind: str | None, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the worker pool, as a ``kind`` handler of this session (one
        the session's running turn waits for) unless ``kind`` is None. It runs in the
        submitter's OpenTelemetry context (:meth:`react` attaches the one the CLI sent)."""
        ctx = capture()
        if ctx is not None:
            fn, args = run_in, (ctx, fn, *args)
        if kind is None:
            submitted = self.session.submit(fn, *args)
        else:
            submitted = self.session.submit(run_as_handler, self.session.owner, kind, fn, *args)
        if not submitted:
            logger.warning(
                "session %s: the client is stopping; a request from the CLI was not answered",
                self.session_id,
            )

    # ------------------------------------------------------------ worker threads: broadcast answers

    def call(self, method: str, params: Any = None, *, timeout: float | None) -> Any:
        return self.session.call(method, params, timeout=timeout)

    def send_answer(self, method: str, request_id: str, params: dict[str, Any]) -> None:
        if not self._claim(request_id):
            logger.debug(
                "session %s: %s for %s not sent: no longer pending",
                self.session_id,
                method,
                request_id,
            )
            return
        try:
            result = self.session.call(
                method, {"requestId": request_id, **params}, timeout=ANSWER_TIMEOUT
            )
        except CopilotError as exc:
            logger.debug(
                "session %s: %s for %s failed: %s", self.session_id, method, request_id, exc
            )
            return
        if is_mapping(result) and result.get("success") is False:
            logger.debug(
                "session %s: %s for %s: the request was already resolved",
                self.session_id,
                method,
                request_id,
            )

    # ------------------------------------------------------------ worker threads: direct requests

    def answer_request(self, request: router.Request, method: str, params: dict[str, Any]) -> Any:
        """Worker thread: the result of a session-scoped request from the CLI.

        Runs the handler as a handler of this session (see :mod:`.._wire.reentrancy`). A
        ``BaseException`` that is not an ``Exception`` escaping a handler is logged here and
        becomes a ``JsonRpcError`` (an error answer), so the request is answered and the
        worker goes on whatever the caller catches."""
        kind = request.kind
        with handler_scope(self.session.owner, kind), attached(incoming(params)):
            try:
                return request.answer(self, method, params)
            except Exception:
                raise
            except BaseException as exc:
                logger.exception(
                    "session %s: the %s handler for %s raised %s",
                    self.session_id,
                    kind,
                    method,
                    type(exc).__name__,
                )
                raise JsonRpcError(INTERNAL_ERROR, escaped_text(exc)) from None

    # ------------------------------------------------------------ run-time tools

    def add_tool(self, tool: Tool, *, timeout: float | None) -> None:
        with self._tools_lock:
            self._replace_tools({**self.tools, tool.name: tool}, timeout=timeout)

    def remove_tool(self, name: str, *, timeout: float | None) -> None:
        with self._tools_lock:
            if name not in self.tools:
                raise KeyError(f"session {self.session_id} has no tool named {name!r}")
            self._replace_tools(
                {key: value for key, value in self.tools.items() if key != name}, timeout=timeout
            )

    def set_tools(self, tools: Any, *, timeout: float | None) -> None:
        table = tool_table(tools)  # checked before anything is sent
        with self._tools_lock:
            self._replace_tools(table, timeout=timeout)

    def _replace_tools(self, tools: dict[str, Tool], *, timeout: float | None) -> None:
        """Send ``session.tools.set`` with ``tools``; once the CLI accepts, they become this
        session's tools (so a refused list changes nothing). Called with ``_tools_lock`` held."""
        self.session.rpc.tools.set(
            tools=[tool.to_wire() for tool in tools.values()], timeout=timeout
        )
        self.tools = tools

    def invoke_tool(self, name: str, arguments: Any, tool_call_id: str | None) -> ToolResult:
        tool = self.tools.get(name)
        if tool is None:
            raise KeyError(f"session {self.session_id} has no tool named {name!r}")
        if tool.handler is None:
            raise ValueError(f"tool {name!r} is declaration-only (it has no handler)")
        invocation = ToolInvocation(
            session_id=self.session_id,
            tool_call_id=tool_call_id or "local",
            tool_name=name,
            arguments=arguments,
        )
        return run_handler(tool, invocation)
