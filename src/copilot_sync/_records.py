"""Record classes: the runtime behind the generated, slotted classes of
:mod:`copilot_sync.generated.session_events` (event payloads) and
:mod:`copilot_sync.generated.rpc` (typed RPC params and results), plus the ISO-8601
date-time parsing they share.

* The generated classes hold declarations only: ``__slots__`` (snake_case attribute
  names), ``_WIRE`` (the wire names, same order), ``_REQUIRED`` (how many leading fields
  are required) and annotations in a small fixed grammar. :meth:`_Record.from_dict` turns
  those into a converter table on first use per class.
* Nothing here raises on bad input: unknown fields are ignored (kept in ``raw``), missing
  required fields become ``None``, values of the wrong type are kept as received. Each of
  these is logged at DEBUG on the ``copilot_sync.events`` logger.
* No ``@dataclass`` (300 dataclasses cost about 130 ms to import), but the dataclass
  protocol: ``dataclasses.fields``/``asdict``/``replace`` work on records.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, ClassVar, cast

if TYPE_CHECKING:
    import re
    from datetime import datetime

    from typing_extensions import Self

__all__ = ["RawEventData", "parse_datetime", "short_repr"]

_log = logging.getLogger("copilot_sync.events")

_ELLIPSIS = "\u2026"


# --------------------------------------------------------------------------- datetimes

_fromisoformat: Any = None
_utc: Any = None
_fraction_re: re.Pattern[str] | None = None


def parse_datetime(value: Any) -> datetime | None:
    """Parse an ISO-8601 string; ``None`` if ``value`` is not a string or not a date.

    Fast path: ``datetime.fromisoformat`` after turning a trailing ``Z`` into ``+00:00``
    (what Python 3.10 needs). Then the fraction is cut or padded to 6 digits (nanosecond
    timestamps, 3.10's 3-or-6-digit rule), and ``dateutil.parser.isoparse`` is the last
    resort. UTC results always carry ``datetime.timezone.utc``. Never raises.
    """
    global _fromisoformat, _utc
    if type(value) is not str:
        if not isinstance(value, str):
            return None
        value = str(value)
    if _fromisoformat is None:
        from datetime import datetime, timezone

        _utc = timezone.utc
        _fromisoformat = datetime.fromisoformat
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed: datetime = _fromisoformat(text)
        return parsed
    except Exception:  # ValueError; be safe with odd input
        pass
    return _parse_datetime_slow(value, text)


def _parse_datetime_slow(value: str, text: str) -> datetime | None:
    global _fraction_re
    if _fraction_re is None:
        import re

        _fraction_re = re.compile(r"(T\d\d:\d\d:\d\d)[.,](\d+)")
    normalised = _fraction_re.sub(
        lambda m: f"{m.group(1)}.{(m.group(2) + '000000')[:6]}", text, count=1
    )
    if normalised != text:
        try:
            parsed: datetime = _fromisoformat(normalised)
            return parsed
        except Exception:
            pass
    try:
        from dateutil.parser import isoparse

        result: datetime = isoparse(value)
    except Exception:  # ValueError, OverflowError, ImportError, ...
        return None
    try:
        offset = result.utcoffset() if result.tzinfo is not None else None
        if offset is not None and offset.total_seconds() == 0:
            result = result.replace(tzinfo=_utc)
    except Exception:
        pass
    return result


def _format_datetime(value: datetime) -> str:
    """The wire form of a datetime: ISO-8601, ``Z`` for UTC, milliseconds when exact."""
    spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    text = value.isoformat(timespec=spec)
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


# --------------------------------------------------------------------------- helpers


def _camel(name: str) -> str:
    """``tool_call_id`` → ``toolCallId``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def short_repr(value: Any, limit: int | None) -> str:
    """``repr(value)``, strings and lists cut short at about ``limit`` characters (records
    and event data too, field by field); ``limit=None`` cuts nothing."""
    if isinstance(value, (_Record, RawEventData)):
        return value._repr(limit)
    if limit is None:
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + _ELLIPSIS)
    if isinstance(value, list):
        items = cast("list[Any]", value)
        shown = ", ".join(short_repr(item, limit) for item in items[:3])
        return f"[{shown}{', ' + _ELLIPSIS if len(items) > 3 else ''}]"
    text = repr(value)
    return text if len(text) <= 2 * limit else text[: 2 * limit] + _ELLIPSIS


