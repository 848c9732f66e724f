"""Session events: the event classes' common base (``SessionEventBase``), ``parse_event``,
and the lazy loading of the generated event and payload classes in
:mod:`copilot_sync.generated.session_events` (their runtime is :mod:`copilot_sync._records`).

Design notes
------------
* ``SessionEvent`` is, for type checkers, the union of one generated class per event type
  (``AssistantMessageEvent``...) and ``UnknownSessionEvent``. Each class's ``type`` is a
  ``Literal`` and its ``data`` the payload class, so ``if event.type ==
  "assistant.message":`` (or ``isinstance(event.data, AssistantMessageData)``) narrows
  ``event.data``. At run time ``SessionEvent`` is ``SessionEventBase``, the base of every
  event class, so ``isinstance(x, SessionEvent)`` works without loading the generated
  module; the exact union is ``copilot_sync.generated.session_events.SessionEvent``.
* ``type`` stays the :class:`SessionEventType` member at run time: a ``str`` equal to the
  literal, so ``event.type == "assistant.message"`` and ``event.type ==
  SessionEventType.ASSISTANT_MESSAGE`` both hold.
* Events are on the hot path (one object per ``session.event`` notification, including
  every streaming delta). Construction only reads a few keys of the wire dict;
  ``timestamp`` and ``data`` are parsed on first access and cached.
* The generated module (about 300 payload classes and 120 event classes) is imported
  lazily, by the first ``parse_event`` call, so ``import copilot_sync`` does not pay for it.
* Nothing here raises on bad input: an unparsable timestamp is ``None``, a payload that
  does not parse is kept as ``RawEventData``; each is logged at DEBUG on the
  ``copilot_sync.events`` logger.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from ._records import RawEventData, parse_datetime, short_repr

if TYPE_CHECKING:
    from datetime import datetime

    from .generated.session_events import (
        EVENT_CLASSES,
        EVENT_DATA_TYPES,
        SessionEvent,
        SessionEventType,
    )

__all__ = [
    "EVENT_CLASSES",
    "EVENT_DATA_TYPES",
    "RawEventData",
    "SessionEvent",
    "SessionEventBase",
    "SessionEventType",
    "UnknownSessionEvent",
    "event_type_names",
    "parse_datetime",
    "parse_event",
]

_log = logging.getLogger("copilot_sync.events")

_REPR_LIMIT = 60  # characters of each string shown by an event's __repr__
_MAX_UNKNOWN_TYPES_LOGGED = 1024

_T = TypeVar("_T", bound=str)
_D = TypeVar("_D")


# --------------------------------------------------------------------------- lazy module


class _NotLoaded:
    """Stands in for ``SessionEventType._value2member_map_`` until the first lookup."""

    __slots__ = ()

    def get(self, key: str, default: Any = None) -> Any:
        _load()
        return _type_map.get(key, default)


_type_map: Any = _NotLoaded()
_data_types: dict[str, Any] = {}
_event_classes: dict[str, Any] | None = None
_unknown: Any = None
_unknown_seen: set[str] = set()
_type_names: tuple[str, ...] | None = None


def _load() -> Any:
    """Import the generated module and bind its tables here (idempotent, thread-safe)."""
    global _type_map, _data_types, _unknown, _event_classes
    from .generated import session_events as module

    _data_types = module.EVENT_DATA_TYPES
    _unknown = module.SessionEventType.UNKNOWN
    _type_map = module.SessionEventType._value2member_map_
    _event_classes = cast("dict[str, Any]", module.EVENT_CLASSES)
    return module


def _unknown_type(raw_type: str) -> Any:
    if _unknown is None:
        _load()
    if raw_type not in _unknown_seen and len(_unknown_seen) < _MAX_UNKNOWN_TYPES_LOGGED:
        _unknown_seen.add(raw_type)
        _log.debug("unknown session event type %.100r; its data stays raw", raw_type)
    return _unknown


_LAZY_NAMES = frozenset({"SessionEventType", "EVENT_DATA_TYPES", "EVENT_CLASSES"})


def __getattr__(name: str) -> Any:  # lazy module attributes (PEP 562)
    if name in _LAZY_NAMES or (name.endswith("Event") and name[:1].isupper()):
        module = _load()
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def event_type_names() -> list[str]:
    """Every known event type string (schema types plus the CLI's extra ``model.*``
    types), in schema order; ``"unknown"`` is not included."""
    global _type_names
    if _type_names is None:
        module = _load()
        _type_names = tuple(
            member.value for member in module.SessionEventType if member is not _unknown
        )
    return list(_type_names)


# --------------------------------------------------------------------------- envelope


class SessionEventBase(Generic[_T, _D]):
    """The base of every session event class, as received in a ``session.event``
    notification.

    Each event type has its own subclass (``AssistantMessageEvent``...), generic in the
    ``type`` literal and the ``data`` payload class; :data:`SessionEvent` is their union.
    At run time ``type`` is a :class:`SessionEventType` (a ``str`` enum equal to the wire
    string, so ``event.type == "assistant.message"`` works); unknown type strings give an
    :class:`UnknownSessionEvent` whose ``type`` is ``SessionEventType.UNKNOWN`` and whose
    ``raw_type`` keeps the string. ``timestamp`` and ``data`` are parsed on first access,
    cached, and never raise. Build events with :func:`parse_event`.
    """

    __slots__ = (
        "_data",
        "_timestamp",
        "agent_id",
        "ephemeral",
        "id",
        "parent_id",
        "raw",
        "raw_type",
        "type",
    )

    raw: dict[str, Any]
    id: str | None
    type: _T
    raw_type: str
    parent_id: str | None
    ephemeral: bool
    agent_id: str | None
    _data: _D
    _timestamp: datetime | None

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        get = raw.get
        raw_type = get("type")
        if type(raw_type) is not str:
            raw_type = raw_type if isinstance(raw_type, str) else ""
        event_type = _type_map.get(raw_type)
        if event_type is None:
            event_type = _unknown_type(raw_type)
        self.type = event_type
        self.raw_type = raw_type
        self.id = get("id")
        self.parent_id = get("parentId")
        self.ephemeral = get("ephemeral") is True
        self.agent_id = get("agentId")

    @property
    def timestamp(self) -> datetime | None:
        """The ``timestamp`` as an aware ``datetime``, or ``None`` if absent or unparsable."""
        try:
            return self._timestamp
        except AttributeError:
            pass
        value = self.raw.get("timestamp")
        result = parse_datetime(value)
        if result is None and value is not None:
            _log.debug("event %.40r: bad timestamp %.80r", self.id, value)
        self._timestamp = result
        return result

    @property
    def data(self) -> _D:
        """The typed payload (``EVENT_DATA_TYPES[raw_type]``), or ``RawEventData`` for
        unknown and unschematised types. Parsed once; never raises."""
        try:
            return self._data
        except AttributeError:
            pass
        payload = self.raw.get("data")
        cls = _data_types.get(self.raw_type)
        result: Any
        try:
            result = cls.from_dict(payload) if cls is not None else RawEventData(payload)
        except Exception:  # a bug in the parser must not kill the reader thread
            _log.debug(
                "event %.40r (%s): payload parsing failed", self.id, self.raw_type, exc_info=True
            )
            result = RawEventData(payload)
        self._data = result
        return self._data

    def to_dict(self) -> dict[str, Any]:
        """The event as a wire dict (a shallow copy of ``raw``, so the original ``type``
        string survives for unknown types)."""
        return dict(self.raw)

    def __repr__(self) -> str:
        parts = [f"type={self.raw_type!r}", f"id={self.id!r}"]
        if self.agent_id is not None:
            parts.append(f"agent_id={self.agent_id!r}")
        if self.ephemeral:
            parts.append("ephemeral=True")
        data: object = self.data
        parts.append(f"data={short_repr(data, _REPR_LIMIT)}")
        return f"SessionEvent({', '.join(parts)})"

    def _repr_markdown_(self) -> str | None:
        """How Jupyter/IPython displays the event: an ``assistant.message`` renders as its
        content, which is Markdown, exactly as the model wrote it; a message that asks for
        tools gets an italic footer naming them (alone if the message has no text). Every
        other event returns ``None``, so the plain :meth:`__repr__` is shown (the repr also
        stays the ``text/plain`` part of an assistant message's display). Never raises."""
        if self.raw_type != "assistant.message":
            return None
        data: object = self.raw.get("data")
        if not isinstance(data, dict):
            return None
        fields = cast("dict[str, object]", data)
        content = fields.get("content")
        text = content if isinstance(content, str) and content.strip() else ""
        names: list[str] = []
        requests = fields.get("toolRequests")
        if isinstance(requests, list):
            for request in cast("list[object]", requests):
                name = (
                    cast("dict[str, object]", request).get("name")
                    if isinstance(request, dict)
                    else None
                )
                if isinstance(name, str) and name:
                    names.append("`" + name.replace("`", "") + "`")
        if not names:
            return text or None
        footer = f"*Requested {'tool' if len(names) == 1 else 'tools'}: {', '.join(names)}*"
        return f"{text}\n\n{footer}" if text else footer


class UnknownSessionEvent(SessionEventBase[Literal["unknown"], RawEventData]):
    """An event whose type this SDK does not know (newer CLI): ``type`` is
    ``SessionEventType.UNKNOWN`` (equal to ``"unknown"``), ``raw_type`` the wire string,
    and ``data`` a :class:`RawEventData` (the wire dict, with attribute access)."""

    __slots__ = ()


if not TYPE_CHECKING:
    # At run time every event class subclasses SessionEventBase, so it stands for the
    # union in ``isinstance`` checks without importing the generated module.
    SessionEvent = SessionEventBase


def parse_event(raw: dict[str, Any]) -> SessionEvent:
    """Wrap one wire event dict in its event class (:class:`UnknownSessionEvent` for a type
    not in the schema). Never raises for a dict; a non-dict raises ``TypeError``."""
    raw_object = cast(object, raw)  # callers may pass anything at run time
    if type(raw_object) is not dict and not isinstance(raw_object, dict):
        raise TypeError(f"a session event must be a dict, not {type(raw_object).__name__}")
    classes = _event_classes
    if classes is None:
        _load()
        classes = _event_classes
        assert classes is not None
    raw_type = raw.get("type")
    cls = classes.get(raw_type, UnknownSessionEvent) if type(raw_type) is str else None
    if cls is None:
        cls = UnknownSessionEvent
    return cast("SessionEvent", cls(raw))
