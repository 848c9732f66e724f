"""Tools the model can call: ``Tool``, ``ToolInvocation``, ``ToolResult`` and ``define_tool``.

A :class:`Tool` pairs a wire definition (name, description, JSON Schema of the arguments)
with a *raw handler*: a callable taking one :class:`ToolInvocation`. :func:`define_tool`
builds that raw handler from an ordinary function: it infers the JSON Schema from the
signature, validates and converts the model's arguments before the function runs, and
turns whatever the function returns into a :class:`ToolResult`.

How an outcome reaches the model:

* a return value becomes a structured result (``str`` as is; ``dict``/``list`` as JSON;
  ``None`` as the failure "Tool returned no result."; a :class:`ToolResult` unchanged);
* arguments that do not fit the schema become a failure result naming the field, so the
  model can correct itself;
* an exception becomes the answer's top-level ``error``: the model is only told that the
  tool failed, and the message goes to the session's event log. A handler that wants the
  model to read a failure returns ``ToolResult(..., result_type="failure")``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import logging
import pathlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, cast

from typing_extensions import ParamSpec, TypeVar

from .._errors import CopilotError
from .._fields import is_array, is_mapping
from .._logging import redact
from .arity import check_arity

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = [
    "Tool",
    "ToolBinaryResult",
    "ToolInvocation",
    "ToolResult",
    "ToolResultType",
    "normalize_result",
]

logger = logging.getLogger("copilot_sync.tools")

ToolResultType = Literal["success", "failure", "rejected", "denied", "timeout"]
_RESULT_TYPES = ("success", "failure", "rejected", "denied", "timeout")
NO_RESULT_TEXT = "Tool returned no result."
EXCEPTION_TEXT = "Invoking this tool produced an error. Detailed information is not available."


@dataclasses.dataclass
class ToolInvocation:
    """What a tool handler learns about the call it answers."""

    session_id: str = ""
    tool_call_id: str = ""
    tool_name: str = ""
    arguments: Any = None
    #: The CLI's id for this pending call (what ``session.tools.handlePendingToolCall`` takes).
    request_id: str | None = None
    #: The sub-agent that made the call, or ``None`` for the root agent.
    agent_id: str | None = None
    #: Only for a handler of ``tool_search_tool``: the session's current tools.
    available_tools: list[Any] | None = None


@dataclasses.dataclass
class ToolBinaryResult:
    """An image or resource returned to the model, base64-encoded."""

    data: str = ""
    mime_type: str = ""
    type: Literal["image", "resource"] = "image"
    description: str = ""

    def to_wire(self) -> dict[str, Any]:
        """The binary result as the CLI's tool result expects it (base64 data, MIME type)."""
        wire = {"type": self.type, "data": self.data, "mimeType": self.mime_type}
        if self.description:
            wire["description"] = self.description
        return wire


@dataclasses.dataclass
class ToolResult:
    """The outcome of a tool call as the model and the event log see it."""

    text_result_for_llm: str = ""
    result_type: ToolResultType = "success"
    error: str | None = None
    binary_results_for_llm: list[ToolBinaryResult | Mapping[str, Any]] | None = None
    session_log: str | None = None
    tool_telemetry: dict[str, Any] | None = None
    tool_references: list[str] | None = None
    #: True when the result stands for an exception raised by the handler: it is then sent
    #: as the answer's top-level ``error`` (the model sees a generic failure).
    from_exception: bool = dataclasses.field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text_result_for_llm, str):
            raise TypeError(
                f"text_result_for_llm must be a string, not {type(self.text_result_for_llm).__name__}"
            )
        if self.result_type not in _RESULT_TYPES:
            raise ValueError(
                f"result_type must be one of {', '.join(_RESULT_TYPES)}; got {self.result_type!r}"
            )

    @property
    def ok(self) -> bool:
        """``True`` when ``result_type`` is ``"success"``."""
        return self.result_type == "success"

    def to_wire(self) -> dict[str, Any]:
        """The ``result`` object of ``session.tools.handlePendingToolCall`` (``None`` fields dropped)."""
        wire: dict[str, Any] = {
            "textResultForLlm": self.text_result_for_llm,
            "resultType": self.result_type,
        }
        if self.error is not None:
            wire["error"] = self.error
        if self.binary_results_for_llm:
            wire["binaryResultsForLlm"] = [
                item.to_wire() if isinstance(item, ToolBinaryResult) else dict(item)
                for item in self.binary_results_for_llm
            ]
        if self.session_log is not None:
            wire["sessionLog"] = self.session_log
        if self.tool_telemetry is not None:
            wire["toolTelemetry"] = self.tool_telemetry
        if self.tool_references is not None:
            wire["toolReferences"] = list(self.tool_references)
        return wire


