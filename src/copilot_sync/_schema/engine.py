"""JSON Schema inference from Python signatures, and argument validation/conversion, for tools.

:func:`inspect_tool_function` reads a tool function once, at definition time: it infers a JSON
Schema for its parameters (from annotations, ``Annotated`` descriptions and the docstring) and
builds a tree of converter nodes. :meth:`ToolSignature.bind` then validates the model's JSON
arguments against that tree and converts them (dataclass, enum, tuple, set, datetime... instances)
on every call. A bad argument becomes an :class:`ArgumentError` that names the field path; it never
reaches user code.

:func:`validate_against_schema` checks a JSON value against a user-supplied JSON Schema (a common
subset), for tools that declare their schema by hand.

Decisions worth knowing:

* The top-level schema of a function is ``{"type": "object", "properties": ..., "required": ...}``
  without ``additionalProperties`` (unknown arguments are still rejected, unless ``**kwargs``);
  dataclasses and TypedDicts get ``"additionalProperties": false``.
* ``required`` is left out when empty; ``title`` is never emitted (and is stripped from pydantic-like
  model schemas).
* A parameter or field whose default is ``None`` also accepts ``null`` (implicit ``Optional``).
* Sets accept duplicate items (they collapse); the schema still says ``uniqueItems``.
* Recursive dataclasses/TypedDicts are supported through ``$defs``/``$ref``.
* Strict JSON types: ``"3"`` is not an integer; ``3.0`` is (converted to ``3``); ``true`` is not a
  number.
"""

from __future__ import annotations

import abc
import collections.abc
import dataclasses
import enum
import functools
import inspect
import math
import re
import sys
import types
import typing
from datetime import date, datetime, time
from typing import Any, Callable

from .argument_error import _ALL_KINDS, ArgumentError, _canon, _got, _key_path, _kind, _short
from .json_schema import validate_against_schema

__all__ = [
    "ArgumentError",
    "ToolSignature",
    "docstring_description",
    "inspect_tool_function",
    "schema_for_type",
    "validate_against_schema",
]



# --------------------------------------------------------------------------------------------
class _Unsupported(Exception):
    """Internal: a type for which no schema can be inferred (becomes a TypeError)."""

    def __init__(self, text: str, param: str | None = None) -> None:
        super().__init__(text)
        self.param = param  # "parameter 'x'" when raised while inferring a tool parameter


class _Bad:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<invalid>"


_BAD: Any = _Bad()


# --------------------------------------------------------------------------------------------
# Converter nodes: built once per tool, run on every call.
# convert() returns the converted value, or _BAD after appending at least one error.


