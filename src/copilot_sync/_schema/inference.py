"""JSON Schema inference: a Python annotation becomes a schema and a converter node (``Builder``)."""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import math
import re
import sys
import typing
from collections.abc import Callable
from typing import Any, cast

from .._fields import is_object
from .conversion import (
    AnyNode,
    BoolNode,
    ChoiceNode,
    DictNode,
    Field,
    FloatNode,
    IntNode,
    ListNode,
    ModelNode,
    Node,
    NullNode,
    ObjectNode,
    Pending,
    RefNode,
    StrNode,
    TupleNode,
    UnionNode,
    Unsupported,
    copy_json,
    json_value,
    special_node,
    strip_titles,
)
from .docstrings import class_doc, parse_docstring
from .typing_info import (
    MAPPING_ORIGINS,
    SEQUENCE_ORIGINS,
    SET_ORIGINS,
    UNION_TYPE,
    description_from_metadata,
    is_annotated,
    is_class,
    is_model,
    is_typeddict,
    split_annotated,
    strip_qualifiers,
    type_name,
)

__all__ = ["Builder", "doc_of", "globals_of", "localns_from"]


_SUPPORTED = (
    "str, int, float, bool, None, list, tuple, set, dict[str, ...], Literal, Enum, Optional/Union, "
    "TypedDict, dataclass, datetime/date/time, UUID, Decimal, Path or Any"
)


