"""Result types of the client-level calls, as plain dataclasses.

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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast, get_args

from ._fields import (
    as_bool,
    as_dict,
    as_opt_bool,
    as_opt_float,
    as_opt_int,
    as_opt_str,
    as_opt_str_list,
    as_str,
    format_timestamp,
    is_object,
    parse_timestamp,
    put,
    raw_field,
    raw_of,
)

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
    "TranscriptRecoveryReport",
    "parse_timestamp",
]


# ---------------------------------------------------------------------------
# ping, status.get, auth.getStatus
# ---------------------------------------------------------------------------


@dataclass
class PingResponse:
    """Result of ``ping``: ``message`` is ``"pong: <your message>"`` (or ``"pong"``)."""

    message: str
    timestamp: datetime | None
    protocol_version: int | None
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> PingResponse:
        """Build a ``PingResponse`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            message=as_str(data.get("message")),
            timestamp=parse_timestamp(data.get("timestamp")),
            protocol_version=as_opt_int(data.get("protocolVersion")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``PingResponse`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {"message": self.message}
        put(result, "timestamp", format_timestamp(self.timestamp))
        put(result, "protocolVersion", self.protocol_version)
        return result


@dataclass
class GetStatusResponse:
    """Result of ``status.get``: the CLI's version and protocol version."""

    version: str
    protocol_version: int | None
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> GetStatusResponse:
        """Build a ``GetStatusResponse`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            version=as_str(data.get("version")),
            protocol_version=as_opt_int(data.get("protocolVersion")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``GetStatusResponse`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {"version": self.version}
        put(result, "protocolVersion", self.protocol_version)
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
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> GetAuthStatusResponse:
        """Build a ``GetAuthStatusResponse`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            is_authenticated=as_bool(data.get("isAuthenticated")),
            auth_type=as_opt_str(data.get("authType")),
            host=as_opt_str(data.get("host")),
            login=as_opt_str(data.get("login")),
            status_message=as_opt_str(data.get("statusMessage")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``GetAuthStatusResponse`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {"isAuthenticated": self.is_authenticated}
        put(result, "authType", self.auth_type)
        put(result, "host", self.host)
        put(result, "login", self.login)
        put(result, "statusMessage", self.status_message)
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
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelVisionLimits:
        """Build a ``ModelVisionLimits`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            supported_media_types=as_opt_str_list(data.get("supported_media_types")),
            max_prompt_images=as_opt_int(data.get("max_prompt_images")),
            max_prompt_image_size=as_opt_int(data.get("max_prompt_image_size")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``ModelVisionLimits`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {}
        put(result, "supported_media_types", self.supported_media_types)
        put(result, "max_prompt_images", self.max_prompt_images)
        put(result, "max_prompt_image_size", self.max_prompt_image_size)
        return result


@dataclass
class ModelLimits:
    """Token limits of a model. The wire keys are **snake_case**."""

    max_prompt_tokens: int | None = None
    max_output_tokens: int | None = None
    max_context_window_tokens: int | None = None
    vision: ModelVisionLimits | None = None
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelLimits:
        """Build a ``ModelLimits`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        vision = data.get("vision")
        return cls(
            max_prompt_tokens=as_opt_int(data.get("max_prompt_tokens")),
            max_output_tokens=as_opt_int(data.get("max_output_tokens")),
            max_context_window_tokens=as_opt_int(data.get("max_context_window_tokens")),
            vision=ModelVisionLimits.from_dict(vision) if isinstance(vision, dict) else None,
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``ModelLimits`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {}
        put(result, "max_prompt_tokens", self.max_prompt_tokens)
        put(result, "max_output_tokens", self.max_output_tokens)
        put(result, "max_context_window_tokens", self.max_context_window_tokens)
        if self.vision is not None:
            result["vision"] = self.vision.to_dict()
        return result