def _raw_lookup(owner: Any, raw: Any, name: str) -> Any:
    """Attribute access on raw payloads: ``name`` as given, then its camelCase form."""
    if isinstance(raw, dict):
        fields = cast("dict[str, Any]", raw)
        if name in fields:
            return fields[name]
        camel = _camel(name)
        if camel in fields:
            return fields[camel]
    raise AttributeError(f"{type(owner).__name__!s} has no field {name!r}")


def to_wire(value: Any) -> Any:
    if isinstance(value, (_Record, RawEventData)):
        return value.to_dict()
    if isinstance(value, list):
        items = cast("list[Any]", value)
        return [to_wire(item) for item in items]
    if isinstance(value, dict):
        fields = cast("dict[str, Any]", value)
        return {key: to_wire(item) for key, item in fields.items()}
    datetime_module = sys.modules.get("datetime")
    if datetime_module is not None and isinstance(value, datetime_module.datetime):
        return _format_datetime(value)
    return value


# --------------------------------------------------------------------------- converters
#
# A field converter is a pair (accepted, convert): ``accepted`` is a frozenset of the
# exact JSON types the field takes (None: anything), ``convert`` maps an accepted value
# to its Python form (None: keep it). A converter never raises; on a bad value it logs
# at DEBUG and returns the value unchanged.

_STR = frozenset({str})
_INT = frozenset({int})
_FLOAT = frozenset({int, float})
_BOOL = frozenset({bool})
_LIST = frozenset({list})
_DICT = frozenset({dict})
_SCALARS: dict[str, Any] = {
    "str": (_STR, None),
    "int": (_INT, None),
    "float": (_FLOAT, None),
    "bool": (_BOOL, None),
    "Any": (None, None),
}


def _accepts(value: Any, accepted: frozenset[type]) -> bool:
    """Slow path of the type check, for subclasses of the JSON types (never bool for int)."""
    if isinstance(value, bool):
        return bool in accepted
    return isinstance(value, tuple(accepted))


def _wrong_type(owner: str, name: str, value: Any, expected: Any) -> None:
    if _log.isEnabledFor(logging.DEBUG):
        if isinstance(expected, frozenset):
            types = cast("frozenset[type]", expected)
            expected = "/".join(sorted(t.__name__ for t in types))
        _log.debug(
            "%s.%s: expected %s, got %s; kept as received",
            owner,
            name,
            expected,
            type(value).__name__,
        )


def _convert_datetime(value: str) -> Any:
    result = parse_datetime(value)
    if result is None:
        _log.debug("not an ISO-8601 date-time: %.80r; kept as received", value)
        return value
    return result


def _list_converter(item: tuple[Any, Any], expr: str) -> tuple[Any, Any]:
    accepted, convert = item
    if accepted is None and convert is None:
        return _LIST, None
    scalars = cast("frozenset[type]", accepted)  # not None when convert is (returned above)

    def convert_list(value: list[Any]) -> list[Any]:
        if convert is None:  # a list of scalars: check only, keep the list object
            for element in value:
                if (
                    element is not None
                    and type(element) not in scalars
                    and not _accepts(element, scalars)
                ):
                    _wrong_type(expr, "[]", element, expr)
            return value
        out: list[Any] = []
        for element in value:
            if element is None:
                out.append(None)
            elif (
                accepted is not None
                and type(element) not in accepted
                and not _accepts(element, accepted)
            ):
                _wrong_type(expr, "[]", element, expr)
                out.append(element)
            else:
                out.append(convert(element))
        return out

    return _LIST, convert_list


