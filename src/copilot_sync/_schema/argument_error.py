"""Bad tool arguments: :class:`ArgumentError`, and the helpers that describe JSON values in
its messages (shared by the signature converters of :mod:`._schema` and the JSON Schema
validator of :mod:`._json_schema`)."""

from __future__ import annotations

import json
from typing import Any, cast

__all__ = ["ArgumentError"]

_MAX_REPORTED = 20

# --------------------------------------------------------------------------------------------
# Errors


def _format_errors(errors: list[tuple[str, str]]) -> str:
    lines = [f"{path}: {msg}" if path else msg for path, msg in errors[:_MAX_REPORTED]]
    if len(errors) > _MAX_REPORTED:
        lines.append(f"... and {len(errors) - _MAX_REPORTED} more problems")
    return "\n".join(lines)


class ArgumentError(ValueError):
    """Arguments that do not fit the tool's schema.

    ``str(exc)`` is a readable message naming the field path, one problem per line, e.g.
    ``"city: expected a string, got 3 (int)"`` or ``"missing required argument 'city'"``.
    ``errors`` holds the ``(path, message)`` pairs; the path is ``""`` for the top level.
    """

    errors: list[tuple[str, str]]

    def __init__(self, errors: list[tuple[str, str]] | str) -> None:
        if isinstance(errors, str):
            errors = [("", errors)]
        self.errors = list(errors)
        super().__init__(_format_errors(self.errors))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors,))


def short(value: object, limit: int = 60) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (dict, list)):
        try:
            text = json.dumps(value, ensure_ascii=False, default=repr)
        except Exception:
            text = repr(cast("object", value))
    else:
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def got(value: object) -> str:
    if value is None:
        return "null"
    return f"{short(value)} ({type(value).__name__})"


def key_path(path: str, key: object) -> str:
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False, default=str)}]"


ALL_KINDS = frozenset(
    {"null", "boolean", "integer", "number", "string", "array", "object", "other"}
)
_KIND_OF_TYPE: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    tuple: "array",
    dict: "object",
}


def kind_of(value: object) -> str:
    kind = _KIND_OF_TYPE.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "other"


def canonical(value: object) -> object:
    """A hashable key with JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(value, bool):
        return ("b", value)
    if value is None:
        return ("z",)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, (list, tuple)):
        return ("a", tuple(canonical(v) for v in cast("list[Any] | tuple[Any, ...]", value)))
    if isinstance(value, dict):
        items = cast("dict[Any, Any]", value).items()
        return ("o", frozenset((k, canonical(v)) for k, v in items))
    return ("x", id(value))