class Builder:
    def __init__(self, localns: Callable[[], dict[str, Any]] | None) -> None:
        self._localns_factory = localns
        self._localns: dict[str, Any] | None = None
        self.done: dict[Any, Node] = {}
        self.pending: dict[Any, Pending] = {}
        self.defs: dict[str, Any] = {}
        self.def_names: dict[Any, str] = {}
        self.where: list[str] = []
        self.aliases: list[Any] = []
        self.namespaces: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (globals, class vars)

    # -- name resolution --------------------------------------------------------------------

    def release_frame(self) -> None:
        """Drop the local-namespace factory (it holds the caller's frame) once building is over."""
        self._localns_factory = None

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
                    return typing.get_type_hints(
                        cls, None, {**localns, **vars(cls)}, include_extras=True
                    )
                except Exception:
                    pass
            raise self.error(
                f"cannot resolve the type annotations of {type_name(cls)}: {first}"
            ) from None

    # -- building ------------------------------------------------------------------------------

    def unsupported(self, tp: Any, why: str = "") -> Unsupported:
        return self.error(
            f"unsupported type {type_name(tp)}", why or f"; supported are {_SUPPORTED}"
        )

    def error(self, text: str, hint: str = "") -> Unsupported:
        inner = self.where[-1] if self.where else None
        where = f" (in {inner})" if inner and not inner.startswith("parameter ") else ""
        param = self.where[0] if self.where and self.where[0].startswith("parameter ") else None
        return Unsupported(f"{text}{where}{hint}", param)

    def build(self, tp: Any) -> Node:
        if tp is inspect.Parameter.empty or tp is Any or tp is object:
            return AnyNode()
        if tp is None or tp is type(None):
            return NullNode()
        if tp is str:
            return StrNode()
        if tp is bool:
            return BoolNode()
        if tp is int:
            return IntNode()
        if tp is float:
            return FloatNode()
        if type(tp).__name__ == "TypeAliasType":  # Python 3.12 ``type X = ...``
            if tp in self.aliases:
                raise self.unsupported(tp, "; recursive type aliases are not supported")
            self.aliases.append(tp)
            try:
                return self.build(tp.__value__)
            finally:
                self.aliases.pop()
        if callable(cast("object", tp)) and hasattr(tp, "__supertype__"):  # NewType
            return self.build(tp.__supertype__)
        if is_annotated(tp):
            node = self.build(tp.__origin__)
            description = description_from_metadata(tp.__metadata__)
            if description:
                node = _with_schema(node, {**node.schema, "description": description})
            return node
        if isinstance(tp, (str, typing.ForwardRef)):
            # Python 3.10 leaves list["Node"] unevaluated in get_type_hints.
            text = tp if isinstance(tp, str) else tp.__forward_arg__
            globalns, classns = self.namespaces[-1] if self.namespaces else ({}, {})
            try:
                resolved = eval(text, globalns, {**self.localns(), **classns})
            except Exception:
                raise self.unsupported(
                    tp, "; the forward reference could not be resolved"
                ) from None
            return self.build(resolved)
        if isinstance(tp, typing.TypeVar):
            raise self.unsupported(tp, "; type variables are not supported")

        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Literal:
            return self.literal(tp, args)
        if origin is typing.Union or (UNION_TYPE is not None and origin is UNION_TYPE):
            return UnionNode([self.build(a) for a in args])
        if origin is None and is_class(tp) and issubclass(tp, enum.Enum):
            return self.enum(tp)
        # bare classes: list, tuple, set, dict, collections.abc.Sequence...
        if (origin is None and is_class(tp)) and (
            tp in SEQUENCE_ORIGINS or tp is tuple or tp in SET_ORIGINS or tp in MAPPING_ORIGINS
        ):
            origin, args = tp, ()
        if origin is not None:
            if origin in SEQUENCE_ORIGINS:
                return ListNode(self.build(args[0]) if args else AnyNode())
            if origin is tuple:
                if tp is tuple:
                    return ListNode(AnyNode(), tuple)
                if len(args) == 2 and args[1] is Ellipsis:
                    return ListNode(self.build(args[0]), tuple)
                if args == ((),):
                    args = ()
                return TupleNode([self.build(a) for a in args])
            if origin in SET_ORIGINS:
                factory = SET_ORIGINS[origin]
                item = self.build(args[0]) if args else AnyNode()
                if not item.hashable:
                    raise self.unsupported(
                        tp, "; set items must be hashable (use list or frozenset/tuple items)"
                    )
                return ListNode(item, factory, unique=True)
            if origin in MAPPING_ORIGINS:
                if not args:
                    return DictNode(AnyNode())
                key, value = args
                if key is not str:
                    raise self.unsupported(tp, "; JSON object keys are strings, use dict[str, ...]")
                return DictNode(self.build(value))
            raise self.unsupported(tp)
        special = special_node(tp)
        if special is not None:
            return special
        if is_typeddict(tp):
            return self.class_node(tp, self.typeddict)
        if is_class(tp) and dataclasses.is_dataclass(tp):
            return self.class_node(typing.cast(type, tp), self.dataclass)
        if is_model(tp):
            return self.model(cast("Any", tp))  # un-narrow: `tp is tuple` above leaks into here
        if tp is bytes or tp is bytearray:
            raise self.unsupported(tp, "; bytes are not JSON, use str (for example base64)")
        raise self.unsupported(tp)

    def literal(self, tp: Any, args: tuple[Any, ...]) -> Node:
        choices: list[tuple[Any, Any]] = []
        for value in args:
            if isinstance(value, enum.Enum):
                json_value = value.value
            else:
                json_value = value
            if not (json_value is None or isinstance(json_value, (str, int, bool))):
                raise self.unsupported(
                    tp, f"; literal value {value!r} is not a JSON string, number, boolean or null"
                )
            choices.append((json_value, value))
        return ChoiceNode(choices)

    def enum(self, cls: type[enum.Enum]) -> Node:
        choices: list[tuple[Any, Any]] = []
        for member in cls:
            value = member.value
            if not (
                value is None
                or isinstance(value, (str, int, bool))
                or (isinstance(value, float) and math.isfinite(value))
            ):
                raise self.unsupported(
                    cls, f"; the value of {member!r} is not a JSON string or number"
                )
            choices.append((value, member))
        if not choices:
            raise self.unsupported(cls, "; the enum has no members")
        return ChoiceNode(choices)

    def class_node(self, cls: type, make: Callable[[type], Node]) -> Node:
        node = self.done.get(cls)
        if node is not None:
            return node
        pending = self.pending.get(cls)
        if pending is not None:
            pending.recursive = True
            return RefNode(pending, self.def_name(cls))
        hashable = (
            dataclasses.is_dataclass(cast("object", cls))
            and getattr(cls, "__hash__", None) is not None
        )
        pending = Pending(frozenset({"object"}), "an object", hashable)
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
            node = RefNode(pending, name)
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
    ) -> Field:
        """One property: its node, and its schema with description and default."""
        core, description = split_annotated(tp)
        self.where.append(f"{owner}.{key}" if owner else f"parameter {key!r}")
        try:
            node = self.build(core)
        finally:
            self.where.pop()
        schema = node.schema
        if not required and default is None and "null" not in node.kinds:
            node = UnionNode([node, NullNode()])  # implicit Optional for a None default
            schema = node.schema
        description = description or doc
        extra: dict[str, Any] = {}
        if description:
            extra["description"] = description
        if not required and default is not _NO_DEFAULT:
            try:
                extra["default"] = json_value(default)
            except (ValueError, TypeError, RecursionError):
                pass
        if extra:
            schema = {**schema, **extra}
        return Field(key, node, required, schema)

    def typeddict(self, cls: type) -> Node:
        hints = self.class_hints(cls)
        required_keys: set[Any] = set(getattr(cls, "__required_keys__", ()))
        description, docs = parse_docstring(class_doc(cls))
        fields: list[Field] = []
        for key, tp in hints.items():
            tp, required = strip_qualifiers(tp)
            if required is None:
                required = key in required_keys
            fields.append(
                self.field(
                    cls.__qualname__,
                    key,
                    tp,
                    required=required,
                    default=_NO_DEFAULT,
                    doc=docs.get(key),
                )
            )
        return ObjectNode(fields, extra=None, build=None, closed=True, description=description)

    def dataclass(self, cls: type) -> Node:
        hints = self.class_hints(cls)
        description, docs = parse_docstring(class_doc(cls))
        classvar = getattr(dataclasses, "_FIELD_CLASSVAR", None)
        fields: list[Field] = []
        dataclass_fields = cast(
            "dict[str, dataclasses.Field[Any]]",
            cls.__dataclass_fields__,  # type: ignore[attr-defined]
        )
        for f in dataclass_fields.values():
            if not f.init or getattr(f, "_field_type", None) is classvar:
                continue
            tp = hints.get(f.name, f.type)
            if isinstance(tp, dataclasses.InitVar):
                tp = cast("Any", tp).type
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
        return ObjectNode(
            fields,
            extra=None,
            build=lambda kw: cls(**kw),
            closed=True,
            description=description,
            hashable=hashable,
        )

    def model(self, cls: type) -> Node:
        try:
            schema = cls.model_json_schema()  # type: ignore[attr-defined]
        except Exception as exc:
            raise self.unsupported(
                cls, f"; {cls.__qualname__}.model_json_schema() failed: {exc}"
            ) from None
        if not isinstance(schema, dict):
            raise self.unsupported(cls, "; model_json_schema() did not return a dict")
        schema = strip_titles(schema)
        defs = schema.pop("$defs", None)
        if is_object(defs):
            for name, sub in defs.items():
                if name in self.defs and self.defs[name] != sub:
                    raise self.unsupported(
                        cls, f"; two different schemas are both named {name!r} in $defs"
                    )
                self.defs[name] = sub
        return ModelNode(cls, schema)

    def finish(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The root schema: inline a root $ref and attach $defs."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in self.defs:
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**self.defs[ref[8:]], **rest}
        schema = copy_json(schema)
        if self.defs:
            schema["$defs"] = copy_json(self.defs)
        return schema