def _dict_converter(item: tuple[Any, Any], expr: str) -> tuple[Any, Any]:
    accepted, convert = item
    if accepted is None and convert is None:
        return _DICT, None

    def convert_dict(value: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, element in value.items():
            if element is None:
                out[key] = None
            elif (
                accepted is not None
                and type(element) not in accepted
                and not _accepts(element, accepted)
            ):
                _wrong_type(expr, repr(key), element, expr)
                out[key] = element
            elif convert is None:
                out[key] = element
            else:
                out[key] = convert(element)
        return out

    return _DICT, convert_dict


_converter_cache: dict[tuple[str, str], tuple[Any, Any]] = {}


def converter(expr: str, namespace: dict[str, Any]) -> tuple[Any, Any]:
    """The converter for one annotation of the generated grammar (see the generator)."""
    key = (expr, namespace.get("__name__", ""))
    cached = _converter_cache.get(key)
    if cached is not None:
        return cached
    text = expr.strip()
    if text.endswith("| None"):
        text = text[: -len("| None")].strip()
    result: tuple[Any, Any]
    if text in _SCALARS:
        result = _SCALARS[text]
    elif text == "datetime":
        result = (_STR, _convert_datetime)
    elif text.startswith("list[") and text.endswith("]"):
        result = _list_converter(converter(text[5:-1], namespace), text)
    elif text.startswith("dict[str, ") and text.endswith("]"):
        result = _dict_converter(converter(text[10:-1], namespace), text)
    else:
        target = namespace.get(text)
        if isinstance(target, type) and hasattr(target, "from_dict"):
            result = (_DICT, cast("Any", target).from_dict)
        else:
            _log.debug("annotation %r is not understood; values are kept as received", expr)
            result = (None, None)
    _converter_cache[key] = result
    return result


# --------------------------------------------------------------------------- payload base


_specs: dict[type, tuple[Any, ...]] = {}


def _field_spec(cls: type) -> tuple[Any, ...]:
    """(attr, wire, accepted, convert, required) per field of ``cls``, built once."""
    spec = _specs.get(cls)
    if spec is not None:
        return spec
    # The class that declares the fields: ``cls`` itself, or for a field-less alias
    # (``SessionContextChangedData(WorkingDirectoryContext)``) the nearest base that does.
    owner = next((klass for klass in cls.__mro__ if "_WIRE" in klass.__dict__), cls)
    own = owner.__dict__
    slots = own.get("__slots__", ())
    wire = own.get("_WIRE", ())
    required = own.get("_REQUIRED", 0)
    own_annotations = own.get("__annotations__")
    annotations: dict[str, Any] = (
        (getattr(owner, "__annotations__", None) or {})
        if own_annotations is None
        else own_annotations
    )
    module = sys.modules.get(owner.__module__)
    namespace = vars(module) if module is not None else {}
    fields: list[tuple[Any, ...]] = []
    for index, (attr, wire_name) in enumerate(zip(slots, wire, strict=False)):
        annotation = annotations.get(attr, "Any")
        if not isinstance(annotation, str):
            annotation = "Any"
        accepted, convert = converter(annotation, namespace)
        fields.append((attr, wire_name, accepted, convert, index < required))
    spec = tuple(fields)
    _specs[cls] = spec
    return spec


class _DataclassFields:
    """``__dataclass_fields__`` for the record classes, built on first use per class.

    The classes are not made by ``@dataclass`` (import speed), but they speak its protocol,
    so ``dataclasses.is_dataclass``, ``fields``, ``asdict``, ``astuple`` and ``replace``
    work on them.
    """

    def __get__(self, instance: Any, owner: type) -> dict[str, Any]:
        fields = _dataclass_fields.get(owner)
        if fields is None:
            import dataclasses
            import inspect

            annotations: dict[str, Any] = {}
            for klass in reversed(owner.__mro__):
                annotations.update(inspect.get_annotations(klass))
            fields = {}
            for attr, *_rest in _specs.get(owner) or _field_spec(owner):
                field: dataclasses.Field[Any] = cast(Any, dataclasses.field(default=None))
                field.name = attr
                field.type = annotations.get(attr, "Any")
                field._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
                fields[attr] = field
            _dataclass_fields[owner] = fields
        return fields


_dataclass_fields: dict[type, dict[str, Any]] = {}


class _Record:
    """Base of the generated payload classes: slots, no ``@dataclass`` (import speed), but
    the dataclass protocol (``dataclasses.fields``/``asdict``/``replace`` work).

    ``__init__`` takes the fields positionally (required ones first) or by attribute name;
    omitted fields are ``None``. ``raw`` is the wire dict the object was parsed from (``{}``
    when built by hand); it is excluded from ``==`` and ``repr``.
    """

    __slots__ = ("raw",)
    _WIRE: ClassVar[tuple[str, ...]] = ()
    _REQUIRED: ClassVar[int] = 0
    __dataclass_fields__: ClassVar[dict[str, Any]] = _DataclassFields()  # type: ignore[assignment]
    raw: dict[str, Any]

    def __init__(self, *args: Any, raw: dict[str, Any] | None = None, **kwargs: Any) -> None:
        cls = type(self)
        names = [entry[0] for entry in (_specs.get(cls) or _field_spec(cls))]
        if len(args) > len(names):
            raise TypeError(
                f"{type(self).__name__}() takes at most {len(names)} positional arguments"
            )
        for name, value in zip(names, args, strict=False):
            setattr(self, name, value)
        for name in names[len(args) :]:
            setattr(self, name, kwargs.pop(name, None))
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}"
            )
        self.raw = raw if raw is not None else {}

    @classmethod
    def from_dict(cls, d: Any) -> Self:
        """Build from a wire dict. Never raises (see the module docstring)."""
        spec = _specs.get(cls) or _field_spec(cls)
        self = object.__new__(cls)
        if type(d) is not dict and not isinstance(d, dict):
            if d is not None:
                _wrong_type(cls.__name__, "<payload>", d, "object")
            d = {}
        payload = cast("dict[str, Any]", d)
        get = payload.get
        for attr, wire, accepted, convert, required in spec:
            value = get(wire)
            if value is None:
                if required and wire not in payload:
                    _log.debug("%s: required field %r is missing", cls.__name__, wire)
            elif (
                accepted is not None
                and type(value) not in accepted
                and not _accepts(value, accepted)
            ):
                _wrong_type(cls.__name__, wire, value, accepted)
            elif convert is not None:
                value = convert(value)
            setattr(self, attr, value)
        self.raw = payload
        return self

    @classmethod
    def wire_names(cls) -> dict[str, str]:
        """Attribute name → wire (JSON) name, in declaration order."""
        return {entry[0]: entry[1] for entry in (_specs.get(cls) or _field_spec(cls))}

    def to_dict(self) -> dict[str, Any]:
        """The wire dict: ``raw`` (so unknown fields survive) updated with the attributes."""
        cls = type(self)
        out = dict(self.raw) if isinstance(self.raw, dict) else {}
        for attr, wire, *_ in _specs.get(cls) or _field_spec(cls):
            value = getattr(self, attr, None)
            if value is None:
                if out.get(wire, 0) is not None:
                    out.pop(wire, None)
            else:
                out[wire] = to_wire(value)
        return out

    def _repr(self, limit: int | None) -> str:
        cls = type(self)
        parts: list[str] = []
        for name, _wire, _accepted, _convert, required in _specs.get(cls) or _field_spec(cls):
            value = getattr(self, name, None)
            if value is None and not required:
                continue
            parts.append(f"{name}={short_repr(value, limit)}")
        return f"{cls.__name__}({', '.join(parts)})"

    def __repr__(self) -> str:
        return self._repr(None)

    def __eq__(self, other: object) -> bool:
        cls = type(self)
        if type(other) is not cls:
            return NotImplemented
        return all(
            getattr(self, entry[0], None) == getattr(other, entry[0], None)
            for entry in _specs.get(cls) or _field_spec(cls)
        )

    __hash__: ClassVar[None] = None  # type: ignore[assignment]