@dataclass
class ModelSupports:
    """What a model supports. ``adaptive_thinking`` is ``None`` when the CLI does not say."""

    vision: bool = False
    reasoning_effort: bool = False
    adaptive_thinking: bool | None = None
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelSupports:
        """Build a ``ModelSupports`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            vision=as_bool(data.get("vision")),
            reasoning_effort=as_bool(data.get("reasoningEffort")),
            adaptive_thinking=as_opt_bool(data.get("adaptive_thinking")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``ModelSupports`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {"vision": self.vision, "reasoningEffort": self.reasoning_effort}
        put(result, "adaptive_thinking", self.adaptive_thinking)
        return result


@dataclass
class ModelCapabilities:
    """A model's ``supports`` flags and ``limits``; both default to empty when absent."""

    supports: ModelSupports = field(default_factory=ModelSupports)
    limits: ModelLimits = field(default_factory=ModelLimits)
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelCapabilities:
        """Build a ``ModelCapabilities`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            supports=ModelSupports.from_dict(data.get("supports")),
            limits=ModelLimits.from_dict(data.get("limits")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``ModelCapabilities`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        return {"supports": self.supports.to_dict(), "limits": self.limits.to_dict()}


@dataclass
class ModelPolicy:
    """Whether a model may be used: ``state`` is ``enabled``, ``disabled`` or ``unconfigured``."""

    state: str
    terms: str = ""
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelPolicy:
        """Build a ``ModelPolicy`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(state=as_str(data.get("state")), terms=as_str(data.get("terms")), raw=raw_of(d))

    def to_dict(self) -> dict[str, Any]:
        """This ``ModelPolicy`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        return {"state": self.state, "terms": self.terms}