class _Node(abc.ABC):
    schema: dict[str, Any]
    kinds: frozenset[str] = _ALL_KINDS
    expected: str = "any value"
    hashable: bool = True

    @abc.abstractmethod
    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        """The converted value, or ``_BAD`` after appending at least one ``(path, message)`` to ``errs``."""

    def _fail(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        errs.append((path, f"expected {self.expected}, got {_got(value)}"))
        return _BAD


class _AnyNode(_Node):
    def __init__(self) -> None:
        self.schema = {}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        return value


class _StrNode(_Node):
    kinds = frozenset({"string"})
    expected = "a string"

    def __init__(self) -> None:
        self.schema = {"type": "string"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if isinstance(value, str):
            return value
        return self._fail(value, path, errs)


class _IntNode(_Node):
    kinds = frozenset({"integer", "number"})
    expected = "an integer"

    def __init__(self) -> None:
        self.schema = {"type": "integer"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        t = type(value)
        if t is int:
            return value
        if t is float:
            if value.is_integer():
                return int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        return self._fail(value, path, errs)


class _FloatNode(_Node):
    kinds = frozenset({"integer", "number"})
    expected = "a number"

    def __init__(self) -> None:
        self.schema = {"type": "number"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        t = type(value)
        if t is float:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                errs.append((path, f"number out of range: {_short(value)}"))
                return _BAD
        return self._fail(value, path, errs)


class _BoolNode(_Node):
    kinds = frozenset({"boolean"})
    expected = "a boolean"

    def __init__(self) -> None:
        self.schema = {"type": "boolean"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if isinstance(value, bool):
            return value
        return self._fail(value, path, errs)


class _NullNode(_Node):
    kinds = frozenset({"null"})
    expected = "null"

    def __init__(self) -> None:
        self.schema = {"type": "null"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if value is None:
            return None
        return self._fail(value, path, errs)



class _ChoiceNode(_Node):
    """Literal[...] or an Enum: a fixed set of JSON scalars, each mapped to a Python value."""

    def __init__(self, choices: list[tuple[Any, Any]]) -> None:
        # choices: (json value, python value)
        self.lookup = {_canon(j): p for j, p in choices}
        values = [j for j, _ in choices]
        json_types = {_kind(v) for v in values}
        if json_types == {"integer", "number"}:
            json_types = {"number"}
        self.schema = {}
        if len(json_types) == 1:
            self.schema["type"] = next(iter(json_types))
        self.schema["enum"] = values
        kinds = set(json_types)
        if kinds & {"integer", "number"}:
            kinds |= {"integer", "number"}
        self.kinds = frozenset(kinds)
        shown = ", ".join(_short(v) for v in values[:20])
        if len(values) > 20:
            shown += ", ..."
        self.expected = f"one of {shown}"

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if isinstance(value, (str, int, float, type(None))):
            try:
                return self.lookup[_canon(value)]
            except KeyError:
                pass
        errs.append((path, f"must be {self.expected}; got {_short(value)}"))
        return _BAD


class _UnionNode(_Node):
    def __init__(self, members: list[_Node]) -> None:
        self.members = members
        self.schema = {"anyOf": [m.schema for m in members]}
        kinds: set[str] = set()
        for m in members:
            kinds |= m.kinds
        self.kinds = frozenset(kinds)
        self.expected = " or ".join(m.expected for m in members)
        self.hashable = all(m.hashable for m in members)

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        kind = _kind(value)
        candidates: list[list[tuple[str, str]]] = []
        for m in self.members:
            if kind not in m.kinds:
                continue
            tmp: list[tuple[str, str]] = []
            result = m.convert(value, path, tmp)
            if not tmp:
                return result
            candidates.append(tmp)
        if len(candidates) == 1:
            errs.extend(candidates[0])
            return _BAD
        return self._fail(value, path, errs)


class _ListNode(_Node):
    kinds = frozenset({"array"})
    expected = "an array"

    def __init__(self, item: _Node, factory: Callable[[list[Any]], Any] = list, unique: bool = False) -> None:
        self.item = item
        self.factory = factory
        self.unique = unique
        self.passthrough = isinstance(item, _AnyNode)
        self.schema = {"type": "array"}
        if item.schema:
            self.schema["items"] = item.schema
        if unique:
            self.schema["uniqueItems"] = True
        self.hashable = factory is tuple and item.hashable or factory is frozenset

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if not isinstance(value, (list, tuple)):
            return self._fail(value, path, errs)
        out: Any
        if self.passthrough:
            out = value
        else:
            n = len(errs)
            conv = self.item.convert
            out = [conv(v, f"{path}[{i}]", errs) for i, v in enumerate(value)]
            if len(errs) != n:
                return _BAD
        try:
            return self.factory(out)
        except TypeError:
            errs.append((path, "items must be hashable values"))
            return _BAD


class _TupleNode(_Node):
    kinds = frozenset({"array"})

    def __init__(self, items: list[_Node]) -> None:
        self.items = items
        n = len(items)
        self.expected = f"an array of {n} item{'s' if n != 1 else ''}"
        self.schema = {"type": "array"}
        if items:
            self.schema["prefixItems"] = [i.schema for i in items]
        self.schema["minItems"] = n
        self.schema["maxItems"] = n
        self.hashable = all(i.hashable for i in items)

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if not isinstance(value, (list, tuple)):
            return self._fail(value, path, errs)
        if len(value) != len(self.items):
            n = len(value)
            errs.append((path, f"expected {self.expected}, got {n} item{'s' if n != 1 else ''}"))
            return _BAD
        before = len(errs)
        out = tuple(node.convert(v, f"{path}[{i}]", errs) for i, (node, v) in enumerate(zip(self.items, value)))
        if len(errs) != before:
            return _BAD
        return out


class _DictNode(_Node):
    kinds = frozenset({"object"})
    expected = "an object"
    hashable = False

    def __init__(self, value_node: _Node) -> None:
        self.value_node = value_node
        self.passthrough = isinstance(value_node, _AnyNode)
        self.schema = {"type": "object"}
        if value_node.schema:
            self.schema["additionalProperties"] = value_node.schema

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if not isinstance(value, dict):
            return self._fail(value, path, errs)
        if self.passthrough:
            return dict(value)
        n = len(errs)
        conv = self.value_node.convert
        out = {k: conv(v, _key_path(path, k), errs) for k, v in value.items()}
        if len(errs) != n:
            return _BAD
        return out


class _Field:
    __slots__ = ("key", "node", "required", "schema")

    def __init__(self, key: str, node: _Node, required: bool, schema: dict[str, Any]) -> None:
        self.key = key
        self.node = node
        self.required = required
        self.schema = schema


class _ObjectNode(_Node):
    """A fixed set of named fields: a function's arguments, a dataclass or a TypedDict."""

    kinds = frozenset({"object"})
    expected = "an object"

    def __init__(
        self,
        fields: list[_Field],
        *,
        extra: _Node | None,
        build: Callable[[dict[str, Any]], Any] | None,
        closed: bool,
        description: str | None = None,
        hashable: bool = False,
    ) -> None:
        self.fields = [(f.key, f.node, f.required) for f in fields]
        self.keys = frozenset(f.key for f in fields)
        self.extra = extra
        self.build = build
        self.hashable = hashable
        schema: dict[str, Any] = {"type": "object"}
        if description:
            schema["description"] = description
        schema["properties"] = {f.key: f.schema for f in fields}
        required = [f.key for f in fields if f.required]
        if required:
            schema["required"] = required
        if extra is not None:
            schema["additionalProperties"] = extra.schema or True
        elif closed:
            schema["additionalProperties"] = False
        self.schema = schema

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if not isinstance(value, dict):
            return self._fail(value, path, errs)
        before = len(errs)
        out: dict[str, Any] = {}
        seen = 0
        for key, node, required in self.fields:
            if key in value:
                seen += 1
                out[key] = node.convert(value[key], _key_path(path, key), errs)
            elif required:
                if path:
                    errs.append((_key_path(path, key), "missing required field"))
                else:
                    errs.append(("", f"missing required argument {key!r}"))
        if seen != len(value):
            for key in value:
                if key in self.keys:
                    continue
                if self.extra is not None:
                    out[key] = self.extra.convert(value[key], _key_path(path, key), errs)
                elif path:
                    errs.append((_key_path(path, key), "unexpected field"))
                else:
                    errs.append(("", f"unexpected argument {key!r}"))
        if len(errs) != before:
            return _BAD
        if self.build is None:
            return out
        try:
            return self.build(out)
        except (TypeError, ValueError) as exc:
            errs.append((path, f"invalid {'value' if path else 'arguments'}: {exc}"))
            return _BAD


class _RefNode(_Node):
    """A reference to a (recursive) class node, whose schema lives in ``$defs``."""

    def __init__(self, pending: _Pending, name: str) -> None:
        self.pending = pending
        self.name = name
        self.schema = {"$ref": f"#/$defs/{name}"}
        self.kinds = pending.kinds
        self.expected = pending.expected
        self.hashable = pending.hashable

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        node = self.pending.node
        assert node is not None
        return node.convert(value, path, errs)


class _Pending:
    def __init__(self, kinds: frozenset[str], expected: str, hashable: bool) -> None:
        self.node: _Node | None = None
        self.recursive = False
        self.kinds = kinds
        self.expected = expected
        self.hashable = hashable


class _ParseNode(_Node):
    """A string (or, for Decimal, a number) parsed into a Python object."""

    def __init__(
        self,
        schema: dict[str, Any],
        expected: str,
        parsers: tuple[Callable[[Any], Any], ...],
        kinds: frozenset[str] = frozenset({"string"}),
    ) -> None:
        self.schema = schema
        self.expected = expected
        self.parsers = parsers
        self.kinds = kinds

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if _kind(value) in self.kinds:
            for parse in self.parsers:
                try:
                    return parse(value)
                except Exception:
                    continue
        return self._fail(value, path, errs)


class _ModelNode(_Node):
    """A pydantic-like model (duck-typed: ``model_json_schema`` and ``model_validate``)."""

    kinds = frozenset({"object"})
    expected = "an object"

    def __init__(self, cls: type, schema: dict[str, Any]) -> None:
        self.cls = cls
        self.schema = schema
        self.hashable = getattr(cls, "__hash__", None) is not None

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        try:
            return self.cls.model_validate(value)  # type: ignore[attr-defined]
        except Exception as exc:
            problems = None
            errors_fn = getattr(exc, "errors", None)
            if callable(errors_fn):
                try:
                    problems = list(errors_fn())
                except Exception:
                    problems = None
            if problems:
                for problem in problems:
                    p = path
                    loc = problem.get("loc", ()) if isinstance(problem, dict) else ()
                    for part in loc or ():
                        p = f"{p}[{part}]" if isinstance(part, int) else _key_path(p, str(part))
                    msg = problem.get("msg") if isinstance(problem, dict) else None
                    errs.append((p, str(msg or problem)))
            else:
                text = str(exc).strip().splitlines()
                errs.append((path, text[0] if text else type(exc).__name__))
            return _BAD


# --------------------------------------------------------------------------------------------
# Date/time, UUID, Decimal and Path parsers (dateutil imported only when needed)


def _isoparse_datetime(text: str) -> datetime:
    from dateutil.parser import isoparse

    return isoparse(text)


def _isoparse_date(text: str) -> date:
    from dateutil.parser import isoparser

    return isoparser().parse_isodate(text)


def _isoparse_time(text: str) -> time:
    from dateutil.parser import isoparser

    return isoparser().parse_isotime(text)


def _decimal_parser(cls: type) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("bool is not a number")
        if isinstance(value, float):
            result = cls(repr(value))
        elif isinstance(value, str):
            result = cls(value.strip())
        else:
            result = cls(value)
        if not result.is_finite():
            raise ValueError("not finite")
        return result

    return parse


def _special_node(tp: Any) -> _Node | None:
    if tp is datetime:
        return _ParseNode(
            {"type": "string", "format": "date-time"},
            "an ISO 8601 date-time string",
            (datetime.fromisoformat, _isoparse_datetime),
        )
    if tp is date:
        return _ParseNode(
            {"type": "string", "format": "date"},
            "an ISO 8601 date string (YYYY-MM-DD)",
            (date.fromisoformat, _isoparse_date),
        )
    if tp is time:
        return _ParseNode(
            {"type": "string", "format": "time"},
            "an ISO 8601 time string",
            (time.fromisoformat, _isoparse_time),
        )
    if not _is_class(tp):
        return None
    mod = sys.modules.get("uuid")
    if mod is not None and tp is mod.UUID:
        return _ParseNode({"type": "string", "format": "uuid"}, "a UUID string", (tp,))
    mod = sys.modules.get("decimal")
    if mod is not None and tp is mod.Decimal:
        return _ParseNode(
            {"type": ["number", "string"]},
            "a decimal number",
            (_decimal_parser(tp),),
            kinds=frozenset({"integer", "number", "string"}),
        )
    mod = sys.modules.get("pathlib")
    if mod is not None and issubclass(tp, mod.PurePath):
        return _ParseNode({"type": "string"}, "a path string", (tp,))
    return None


def _json_value(value: Any) -> Any:
    """``value`` as JSON, or raise ValueError (used for defaults)."""
    if isinstance(value, enum.Enum):
        return _json_value(value.value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise ValueError("not finite")
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("non-str key")
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    for mod_name, attr in (("uuid", "UUID"), ("decimal", "Decimal"), ("pathlib", "PurePath")):
        mod = sys.modules.get(mod_name)
        if mod is not None and isinstance(value, getattr(mod, attr)):
            return str(value)
    raise ValueError("not JSON")


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "title" and isinstance(value, str):
                continue
            if key in ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas") and isinstance(
                value, dict
            ):
                out[key] = {name: _strip_titles(sub) for name, sub in value.items()}
            elif key in ("default", "const", "enum", "examples"):
                out[key] = value
            else:
                out[key] = _strip_titles(value)
        return out
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


# --------------------------------------------------------------------------------------------
# Docstrings (Google style, plus Sphinx ``:param x:`` fields)

_ARG_SECTIONS = {
    "args",
    "arguments",
    "parameters",
    "params",
    "keyword args",
    "keyword arguments",
    "other parameters",
    "attributes",
}
_SECTION_RE = re.compile(
    r"^(args|arguments|parameters|params|keyword args|keyword arguments|other parameters|attributes|"
    r"returns?|yields?|raises?)\s*:\s*$",
    re.IGNORECASE,
)
_ENTRY_RE = re.compile(r"^\*{0,2}([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_FIELD_RE = re.compile(
    r"^:(param|parameter|arg|argument|key|keyword|type|returns?|rtype|raises?|except|exception|ivar|var|cvar|vartype)\b"
)
_SPHINX_PARAM_RE = re.compile(
    r"^:(?:param|parameter|arg|argument|key|keyword|ivar|var|cvar)\s+(?:[^:]*\s)?\*{0,2}([A-Za-z_]\w*)\s*:\s*(.*)$"
)
_NUMPY_SECTIONS = {"parameters", "returns", "yields", "raises", "attributes", "other parameters"}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """(description, {parameter name: description}) from a docstring."""
    if not doc or not doc.strip():
        return None, {}
    lines = inspect.cleandoc(doc).splitlines()
    params: dict[str, str] = {}
    end = len(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        header = _SECTION_RE.match(stripped)
        if header:
            end = min(end, i)
            is_args = header.group(1).lower() in _ARG_SECTIONS
            header_indent = _indent(line)
            entry_indent: int | None = None
            current: str | None = None
            i += 1
            while i < len(lines):
                sub = lines[i]
                if not sub.strip():
                    i += 1
                    continue
                ind = _indent(sub)
                if ind <= header_indent:
                    break
                if entry_indent is None:
                    entry_indent = ind
                if ind <= entry_indent:
                    entry = _ENTRY_RE.match(sub.strip()) if is_args else None
                    current = entry.group(1) if entry else None
                    if entry:
                        params[current] = entry.group(2).strip()  # type: ignore[index]
                elif current is not None:
                    params[current] = f"{params[current]} {sub.strip()}".strip()
                i += 1
            continue
        if _SPHINX_FIELD_RE.match(stripped):
            end = min(end, i)
            param = _SPHINX_PARAM_RE.match(stripped)
            current = param.group(1) if param else None
            if param:
                params[param.group(1)] = param.group(2).strip()
            i += 1
            while i < len(lines) and lines[i].strip() and _indent(lines[i]) > _indent(line):
                if current is not None:
                    params[current] = f"{params[current]} {lines[i].strip()}".strip()
                i += 1
            continue
        if (
            stripped.lower() in _NUMPY_SECTIONS
            and i + 1 < len(lines)
            and set(lines[i + 1].strip()) == {"-"}
            and len(lines[i + 1].strip()) >= 3
        ):
            end = min(end, i)
            break
        i += 1
    description = "\n".join(lines[:end]).strip() or None
    return description, params


def _class_doc(cls: type) -> str | None:
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str):
        return None
    if dataclasses.is_dataclass(cls) and "\n" not in doc and doc.startswith(cls.__name__ + "("):
        return None  # the signature dataclasses writes when there is no docstring
    return doc


# --------------------------------------------------------------------------------------------
# Type inspection helpers


def _is_class(tp: Any) -> bool:
    # list[int] passes isinstance(..., type) on Python 3.10
    return isinstance(tp, type) and not isinstance(tp, types.GenericAlias)


def _type_name(tp: Any) -> str:
    if _is_class(tp):
        if tp.__module__ == "builtins":
            return tp.__qualname__
        return f"{tp.__module__}.{tp.__qualname__}"
    return repr(tp)


def _is_annotated(tp: Any) -> bool:
    return type(tp).__name__ == "_AnnotatedAlias" and hasattr(tp, "__metadata__")


def _description_from_metadata(metadata: tuple[Any, ...]) -> str | None:
    for meta in metadata:
        if isinstance(meta, str):
            return meta
    for meta in metadata:
        for attr in ("description", "documentation"):
            text = getattr(meta, attr, None)
            if isinstance(text, str) and text:
                return text
    return None


def _split_annotated(tp: Any) -> tuple[Any, str | None]:
    if _is_annotated(tp):
        return tp.__origin__, _description_from_metadata(tp.__metadata__)
    return tp, None


def _qualifier(tp: Any) -> str | None:
    origin = typing.get_origin(tp)
    if origin is None:
        return None
    name = getattr(origin, "_name", None)
    if name in ("Required", "NotRequired", "ReadOnly"):
        return name
    return None


def _strip_qualifiers(tp: Any) -> tuple[Any, bool | None]:
    """Remove Required/NotRequired/ReadOnly (also under Annotated); return (type, required?)."""
    required: bool | None = None
    metadata: list[Any] = []
    while True:
        if _is_annotated(tp):
            metadata.extend(tp.__metadata__)
            tp = tp.__origin__
            continue
        qualifier = _qualifier(tp)
        if qualifier is None:
            break
        if qualifier == "Required":
            required = True
        elif qualifier == "NotRequired":
            required = False
        tp = typing.get_args(tp)[0]
    if metadata:
        tp = typing.Annotated[(tp, *metadata)]  # type: ignore[valid-type]
    return tp, required


def _is_typeddict(tp: Any) -> bool:
    return (
        _is_class(tp)
        and issubclass(tp, dict)
        and hasattr(tp, "__required_keys__")
        and hasattr(tp, "__optional_keys__")
    )


def _is_model(tp: Any) -> bool:
    return (
        _is_class(tp)
        and callable(getattr(tp, "model_json_schema", None))
        and callable(getattr(tp, "model_validate", None))
    )


def _is_object_type(tp: Any) -> bool:
    return _is_typeddict(tp) or (_is_class(tp) and dataclasses.is_dataclass(tp)) or _is_model(tp)


_SEQUENCE_ORIGINS = {
    list,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Collection,
    collections.abc.Iterable,
}
_SET_ORIGINS: dict[Any, Callable[[Any], Any]] = {
    set: set,
    frozenset: frozenset,
    collections.abc.Set: frozenset,
    collections.abc.MutableSet: set,
}
_MAPPING_ORIGINS = {dict, collections.abc.Mapping, collections.abc.MutableMapping}
_UNION_TYPE = getattr(types, "UnionType", None)

_SUPPORTED = (
    "str, int, float, bool, None, list, tuple, set, dict[str, ...], Literal, Enum, Optional/Union, "
    "TypedDict, dataclass, datetime/date/time, UUID, Decimal, Path or Any"
)


class _Builder:
    def __init__(self, localns: Callable[[], dict[str, Any]] | None) -> None:
        self._localns_factory = localns
        self._localns: dict[str, Any] | None = None
        self.done: dict[Any, _Node] = {}
        self.pending: dict[Any, _Pending] = {}
        self.defs: dict[str, Any] = {}
        self.def_names: dict[Any, str] = {}
        self.where: list[str] = []
        self.aliases: list[Any] = []
        self.namespaces: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (globals, class vars)

    # -- name resolution --------------------------------------------------------------------

    def localns(self) -> dict[str, Any]:
        if self._localns is None:
            self._localns = self._localns_factory() if self._localns_factory else {}
        return self._localns

    def resolve(self, annotation: Any, globalns: dict[str, Any]) -> Any:
        """Evaluate one (possibly string) annotation; raise NameError & co. when it can't be."""
        if annotation is inspect.Parameter.empty:
            return annotation
        shim = _AnnotationShim({"x": annotation})
        try:
            return typing.get_type_hints(shim, globalns, None, include_extras=True)["x"]
        except Exception:
            localns = self.localns()
            if not localns:
                raise
            return typing.get_type_hints(shim, globalns, localns, include_extras=True)["x"]

    def class_hints(self, cls: type) -> dict[str, Any]:
        try:
            return typing.get_type_hints(cls, include_extras=True)
        except Exception as first:
            localns = self.localns()
            if localns:
                try:
                    return typing.get_type_hints(cls, None, {**localns, **vars(cls)}, include_extras=True)
                except Exception:
                    pass
            raise self.error(f"cannot resolve the type annotations of {_type_name(cls)}: {first}") from None

    # -- building ------------------------------------------------------------------------------

    def unsupported(self, tp: Any, why: str = "") -> _Unsupported:
        return self.error(f"unsupported type {_type_name(tp)}", why or f"; supported are {_SUPPORTED}")

    def error(self, text: str, hint: str = "") -> _Unsupported:
        inner = self.where[-1] if self.where else None
        where = f" (in {inner})" if inner and not inner.startswith("parameter ") else ""
        param = self.where[0] if self.where and self.where[0].startswith("parameter ") else None
        return _Unsupported(f"{text}{where}{hint}", param)

    def build(self, tp: Any) -> _Node:
        if tp is inspect.Parameter.empty or tp is Any or tp is object:
            return _AnyNode()
        if tp is None or tp is type(None):
            return _NullNode()
        if tp is str:
            return _StrNode()
        if tp is bool:
            return _BoolNode()
        if tp is int:
            return _IntNode()
        if tp is float:
            return _FloatNode()
        if type(tp).__name__ == "TypeAliasType":  # Python 3.12 ``type X = ...``
            if tp in self.aliases:
                raise self.unsupported(tp, "; recursive type aliases are not supported")
            self.aliases.append(tp)
            try:
                return self.build(tp.__value__)
            finally:
                self.aliases.pop()
        if callable(tp) and hasattr(tp, "__supertype__"):  # NewType
            return self.build(tp.__supertype__)
        if _is_annotated(tp):
            node = self.build(tp.__origin__)
            description = _description_from_metadata(tp.__metadata__)
            if description:
                node = _with_schema(node, {**node.schema, "description": description})
            return node
        if isinstance(tp, (str, typing.ForwardRef)):
            # Python 3.10 leaves list["Node"] unevaluated in get_type_hints.
            text = tp if isinstance(tp, str) else tp.__forward_arg__
            globalns, classns = self.namespaces[-1] if self.namespaces else ({}, {})
            try:
                resolved = eval(text, globalns, {**self.localns(), **classns})  # noqa: S307
            except Exception:
                raise self.unsupported(tp, "; the forward reference could not be resolved") from None
            return self.build(resolved)
        if isinstance(tp, typing.TypeVar):
            raise self.unsupported(tp, "; type variables are not supported")

        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Literal:
            return self.literal(tp, args)
        if origin is typing.Union or (_UNION_TYPE is not None and origin is _UNION_TYPE):
            return _UnionNode([self.build(a) for a in args])
        if origin is None and _is_class(tp) and issubclass(tp, enum.Enum):
            return self.enum(tp)
        if origin is None and _is_class(tp):
            # bare classes: list, tuple, set, dict, collections.abc.Sequence...
            if tp in _SEQUENCE_ORIGINS or tp is tuple or tp in _SET_ORIGINS or tp in _MAPPING_ORIGINS:
                origin, args = tp, ()
        if origin is not None:
            if origin in _SEQUENCE_ORIGINS:
                return _ListNode(self.build(args[0]) if args else _AnyNode())
            if origin is tuple:
                if tp is tuple or tp is typing.Tuple:
                    return _ListNode(_AnyNode(), tuple)
                if len(args) == 2 and args[1] is Ellipsis:
                    return _ListNode(self.build(args[0]), tuple)
                if args == ((),):
                    args = ()
                return _TupleNode([self.build(a) for a in args])
            if origin in _SET_ORIGINS:
                factory = _SET_ORIGINS[origin]
                item = self.build(args[0]) if args else _AnyNode()
                if not item.hashable:
                    raise self.unsupported(tp, "; set items must be hashable (use list or frozenset/tuple items)")
                return _ListNode(item, factory, unique=True)
            if origin in _MAPPING_ORIGINS:
                if not args:
                    return _DictNode(_AnyNode())
                key, value = args
                if key is not str:
                    raise self.unsupported(tp, "; JSON object keys are strings, use dict[str, ...]")
                return _DictNode(self.build(value))
            raise self.unsupported(tp)
        special = _special_node(tp)
        if special is not None:
            return special
        if _is_typeddict(tp):
            return self.class_node(tp, self.typeddict)
        if _is_class(tp) and dataclasses.is_dataclass(tp):
            return self.class_node(typing.cast(type, tp), self.dataclass)
        if _is_model(tp):
            return self.model(tp)
        if tp is bytes or tp is bytearray:
            raise self.unsupported(tp, "; bytes are not JSON, use str (for example base64)")
        raise self.unsupported(tp)

    def literal(self, tp: Any, args: tuple[Any, ...]) -> _Node:
        choices = []
        for value in args:
            if isinstance(value, enum.Enum):
                json_value = value.value
            else:
                json_value = value
            if not (json_value is None or isinstance(json_value, (str, int, bool))):
                raise self.unsupported(tp, f"; literal value {value!r} is not a JSON string, number, boolean or null")
            choices.append((json_value, value))
        return _ChoiceNode(choices)

    def enum(self, cls: type[enum.Enum]) -> _Node:
        choices = []
        for member in cls:
            value = member.value
            if not (value is None or isinstance(value, (str, int, bool)) or (isinstance(value, float) and math.isfinite(value))):
                raise self.unsupported(cls, f"; the value of {member!r} is not a JSON string or number")
            choices.append((value, member))
        if not choices:
            raise self.unsupported(cls, "; the enum has no members")
        return _ChoiceNode(choices)

    def class_node(self, cls: type, make: Callable[[type], _Node]) -> _Node:
        node = self.done.get(cls)
        if node is not None:
            return node
        pending = self.pending.get(cls)
        if pending is not None:
            pending.recursive = True
            return _RefNode(pending, self.def_name(cls))
        hashable = dataclasses.is_dataclass(cls) and getattr(cls, "__hash__", None) is not None
        pending = _Pending(frozenset({"object"}), "an object", hashable)
        self.pending[cls] = pending
        module = sys.modules.get(cls.__module__)
        self.namespaces.append((vars(module) if module is not None else {}, dict(vars(cls))))
        try:
            node = make(cls)
        finally:
            del self.pending[cls]
            self.namespaces.pop()
        pending.node = node
        if pending.recursive:
            name = self.def_name(cls)
            self.defs[name] = node.schema
            node = _RefNode(pending, name)
        self.done[cls] = node
        return node

    def def_name(self, cls: type) -> str:
        name = self.def_names.get(cls)
        if name is None:
            base = re.sub(r"[^A-Za-z0-9_.-]", "_", cls.__name__)
            name, i = base, 2
            while name in self.defs or name in self.def_names.values():
                name, i = f"{base}{i}", i + 1
            self.def_names[cls] = name
        return name

    def field(
        self, owner: str, key: str, tp: Any, *, required: bool, default: Any, doc: str | None
    ) -> _Field:
        """One property: its node, and its schema with description and default."""
        core, description = _split_annotated(tp)
        self.where.append(f"{owner}.{key}" if owner else f"parameter {key!r}")
        try:
            node = self.build(core)
        finally:
            self.where.pop()
        schema = node.schema
        if not required and default is None and "null" not in node.kinds:
            node = _UnionNode([node, _NullNode()])  # implicit Optional for a None default
            schema = node.schema
        description = description or doc
        extra: dict[str, Any] = {}
        if description:
            extra["description"] = description
        if not required and default is not _NO_DEFAULT:
            try:
                extra["default"] = _json_value(default)
            except (ValueError, TypeError, RecursionError):
                pass
        if extra:
            schema = {**schema, **extra}
        return _Field(key, node, required, schema)

    def typeddict(self, cls: type) -> _Node:
        hints = self.class_hints(cls)
        required_keys = set(getattr(cls, "__required_keys__", ()))
        description, docs = _parse_docstring(_class_doc(cls))
        fields = []
        for key, tp in hints.items():
            tp, required = _strip_qualifiers(tp)
            if required is None:
                required = key in required_keys
            fields.append(
                self.field(cls.__qualname__, key, tp, required=required, default=_NO_DEFAULT, doc=docs.get(key))
            )
        return _ObjectNode(fields, extra=None, build=None, closed=True, description=description)

    def dataclass(self, cls: type) -> _Node:
        hints = self.class_hints(cls)
        description, docs = _parse_docstring(_class_doc(cls))
        classvar = getattr(dataclasses, "_FIELD_CLASSVAR", None)
        fields = []
        for f in cls.__dataclass_fields__.values():  # type: ignore[attr-defined]
            if not f.init or getattr(f, "_field_type", None) is classvar:
                continue
            tp = hints.get(f.name, f.type)
            if isinstance(tp, dataclasses.InitVar):
                tp = tp.type
            has_default = f.default is not dataclasses.MISSING
            required = not has_default and f.default_factory is dataclasses.MISSING
            doc = f.metadata.get("description") if f.metadata else None
            if not isinstance(doc, str):
                doc = docs.get(f.name)
            fields.append(
                self.field(
                    cls.__qualname__,
                    f.name,
                    tp,
                    required=required,
                    default=f.default if has_default else _NO_DEFAULT,
                    doc=doc,
                )
            )
        hashable = getattr(cls, "__hash__", None) is not None
        return _ObjectNode(
            fields, extra=None, build=lambda kw: cls(**kw), closed=True, description=description, hashable=hashable
        )

    def model(self, cls: type) -> _Node:
        try:
            schema = cls.model_json_schema()  # type: ignore[attr-defined]
        except Exception as exc:
            raise self.unsupported(cls, f"; {cls.__qualname__}.model_json_schema() failed: {exc}") from None
        if not isinstance(schema, dict):
            raise self.unsupported(cls, "; model_json_schema() did not return a dict")
        schema = _strip_titles(schema)
        defs = schema.pop("$defs", None)
        if isinstance(defs, dict):
            for name, sub in defs.items():
                if name in self.defs and self.defs[name] != sub:
                    raise self.unsupported(cls, f"; two different schemas are both named {name!r} in $defs")
                self.defs[name] = sub
        return _ModelNode(cls, schema)

    def finish(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The root schema: inline a root $ref and attach $defs."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in self.defs:
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**self.defs[ref[8:]], **rest}
        schema = _copy_json(schema)
        if self.defs:
            schema["$defs"] = _copy_json(self.defs)
        return schema


_NO_DEFAULT: Any = inspect.Parameter.empty


class _AnnotationShim:
    """Something typing.get_type_hints accepts that holds just the annotations we want."""

    def __init__(self, annotations: dict[str, Any]) -> None:
        self.__annotations__ = annotations


def _with_schema(node: _Node, schema: dict[str, Any]) -> _Node:
    clone = object.__new__(type(node))
    clone.__dict__.update(node.__dict__)
    clone.schema = schema
    return clone


def _localns_from(fn: Any, frame: Any) -> Callable[[], dict[str, Any]]:
    """Names visible where a tool was defined: its closure and the callers' locals (for
    ``from __future__ import annotations`` with classes defined inside functions)."""

    def collect() -> dict[str, Any]:
        ns: dict[str, Any] = {}
        code = getattr(fn, "__code__", None)
        closure = getattr(fn, "__closure__", None)
        if code is not None and closure:
            for name, cell in zip(code.co_freevars, closure):
                try:
                    ns[name] = cell.cell_contents
                except ValueError:
                    pass
        f = frame
        depth = 0
        while f is not None and depth < 12:
            try:
                for name, value in dict(f.f_locals).items():
                    ns.setdefault(name, value)
            except Exception:
                pass
            f = f.f_back
            depth += 1
        return ns

    return collect


def _unwrap_callable(fn: Any) -> Any:
    f = fn
    for _ in range(20):
        if isinstance(f, functools.partial):
            f = f.func
        elif inspect.ismethod(f):
            f = f.__func__
        else:
            break
    f = inspect.unwrap(f)
    if inspect.isclass(f):
        f = f.__init__
    elif not (inspect.isfunction(f) or inspect.isbuiltin(f)) and callable(f):
        f = getattr(type(f), "__call__", f)
    return f


def _doc_of(fn: Any) -> str | None:
    f = fn
    while isinstance(f, functools.partial):
        f = f.func
    if inspect.isfunction(f) or inspect.ismethod(f) or inspect.isbuiltin(f):
        doc = f.__doc__
    elif inspect.isclass(f):
        doc = _class_doc(f)
    else:  # a callable object: its __call__'s docstring, else its class's
        doc = getattr(type(f).__call__, "__doc__", None) or type(f).__dict__.get("__doc__")
    return doc if isinstance(doc, str) else None


def _globals_of(fn: Any) -> dict[str, Any]:
    f = _unwrap_callable(fn)
    ns = getattr(f, "__globals__", None)
    if isinstance(ns, dict):
        return ns
    module = sys.modules.get(getattr(f, "__module__", None) or "")
    return dict(vars(module)) if module is not None else {}


# --------------------------------------------------------------------------------------------
# Public API


class ToolSignature:
    """What :func:`inspect_tool_function` learned about a tool function."""

    __slots__ = ("parameters", "description", "_node", "_mode", "_positional", "_kw_invocation", "_kw_whole")

    parameters: dict[str, Any] | None
    description: str | None

    def __init__(
        self,
        parameters: dict[str, Any] | None,
        description: str | None,
        node: _Node | None,
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
            whole: Any = arguments
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
        args = []
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
    tp, _ = _split_annotated(tp)
    if _is_class(tp):
        try:
            return issubclass(tp, invocation_type)
        except TypeError:
            return False
    origin = typing.get_origin(tp)
    if origin is typing.Union or (_UNION_TYPE is not None and origin is _UNION_TYPE):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        return len(members) == 1 and _is_invocation(members[0], invocation_type)
    return False


def _is_raw_dict(tp: Any) -> bool:
    tp, _ = _split_annotated(tp)
    if tp is dict or tp is typing.Dict or tp is collections.abc.Mapping or tp is typing.Mapping:
        return True
    origin = typing.get_origin(tp)
    if origin in (dict, collections.abc.Mapping):
        return typing.get_args(tp) in ((str, Any), ())
    return False


def inspect_tool_function(fn: Callable[..., Any], *, invocation_type: type, name: str | None = None) -> ToolSignature:
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
        builder = _Builder(_localns_from(fn, frame))
        return _inspect(fn, sig, tool, invocation_type, builder)
    finally:
        del frame


def _inspect(fn: Any, sig: inspect.Signature, tool: str, invocation_type: type, builder: _Builder) -> ToolSignature:
    globalns = _globals_of(fn)
    description, param_docs = _parse_docstring(_doc_of(fn))

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
        if len(params) == 1 and var_kw is None and (
            _is_object_type(_split_annotated(params[0][1])[0]) or _is_raw_dict(params[0][1])
        ):
            p, tp = params[0]
            if _is_raw_dict(tp):
                mode, node, schema = "raw", None, None
            else:
                builder.where.append(f"parameter {p.name!r}")
                node = builder.build(_split_annotated(tp)[0])
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
            fields = []
            for p, tp in params:
                required = p.default is P.empty
                fields.append(
                    builder.field("", p.name, tp, required=required, default=p.default, doc=param_docs.get(p.name))
                )
            extra = None
            if var_kw is not None:
                builder.where.append(f"parameter '**{var_kw[0].name}'")
                extra = builder.build(var_kw[1])
                builder.where.pop()
            node = _ObjectNode(fields, extra=extra, build=None, closed=False)
            schema = builder.finish(node.schema)
            for q in sig.parameters.values():
                if q is invocation_param:
                    place(q, "invocation")
                elif q.kind is P.POSITIONAL_ONLY:
                    positional.append(("field", q.name, q.default))
    except _Unsupported as exc:
        raise TypeError(f"tool {tool!r}: cannot infer a JSON schema for {exc.param or 'a parameter'}: {exc}") from None
    finally:
        builder._localns_factory = None
    return ToolSignature(schema, description, node, mode, positional, kw_invocation, kw_whole)


def schema_for_type(tp: Any) -> dict[str, Any]:
    """The JSON Schema for one annotation. Raises TypeError when none can be inferred."""
    frame = sys._getframe(1)
    builder = _Builder(_localns_from(None, frame))
    try:
        node = builder.build(tp)
        return builder.finish(node.schema)
    except _Unsupported as exc:
        raise TypeError(f"cannot infer a JSON schema for {_type_name(tp)}: {exc}") from None
    finally:
        builder._localns_factory = None
        del frame


def docstring_description(fn: Callable[..., Any]) -> str | None:
    """The description part of ``fn``'s docstring (before ``Args:`` and the like), or ``None``."""
    return _parse_docstring(_doc_of(fn))[0]