_variants: dict[type, dict[str, type[_Record]]] = {}


def _resolve_variants(cls: type) -> dict[str, type[_Record]]:
    """``cls._VARIANTS`` (discriminator value → class name) with the names resolved."""
    module = sys.modules.get(cls.__module__)
    resolved: dict[str, type[_Record]] = {}
    for value, name in cls.__dict__["_VARIANTS"].items():
        target = getattr(module, name, None) if isinstance(name, str) else name
        if isinstance(target, type) and issubclass(target, _Record):
            resolved[value] = target
        else:
            _log.debug("%s: variant %r names no class (%r)", cls.__name__, value, name)
    _variants[cls] = resolved
    return resolved


class _UnionRecord(_Record):  # pyright: ignore[reportUnusedClass]  (the generated unions' base)
    """Base of the generated discriminated unions.

    ``Union.from_dict(d)`` returns the variant subclass named by ``d[_DISCRIMINATOR]``;
    for an unknown discriminator it returns a bare ``Union`` instance whose fields can be
    read through attribute access on ``raw`` (snake_case or wire names).
    """

    __slots__ = ()
    _DISCRIMINATOR: ClassVar[str] = ""
    _VARIANTS: ClassVar[dict[str, Any]] = {}

    @classmethod
    def from_dict(cls, d: Any) -> Self:
        variants = _variants.get(cls)
        if variants is None:
            if "_VARIANTS" not in cls.__dict__:  # a variant class: parse as itself
                return super().from_dict(d)
            variants = _resolve_variants(cls)
        key = cast("dict[str, Any]", d).get(cls._DISCRIMINATOR) if isinstance(d, dict) else None
        target = variants.get(key) if type(key) is str else None
        if target is not None:
            return cast("Self", target.from_dict(d))
        _log.debug(
            "%s: unknown %s %.80r; kept as a bare %s",
            cls.__name__,
            cls._DISCRIMINATOR,
            key,
            cls.__name__,
        )
        self = object.__new__(cls)
        self.raw = cast("dict[str, Any]", d) if isinstance(d, dict) else {}
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "raw":
            raise AttributeError(name)
        return _raw_lookup(self, self.raw, name)

    def _repr(self, limit: int | None) -> str:
        if "_VARIANTS" in type(self).__dict__:  # a bare union: unknown variant
            return f"{type(self).__name__}(raw={short_repr(self.raw, limit)})"
        return super()._repr(limit)