RawToolHandler = Callable[[ToolInvocation], Any]

#: The parameters and return type of the function a :class:`Tool` wraps (``...``/``Any``
#: for a tool built from a raw handler or a dict).
ToolParams = ParamSpec("ToolParams", default=...)
ToolReturn = TypeVar("ToolReturn", default=Any)


@dataclasses.dataclass
class Tool(Generic[ToolParams, ToolReturn]):
    """A tool the model can call.

    ``handler`` takes one :class:`ToolInvocation` and returns a :class:`ToolResult`, a
    string, JSON-able data, or ``None`` (see :func:`normalize_result`). A tool without a
    handler is declaration-only: this client never answers it. :func:`define_tool` builds
    tools from ordinary functions, with schema inference and argument validation.
    """

    name: str
    description: str = ""
    handler: RawToolHandler | None = None
    parameters: dict[str, Any] | None = None
    overrides_built_in_tool: bool = False
    skip_permission: bool = False
    defer: Literal["auto", "never"] | None = None
    metadata: dict[str, Any] | None = None
    is_terminal: bool = False
    #: The wrapped function when built by :func:`define_tool` (for tests and introspection).
    function: Callable[ToolParams, ToolReturn] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a tool needs a non-empty string name, not {self.name!r}")
        if not isinstance(self.description, str):
            raise TypeError(
                f"tool {self.name!r}: description must be a string, not {type(self.description).__name__}"
            )
        if self.handler is not None:
            check_arity(
                self.handler, 1, f"the handler of tool {self.name!r} (it receives a ToolInvocation)"
            )
        if self.parameters is not None and not is_mapping(self.parameters):
            raise TypeError(
                f"tool {self.name!r}: parameters must be a JSON Schema dict, not {type(self.parameters).__name__}"
            )
        if self.defer not in (None, "auto", "never"):
            raise ValueError(
                f"tool {self.name!r}: defer must be 'auto', 'never' or None; got {self.defer!r}"
            )

    def to_wire(self) -> dict[str, Any]:
        """The tool's definition as ``session.create``/``session.tools.set`` take it."""
        wire: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.parameters:
            wire["parameters"] = dict(self.parameters)
        if self.overrides_built_in_tool:
            wire["overridesBuiltInTool"] = True
        if self.skip_permission:
            wire["skipPermission"] = True
        if self.defer is not None:
            wire["defer"] = self.defer
        if self.metadata is not None:
            wire["metadata"] = self.metadata
        if self.is_terminal:
            wire["isTerminal"] = True
        return wire

    def __call__(self, *args: ToolParams.args, **kwargs: ToolParams.kwargs) -> ToolReturn:
        """Call the wrapped function directly (only for tools built by :func:`define_tool`)."""
        if self.function is None:
            raise TypeError(
                f"tool {self.name!r} wraps no function; call tool.handler(invocation) instead"
            )
        return self.function(*args, **kwargs)


