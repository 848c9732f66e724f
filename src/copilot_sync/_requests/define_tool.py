"""``define_tool``: a :class:`~copilot_sync.Tool` from an ordinary function (schema inferred
from its signature, arguments validated and converted before it runs), and ``tool_table``
/ ``as_tool`` for the ``tools=`` option."""

from __future__ import annotations

import inspect
import logging
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Protocol, TypeVar, Union, cast, overload

from typing_extensions import ParamSpec

from .._fields import is_mapping
from .tools import RawToolHandler, Tool, ToolInvocation, invalid_arguments_result

__all__ = ["as_tool", "define_tool", "tool_table"]

logger = logging.getLogger("copilot_sync.tools")

# ---------------------------------------------------------------------------- define_tool

P = ParamSpec("P")
R = TypeVar("R")


class ToolDecorator(Protocol):
    """What ``define_tool(name=..., ...)`` returns: a decorator turning a function into a
    :class:`Tool` that keeps the function's signature for direct calls."""

    def __call__(self, fn: Callable[P, R], /) -> Tool[P, R]: ...


def _wrap_function(
    fn: Callable[..., Any], name: str, parameters: Mapping[str, Any] | None
) -> tuple[RawToolHandler, dict[str, Any] | None, str | None]:
    """The raw handler for ``fn``, the JSON Schema to announce, and the docstring description."""
    from .._schema import ArgumentError, inspect_tool_function

    if parameters is not None:
        from .._schema import docstring_description

        return (
            _explicit_schema_handler(fn, name, dict(parameters)),
            dict(parameters),
            docstring_description(fn),
        )
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
    return len(params) == 1 and params[0].kind not in (
        inspect.Parameter.VAR_POSITIONAL,
        inspect.Parameter.VAR_KEYWORD,
    )


def _explicit_schema_handler(
    fn: Callable[..., Any], name: str, schema: dict[str, Any]
) -> RawToolHandler:
    """With a hand-written JSON Schema: validate against it, then call ``fn`` with keyword
    arguments when its parameters are named after the schema's properties, else with the
    arguments dict (plus the invocation, if it asks for one)."""
    from .._schema import ArgumentError, validate_against_schema

    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    hints = _type_hints(fn)
    wants_invocation = [p.name for p in params if _is_invocation_type(hints.get(p.name))]
    plain = [p for p in params if p.name not in wants_invocation]
    declared: Mapping[str, Any] = schema.get("properties") or {}
    properties = set(declared.keys())
    by_keyword = (
        bool(plain)
        and {p.name for p in plain}
        <= properties | {p.name for p in plain if p.default is not p.empty}
        and (len(plain) > 1 or plain[0].name in properties)
    )

    def handler(invocation: ToolInvocation) -> Any:
        arguments: dict[str, Any] = {} if invocation.arguments is None else invocation.arguments
        try:
            validate_against_schema(schema, arguments)
        except ArgumentError as exc:
            logger.info("tool %r: rejected arguments before calling it: %s", name, exc)
            return invalid_arguments_result(name, exc)
        extra = dict.fromkeys(wants_invocation, invocation)
        if by_keyword:
            return fn(
                **{k: v for k, v in arguments.items() if k in {p.name for p in plain}}, **extra
            )
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
        return any(
            _is_invocation_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)
        )
    return isinstance(annotation, type) and issubclass(annotation, ToolInvocation)


_TOOL_FLAGS = ("overrides_built_in_tool", "skip_permission", "defer", "metadata", "is_terminal")


@overload
def define_tool(fn: Callable[P, R], /) -> Tool[P, R]: ...


@overload
def define_tool(
    name_or_fn: str | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    overrides_built_in_tool: bool = False,
    skip_permission: bool = False,
    defer: Literal["auto", "never"] | None = None,
    metadata: dict[str, Any] | None = None,
    is_terminal: bool = False,
) -> ToolDecorator: ...


@overload
def define_tool(
    name_or_fn: str | None = None,
    /,
    *,
    name: str | None = None,
    handler: Callable[P, R],
    description: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    overrides_built_in_tool: bool = False,
    skip_permission: bool = False,
    defer: Literal["auto", "never"] | None = None,
    metadata: dict[str, Any] | None = None,
    is_terminal: bool = False,
) -> Tool[P, R]: ...


def define_tool(
    name_or_fn: Any = None,
    /,
    *,
    name: str | None = None,
    handler: Callable[..., Any] | None = None,
    description: str | None = None,
    parameters: Mapping[str, Any] | None = None,
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
            raise TypeError(
                f"define_tool() takes a function or a tool name, not {type(name_or_fn).__name__}"
            )
        if name is not None and name != name_or_fn:
            raise TypeError("define_tool() got the tool name twice")
        name = name_or_fn
    if handler is not None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {type(handler).__name__}")
        return _build(handler, name, description, parameters, flags)

    def decorate(fn: Callable[..., Any]) -> Tool[..., Any]:
        if not callable(fn):
            raise TypeError(f"@define_tool decorates a function, not {type(fn).__name__}")
        return _build(fn, name, description, parameters, flags)

    return decorate


def _build(
    fn: Callable[..., Any],
    name: str | None,
    description: str | None,
    parameters: Mapping[str, Any] | None,
    flags: dict[str, Any],
) -> Tool[..., Any]:
    if inspect.iscoroutinefunction(fn):
        raise TypeError(
            f"{getattr(fn, '__name__', fn)!r} is a coroutine function; copilot-sync runs tools on worker "
            "threads, so define a plain function (drop the async/await)"
        )
    tool_name = name or getattr(fn, "__name__", None)
    if not isinstance(tool_name, str) or not tool_name or tool_name == "<lambda>":
        raise TypeError("define_tool() needs name= for a function without a usable __name__")
    if parameters is not None and not is_mapping(parameters):
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


def as_tool(value: Any) -> Tool[..., Any]:
    """A :class:`Tool` from a Tool, a dict of its fields (snake_case or camelCase), or an
    object with the same attributes (e.g. another SDK's tool dataclass)."""
    if isinstance(value, Tool):
        return cast("Tool[..., Any]", value)
    fields: dict[str, Any]
    if is_mapping(value):
        fields = {_snake_key(key): item for key, item in value.items()}
    else:
        names = ("name", "description", "handler", "parameters", "overrides_built_in_tool", "skip_permission",
                 "defer", "metadata", "is_terminal")  # fmt: skip
        fields = {
            name: getattr(value, name) for name in names if getattr(value, name, None) is not None
        }
    unknown = sorted(set(fields) - (set(Tool.__dataclass_fields__) - {"function"}))
    if unknown:
        raise TypeError(f"tool {fields.get('name')!r}: unknown field {unknown[0]!r}")
    if not isinstance(fields.get("name"), str) or not fields["name"]:
        raise TypeError(f"every tool needs a non-empty string name; got {value!r}")
    tool: Tool[..., Any] = Tool(**fields)
    return tool


def _snake_key(key: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in key)


def tool_table(tools: Iterable[Any] | None) -> dict[str, Tool[..., Any]]:
    """Tools by name; ``ValueError`` on a duplicate name."""
    table: dict[str, Tool[..., Any]] = {}
    for item in tools or ():
        tool = as_tool(item)
        if tool.name in table:
            raise ValueError(f"two tools are named {tool.name!r}")
        table[tool.name] = tool
    return table
