"""Result types of the client-level calls (PROTOCOL §2), as plain dataclasses.

Names and snake_case attributes follow the official Python SDK, so code written against
it reads the same here. Differences on purpose:

* ``from_dict`` never fails on what the CLI sends: a missing or mistyped field gets its
  default (``None``, ``""``, ``False``) instead of raising, and unknown fields are kept
  in ``raw`` (the dict as received; excluded from ``==`` and ``repr``);
* times are timezone-aware :class:`datetime` objects; ISO strings with ``Z`` and with
  millisecond or nanosecond digits, and epoch milliseconds, are all accepted. A time the
  CLI did not send (or sent unreadably) is ``None``;
* ``to_dict`` gives the wire shape back (camelCase keys, except the snake_case
  ``limits`` keys, which travel that way), so ``from_dict(x.to_dict()) == x``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, get_args

__all__ = [
    "ConnectionState",
    "GetAuthStatusResponse",
    "GetStatusResponse",
    "ModelBilling",
    "ModelCapabilities",
    "ModelInfo",
    "ModelLimits",
    "ModelPolicy",
    "ModelSupports",
    "ModelVisionLimits",
    "PingResponse",
    "SessionContext",
    "SessionLifecycleEvent",
    "SessionLifecycleEventMetadata",
    "SessionLifecycleEventType",
    "SessionListFilter",
    "SessionMetadata",
    "parse_timestamp",
]


# ---------------------------------------------------------------------------
# Reading loosely typed JSON
# ---------------------------------------------------------------------------

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

        return isoparse(text)
    except (ValueError, OverflowError, ImportError):
        return None


def _format_timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _raw(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _bool(value: Any, default: bool = False) -> bool:
    return value if isinstance(value, bool) else default


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _opt_int(value: Any) -> int | None:
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


def _opt_float(value: Any) -> float | None:
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


def _opt_str_list(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, str)]


def _put(result: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is a value: optional fields stay off the wire."""
    if value is not None:
        result[key] = value


def _raw_field() -> Any:
    return field(default=None, repr=False, compare=False)


# ---------------------------------------------------------------------------
# ping, status.get, auth.getStatus
# ---------------------------------------------------------------------------


