"""Tools the model can call: ``Tool``, ``ToolInvocation``, ``ToolResult`` and ``define_tool``.

A :class:`Tool` pairs a wire definition (name, description, JSON Schema of the arguments)
with a *raw handler*: a callable taking one :class:`ToolInvocation`. :func:`define_tool`
builds that raw handler from an ordinary function: it infers the JSON Schema from the
signature, validates and converts the model's arguments before the function runs, and
turns whatever the function returns into a :class:`ToolResult`.

How an outcome reaches the model (PROTOCOL §5.2):

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
import inspect
import json
import logging
import pathlib
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Literal, Optional, TypeVar, Union, overload

from .._logging import redact

__all__ = [
    "Tool",
    "ToolBinaryResult",
    "ToolInvocation",
    "ToolResult",
    "ToolResultType",
    "define_tool",
    "as_tool",
    "normalize_result",
    "tool_table",
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
    request_id: Optional[str] = None
    #: The sub-agent that made the call, or ``None`` for the root agent.
    agent_id: Optional[str] = None
    #: Only for a handler of ``tool_search_tool``: the session's current tools.
    available_tools: Optional[list[Any]] = None


@dataclasses.dataclass
class ToolBinaryResult:
    """An image or resource returned to the model, base64-encoded."""

    data: str = ""
    mime_type: str = ""
    type: Literal["image", "resource"] = "image"
    description: str = ""

    def to_wire(self) -> dict[str, Any]:
        wire = {"type": self.type, "data": self.data, "mimeType": self.mime_type}
        if self.description:
            wire["description"] = self.description
        return wire


@dataclasses.dataclass
class ToolResult:
    """The outcome of a tool call as the model and the event log see it."""

    text_result_for_llm: str = ""
    result_type: ToolResultType = "success"
    error: Optional[str] = None
    binary_results_for_llm: Optional[list[Union[ToolBinaryResult, Mapping[str, Any]]]] = None
    session_log: Optional[str] = None
    tool_telemetry: Optional[dict[str, Any]] = None
    tool_references: Optional[list[str]] = None
    #: True when the result stands for an exception raised by the handler: it is then sent
    #: as the answer's top-level ``error`` (the model sees a generic failure).
    from_exception: bool = dataclasses.field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text_result_for_llm, str):
            raise TypeError(f"text_result_for_llm must be a string, not {type(self.text_result_for_llm).__name__}")
        if self.result_type not in _RESULT_TYPES:
            raise ValueError(f"result_type must be one of {', '.join(_RESULT_TYPES)}; got {self.result_type!r}")

    @property
    def ok(self) -> bool:
        return self.result_type == "success"

    def to_wire(self) -> dict[str, Any]:
        """The ``result`` object of ``session.tools.handlePendingToolCall`` (``None`` fields dropped)."""
        wire: dict[str, Any] = {"textResultForLlm": self.text_result_for_llm, "resultType": self.result_type}
        if self.error is not None:
            wire["error"] = self.error
        if self.binary_results_for_llm:
            wire["binaryResultsForLlm"] = [
                item.to_wire() if isinstance(item, ToolBinaryResult) else dict(item) for item in self.binary_results_for_llm
            ]
        if self.session_log is not None:
            wire["sessionLog"] = self.session_log
        if self.tool_telemetry is not None:
            wire["toolTelemetry"] = self.tool_telemetry
        if self.tool_references is not None:
            wire["toolReferences"] = list(self.tool_references)
        return wire


RawToolHandler = Callable[[ToolInvocation], Any]


@dataclasses.dataclass
class Tool:
    """A tool the model can call.

    ``handler`` takes one :class:`ToolInvocation` and returns a :class:`ToolResult`, a
    string, JSON-able data, or ``None`` (see :func:`normalize_result`). A tool without a
    handler is declaration-only: this client never answers it. :func:`define_tool` builds
    tools from ordinary functions, with schema inference and argument validation.
    """

    name: str
    description: str = ""
    handler: Optional[RawToolHandler] = None
    parameters: Optional[dict[str, Any]] = None
    overrides_built_in_tool: bool = False
    skip_permission: bool = False
    defer: Optional[Literal["auto", "never"]] = None
    metadata: Optional[dict[str, Any]] = None
    is_terminal: bool = False
    #: The wrapped function when built by :func:`define_tool` (for tests and introspection).
    function: Optional[Callable[..., Any]] = dataclasses.field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a tool needs a non-empty string name, not {self.name!r}")
        if not isinstance(self.description, str):
            raise TypeError(f"tool {self.name!r}: description must be a string, not {type(self.description).__name__}")
        if self.handler is not None:
            from .._session_config import check_arity

            check_arity(self.handler, 1, f"the handler of tool {self.name!r} (it receives a ToolInvocation)")
        if self.parameters is not None and not isinstance(self.parameters, Mapping):
            raise TypeError(f"tool {self.name!r}: parameters must be a JSON Schema dict, not {type(self.parameters).__name__}")
        if self.defer not in (None, "auto", "never"):
            raise ValueError(f"tool {self.name!r}: defer must be 'auto', 'never' or None; got {self.defer!r}")

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

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function directly (only for tools built by :func:`define_tool`)."""
        if self.function is None:
            raise TypeError(f"tool {self.name!r} wraps no function; call tool.handler(invocation) instead")
        return self.function(*args, **kwargs)