_NO_DEFAULT: Any = inspect.Parameter.empty


class _AnnotationShim:
    """Something typing.get_type_hints accepts that holds just the annotations we want."""

    def __init__(self, annotations: dict[str, Any]) -> None:
        self.__annotations__ = annotations


def _with_schema(node: Node, schema: dict[str, Any]) -> Node:
    clone = object.__new__(type(node))
    vars(clone).update(vars(node))
    clone.schema = schema
    return clone


def localns_from(fn: Any, frame: Any) -> Callable[[], dict[str, Any]]:
    """Names visible where a tool was defined: its closure and the callers' locals (for
    ``from __future__ import annotations`` with classes defined inside functions)."""

    def collect() -> dict[str, Any]:
        ns: dict[str, Any] = {}
        code = getattr(fn, "__code__", None)
        closure = getattr(fn, "__closure__", None)
        if code is not None and closure:
            for name, cell in zip(code.co_freevars, closure, strict=False):
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
        f = getattr(type(f), "__call__", f)  # noqa: B004  (the class's __call__, not a callability test)
    return f


def doc_of(fn: Any) -> str | None:
    f = fn
    while isinstance(f, functools.partial):
        f = f.func
    if inspect.isfunction(f) or inspect.ismethod(f) or inspect.isbuiltin(f):
        doc = f.__doc__
    elif inspect.isclass(f):
        doc = class_doc(f)
    else:  # a callable object: its __call__'s docstring, else its class's
        doc = getattr(type(f).__call__, "__doc__", None) or type(f).__dict__.get("__doc__")
    return doc if isinstance(doc, str) else None


def globals_of(fn: Any) -> dict[str, Any]:
    f = _unwrap_callable(fn)
    ns = getattr(f, "__globals__", None)
    if is_object(ns):
        return ns
    module = sys.modules.get(getattr(f, "__module__", None) or "")
    return dict(vars(module)) if module is not None else {}
