"""The schema engine's entry points for tools: :func:`inspect_tool_function` (a tool function read once,
at definition time, into a :class:`ToolSignature`), :func:`schema_for_type`, :func:`docstring_description`."""

from __future__ import annotations

import collections.abc
import inspect
import sys
import typing
from collections.abc import Callable
from typing import Any, cast

from .argument_error import ArgumentError
from .conversion import Field, Node, ObjectNode, Unsupported
from .docstrings import parse_docstring
from .inference import Builder, doc_of, globals_of, localns_from
from .typing_info import UNION_TYPE, is_class, is_object_type, split_annotated, type_name

__all__ = [
    "ToolSignature",
    "TypeConverter",
    "converter_for_type",
    "docstring_description",
    "inspect_tool_function",
    "schema_for_type",
]


# --------------------------------------------------------------------------------------------
# Public API


class ToolSignature:
    """What :func:`inspect_tool_function` learned about a tool function."""

    __slots__ = (
        "_kw_invocation",
        "_kw_whole",
        "_mode",
        "_node",
        "_positional",
        "description",
        "parameters",
    )

    parameters: dict[str, Any] | None
    description: str | None

    def __init__(
        self,
        parameters: dict[str, Any] | None,
        description: str | None,
        node: Node | None,
        mode: str,
        positional: list[tuple[str, str, Any]],
        kw_invocation: str | None,
        kw_whole: str | None,
    ) -> None:
        self.parameters = parameters
        self.description = description
        self._node = node
        self._mode = mode  # "fields", "whole" (params object) or "raw"
        self._positional = positional  # (what, name, default) for positional-only parameters
        self._kw_invocation = kw_invocation
        self._kw_whole = kw_whole

    def __repr__(self) -> str:
        return f"ToolSignature(parameters={self.parameters!r}, description={self.description!r})"

    def bind(self, arguments: object, invocation: object) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Validate and convert ``arguments`` (decoded JSON; ``None`` counts as ``{}``) and return
        ``(args, kwargs)`` for the function. Raises :class:`ArgumentError`."""
        if arguments is None:
            arguments = {}
        elif not isinstance(arguments, dict):
            raise ArgumentError(f"arguments must be a JSON object, got {type(arguments).__name__}")
        if self._node is None:
            whole: Any = cast("dict[str, Any]", arguments)
            fields: dict[str, Any] = {}
        else:
            errs: list[tuple[str, str]] = []
            converted = self._node.convert(arguments, "", errs)
            if errs:
                raise ArgumentError(errs)
            if self._mode == "fields":
                whole, fields = None, converted
            else:
                whole, fields = converted, {}
        args: list[Any] = []
        for what, name, default in self._positional:
            if what == "invocation":
                args.append(invocation)
            elif what == "whole":
                args.append(whole)
            else:
                args.append(fields.pop(name, default))
        kwargs = fields
        if self._kw_whole is not None:
            kwargs[self._kw_whole] = whole
        if self._kw_invocation is not None:
            kwargs[self._kw_invocation] = invocation
        return tuple(args), kwargs


def _is_invocation(tp: Any, invocation_type: type) -> bool:
    tp, _ = split_annotated(tp)
    if is_class(tp):
        try:
            return issubclass(tp, invocation_type)
        except TypeError:
            return False
    origin = typing.get_origin(tp)
    if origin is typing.Union or (UNION_TYPE is not None and origin is UNION_TYPE):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        return len(members) == 1 and _is_invocation(members[0], invocation_type)
    return False


def _is_raw_dict(tp: Any) -> bool:
    tp, _ = split_annotated(tp)
    if tp is dict or tp is dict or tp is collections.abc.Mapping or tp is typing.Mapping:
        return True
    origin = typing.get_origin(tp)
    if origin in (dict, collections.abc.Mapping):
        return typing.get_args(tp) in ((str, Any), ())
    return False


def inspect_tool_function(
    fn: Callable[..., Any], *, invocation_type: type, name: str | None = None
) -> ToolSignature:
    """Infer the JSON Schema of ``fn``'s arguments and prepare their conversion.

    Raises TypeError, naming the tool, parameter and type, when no schema can be inferred.
    """
    if not callable(fn):
        raise TypeError(f"a tool must be a callable, got {fn!r}")
    tool = name or getattr(fn, "__name__", None) or type(fn).__name__
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"tool {tool!r}: cannot read the signature of {fn!r}: {exc}") from None
    frame = sys._getframe(1)
    try:
        builder = Builder(localns_from(fn, frame))
        return _inspect(fn, sig, tool, invocation_type, builder)
    finally:
        del frame


def _inspect(
    fn: Any, sig: inspect.Signature, tool: str, invocation_type: type, builder: Builder
) -> ToolSignature:
    globalns = globals_of(fn)
    description, param_docs = parse_docstring(doc_of(fn))

    builder.namespaces.append((globalns, {}))
    P = inspect.Parameter
    params: list[tuple[inspect.Parameter, Any]] = []
    invocation_param: inspect.Parameter | None = None
    var_kw: tuple[inspect.Parameter, Any] | None = None
    for p in sig.parameters.values():
        if p.kind is P.VAR_POSITIONAL:
            raise TypeError(f"tool {tool!r}: *{p.name} is not supported; tool arguments are named")
        try:
            tp = builder.resolve(p.annotation, globalns)
        except Exception as exc:
            raise TypeError(
                f"tool {tool!r}: cannot resolve the type annotation {p.annotation!r} of parameter {p.name!r}: {exc}"
            ) from None
        if tp is not P.empty and _is_invocation(tp, invocation_type):
            if invocation_param is not None:
                raise TypeError(
                    f"tool {tool!r}: parameters {invocation_param.name!r} and {p.name!r} are both annotated "
                    f"with the invocation type {invocation_type.__name__}"
                )
            invocation_param = p
            continue
        if p.kind is P.VAR_KEYWORD:
            var_kw = (p, tp)
        else:
            params.append((p, tp))

    positional: list[tuple[str, str, Any]] = []
    kw_invocation: str | None = None
    kw_whole: str | None = None

    def place(p: inspect.Parameter, what: str) -> None:
        nonlocal kw_invocation, kw_whole
        if p.kind is P.POSITIONAL_ONLY:
            positional.append((what, p.name, p.default))
        elif what == "invocation":
            kw_invocation = p.name
        elif what == "whole":
            kw_whole = p.name

    try:
        if (
            len(params) == 1
            and var_kw is None
            and (is_object_type(split_annotated(params[0][1])[0]) or _is_raw_dict(params[0][1]))
        ):
            p, tp = params[0]
            if _is_raw_dict(tp):
                mode, node, schema = "raw", None, None
            else:
                builder.where.append(f"parameter {p.name!r}")
                node = builder.build(split_annotated(tp)[0])
                builder.where.pop()
                mode = "whole"
                schema = builder.finish(node.schema)
            for q in sig.parameters.values():
                if q is invocation_param:
                    place(q, "invocation")
                elif q is p:
                    place(q, "whole")
        else:
            mode = "fields"
            fields: list[Field] = []
            for p, tp in params:
                required = p.default is P.empty
                fields.append(
                    builder.field(
                        "",
                        p.name,
                        tp,
                        required=required,
                        default=p.default,
                        doc=param_docs.get(p.name),
                    )
                )
            extra = None
            if var_kw is not None:
                builder.where.append(f"parameter '**{var_kw[0].name}'")
                extra = builder.build(var_kw[1])
                builder.where.pop()
            node = ObjectNode(fields, extra=extra, build=None, closed=False)
            schema = builder.finish(node.schema)
            for q in sig.parameters.values():
                if q is invocation_param:
                    place(q, "invocation")
                elif q.kind is P.POSITIONAL_ONLY:
                    positional.append(("field", q.name, q.default))
    except Unsupported as exc:
        raise TypeError(
            f"tool {tool!r}: cannot infer a JSON schema for {exc.param or 'a parameter'}: {exc}"
        ) from None
    finally:
        builder.release_frame()
    return ToolSignature(schema, description, node, mode, positional, kw_invocation, kw_whole)


def schema_for_type(tp: Any) -> dict[str, Any]:
    """The JSON Schema for one annotation. Raises TypeError when none can be inferred."""
    frame = sys._getframe(1)
    builder = Builder(localns_from(None, frame))
    try:
        node = builder.build(tp)
        return builder.finish(node.schema)
    except Unsupported as exc:
        raise TypeError(f"cannot infer a JSON schema for {type_name(tp)}: {exc}") from None
    finally:
        builder.release_frame()
        del frame


class TypeConverter:
    """One annotation read once by the schema engine: its JSON Schema, and :meth:`convert`
    for JSON values of that schema (used by structured output)."""

    __slots__ = ("_node", "schema")

    schema: dict[str, Any]

    def __init__(self, schema: dict[str, Any], node: Node) -> None:
        self.schema = schema
        self._node = node

    def __repr__(self) -> str:
        return f"TypeConverter(schema={self.schema!r})"

    def convert(self, value: object) -> Any:
        """``value`` (decoded JSON) validated and converted to the annotation's Python type
        (a dataclass instance, an Enum member, a tuple...); :class:`ArgumentError`, naming
        the path of each mismatch, if it does not fit."""
        errs: list[tuple[str, str]] = []
        converted = self._node.convert(value, "", errs)
        if errs:
            raise ArgumentError(errs)
        return converted


def converter_for_type(tp: Any) -> TypeConverter:
    """A :class:`TypeConverter` for one annotation. Raises TypeError when no schema can be inferred."""
    frame = sys._getframe(1)
    builder = Builder(localns_from(None, frame))
    try:
        node = builder.build(tp)
        return TypeConverter(builder.finish(node.schema), node)
    except Unsupported as exc:
        raise TypeError(f"cannot infer a JSON schema for {type_name(tp)}: {exc}") from None
    finally:
        builder.release_frame()
        del frame


def docstring_description(fn: Callable[..., Any]) -> str | None:
    """The description part of ``fn``'s docstring (before ``Args:`` and the like), or ``None``."""
    return parse_docstring(doc_of(fn))[0]