class RawEventData:
    """The payload of an event type without a schema (unknown, or one of the CLI's
    unschematised ``model.*`` types): the wire dict, with attribute access.

    ``data.tool_call_id`` looks up ``"tool_call_id"``, then ``"toolCallId"`` in ``raw``;
    an absent key raises ``AttributeError``; ``data.get(name, default)`` does not.
    """

    __slots__ = ("raw",)
    raw: dict[str, Any]

    def __init__(self, raw: Any = None) -> None:
        self.raw = raw if isinstance(raw, dict) else {}

    @classmethod
    def from_dict(cls, d: Any) -> Self:
        return cls(d)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "raw":
            raise AttributeError(name)
        return _raw_lookup(self, self.raw, name)

    def get(self, name: str, default: Any = None) -> Any:
        """``raw[name]`` or ``raw[camelCase(name)]``, else ``default``."""
        try:
            return _raw_lookup(self, self.raw, name)
        except AttributeError:
            return default

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)

    def __dir__(self) -> list[str]:
        import re

        keys = [
            re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()
            for key in self.raw
            if isinstance(key, str)
        ]
        return sorted(set(object.__dir__(self)) | {k for k in keys if k.isidentifier()})

    def _repr(self, limit: int | None) -> str:
        return f"RawEventData({short_repr(self.raw, limit)})"

    def __repr__(self) -> str:
        return self._repr(None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawEventData):
            return NotImplemented
        return self.raw == other.raw

    __hash__: ClassVar[None] = None  # type: ignore[assignment]