@dataclass
class PingResponse:
    """Result of ``ping``: ``message`` is ``"pong: <your message>"`` (or ``"pong"``)."""

    message: str
    timestamp: datetime | None
    protocol_version: int | None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> PingResponse:
        data = _as_dict(d)
        return cls(
            message=_str(data.get("message")),
            timestamp=parse_timestamp(data.get("timestamp")),
            protocol_version=_opt_int(data.get("protocolVersion")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"message": self.message}
        _put(result, "timestamp", _format_timestamp(self.timestamp))
        _put(result, "protocolVersion", self.protocol_version)
        return result


@dataclass
class GetStatusResponse:
    """Result of ``status.get``: the CLI's version and protocol version."""

    version: str
    protocol_version: int | None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> GetStatusResponse:
        data = _as_dict(d)
        return cls(
            version=_str(data.get("version")),
            protocol_version=_opt_int(data.get("protocolVersion")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"version": self.version}
        _put(result, "protocolVersion", self.protocol_version)
        return result


@dataclass
class GetAuthStatusResponse:
    """Result of ``auth.getStatus``.

    ``auth_type`` is one of ``user``, ``env``, ``gh-cli``, ``hmac``, ``api-key``, ``token``.
    """

    is_authenticated: bool
    auth_type: str | None = None
    host: str | None = None
    login: str | None = None
    status_message: str | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> GetAuthStatusResponse:
        data = _as_dict(d)
        return cls(
            is_authenticated=_bool(data.get("isAuthenticated")),
            auth_type=_opt_str(data.get("authType")),
            host=_opt_str(data.get("host")),
            login=_opt_str(data.get("login")),
            status_message=_opt_str(data.get("statusMessage")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"isAuthenticated": self.is_authenticated}
        _put(result, "authType", self.auth_type)
        _put(result, "host", self.host)
        _put(result, "login", self.login)
        _put(result, "statusMessage", self.status_message)
        return result


# ---------------------------------------------------------------------------
# models.list
# ---------------------------------------------------------------------------


@dataclass
class ModelVisionLimits:
    """Limits on images sent to a vision model (wire keys are snake_case)."""

    supported_media_types: list[str] | None = None
    max_prompt_images: int | None = None
    max_prompt_image_size: int | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelVisionLimits:
        data = _as_dict(d)
        return cls(
            supported_media_types=_opt_str_list(data.get("supported_media_types")),
            max_prompt_images=_opt_int(data.get("max_prompt_images")),
            max_prompt_image_size=_opt_int(data.get("max_prompt_image_size")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        _put(result, "supported_media_types", self.supported_media_types)
        _put(result, "max_prompt_images", self.max_prompt_images)
        _put(result, "max_prompt_image_size", self.max_prompt_image_size)
        return result


@dataclass
class ModelLimits:
    """Token limits of a model. The wire keys are **snake_case** (PROTOCOL §0.1 #4)."""

    max_prompt_tokens: int | None = None
    max_output_tokens: int | None = None
    max_context_window_tokens: int | None = None
    vision: ModelVisionLimits | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelLimits:
        data = _as_dict(d)
        vision = data.get("vision")
        return cls(
            max_prompt_tokens=_opt_int(data.get("max_prompt_tokens")),
            max_output_tokens=_opt_int(data.get("max_output_tokens")),
            max_context_window_tokens=_opt_int(data.get("max_context_window_tokens")),
            vision=ModelVisionLimits.from_dict(vision) if isinstance(vision, dict) else None,
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        _put(result, "max_prompt_tokens", self.max_prompt_tokens)
        _put(result, "max_output_tokens", self.max_output_tokens)
        _put(result, "max_context_window_tokens", self.max_context_window_tokens)
        if self.vision is not None:
            result["vision"] = self.vision.to_dict()
        return result


@dataclass
class ModelSupports:
    """What a model supports. ``adaptive_thinking`` is ``None`` when the CLI does not say."""

    vision: bool = False
    reasoning_effort: bool = False
    adaptive_thinking: bool | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelSupports:
        data = _as_dict(d)
        return cls(
            vision=_bool(data.get("vision")),
            reasoning_effort=_bool(data.get("reasoningEffort")),
            adaptive_thinking=_opt_bool(data.get("adaptive_thinking")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"vision": self.vision, "reasoningEffort": self.reasoning_effort}
        _put(result, "adaptive_thinking", self.adaptive_thinking)
        return result


@dataclass
class ModelCapabilities:
    """A model's ``supports`` flags and ``limits``; both default to empty when absent."""

    supports: ModelSupports = field(default_factory=ModelSupports)
    limits: ModelLimits = field(default_factory=ModelLimits)
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelCapabilities:
        data = _as_dict(d)
        return cls(
            supports=ModelSupports.from_dict(data.get("supports")),
            limits=ModelLimits.from_dict(data.get("limits")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"supports": self.supports.to_dict(), "limits": self.limits.to_dict()}


@dataclass
class ModelPolicy:
    """Whether a model may be used: ``state`` is ``enabled``, ``disabled`` or ``unconfigured``."""

    state: str
    terms: str = ""
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelPolicy:
        data = _as_dict(d)
        return cls(state=_str(data.get("state")), terms=_str(data.get("terms")), raw=_raw(d))

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "terms": self.terms}


@dataclass
class ModelBilling:
    """Billing of a model: a cost ``multiplier`` and the wire ``tokenPrices`` object as is."""

    multiplier: float | None = None
    token_prices: dict[str, Any] | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelBilling:
        data = _as_dict(d)
        prices = data.get("tokenPrices")
        return cls(
            multiplier=_opt_float(data.get("multiplier")),
            token_prices=prices if isinstance(prices, dict) else None,
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        _put(result, "multiplier", self.multiplier)
        _put(result, "tokenPrices", self.token_prices)
        return result


@dataclass
class ModelInfo:
    """One entry of ``models.list``. Schema extras (``modelPickerCategory``...) are in ``raw``."""

    id: str
    name: str
    capabilities: ModelCapabilities = field(default_factory=ModelCapabilities)
    policy: ModelPolicy | None = None
    billing: ModelBilling | None = None
    supported_reasoning_efforts: list[str] | None = None
    default_reasoning_effort: str | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelInfo:
        data = _as_dict(d)
        model_id = _str(data.get("id"))
        policy = data.get("policy")
        billing = data.get("billing")
        return cls(
            id=model_id,
            name=_str(data.get("name"), model_id),
            capabilities=ModelCapabilities.from_dict(data.get("capabilities")),
            policy=ModelPolicy.from_dict(policy) if isinstance(policy, dict) else None,
            billing=ModelBilling.from_dict(billing) if isinstance(billing, dict) else None,
            supported_reasoning_efforts=_opt_str_list(data.get("supportedReasoningEfforts")),
            default_reasoning_effort=_opt_str(data.get("defaultReasoningEffort")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "capabilities": self.capabilities.to_dict(),
        }
        if self.policy is not None:
            result["policy"] = self.policy.to_dict()
        if self.billing is not None:
            result["billing"] = self.billing.to_dict()
        _put(result, "supportedReasoningEfforts", self.supported_reasoning_efforts)
        _put(result, "defaultReasoningEffort", self.default_reasoning_effort)
        return result


# ---------------------------------------------------------------------------
# session.list, session.getMetadata
# ---------------------------------------------------------------------------


@dataclass
class SessionContext:
    """Where a session was created. ``working_directory`` travels as ``cwd``."""

    working_directory: str
    git_root: str | None = None
    repository: str | None = None
    branch: str | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> SessionContext:
        data = _as_dict(d)
        return cls(
            working_directory=_str(data.get("cwd")),
            git_root=_opt_str(data.get("gitRoot")),
            repository=_opt_str(data.get("repository")),
            branch=_opt_str(data.get("branch")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"cwd": self.working_directory}
        _put(result, "gitRoot", self.git_root)
        _put(result, "repository", self.repository)
        _put(result, "branch", self.branch)
        return result


@dataclass
class SessionListFilter:
    """Filter for ``session.list``; only the fields that are set are sent."""

    working_directory: str | None = None
    git_root: str | None = None
    repository: str | None = None
    branch: str | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> SessionListFilter:
        data = _as_dict(d)
        return cls(
            working_directory=_opt_str(data.get("cwd")),
            git_root=_opt_str(data.get("gitRoot")),
            repository=_opt_str(data.get("repository")),
            branch=_opt_str(data.get("branch")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire ``filter`` object: keys ``cwd``, ``gitRoot``, ``repository``, ``branch``."""
        result: dict[str, Any] = {}
        _put(result, "cwd", self.working_directory)
        _put(result, "gitRoot", self.git_root)
        _put(result, "repository", self.repository)
        _put(result, "branch", self.branch)
        return result


@dataclass
class SessionMetadata:
    """One entry of ``session.list`` (also the ``session`` of ``session.getMetadata``)."""

    session_id: str
    start_time: datetime | None
    modified_time: datetime | None
    is_remote: bool
    summary: str | None = None
    context: SessionContext | None = None
    name: str | None = None
    client_name: str | None = None
    is_detached: bool | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> SessionMetadata:
        data = _as_dict(d)
        context = data.get("context")
        return cls(
            session_id=_str(data.get("sessionId")),
            start_time=parse_timestamp(data.get("startTime")),
            modified_time=parse_timestamp(data.get("modifiedTime")),
            is_remote=_bool(data.get("isRemote")),
            summary=_opt_str(data.get("summary")),
            context=SessionContext.from_dict(context) if isinstance(context, dict) else None,
            name=_opt_str(data.get("name")),
            client_name=_opt_str(data.get("clientName")),
            is_detached=_opt_bool(data.get("isDetached")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"sessionId": self.session_id}
        _put(result, "startTime", _format_timestamp(self.start_time))
        _put(result, "modifiedTime", _format_timestamp(self.modified_time))
        result["isRemote"] = self.is_remote
        _put(result, "isDetached", self.is_detached)
        _put(result, "summary", self.summary)
        _put(result, "name", self.name)
        _put(result, "clientName", self.client_name)
        if self.context is not None:
            result["context"] = self.context.to_dict()
        return result


# ---------------------------------------------------------------------------
# session.lifecycle notifications
# ---------------------------------------------------------------------------

SessionLifecycleEventType = Literal[
    "session.created",
    "session.deleted",
    "session.updated",
    "session.foreground",
    "session.background",
]
_LIFECYCLE_TYPES: frozenset[str] = frozenset(get_args(SessionLifecycleEventType))


@dataclass
class SessionLifecycleEventMetadata:
    """The ``metadata`` of a lifecycle notification (absent on ``session.deleted``)."""

    start_time: datetime | None
    modified_time: datetime | None
    summary: str | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> SessionLifecycleEventMetadata:
        data = _as_dict(d)
        return cls(
            start_time=parse_timestamp(data.get("startTime")),
            modified_time=parse_timestamp(data.get("modifiedTime")),
            summary=_opt_str(data.get("summary")),
            raw=_raw(d),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        _put(result, "startTime", _format_timestamp(self.start_time))
        _put(result, "modifiedTime", _format_timestamp(self.modified_time))
        _put(result, "summary", self.summary)
        return result


@dataclass
class SessionLifecycleEvent:
    """A ``session.lifecycle`` notification.

    ``type`` is always one of :data:`SessionLifecycleEventType`: a kind this SDK does not
    know arrives as ``"session.updated"`` (the original stays in ``raw["type"]``).
    """

    type: str
    session_id: str
    metadata: SessionLifecycleEventMetadata | None = None
    raw: dict[str, Any] | None = _raw_field()

    @classmethod
    def from_notification(cls, params: Any) -> SessionLifecycleEvent:
        """Build the event from the notification's ``params``."""
        data = _as_dict(params)
        kind = data.get("type")
        metadata = data.get("metadata")
        return cls(
            type=kind if isinstance(kind, str) and kind in _LIFECYCLE_TYPES else "session.updated",
            session_id=_str(data.get("sessionId")),
            metadata=SessionLifecycleEventMetadata.from_dict(metadata) if isinstance(metadata, dict) else None,
            raw=_raw(params),
        )

    @classmethod
    def from_dict(cls, d: Any) -> SessionLifecycleEvent:
        """Same as :meth:`from_notification`."""
        return cls.from_notification(d)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"type": self.type, "sessionId": self.session_id}
        if self.metadata is not None:
            result["metadata"] = self.metadata.to_dict()
        return result


# ---------------------------------------------------------------------------
# client state
# ---------------------------------------------------------------------------


class ConnectionState(str, enum.Enum):
    """Where a client is in its life: the values equal the official SDK's strings."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value
