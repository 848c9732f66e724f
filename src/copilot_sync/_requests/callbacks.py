"""A session's answers to the CLI: tools, permissions, commands, elicitation (broadcast
events, PROTOCOL §5.1), and hooks, user input and system-message transforms (direct
requests, §5.8–5.9).

Broadcast events reach :meth:`SessionCallbacks.react` on the session's event thread,
before any ``on()`` handler sees them; it only looks and schedules. Every user handler
runs on the client's worker pool, and its answer goes back as a session RPC from that
worker. The rules:

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
  :func:`~copilot_sync._wire.reentrancy.handler_scope`, so a blocking call from it that could
  never complete (waiting on its own session's turn) raises :class:`ReentrancyError` at
  once instead of hanging. Commands run beside turns, so they may block on one.
"""

from __future__ import annotations

import collections
import datetime as _dt
import logging
import threading
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional

from .commands import CommandContext, as_command
from .._wire.connection import INTERNAL_ERROR
from .._errors import CopilotError, JsonRpcError
from .._logging import redact
from .._wire.reentrancy import handler_scope, run_as_handler
from .._session_config import camel, transform_callbacks
from .session_fs import no_handler_error
from .session_fs_wire import SessionFsAdapter
from .tools import Tool, ToolInvocation, ToolResult, run_handler, tool_table

if TYPE_CHECKING:
    from .._events import SessionEvent
    from .._session import CopilotSession

__all__ = ["SessionCallbacks", "HOOK_CALLBACKS", "MissingPermissionHandlerWarning", "hook_input"]

logger = logging.getLogger("copilot_sync.session")

HOOK_CALLBACKS = {
    "preToolUse": "on_pre_tool_use",
    "postToolUse": "on_post_tool_use",
    "postToolUseFailure": "on_post_tool_use_failure",
    "userPromptSubmitted": "on_user_prompt_submitted",
    "userPromptTransformed": "on_user_prompt_transformed",
    "sessionStart": "on_session_start",
    "sessionEnd": "on_session_end",
    "errorOccurred": "on_error_occurred",
    "agentStop": "on_agent_stop",
    "preMcpToolCall": "on_pre_mcp_tool_call",
    "subagentStart": "on_subagent_start",
    "subagentStop": "on_subagent_stop",
}

#: The events :meth:`SessionCallbacks.react` looks at.
REACTS_TO = frozenset(
    {
        "external_tool.requested",
        "external_tool.completed",
        "permission.requested",
        "permission.completed",
        "command.execute",
        "elicitation.requested",
        "elicitation.completed",
        "tool.execution_complete",
    }
)

_ANSWER_TIMEOUT = 30.0


class MissingPermissionHandlerWarning(UserWarning):
    """A tool was denied because the session has no ``on_permission_request`` handler."""

_TOOL_SEARCH = "tool_search_tool"
_PERMISSION_UNREQUESTABLE = "could not request permission"


