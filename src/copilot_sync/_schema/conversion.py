"""Converter nodes: built once per tool from its annotations, run on every call to validate the
model's JSON arguments and convert them (dataclass, enum, tuple, set, datetime... instances).
``convert()`` returns the converted value, or ``BAD`` after appending at least one error."""

from __future__ import annotations

import abc
import enum
import math
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from typing import Any, cast

from .._fields import is_array, is_object
from .argument_error import ALL_KINDS, canonical, got, key_path, kind_of, short
from .typing_info import is_class

__all__ = [
    "AnyNode",
    "BoolNode",
    "ChoiceNode",
    "DictNode",
    "Field",
    "FloatNode",
    "IntNode",
    "ListNode",
    "ModelNode",
    "Node",
    "NullNode",
    "ObjectNode",
    "Pending",
    "RefNode",
    "StrNode",
    "TupleNode",
    "UnionNode",
    "Unsupported",
    "copy_json",
    "json_value",
    "special_node",
    "strip_titles",
]


# --------------------------------------------------------------------------------------------
class Unsupported(Exception):
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


class Node(abc.ABC):
    schema: dict[str, Any]
    kinds: frozenset[str] = ALL_KINDS
    expected: str = "any value"
    hashable: bool = True

    @abc.abstractmethod
    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        """The converted value, or ``_BAD`` after appending at least one ``(path, message)`` to ``errs``."""

    def _fail(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        errs.append((path, f"expected {self.expected}, got {got(value)}"))
        return _BAD


class AnyNode(Node):
    def __init__(self) -> None:
        self.schema = {}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        return value


class StrNode(Node):
    kinds = frozenset({"string"})
    expected = "a string"

    def __init__(self) -> None:
        self.schema = {"type": "string"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if isinstance(value, str):
            return value
        return self._fail(value, path, errs)


class IntNode(Node):
    kinds = frozenset({"integer", "number"})
    expected = "an integer"

    def __init__(self) -> None:
        self.schema = {"type": "integer"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        t = type(cast("object", value))
        if t is int:
            return value
        if t is float:
            if value.is_integer():
                return int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        return self._fail(value, path, errs)


class FloatNode(Node):
    kinds = frozenset({"integer", "number"})
    expected = "a number"

    def __init__(self) -> None:
        self.schema = {"type": "number"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        t = type(cast("object", value))
        if t is float:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                errs.append((path, f"number out of range: {short(value)}"))
                return _BAD
        return self._fail(value, path, errs)


class BoolNode(Node):
    kinds = frozenset({"boolean"})
    expected = "a boolean"

    def __init__(self) -> None:
        self.schema = {"type": "boolean"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if isinstance(value, bool):
            return value
        return self._fail(value, path, errs)


class NullNode(Node):
    kinds = frozenset({"null"})
    expected = "null"

    def __init__(self) -> None:
        self.schema = {"type": "null"}

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if value is None:
            return None
        return self._fail(value, path, errs)


class ChoiceNode(Node):
    """Literal[...] or an Enum: a fixed set of JSON scalars, each mapped to a Python value."""

    def __init__(self, choices: list[tuple[Any, Any]]) -> None:
        # choices: (json value, python value)
        self.lookup = {canonical(j): p for j, p in choices}
        values = [j for j, _ in choices]
        json_types = {kind_of(v) for v in values}
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
        shown = ", ".join(short(v) for v in values[:20])
        if len(values) > 20:
            shown += ", ..."
        self.expected = f"one of {shown}"

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if isinstance(value, (str, int, float, type(None))):
            try:
                return self.lookup[canonical(value)]
            except KeyError:
                pass
        errs.append((path, f"must be {self.expected}; got {short(value)}"))
        return _BAD


class UnionNode(Node):
    def __init__(self, members: list[Node]) -> None:
        self.members = members
        self.schema = {"anyOf": [m.schema for m in members]}
        kinds: set[str] = set()
        for m in members:
            kinds |= m.kinds
        self.kinds = frozenset(kinds)
        self.expected = " or ".join(m.expected for m in members)
        self.hashable = all(m.hashable for m in members)

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        kind = kind_of(value)
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


class ListNode(Node):
    kinds = frozenset({"array"})
    expected = "an array"

    def __init__(
        self, item: Node, factory: Callable[[list[Any]], Any] = list, unique: bool = False
    ) -> None:
        self.item = item
        self.factory = factory
        self.unique = unique
        self.passthrough = isinstance(item, AnyNode)
        self.schema = {"type": "array"}
        if item.schema:
            self.schema["items"] = item.schema
        if unique:
            self.schema["uniqueItems"] = True
        self.hashable = (factory is tuple and item.hashable) or factory is frozenset

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if not isinstance(value, (list, tuple)):
            return self._fail(value, path, errs)
        value = cast("list[Any] | tuple[Any, ...]", value)
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


class TupleNode(Node):
    kinds = frozenset({"array"})

    def __init__(self, items: list[Node]) -> None:
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
        value = cast("list[Any] | tuple[Any, ...]", value)
        if len(value) != len(self.items):
            n = len(value)
            errs.append((path, f"expected {self.expected}, got {n} item{'s' if n != 1 else ''}"))
            return _BAD
        before = len(errs)
        out = tuple(
            node.convert(v, f"{path}[{i}]", errs)
            for i, (node, v) in enumerate(zip(self.items, value, strict=False))
        )
        if len(errs) != before:
            return _BAD
        return out


class DictNode(Node):
    kinds = frozenset({"object"})
    expected = "an object"
    hashable = False

    def __init__(self, value_node: Node) -> None:
        self.value_node = value_node
        self.passthrough = isinstance(value_node, AnyNode)
        self.schema = {"type": "object"}
        if value_node.schema:
            self.schema["additionalProperties"] = value_node.schema

    def convert(self, value: Any, path: str, errs: list[tuple[str, str]]) -> Any:
        if not isinstance(value, dict):
            return self._fail(value, path, errs)
        value = cast("dict[str, Any]", value)
        if self.passthrough:
            return dict(value)
        n = len(errs)
        conv = self.value_node.convert
        out = {k: conv(v, key_path(path, k), errs) for k, v in value.items()}
        if len(errs) != n:
            return _BAD
        return out


class Field:
    __slots__ = ("key", "node", "required", "schema")

    def __init__(self, key: str, node: Node, required: bool, schema: dict[str, Any]) -> None:
        self.key = key
        self.node = node
        self.required = required
        self.schema = schema


class ObjectNode(Node):
    """A fixed set of named fields: a function's arguments, a dataclass or a TypedDict."""

    kinds = frozenset({"object"})
    expected = "an object"

    def __init__(
        self,
        fields: list[Field],
        *,
        extra: Node | None,
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
        value = cast("dict[str, Any]", value)
        before = len(errs)
        out: dict[str, Any] = {}
        seen = 0
        for key, node, required in self.fields:
            if key in value:
                seen += 1
                out[key] = node.convert(value[key], key_path(path, key), errs)
            elif required:
                if path:
                    errs.append((key_path(path, key), "missing required field"))
                else:
                    errs.append(("", f"missing required argument {key!r}"))
        if seen != len(value):
            for key in value:
                if key in self.keys:
                    continue
                if self.extra is not None:
                    out[key] = self.extra.convert(value[key], key_path(path, key), errs)
                elif path:
                    errs.append((key_path(path, key), "unexpected field"))
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


class RefNode(Node):
    """A reference to a (recursive) class node, whose schema lives in ``$defs``."""

    def __init__(self, pending: Pending, name: str) -> None:
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


class Pending:
    def __init__(self, kinds: frozenset[str], expected: str, hashable: bool) -> None:
        self.node: Node | None = None
        self.recursive = False
        self.kinds = kinds
        self.expected = expected
        self.hashable = hashable


class _ParseNode(Node):
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
        if kind_of(value) in self.kinds:
            for parse in self.parsers:
                try:
                    return parse(value)
                except Exception:
                    continue
        return self._fail(value, path, errs)


class ModelNode(Node):
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
            problems: list[Any] | None = None
            errors_fn = getattr(exc, "errors", None)
            if callable(errors_fn):
                try:
                    problems = list(cast("Iterable[Any]", errors_fn()))
                except Exception:
                    problems = None
            if problems:
                for problem in problems:
                    p = path
                    loc = problem.get("loc", ()) if is_object(problem) else ()
                    for part in loc or ():
                        p = f"{p}[{part}]" if isinstance(part, int) else key_path(p, str(part))
                    msg = problem.get("msg") if is_object(problem) else None
                    errs.append((p, str(msg or problem)))
            else:
                text = str(exc).strip().splitlines()
                errs.append((path, text[0] if text else type(exc).__name__))
            return _BAD


# --------------------------------------------------------------------------------------------
# Date/time, UUID, Decimal and Path parsers (dateutil imported only when needed)


def _dateutil_parser() -> Any:
    import importlib  # dateutil is optional and untyped: imported by name, used as Any

    return importlib.import_module("dateutil.parser")


def _isoparse_datetime(text: str) -> datetime:
    return cast(datetime, _dateutil_parser().isoparse(text))


def _isoparse_date(text: str) -> date:
    return cast(date, _dateutil_parser().isoparser().parse_isodate(text))


def _isoparse_time(text: str) -> time:
    return cast(time, _dateutil_parser().isoparser().parse_isotime(text))


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


def special_node(tp: Any) -> Node | None:
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
    if not is_class(tp):
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


def json_value(value: Any) -> Any:
    """``value`` as JSON, or raise ValueError (used for defaults)."""
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise ValueError("not finite")
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in cast("list[Any] | tuple[Any, ...]", value)]
    if isinstance(value, dict):
        value = cast("dict[Any, Any]", value)
        if not all(isinstance(k, str) for k in value):
            raise ValueError("non-str key")
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    for mod_name, attr in (("uuid", "UUID"), ("decimal", "Decimal"), ("pathlib", "PurePath")):
        mod = sys.modules.get(mod_name)
        if mod is not None and isinstance(value, getattr(mod, attr)):
            return str(value)
    raise ValueError("not JSON")


def copy_json(value: Any) -> Any:
    if is_object(value):
        return {k: copy_json(v) for k, v in value.items()}
    if is_array(value):
        return [copy_json(v) for v in value]
    return value


def strip_titles(schema: Any) -> Any:
    if is_object(schema):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "title" and isinstance(value, str):
                continue
            if key in (
                "properties",
                "$defs",
                "definitions",
                "patternProperties",
                "dependentSchemas",
            ) and is_object(value):
                out[key] = {name: strip_titles(sub) for name, sub in value.items()}
            elif key in ("default", "const", "enum", "examples"):
                out[key] = value
            else:
                out[key] = strip_titles(value)
        return out
    if is_array(schema):
        return [strip_titles(v) for v in schema]
    return schema