# ---------------------------------------------------------------------------- results


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
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
            text_result_for_llm=NO_RESULT_TEXT, result_type="failure", error="tool returned no result", tool_telemetry={}
        )
    if isinstance(value, (Mapping, list, tuple, set, frozenset)) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        if isinstance(value, Mapping):
            value = dict(value)
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
        text_result_for_llm=EXCEPTION_TEXT, result_type="failure", error=message, tool_telemetry={}, from_exception=True
    )


def invalid_arguments_result(tool_name: str, exc: Exception) -> ToolResult:
    text = f"Invalid arguments for tool '{tool_name}':\n{exc}"
    return ToolResult(text_result_for_llm=text, result_type="failure", error=text, tool_telemetry={})


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
            "tool %r raised %s; the model is told the call failed", tool.name, type(exc).__name__, exc_info=True
        )
        return exception_result(exc)
    except BaseException as exc:
        if not contain_all:
            raise
        logger.exception("tool %r raised %s; the model is told the call failed", tool.name, type(exc).__name__)
        return exception_result(exc)
    try:
        return normalize_result(value)
    except (TypeError, ValueError) as exc:
        logger.error("tool %r returned a value that cannot be sent to the model: %s", tool.name, exc)
        return exception_result(TypeError(f"tool {tool.name!r} returned a value that is not JSON: {exc}"))


# ---------------------------------------------------------------------------- define_tool

F = TypeVar("F", bound=Callable[..., Any])


def _wrap_function(
    fn: Callable[..., Any], name: str, parameters: Optional[Mapping[str, Any]]
) -> tuple[RawToolHandler, Optional[dict[str, Any]], Optional[str]]:
    """The raw handler for ``fn``, the JSON Schema to announce, and the docstring description."""
    from .._schema.engine import ArgumentError, inspect_tool_function

    if parameters is not None:
        from .._schema.engine import docstring_description

        return _explicit_schema_handler(fn, name, dict(parameters)), dict(parameters), docstring_description(fn)
    signature = inspect_tool_function(fn, invocation_type=ToolInvocation, name=name)
    schema = signature.parameters
    if schema is not None and not schema.get("properties") and _takes_only_invocation(fn):
        schema = None  # ``def handler(invocation: ToolInvocation)``: raw arguments, no schema
        bind = None
    else:
        bind = signature.bind

    def handler(invocation: ToolInvocation) -> Any:
        if bind is None:
            return fn(invocation)
        try:
            args, kwargs = bind(invocation.arguments, invocation)
        except ArgumentError as exc:
            logger.info("tool %r: rejected arguments before calling it: %s", name, exc)
            return invalid_arguments_result(name, exc)
        return fn(*args, **kwargs)

    return handler, schema, signature.description