class SessionCallbacks:
    """The handlers of one session and the code that answers the CLI with them."""

    def __init__(self, session: CopilotSession, options: Mapping[str, Any]) -> None:
        self._session = session
        self.tools = tool_table(options.get("tools"))
        self._tools_lock = threading.Lock()  # serialises run-time tool list changes
        self.permission_handler: Optional[Callable[..., Any]] = options.get("on_permission_request")
        self.user_input_handler: Optional[Callable[..., Any]] = options.get("on_user_input_request")
        self.elicitation_handler: Optional[Callable[..., Any]] = options.get("on_elicitation_request")
        self.hooks: dict[str, Callable[..., Any]] = {k: v for k, v in (options.get("hooks") or {}).items() if v}
        self.commands = {c.name: c for c in map(as_command, options.get("commands") or ())}
        self.transforms = transform_callbacks(options.get("system_message"))
        self.session_fs: Optional[SessionFsAdapter] = None  # set by the client before session.create/resume
        self._lock = threading.Lock()
        self._pending: dict[str, str] = {}  # request id -> what it asks (scheduled, not yet answered)
        self._done: collections.OrderedDict[str, None] = collections.OrderedDict()  # answered or completed
        self._denial_warned = False

    @property
    def session_id(self) -> str:
        return self._session.session_id

    # ------------------------------------------------------------ event thread

    def react(self, event: SessionEvent) -> None:
        """Event thread: schedule the answer to a broadcast request. Never blocks on user code."""
        kind = event.raw_type
        data = event.raw.get("data")
        if not isinstance(data, dict):
            return
        if kind.endswith(".completed"):
            request_id = data.get("requestId")
            if isinstance(request_id, str):
                self._finish(request_id)
            return
        if kind == "tool.execution_complete":
            self._notice_denial(data)
            return
        request_id = data.get("requestId")
        if not isinstance(request_id, str) or not request_id:
            return
        if kind == "external_tool.requested":
            tool = self.tools.get(data.get("toolName"))  # type: ignore[arg-type]
            if tool is None or tool.handler is None:
                return  # another client's tool: stay silent (PROTOCOL §5.1)
            if self._take(request_id, kind):
                self._submit("tool", self._answer_tool, tool, data, event.raw.get("agentId"))
        elif kind == "permission.requested":
            handler = self.permission_handler
            if handler is None or data.get("resolvedByHook") or not isinstance(data.get("permissionRequest"), dict):
                return
            if self._take(request_id, kind):
                self._submit("permission", self._answer_permission, handler, data)
        elif kind == "command.execute":
            if self._take(request_id, kind):
                # Not a handler of the running turn: a command runs beside turns (observed:
                # the CLI runs a turn while a command waits), so it may block on one.
                self._submit(None, self._answer_command, data)
        elif kind == "elicitation.requested":
            handler = self.elicitation_handler
            if handler is not None and self._take(request_id, kind):
                # A dialog a tool call asked for holds that turn up; one another client
                # asked for (session.ui.elicitation) does not.
                self._submit("elicitation" if data.get("toolCallId") else None, self._answer_elicitation, handler, data)

    def _take(self, request_id: str, kind: str) -> bool:
        with self._lock:
            if request_id in self._pending or request_id in self._done:
                logger.debug("session %s: %s %s seen again; already handled", self.session_id, kind, request_id)
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

    def _finish(self, request_id: str) -> None:
        with self._lock:
            self._pending.pop(request_id, None)
            self._remember(request_id)

    def _remember(self, request_id: str) -> None:
        self._done[request_id] = None
        if len(self._done) > 4096:
            self._done.popitem(last=False)

    def _submit(self, kind: Optional[str], fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the worker pool, as a ``kind`` handler of this session (one
        the session's running turn waits for) unless ``kind`` is None."""
        if kind is None:
            submitted = self._session._client._submit(fn, *args)
        else:
            submitted = self._session._client._submit(run_as_handler, self._session, kind, fn, *args)
        if not submitted:
            logger.warning("session %s: the client is stopping; a request from the CLI was not answered", self.session_id)

    def _notice_denial(self, data: Mapping[str, Any]) -> None:
        if data.get("success") is not False or self.permission_handler is not None:
            return
        error = data.get("error")
        message = error.get("message") if isinstance(error, Mapping) else error
        if isinstance(message, str) and _PERMISSION_UNREQUESTABLE in message and not self._denial_warned:
            self._denial_warned = True
            text = (
                f"session {self.session_id}: the CLI denied a tool call because this session has no "
                f"on_permission_request handler ({message}). Pass "
                "on_permission_request=PermissionHandler.approve_all, or your own handler, to "
                "create_session()/resume_session(), or define the tool with skip_permission=True."
            )
            logger.warning("%s", text)
            warnings.warn(text, MissingPermissionHandlerWarning, stacklevel=1)

    # ------------------------------------------------------------ worker threads: broadcast answers

    def _send_answer(self, method: str, request_id: str, params: dict[str, Any]) -> None:
        if not self._claim(request_id):
            logger.debug("session %s: %s for %s not sent: no longer pending", self.session_id, method, request_id)
            return
        try:
            result = self._session._rpc(method, {"requestId": request_id, **params}, timeout=_ANSWER_TIMEOUT)
        except CopilotError as exc:
            logger.debug("session %s: %s for %s failed: %s", self.session_id, method, request_id, exc)
            return
        if isinstance(result, Mapping) and result.get("success") is False:
            logger.debug("session %s: %s for %s: the request was already resolved", self.session_id, method, request_id)

    def _answer_tool(self, tool: Tool, data: dict[str, Any], agent_id: Any) -> None:
        request_id = data["requestId"]
        invocation = ToolInvocation(
            session_id=self.session_id,
            tool_call_id=str(data.get("toolCallId") or ""),
            tool_name=tool.name,
            arguments=data.get("arguments"),
            request_id=request_id,
            agent_id=agent_id if isinstance(agent_id, str) and agent_id else None,
        )
        if tool.name == _TOOL_SEARCH:
            invocation.available_tools = self._current_tools()
        result = run_handler(tool, invocation, contain_all=True)
        if result.from_exception:
            self._send_answer("session.tools.handlePendingToolCall", request_id, {"error": result.error or "tool failed"})
        else:
            self._send_answer("session.tools.handlePendingToolCall", request_id, {"result": result.to_wire()})

    def _current_tools(self) -> Optional[list[Any]]:
        try:
            result = self._session._rpc("session.tools.getCurrentMetadata", timeout=_ANSWER_TIMEOUT)
        except CopilotError as exc:
            logger.debug("session %s: tools.getCurrentMetadata failed: %s", self.session_id, exc)
            return None
        tools = result.get("tools") if isinstance(result, Mapping) else None
        return list(tools) if isinstance(tools, list) else None

    def _answer_permission(self, handler: Callable[..., Any], data: dict[str, Any]) -> None:
        from .permissions import PermissionRequest, decision_to_wire

        request_id = data["requestId"]
        request = PermissionRequest(data["permissionRequest"])
        invocation: dict[str, Any] = {"session_id": self.session_id}
        if isinstance(data.get("promptRequest"), dict):
            invocation["prompt_request"] = data["promptRequest"]
        try:
            params = decision_to_wire(handler(request, invocation), request)
        except BaseException:  # even SystemExit: the CLI must get an answer
            logger.exception(
                "session %s: permission handler failed on a %s request; answering user-not-available",
                self.session_id,
                request.kind,
            )
            params = {"result": {"kind": "user-not-available"}}
        if params is None:  # "no-result": another client decides
            self._finish(request_id)
            return
        self._send_answer("session.permissions.handlePendingPermissionRequest", request_id, params)

    def _answer_command(self, data: dict[str, Any]) -> None:
        name = str(data.get("commandName") or "")
        command = self.commands.get(name)
        params: dict[str, Any] = {}
        if command is None:
            params["error"] = f"Unknown command: {name}"
        else:
            context = CommandContext(
                session_id=self.session_id,
                command=str(data.get("command") or f"/{name}"),
                command_name=name,
                args=str(data.get("args") or ""),
            )
            try:
                command.handler(context)
            except Exception as exc:
                logger.warning("session %s: command /%s raised", self.session_id, name, exc_info=True)
                params["error"] = redact(str(exc)) or type(exc).__name__
            except BaseException as exc:  # SystemExit...: still answered
                logger.exception("session %s: command /%s raised %s", self.session_id, name, type(exc).__name__)
                params["error"] = _escaped_text(exc)
        self._send_answer("session.commands.handlePendingCommand", data["requestId"], params)

    def _answer_elicitation(self, handler: Callable[..., Any], data: dict[str, Any]) -> None:
        from .elicitation import context_from_event, result_to_wire

        try:
            result = result_to_wire(handler(context_from_event(self.session_id, data)))
        except BaseException:
            logger.exception("session %s: elicitation handler failed; answering cancel", self.session_id)
            result = {"action": "cancel"}
        self._send_answer("session.ui.handlePendingElicitation", data["requestId"], {"result": result})

    # ------------------------------------------------------------ worker threads: direct requests

    def answer_request(self, method: str, params: dict[str, Any]) -> Any:
        """Worker thread: the result of a session-scoped request from the CLI.

        Runs the handler as a handler of this session (see :mod:`._reentrancy`). A
        ``BaseException`` that is not an ``Exception`` escaping a handler is logged here and
        becomes a ``JsonRpcError`` (an error answer), so the request is answered and the
        worker goes on whatever the caller catches."""
        kind = _REQUEST_KINDS.get(method, "session filesystem" if method.startswith("sessionFs.") else "request")
        with handler_scope(self._session, kind):
            try:
                return self._answer_request(method, params)
            except Exception:
                raise
            except BaseException as exc:
                logger.exception("session %s: the %s handler for %s raised %s", self.session_id, kind, method,
                                 type(exc).__name__)
                raise JsonRpcError(INTERNAL_ERROR, _escaped_text(exc)) from None

    def _answer_request(self, method: str, params: dict[str, Any]) -> Any:
        if method == "hooks.invoke":
            return self._invoke_hook(params)
        if method == "systemMessage.transform":
            return self._transform(params)
        if method == "userInput.request":
            return self._user_input(params)
        if method == "exitPlanMode.request":
            return {"approved": True}
        if method == "autoModeSwitch.request":
            return {"response": "no"}
        if method.startswith("sessionFs."):
            if self.session_fs is None:
                raise no_handler_error(self.session_id, method)
            return self.session_fs.answer(method, params)
        raise JsonRpcError(-32601, f"Method not found: {method}")

    def _invoke_hook(self, params: dict[str, Any]) -> dict[str, Any]:
        hook_type = params.get("hookType")
        name = HOOK_CALLBACKS.get(hook_type) if isinstance(hook_type, str) else None
        hook = self.hooks.get(name) if name else None
        if hook is None:
            return {}
        raw_input = params.get("input")
        try:
            output = hook(hook_input(hook_type, raw_input if isinstance(raw_input, dict) else {}), {"session_id": self.session_id})
        except BaseException:  # even SystemExit: answered with the documented default
            logger.exception("session %s: hook %s raised; answering with no output", self.session_id, name)
            return {}
        if output is None:
            return {}
        if not isinstance(output, Mapping):
            logger.warning("session %s: hook %s returned %r, not a dict; ignored", self.session_id, name, output)
            return {}
        return {"output": {camel(key) if isinstance(key, str) else key: _wire_value(value) for key, value in output.items()}}

    def _transform(self, params: dict[str, Any]) -> dict[str, Any]:
        sections = params.get("sections")
        if not isinstance(sections, dict) or not sections:
            raise JsonRpcError(INTERNAL_ERROR, "systemMessage.transform needs a non-empty sections object")
        answer: dict[str, Any] = {}
        for section_id, section in sections.items():
            content = section.get("content", "") if isinstance(section, dict) else ""
            transform = self.transforms.get(section_id)
            if transform is not None:
                try:
                    new = transform(content)
                except BaseException:
                    logger.exception("session %s: transform of section %r raised; kept it", self.session_id, section_id)
                else:
                    if isinstance(new, str):
                        content = new
                    else:
                        logger.warning(
                            "session %s: transform of section %r returned %s, not a string; kept it",
                            self.session_id,
                            section_id,
                            type(new).__name__,
                        )
            answer[section_id] = {"content": content}
        return {"sections": answer}

    def _user_input(self, params: dict[str, Any]) -> dict[str, Any]:
        handler = self.user_input_handler
        if handler is None:
            raise JsonRpcError(INTERNAL_ERROR, "User input requested but no handler registered")
        request = {key: params[key] for key in ("question", "choices", "allowFreeform") if key in params}
        value = handler(request, {"session_id": self.session_id})
        if isinstance(value, str):
            choices = request.get("choices") or []
            return {"answer": value, "wasFreeform": value not in choices}
        if isinstance(value, Mapping) and isinstance(value.get("answer"), str):
            freeform = value.get("wasFreeform", value.get("was_freeform", True))
            return {"answer": value["answer"], "wasFreeform": bool(freeform)}
        raise TypeError(
            f"on_user_input_request must return {{'answer': str, 'wasFreeform': bool}} or a string, not {value!r}"
        )

    # ------------------------------------------------------------ run-time tools

    def add_tool(self, tool: Tool, *, timeout: Optional[float]) -> None:
        with self._tools_lock:
            self._replace_tools({**self.tools, tool.name: tool}, timeout=timeout)

    def remove_tool(self, name: str, *, timeout: Optional[float]) -> None:
        with self._tools_lock:
            if name not in self.tools:
                raise KeyError(f"session {self.session_id} has no tool named {name!r}")
            self._replace_tools({key: value for key, value in self.tools.items() if key != name}, timeout=timeout)

    def _replace_tools(self, tools: dict[str, Tool], *, timeout: Optional[float]) -> None:
        """Send ``session.tools.set`` with ``tools``; once the CLI accepts, they become this
        session's tools (so a refused list changes nothing). Called with ``_tools_lock`` held."""
        self._session.rpc.tools.set(tools=[tool.to_wire() for tool in tools.values()], timeout=timeout)
        self.tools = tools

    def invoke_tool(self, name: str, arguments: Any, tool_call_id: Optional[str]) -> ToolResult:
        tool = self.tools.get(name)
        if tool is None:
            raise KeyError(f"session {self.session_id} has no tool named {name!r}")
        if tool.handler is None:
            raise ValueError(f"tool {name!r} is declaration-only (it has no handler)")
        invocation = ToolInvocation(
            session_id=self.session_id, tool_call_id=tool_call_id or "local", tool_name=name, arguments=arguments
        )
        return run_handler(tool, invocation)


_REQUEST_KINDS = {
    "hooks.invoke": "hook",
    "systemMessage.transform": "system message transform",
    "userInput.request": "user input",
}


def _escaped_text(exc: BaseException) -> str:
    """What the CLI is told about a ``BaseException`` that escaped a handler."""
    text = redact(str(exc))
    name = type(exc).__name__
    return f"{name}: {text}" if text and text != name else name


def _wire_value(value: Any) -> Any:
    """A hook output value as JSON: a ``ToolResult`` (e.g. ``modifiedResult``) in its wire form."""
    to_wire = getattr(value, "to_wire", None)
    return to_wire() if callable(to_wire) else value


def hook_input(hook_type: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A hook's input as handlers receive it (PROTOCOL §5.9): wire keys, except ``cwd`` →
    ``workingDirectory``, ``stop_hook_active`` → ``stopHookActive``, the epoch-ms
    ``timestamp`` → an aware ``datetime``, and an error object → its message."""
    data = dict(raw)
    if "cwd" in data:
        data["workingDirectory"] = data.pop("cwd")
    if "stop_hook_active" in data:
        data["stopHookActive"] = data.pop("stop_hook_active")
    timestamp = data.get("timestamp")
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        try:
            data["timestamp"] = _dt.datetime.fromtimestamp(timestamp / 1000, tz=_dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
    if hook_type in ("errorOccurred", "sessionEnd", "postToolUseFailure") and isinstance(data.get("error"), Mapping):
        error = data["error"]
        data["error"] = str(error.get("message") or error.get("name") or error)
    return data
