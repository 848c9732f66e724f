"""Type inspection helpers for schema inference: Annotated, qualifiers, TypedDict, models, containers."""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any, cast

__all__ = [
    "MAPPING_ORIGINS",
    "SEQUENCE_ORIGINS",
    "SET_ORIGINS",
    "UNION_TYPE",
    "description_from_metadata",
    "is_annotated",
    "is_class",
    "is_model",
    "is_object_type",
    "is_typeddict",
    "split_annotated",
    "strip_qualifiers",
    "type_name",
]


# --------------------------------------------------------------------------------------------
# Type inspection helpers


def is_class(tp: Any) -> bool:
    # list[int] passes isinstance(..., type) on Python 3.10
    return isinstance(tp, type) and not isinstance(tp, types.GenericAlias)


def type_name(tp: Any) -> str:
    if is_class(tp):
        if tp.__module__ == "builtins":
            return str(tp.__qualname__)
        return f"{tp.__module__}.{tp.__qualname__}"
    return repr(tp)


def is_annotated(tp: Any) -> bool:
    return type(tp).__name__ == "_AnnotatedAlias" and hasattr(tp, "__metadata__")


def description_from_metadata(metadata: tuple[Any, ...]) -> str | None:
    for meta in metadata:
        if isinstance(meta, str):
            return meta
    for meta in metadata:
        for attr in ("description", "documentation"):
            text = getattr(meta, attr, None)
            if isinstance(text, str) and text:
                return text
    return None


def split_annotated(tp: Any) -> tuple[Any, str | None]:
    if is_annotated(tp):
        return tp.__origin__, description_from_metadata(tp.__metadata__)
    return tp, None


def _qualifier(tp: Any) -> str | None:
    origin = typing.get_origin(tp)
    if origin is None:
        return None
    name = getattr(origin, "_name", None)
    if name in ("Required", "NotRequired", "ReadOnly"):
        return str(name)
    return None


def strip_qualifiers(tp: Any) -> tuple[Any, bool | None]:
    """Remove Required/NotRequired/ReadOnly (also under Annotated); return (type, required?)."""
    required: bool | None = None
    metadata: list[Any] = []
    while True:
        if is_annotated(tp):
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
        annotated_args = (tp, *metadata)
        tp = typing.cast(Any, typing.Annotated)[annotated_args]
    return tp, required


def is_typeddict(tp: Any) -> bool:
    return (
        is_class(tp)
        and issubclass(tp, dict)
        and hasattr(cast("type", tp), "__required_keys__")
        and hasattr(cast("type", tp), "__optional_keys__")
    )


def is_model(tp: Any) -> bool:
    return (
        is_class(tp)
        and callable(getattr(tp, "model_json_schema", None))
        and callable(getattr(tp, "model_validate", None))
    )


def is_object_type(tp: Any) -> bool:
    return is_typeddict(tp) or (is_class(tp) and dataclasses.is_dataclass(tp)) or is_model(tp)


SEQUENCE_ORIGINS: set[Any] = {
    list,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Collection,
    collections.abc.Iterable,
}
SET_ORIGINS: dict[Any, Callable[[Any], Any]] = {
    set: set,
    frozenset: frozenset,
    collections.abc.Set: frozenset,
    collections.abc.MutableSet: set,
}
MAPPING_ORIGINS: set[Any] = {dict, collections.abc.Mapping, collections.abc.MutableMapping}
UNION_TYPE = getattr(types, "UnionType", None)