@dataclass
class ModelBilling:
    """Billing of a model: a cost ``multiplier`` and the wire ``tokenPrices`` object as is."""

    multiplier: float | None = None
    token_prices: dict[str, Any] | None = None
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelBilling:
        """Build a ``ModelBilling`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        prices = data.get("tokenPrices")
        return cls(
            multiplier=as_opt_float(data.get("multiplier")),
            token_prices=prices if is_object(prices) else None,
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``ModelBilling`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {}
        put(result, "multiplier", self.multiplier)
        put(result, "tokenPrices", self.token_prices)
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
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> ModelInfo:
        """Build a ``ModelInfo`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        model_id = as_str(data.get("id"))
        policy = data.get("policy")
        billing = data.get("billing")
        return cls(
            id=model_id,
            name=as_str(data.get("name"), model_id),
            capabilities=ModelCapabilities.from_dict(data.get("capabilities")),
            policy=ModelPolicy.from_dict(policy) if isinstance(policy, dict) else None,
            billing=ModelBilling.from_dict(billing) if isinstance(billing, dict) else None,
            supported_reasoning_efforts=as_opt_str_list(data.get("supportedReasoningEfforts")),
            default_reasoning_effort=as_opt_str(data.get("defaultReasoningEffort")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``ModelInfo`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "capabilities": self.capabilities.to_dict(),
        }
        if self.policy is not None:
            result["policy"] = self.policy.to_dict()
        if self.billing is not None:
            result["billing"] = self.billing.to_dict()
        put(result, "supportedReasoningEfforts", self.supported_reasoning_efforts)
        put(result, "defaultReasoningEffort", self.default_reasoning_effort)
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
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> SessionContext:
        """Build a ``SessionContext`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            working_directory=as_str(data.get("cwd")),
            git_root=as_opt_str(data.get("gitRoot")),
            repository=as_opt_str(data.get("repository")),
            branch=as_opt_str(data.get("branch")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``SessionContext`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {"cwd": self.working_directory}
        put(result, "gitRoot", self.git_root)
        put(result, "repository", self.repository)
        put(result, "branch", self.branch)
        return result


@dataclass
class TranscriptRecoveryReport:
    """What ``resume_session`` repaired in a damaged transcript (``session.transcript_recovery``).

    ``invalid_line_numbers`` are the 1-based lines of the transcript file that were dropped;
    the original file is backed up to ``planned_backup_path`` on the next append;
    ``session_start_moved`` says whether the ``session.start`` event was moved to the top.
    """

    planned_backup_path: str
    invalid_line_numbers: list[int] = field(default_factory=list[int])
    session_start_moved: bool = False
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> TranscriptRecoveryReport:
        """Build a report from the resume result's ``transcriptRecovery`` object."""
        data = as_dict(d)
        lines: Any = data.get("invalidLineNumbers")
        items: list[Any] = cast("list[Any]", lines) if isinstance(lines, list) else []
        numbers = [n for n in items if isinstance(n, int) and not isinstance(n, bool)]
        return cls(
            planned_backup_path=as_str(data.get("plannedBackupPath")),
            invalid_line_numbers=numbers,
            session_start_moved=as_bool(data.get("sessionStartMoved")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        return {
            "plannedBackupPath": self.planned_backup_path,
            "invalidLineNumbers": list(self.invalid_line_numbers),
            "sessionStartMoved": self.session_start_moved,
        }


@dataclass
class SessionListFilter:
    """Filter for ``session.list``; only the fields that are set are sent."""

    working_directory: str | None = None
    git_root: str | None = None
    repository: str | None = None
    branch: str | None = None
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> SessionListFilter:
        """Build a ``SessionListFilter`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            working_directory=as_opt_str(data.get("cwd")),
            git_root=as_opt_str(data.get("gitRoot")),
            repository=as_opt_str(data.get("repository")),
            branch=as_opt_str(data.get("branch")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire ``filter`` object: keys ``cwd``, ``gitRoot``, ``repository``, ``branch``."""
        result: dict[str, Any] = {}
        put(result, "cwd", self.working_directory)
        put(result, "gitRoot", self.git_root)
        put(result, "repository", self.repository)
        put(result, "branch", self.branch)
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
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> SessionMetadata:
        """Build a ``SessionMetadata`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        context = data.get("context")
        return cls(
            session_id=as_str(data.get("sessionId")),
            start_time=parse_timestamp(data.get("startTime")),
            modified_time=parse_timestamp(data.get("modifiedTime")),
            is_remote=as_bool(data.get("isRemote")),
            summary=as_opt_str(data.get("summary")),
            context=SessionContext.from_dict(context) if isinstance(context, dict) else None,
            name=as_opt_str(data.get("name")),
            client_name=as_opt_str(data.get("clientName")),
            is_detached=as_opt_bool(data.get("isDetached")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``SessionMetadata`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {"sessionId": self.session_id}
        put(result, "startTime", format_timestamp(self.start_time))
        put(result, "modifiedTime", format_timestamp(self.modified_time))
        result["isRemote"] = self.is_remote
        put(result, "isDetached", self.is_detached)
        put(result, "summary", self.summary)
        put(result, "name", self.name)
        put(result, "clientName", self.client_name)
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
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_dict(cls, d: Any) -> SessionLifecycleEventMetadata:
        """Build a ``SessionLifecycleEventMetadata`` from the CLI's JSON object (camelCase keys); missing keys become defaults."""
        data = as_dict(d)
        return cls(
            start_time=parse_timestamp(data.get("startTime")),
            modified_time=parse_timestamp(data.get("modifiedTime")),
            summary=as_opt_str(data.get("summary")),
            raw=raw_of(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """This ``SessionLifecycleEventMetadata`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
        result: dict[str, Any] = {}
        put(result, "startTime", format_timestamp(self.start_time))
        put(result, "modifiedTime", format_timestamp(self.modified_time))
        put(result, "summary", self.summary)
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
    raw: dict[str, Any] | None = raw_field()

    @classmethod
    def from_notification(cls, params: Any) -> SessionLifecycleEvent:
        """Build the event from the notification's ``params``."""
        data = as_dict(params)
        kind = data.get("type")
        metadata = data.get("metadata")
        return cls(
            type=kind if isinstance(kind, str) and kind in _LIFECYCLE_TYPES else "session.updated",
            session_id=as_str(data.get("sessionId")),
            metadata=SessionLifecycleEventMetadata.from_dict(metadata)
            if isinstance(metadata, dict)
            else None,
            raw=raw_of(params),
        )

    @classmethod
    def from_dict(cls, d: Any) -> SessionLifecycleEvent:
        """Same as :meth:`from_notification`."""
        return cls.from_notification(d)

    def to_dict(self) -> dict[str, Any]:
        """This ``SessionLifecycleEvent`` as the CLI's JSON object (camelCase keys), the inverse of ``from_dict``."""
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