def _takes_only_invocation(fn: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    return len(params) == 1 and params[0].kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _explicit_schema_handler(fn: Callable[..., Any], name: str, schema: dict[str, Any]) -> RawToolHandler:
    """With a hand-written JSON Schema: validate against it, then call ``fn`` with keyword
    arguments when its parameters are named after the schema's properties, else with the
    arguments dict (plus the invocation, if it asks for one)."""
    from .._schema.engine import ArgumentError, validate_against_schema

    params = [
        p for p in inspect.signature(fn).parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    hints = _type_hints(fn)
    wants_invocation = [p.name for p in params if _is_invocation_type(hints.get(p.name))]
    plain = [p for p in params if p.name not in wants_invocation]
    properties = set((schema.get("properties") or {}).keys())
    by_keyword = bool(plain) and {p.name for p in plain} <= properties | {
        p.name for p in plain if p.default is not p.empty
    } and (len(plain) > 1 or plain[0].name in properties)

    def handler(invocation: ToolInvocation) -> Any:
        arguments = {} if invocation.arguments is None else invocation.arguments
        try:
            validate_against_schema(schema, arguments)
        except ArgumentError as exc:
            logger.info("tool %r: rejected arguments before calling it: %s", name, exc)
            return invalid_arguments_result(name, exc)
        extra = {key: invocation for key in wants_invocation}
        if by_keyword:
            return fn(**{k: v for k, v in arguments.items() if k in {p.name for p in plain}}, **extra)
        if plain:
            return fn(arguments, **extra)
        return fn(**extra)

    return handler


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable annotations: treated as plain parameters
        return {}


_UNION_TYPES = (Union, getattr(types, "UnionType", Union))


def _is_invocation_type(annotation: Any) -> bool:
    if typing.get_origin(annotation) in _UNION_TYPES:
        return any(_is_invocation_type(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    return isinstance(annotation, type) and issubclass(annotation, ToolInvocation)


_TOOL_FLAGS = ("overrides_built_in_tool", "skip_permission", "defer", "metadata", "is_terminal")


@overload
def define_tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def define_tool(
    name_or_fn: Optional[str] = None,
    /,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    parameters: Optional[Mapping[str, Any]] = None,
    overrides_built_in_tool: bool = False,
    skip_permission: bool = False,
    defer: Optional[Literal["auto", "never"]] = None,
    metadata: Optional[dict[str, Any]] = None,
    is_terminal: bool = False,
) -> Callable[[Callable[..., Any]], Tool]: ...


@overload
def define_tool(
    name_or_fn: Optional[str] = None,
    /,
    *,
    name: Optional[str] = None,
    handler: Callable[..., Any],
    description: Optional[str] = None,
    parameters: Optional[Mapping[str, Any]] = None,
    overrides_built_in_tool: bool = False,
    skip_permission: bool = False,
    defer: Optional[Literal["auto", "never"]] = None,
    metadata: Optional[dict[str, Any]] = None,
    is_terminal: bool = False,
) -> Tool: ...


def define_tool(
    name_or_fn: Any = None,
    /,
    *,
    name: Optional[str] = None,
    handler: Optional[Callable[..., Any]] = None,
    description: Optional[str] = None,
    parameters: Optional[Mapping[str, Any]] = None,
    **flags: Any,
) -> Any:
    """Make a :class:`Tool` from a function, inferring its JSON Schema from the signature.

    Three forms::

        @define_tool
        def get_weather(city: str, units: Literal["C", "F"] = "C") -> str:
            \"\"\"Current weather for a city.

            Args:
                city: City name.
            \"\"\"

        @define_tool(name="weather", description="Current weather", skip_permission=True)
        def get_weather(city: str) -> str: ...

        weather = define_tool("weather", description="...", handler=get_weather)

    The name defaults to the function's name and the description to its docstring.
    Parameter types (``str``, ``int``, ``float``, ``bool``, ``Optional``, ``list``,
    ``tuple``, ``set``, ``dict[str, T]``, ``Literal``, ``Enum``, ``TypedDict``, dataclasses,
    nested) become the schema, with descriptions from ``Annotated[T, "..."]`` or the
    docstring's ``Args:`` section. The model's arguments are validated and converted
    before the function runs; a bad one becomes a failure result naming the field. A
    parameter annotated :class:`ToolInvocation` receives the invocation. A function whose
    only parameter is a dataclass or TypedDict receives all the arguments as one value.
    ``parameters=`` gives the JSON Schema by hand instead (arguments are validated
    against it). Inference problems raise ``TypeError`` here, at definition time.
    """
    unknown = set(flags) - set(_TOOL_FLAGS)
    if unknown:
        raise TypeError(f"define_tool() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    if callable(name_or_fn) and not isinstance(name_or_fn, str):
        if handler is not None:
            raise TypeError("define_tool(fn) takes the function once: not also handler=")
        return _build(name_or_fn, name, description, parameters, flags)
    if name_or_fn is not None:
        if not isinstance(name_or_fn, str):
            raise TypeError(f"define_tool() takes a function or a tool name, not {type(name_or_fn).__name__}")
        if name is not None and name != name_or_fn:
            raise TypeError("define_tool() got the tool name twice")
        name = name_or_fn
    if handler is not None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {type(handler).__name__}")
        return _build(handler, name, description, parameters, flags)

    def decorate(fn: Callable[..., Any]) -> Tool:
        if not callable(fn):
            raise TypeError(f"@define_tool decorates a function, not {type(fn).__name__}")
        return _build(fn, name, description, parameters, flags)

    return decorate


def _build(
    fn: Callable[..., Any],
    name: Optional[str],
    description: Optional[str],
    parameters: Optional[Mapping[str, Any]],
    flags: dict[str, Any],
) -> Tool:
    if inspect.iscoroutinefunction(fn):
        raise TypeError(
            f"{getattr(fn, '__name__', fn)!r} is a coroutine function; copilot-sync runs tools on worker "
            "threads, so define a plain function (drop the async/await)"
        )
    tool_name = name or getattr(fn, "__name__", None)
    if not isinstance(tool_name, str) or not tool_name or tool_name == "<lambda>":
        raise TypeError("define_tool() needs name= for a function without a usable __name__")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise TypeError(f"parameters must be a JSON Schema dict, not {type(parameters).__name__}")
    raw_handler, schema, doc = _wrap_function(fn, tool_name, parameters)
    return Tool(
        name=tool_name,
        description=description if description is not None else (doc or ""),
        handler=raw_handler,
        parameters=schema,
        function=fn,
        **flags,
    )


# ---------------------------------------------------------------------------- tool lists


def as_tool(value: Any) -> Tool:
    """A :class:`Tool` from a Tool, a dict of its fields (snake_case or camelCase), or an
    object with the same attributes (e.g. another SDK's tool dataclass)."""
    if isinstance(value, Tool):
        return value
    if isinstance(value, Mapping):
        fields = {_snake_key(key): item for key, item in value.items()}
    else:
        names = ("name", "description", "handler", "parameters", "overrides_built_in_tool", "skip_permission",
                 "defer", "metadata", "is_terminal")  # fmt: skip
        fields = {name: getattr(value, name) for name in names if getattr(value, name, None) is not None}
    unknown = sorted(set(fields) - (set(Tool.__dataclass_fields__) - {"function"}))
    if unknown:
        raise TypeError(f"tool {fields.get('name')!r}: unknown field {unknown[0]!r}")
    if not isinstance(fields.get("name"), str) or not fields["name"]:
        raise TypeError(f"every tool needs a non-empty string name; got {value!r}")
    return Tool(**fields)


def _snake_key(key: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in key)


def tool_table(tools: Optional[Iterable[Any]]) -> dict[str, Tool]:
    """Tools by name; ``ValueError`` on a duplicate name."""
    table: dict[str, Tool] = {}
    for item in tools or ():
        tool = as_tool(item)
        if tool.name in table:
            raise ValueError(f"two tools are named {tool.name!r}")
        table[tool.name] = tool
    return table
