"""Reading loose JSON into typed records: lenient field converters (a wrong type becomes the
default, never an exception) and the CLI's timestamps (ISO 8601 or epoch milliseconds)."""

from __future__ import annotations

import re
from collections.abc import Mapping as _Mapping
from dataclasses import field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from typing_extensions import TypeIs

__all__ = [
    "as_bool",
    "as_dict",
    "as_opt_bool",
    "as_opt_float",
    "as_opt_int",
    "as_opt_str",
    "as_opt_str_list",
    "as_str",
    "format_timestamp",
    "is_array",
    "is_mapping",
    "is_object",
    "parse_timestamp",
    "put",
    "raw_field",
    "raw_of",
    "snake_case",
    "snake_keys",
]


_FRACTION = re.compile(r"\.(\d+)")
_EPOCH_MS_TEXT = re.compile(r"-?\d+(\.\d+)?")


def parse_timestamp(value: Any) -> datetime | None:
    """An aware :class:`datetime` from what the CLI sends as a time, or ``None``.

    Accepts ISO 8601 strings (``Z`` or an offset; any number of fractional digits,
    beyond microseconds they are cut off), epoch milliseconds (a number or a string of
    digits) and :class:`datetime` objects. A time without a zone is taken as UTC.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _from_epoch_ms(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _EPOCH_MS_TEXT.fullmatch(text):
        return _from_epoch_ms(float(text))
    parsed = _from_iso(text)
    if parsed is None:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _from_epoch_ms(value: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _from_iso(text: str) -> datetime | None:
    normalized = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    # Python 3.10's fromisoformat takes exactly 3 or 6 fractional digits: make it 6.
    normalized = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), normalized, count=1)
    try:
        return datetime.fromisoformat(normalized)
    except ValueError:
        pass
    try:
        from dateutil.parser import isoparse

        parsed: datetime = isoparse(text)
        return parsed
    except (ValueError, OverflowError, ImportError):
        return None


def format_timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def is_object(value: object) -> TypeIs[dict[str, Any]]:
    """``isinstance(value, dict)``, read as a JSON object (string keys, any values)."""
    return isinstance(value, dict)


def is_mapping(value: object) -> TypeIs[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, read as a mapping with string keys (options, JSON)."""
    return isinstance(value, _Mapping)


def is_array(value: object) -> TypeIs[list[Any]]:
    """``isinstance(value, list)``, read as a JSON array."""
    return isinstance(value, list)


def as_dict(value: Any) -> dict[str, Any]:
    return value if is_object(value) else {}


def raw_of(value: Any) -> dict[str, Any] | None:
    return value if is_object(value) else None


def as_str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def as_opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_bool(value: Any, default: bool = False) -> bool:
    return value if isinstance(value, bool) else default


def as_opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def as_opt_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_opt_str_list(value: Any) -> list[str] | None:
    if not is_array(value):
        return None
    return [item for item in value if isinstance(item, str)]


def put(result: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is a value: optional fields stay off the wire."""
    if value is not None:
        result[key] = value


def raw_field() -> Any:
    return field(default=None, repr=False, compare=False)


_SNAKE = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake_case(name: str) -> str:
    """``fullCommandText`` -> ``full_command_text``."""
    return _SNAKE.sub(r"_\1", name).lower()


def snake_keys(value: Any) -> Any:
    """``value`` with every dict key in snake_case, recursively (what handlers receive)."""
    if is_object(value):
        return {snake_case(k) if isinstance(k, str) else k: snake_keys(v) for k, v in value.items()}
    if is_array(value):
        return [snake_keys(item) for item in value]
    return value