# ---------------------------------------------------------------------------- results


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(cast("Iterable[Any]", value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, pathlib.PurePath):
        return str(value)
    module = type(value).__module__
    if module in ("uuid", "decimal"):
        return str(value)
    dump = getattr(value, "model_dump", None)  # pydantic-like models, without importing pydantic
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json_text(value: Any) -> str:
    """``value`` as compact JSON; ``TypeError`` naming the type when it cannot be."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def normalize_result(value: Any) -> ToolResult:
    """Turn what a handler returned into a :class:`ToolResult`.

    ``ToolResult`` as is; ``str`` as a success; ``None`` as the failure
    "Tool returned no result."; ``dict``/``list``/``tuple``/dataclasses (and values inside
    them such as enums, dates, sets, UUIDs) as JSON text; any other value via ``str()``.
    Data that cannot be written as JSON raises ``TypeError``.
    """
    if isinstance(value, ToolResult):
        return value
    if isinstance(value, str):
        return ToolResult(text_result_for_llm=value)
    if value is None:
        return ToolResult(
            text_result_for_llm=NO_RESULT_TEXT,
            result_type="failure",
            error="tool returned no result",
            tool_telemetry={},
        )
    if isinstance(value, (Mapping, list, tuple, set, frozenset)) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        if isinstance(value, Mapping):
            value = dict(cast("Mapping[str, Any]", value))
        return ToolResult(text_result_for_llm=to_json_text(value))
    if isinstance(value, (bool, int, float)):
        return ToolResult(text_result_for_llm=json.dumps(value))
    if isinstance(value, enum.Enum):
        return ToolResult(text_result_for_llm=str(value.value))
    if callable(getattr(value, "model_dump", None)):
        return ToolResult(text_result_for_llm=to_json_text(value))
    return ToolResult(text_result_for_llm=str(value))


def exception_result(exc: BaseException) -> ToolResult:
    """The result standing for a handler's exception (sent as the top-level ``error``)."""
    message = redact(str(exc)) or type(exc).__name__
    if not isinstance(exc, Exception):  # SystemExit(3) would read "3": name what escaped
        message = f"{type(exc).__name__}: {message}" if message != type(exc).__name__ else message
    return ToolResult(
        text_result_for_llm=EXCEPTION_TEXT,
        result_type="failure",
        error=message,
        tool_telemetry={},
        from_exception=True,
    )


def invalid_arguments_result(tool_name: str, exc: Exception) -> ToolResult:
    text = f"Invalid arguments for tool '{tool_name}':\n{exc}"
    return ToolResult(
        text_result_for_llm=text, result_type="failure", error=text, tool_telemetry={}
    )


def run_handler(tool: Tool, invocation: ToolInvocation, *, contain_all: bool = False) -> ToolResult:
    """Run ``tool``'s handler for ``invocation`` and return the result to send. Never raises
    for the handler's failures (they become results); logs them.

    ``contain_all`` (on the worker pool, where the CLI waits for an answer): a
    ``BaseException`` that is not an ``Exception`` (``SystemExit``, a ``KeyboardInterrupt``
    raised by hand, a test framework's outcome) becomes a failure result too, logged with
    its traceback. Elsewhere (``invoke_tool`` on the caller's thread) it propagates, so a
    real Ctrl-C still interrupts."""
    assert tool.handler is not None
    try:
        value = tool.handler(invocation)
    except Exception as exc:
        logger.warning(
            "tool %r raised %s; the model is told the call failed",
            tool.name,
            type(exc).__name__,
            exc_info=True,
        )
        return exception_result(exc)
    except BaseException as exc:
        if not contain_all:
            raise
        logger.exception(
            "tool %r raised %s; the model is told the call failed", tool.name, type(exc).__name__
        )
        return exception_result(exc)
    try:
        return normalize_result(value)
    except (TypeError, ValueError) as exc:
        logger.error(
            "tool %r returned a value that cannot be sent to the model: %s", tool.name, exc
        )
        return exception_result(
            TypeError(f"tool {tool.name!r} returned a value that is not JSON: {exc}")
        )


# ---------------------------------------------------------------------------- external_tool.requested

_session_logger = logging.getLogger("copilot_sync.session")
_TOOL_SEARCH = "tool_search_tool"
ANSWER_TIMEOUT = 30.0


def on_requested(
    context: RequestContext, raw: Mapping[str, Any], data: dict[str, Any], request_id: str
) -> None:
    """Event thread: the model called a tool; run it if it is this client's."""
    tool = context.tools.get(data.get("toolName"))  # type: ignore[arg-type]
    if tool is None or tool.handler is None:
        return  # another client's tool: stay silent
    if context.take(request_id, "external_tool.requested"):
        context.submit("tool", answer, context, tool, data, raw.get("agentId"))


def answer(context: RequestContext, tool: Tool, data: dict[str, Any], agent_id: Any) -> None:
    """Worker: run the tool and answer with ``session.tools.handlePendingToolCall``."""
    request_id = data["requestId"]
    invocation = ToolInvocation(
        session_id=context.session_id,
        tool_call_id=str(data.get("toolCallId") or ""),
        tool_name=tool.name,
        arguments=data.get("arguments"),
        request_id=request_id,
        agent_id=agent_id if isinstance(agent_id, str) and agent_id else None,
    )
    if tool.name == _TOOL_SEARCH:
        invocation.available_tools = current_tools(context)
    result = run_handler(tool, invocation, contain_all=True)
    if result.from_exception:
        context.send_answer(
            "session.tools.handlePendingToolCall",
            request_id,
            {"error": result.error or "tool failed"},
        )
    else:
        context.send_answer(
            "session.tools.handlePendingToolCall", request_id, {"result": result.to_wire()}
        )


def current_tools(context: RequestContext) -> list[Any] | None:
    try:
        result = context.call("session.tools.getCurrentMetadata", timeout=ANSWER_TIMEOUT)
    except CopilotError as exc:
        _session_logger.debug(
            "session %s: tools.getCurrentMetadata failed: %s", context.session_id, exc
        )
        return None
    tools = result.get("tools") if is_mapping(result) else None
    return list(tools) if is_array(tools) else None
