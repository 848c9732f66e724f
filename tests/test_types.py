"""Result types (``_types``): their wire shapes, round trips, and junk."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any, get_args

import pytest

from copilot_sync._types import (
    ConnectionState,
    GetAuthStatusResponse,
    GetStatusResponse,
    ModelBilling,
    ModelCapabilities,
    ModelInfo,
    ModelLimits,
    ModelPolicy,
    ModelSupports,
    ModelVisionLimits,
    PingResponse,
    SessionContext,
    SessionLifecycleEvent,
    SessionLifecycleEventMetadata,
    SessionLifecycleEventType,
    SessionListFilter,
    SessionMetadata,
    parse_timestamp,
)

UTC = timezone.utc

ALL_DATACLASSES = [
    PingResponse,
    GetStatusResponse,
    GetAuthStatusResponse,
    ModelVisionLimits,
    ModelLimits,
    ModelSupports,
    ModelCapabilities,
    ModelPolicy,
    ModelBilling,
    ModelInfo,
    SessionContext,
    SessionListFilter,
    SessionMetadata,
    SessionLifecycleEventMetadata,
    SessionLifecycleEvent,
]

# --- observed wire shapes ---------------------------------

PING = {
    "message": "pong: hello",
    "timestamp": "2026-11-21T02:13:08.857338518Z",
    "protocolVersion": 3,
}
STATUS = {"version": "1.0.81", "protocolVersion": 3}
AUTH_NO = {"isAuthenticated": False, "statusMessage": "Not authenticated"}
AUTH_YES = {
    "isAuthenticated": True,
    "authType": "gh-cli",
    "host": "https://github.com",
    "login": "octocat",
    "statusMessage": "Logged in",
}
MODEL_FULL = {
    "id": "claude-sonnet-4.5",
    "name": "Claude Sonnet 4.5",
    "capabilities": {
        "supports": {"vision": True, "reasoningEffort": True, "adaptive_thinking": True},
        "limits": {
            "max_prompt_tokens": 128000,
            "max_output_tokens": 16000,
            "max_context_window_tokens": 200000,
            "vision": {
                "supported_media_types": ["image/png", "image/jpeg"],
                "max_prompt_images": 5,
                "max_prompt_image_size": 3145728,
            },
        },
    },
    "policy": {"state": "enabled", "terms": "Enable access to the latest Claude model."},
    "billing": {"multiplier": 1, "tokenPrices": {"input": 3.0, "output": 15.0}},
    "supportedReasoningEfforts": ["low", "medium", "high"],
    "defaultReasoningEffort": "medium",
    "modelPickerCategory": "powerful",
    "supportedContextTiers": ["default"],
}
MODEL_BARE = {"id": "gpt-4o", "name": "GPT-4o", "capabilities": {}}
MODEL_SUPPORTS_ONLY = {"id": "o1", "name": "o1", "capabilities": {"supports": {"vision": False}}}
SESSION_ENTRY = {
    "sessionId": "3333aaaa-0000-4000-8000-000000000001",
    "startTime": "2026-11-21T02:10:00.123Z",
    "modifiedTime": "2026-11-21T02:13:08.857338518Z",
    "isRemote": False,
    "isDetached": False,
    "summary": "Weather in Paris",
    "name": "weather",
    "clientName": "sdk",
    "context": {"cwd": "/w", "gitRoot": "/w", "repository": "octo/hello", "branch": "main"},
}
SESSION_ENTRY_MINIMAL = {
    "sessionId": "3333aaaa-0000-4000-8000-000000000002",
    "startTime": "2026-11-21T02:10:00Z",
    "modifiedTime": "2026-11-21T02:10:00Z",
    "isRemote": False,
    "isDetached": False,
}
LIFECYCLE_CREATED = {
    "type": "session.created",
    "sessionId": "3333aaaa-0000-4000-8000-000000000001",
    "metadata": {
        "startTime": "2026-11-21T02:10:00.123Z",
        "modifiedTime": "2026-11-21T02:10:00.123Z",
    },
}
LIFECYCLE_UPDATED = {
    "type": "session.updated",
    "sessionId": "3333aaaa-0000-4000-8000-000000000001",
    "metadata": {
        "startTime": "2026-11-21T02:10:00.123Z",
        "modifiedTime": "2026-11-21T02:13:08.857Z",
        "summary": "Weather in Paris",
    },
}
LIFECYCLE_DELETED = {"type": "session.deleted", "sessionId": "3333aaaa-0000-4000-8000-000000000001"}


# --- timestamps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T02:13:08.857338518Z", datetime(2026, 11, 21, 2, 13, 8, 857338, tzinfo=UTC)),
        ("2026-11-21T02:13:08.857Z", datetime(2026, 11, 21, 2, 13, 8, 857000, tzinfo=UTC)),
        ("2026-11-21T02:13:08.8Z", datetime(2026, 11, 21, 2, 13, 8, 800000, tzinfo=UTC)),
        ("2026-11-21T02:13:08Z", datetime(2026, 11, 21, 2, 13, 8, tzinfo=UTC)),
        ("2026-11-21T02:13:08z", datetime(2026, 11, 21, 2, 13, 8, tzinfo=UTC)),
        ("2026-11-21T02:13:08.123456+00:00", datetime(2026, 11, 21, 2, 13, 8, 123456, tzinfo=UTC)),
        (
            "2026-11-21T04:13:08.5+02:00",
            datetime(2026, 11, 21, 4, 13, 8, 500000, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2026-11-21T04:13:08+0200", datetime(2026, 11, 21, 2, 13, 8, tzinfo=UTC)),  # via dateutil
        ("2026-11-21T02:13:08", datetime(2026, 11, 21, 2, 13, 8, tzinfo=UTC)),  # naive means UTC
        ("1732156388857", datetime(2024, 11, 21, 2, 33, 8, 857000, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_strings(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


def test_parse_timestamp_epoch_ms_numbers() -> None:
    assert parse_timestamp(1732156388857) == datetime(2024, 11, 21, 2, 33, 8, 857000, tzinfo=UTC)
    assert parse_timestamp(1732156388857.5) == datetime(2024, 11, 21, 2, 33, 8, 857500, tzinfo=UTC)
    assert parse_timestamp(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_parse_timestamp_datetimes() -> None:
    aware = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_timestamp(aware) is aware
    assert parse_timestamp(datetime(2026, 1, 1)) == aware


@pytest.mark.parametrize(
    "junk", [None, "", "   ", "yesterday", "2026-13-45T99:99:99Z", True, [], {}, 1e30, object()]
)
def test_parse_timestamp_junk_is_none(junk: Any) -> None:
    assert parse_timestamp(junk) is None


# --- client-level responses ------------------------------------------------------------------


def test_ping_with_nanosecond_timestamp() -> None:
    ping = PingResponse.from_dict(PING)
    assert ping.message == "pong: hello"
    assert ping.timestamp == datetime(2026, 11, 21, 2, 13, 8, 857338, tzinfo=UTC)
    assert ping.protocol_version == 3
    assert ping.raw is PING
    assert ping.to_dict() == {**PING, "timestamp": "2026-11-21T02:13:08.857338Z"}


def test_ping_epoch_ms_and_missing_fields() -> None:
    ping = PingResponse.from_dict(
        {"message": "pong", "timestamp": 1732156388857, "protocolVersion": 3}
    )
    assert ping.timestamp == datetime(2024, 11, 21, 2, 33, 8, 857000, tzinfo=UTC)
    empty = PingResponse.from_dict({})
    assert (empty.message, empty.timestamp, empty.protocol_version) == ("", None, None)
    assert empty.to_dict() == {"message": ""}


def test_status() -> None:
    status = GetStatusResponse.from_dict(STATUS)
    assert status == GetStatusResponse(version="1.0.81", protocol_version=3)
    assert status.to_dict() == STATUS


def test_auth_status_unauthenticated() -> None:
    auth = GetAuthStatusResponse.from_dict(AUTH_NO)
    assert auth.is_authenticated is False
    assert auth.status_message == "Not authenticated"
    assert (auth.auth_type, auth.host, auth.login) == (None, None, None)
    assert auth.to_dict() == AUTH_NO


def test_auth_status_authenticated() -> None:
    auth = GetAuthStatusResponse.from_dict(AUTH_YES)
    assert auth == GetAuthStatusResponse(
        True, "gh-cli", "https://github.com", "octocat", "Logged in"
    )
    assert auth.to_dict() == AUTH_YES


# --- models ------------------------------------------------------------------------------


def test_model_full() -> None:
    model = ModelInfo.from_dict(MODEL_FULL)
    assert model.id == "claude-sonnet-4.5" and model.name == "Claude Sonnet 4.5"
    caps = model.capabilities
    assert caps.supports == ModelSupports(
        vision=True, reasoning_effort=True, adaptive_thinking=True
    )
    assert caps.limits.max_prompt_tokens == 128000
    assert caps.limits.max_output_tokens == 16000
    assert caps.limits.max_context_window_tokens == 200000
    assert caps.limits.vision == ModelVisionLimits(["image/png", "image/jpeg"], 5, 3145728)
    assert model.policy == ModelPolicy("enabled", "Enable access to the latest Claude model.")
    assert model.billing is not None
    assert model.billing.multiplier == 1.0 and isinstance(model.billing.multiplier, float)
    assert model.billing.token_prices == {"input": 3.0, "output": 15.0}
    assert model.supported_reasoning_efforts == ["low", "medium", "high"]
    assert model.default_reasoning_effort == "medium"
    # schema extras are not lost
    assert model.raw is not None and model.raw["modelPickerCategory"] == "powerful"


def test_model_without_limits_or_supports() -> None:
    model = ModelInfo.from_dict(MODEL_BARE)
    assert model.capabilities == ModelCapabilities(ModelSupports(), ModelLimits())
    assert model.capabilities.limits.max_context_window_tokens is None
    assert model.capabilities.supports.vision is False
    assert model.policy is None and model.billing is None
    assert model.supported_reasoning_efforts is None
    only_supports = ModelInfo.from_dict(MODEL_SUPPORTS_ONLY)
    assert only_supports.capabilities.limits == ModelLimits()


def test_model_without_capabilities_at_all() -> None:
    model = ModelInfo.from_dict({"id": "x"})
    assert model.name == "x"  # the id stands in for a missing display name
    assert model.capabilities == ModelCapabilities()


def test_model_limits_are_snake_case_on_the_wire() -> None:
    limits = ModelLimits(max_prompt_tokens=1000, max_context_window_tokens=2000)
    assert limits.to_dict() == {"max_prompt_tokens": 1000, "max_context_window_tokens": 2000}
    # camelCase keys (what the official SDK wrongly sends) are not read as limits
    assert ModelLimits.from_dict({"maxPromptTokens": 5}).max_prompt_tokens is None


@pytest.mark.parametrize("wire", [MODEL_FULL, MODEL_BARE, MODEL_SUPPORTS_ONLY])
def test_model_round_trip(wire: dict[str, Any]) -> None:
    model = ModelInfo.from_dict(wire)
    again = ModelInfo.from_dict(model.to_dict())
    assert again == model
    assert again.to_dict() == model.to_dict()


def test_model_to_dict_shape() -> None:
    out = ModelInfo.from_dict(MODEL_FULL).to_dict()
    expected = {
        k: v
        for k, v in MODEL_FULL.items()
        if k not in ("modelPickerCategory", "supportedContextTiers")
    }
    expected["billing"] = {"multiplier": 1.0, "tokenPrices": {"input": 3.0, "output": 15.0}}
    assert out == expected
    assert ModelInfo.from_dict(MODEL_BARE).to_dict() == {
        "id": "gpt-4o",
        "name": "GPT-4o",
        "capabilities": {"supports": {"vision": False, "reasoningEffort": False}, "limits": {}},
    }


# --- sessions --------------------------------------------------------------------------


def test_session_list_entry() -> None:
    meta = SessionMetadata.from_dict(SESSION_ENTRY)
    assert meta.session_id == SESSION_ENTRY["sessionId"]
    assert meta.start_time == datetime(2026, 11, 21, 2, 10, 0, 123000, tzinfo=UTC)
    assert meta.modified_time == datetime(2026, 11, 21, 2, 13, 8, 857338, tzinfo=UTC)
    assert meta.is_remote is False and meta.is_detached is False
    assert (meta.summary, meta.name, meta.client_name) == ("Weather in Paris", "weather", "sdk")
    assert meta.context == SessionContext(
        working_directory="/w", git_root="/w", repository="octo/hello", branch="main"
    )
    assert meta.context is not None and meta.context.to_dict() == SESSION_ENTRY["context"]


def test_session_list_entry_minimal() -> None:
    meta = SessionMetadata.from_dict(SESSION_ENTRY_MINIMAL)
    assert (
        meta.summary is None
        and meta.context is None
        and meta.name is None
        and meta.client_name is None
    )
    assert meta.to_dict() == SESSION_ENTRY_MINIMAL


@pytest.mark.parametrize("wire", [SESSION_ENTRY, SESSION_ENTRY_MINIMAL])
def test_session_metadata_round_trip(wire: dict[str, Any]) -> None:
    meta = SessionMetadata.from_dict(wire)
    assert SessionMetadata.from_dict(meta.to_dict()) == meta


def test_session_metadata_to_dict_times() -> None:
    out = SessionMetadata.from_dict(SESSION_ENTRY).to_dict()
    assert out["startTime"] == "2026-11-21T02:10:00.123000Z"
    assert out["modifiedTime"] == "2026-11-21T02:13:08.857338Z"
    assert out["context"] == SESSION_ENTRY["context"]


def test_session_context_only_cwd() -> None:
    context = SessionContext.from_dict({"cwd": "/tmp/x"})
    assert context == SessionContext("/tmp/x")
    assert context.to_dict() == {"cwd": "/tmp/x"}


def test_session_list_filter() -> None:
    assert SessionListFilter().to_dict() == {}
    full = SessionListFilter(working_directory="/w", git_root="/g", repository="o/r", branch="b")
    assert full.to_dict() == {"cwd": "/w", "gitRoot": "/g", "repository": "o/r", "branch": "b"}
    assert SessionListFilter(repository="o/r").to_dict() == {"repository": "o/r"}
    assert SessionListFilter.from_dict(full.to_dict()) == full


# --- lifecycle ---------------------------------------------------------------------------


def test_lifecycle_created() -> None:
    event = SessionLifecycleEvent.from_notification(LIFECYCLE_CREATED)
    assert event.type == "session.created"
    assert event.session_id == LIFECYCLE_CREATED["sessionId"]
    assert event.metadata == SessionLifecycleEventMetadata(
        start_time=datetime(2026, 11, 21, 2, 10, 0, 123000, tzinfo=UTC),
        modified_time=datetime(2026, 11, 21, 2, 10, 0, 123000, tzinfo=UTC),
    )


def test_lifecycle_updated_with_summary() -> None:
    event = SessionLifecycleEvent.from_notification(LIFECYCLE_UPDATED)
    assert event.type == "session.updated"
    assert event.metadata is not None and event.metadata.summary == "Weather in Paris"


def test_lifecycle_deleted_has_no_metadata() -> None:
    event = SessionLifecycleEvent.from_notification(LIFECYCLE_DELETED)
    assert event == SessionLifecycleEvent("session.deleted", LIFECYCLE_DELETED["sessionId"], None)
    assert event.to_dict() == LIFECYCLE_DELETED


@pytest.mark.parametrize("kind", ["session.foreground", "session.background"])
def test_lifecycle_ui_server_kinds(kind: str) -> None:
    assert SessionLifecycleEvent.from_notification({"type": kind, "sessionId": "s"}).type == kind


@pytest.mark.parametrize("kind", ["session.renamed", "", None, 42])
def test_lifecycle_unknown_type_becomes_updated(kind: Any) -> None:
    params = {"type": kind, "sessionId": "s", "metadata": LIFECYCLE_UPDATED["metadata"]}
    event = SessionLifecycleEvent.from_notification(params)
    assert event.type == "session.updated"
    assert event.raw is not None and event.raw["type"] == kind  # the original is kept
    assert event.metadata is not None and event.metadata.summary == "Weather in Paris"


def test_lifecycle_type_literal() -> None:
    assert set(get_args(SessionLifecycleEventType)) == {
        "session.created",
        "session.deleted",
        "session.updated",
        "session.foreground",
        "session.background",
    }


@pytest.mark.parametrize("wire", [LIFECYCLE_CREATED, LIFECYCLE_UPDATED, LIFECYCLE_DELETED])
def test_lifecycle_round_trip(wire: dict[str, Any]) -> None:
    event = SessionLifecycleEvent.from_dict(wire)
    assert SessionLifecycleEvent.from_dict(event.to_dict()) == event


# --- ConnectionState -------------------------------------------------------------------


def test_connection_state() -> None:
    assert [s.value for s in ConnectionState] == [
        "disconnected",
        "connecting",
        "connected",
        "error",
    ]
    assert ConnectionState("connected") is ConnectionState.CONNECTED
    assert ConnectionState.ERROR == "error"
    assert str(ConnectionState.CONNECTING) == "connecting"


# --- junk tolerance and common behaviour --------------------------------------------------------

JUNK_VALUES: list[Any] = [None, 42, "text", [1, 2], {}, {"unexpected": {"deep": [1]}}]

JUNK_FIELDS = {
    "message": 5,
    "timestamp": "not a time",
    "protocolVersion": "three",
    "version": 1.5,
    "isAuthenticated": "yes",
    "authType": 7,
    "id": None,
    "name": ["x"],
    "capabilities": "all",
    "supports": 1,
    "limits": [],
    "vision": "maybe",
    "max_prompt_tokens": "lots",
    "max_output_tokens": True,
    "supported_media_types": "image/png",
    "policy": "enabled",
    "billing": 3,
    "multiplier": "x",
    "tokenPrices": [1],
    "supportedReasoningEfforts": ["low", 3, None],
    "sessionId": 12,
    "startTime": {},
    "modifiedTime": [],
    "isRemote": "false",
    "isDetached": 0,
    "context": "here",
    "cwd": None,
    "type": 3,
    "metadata": "none",
}


@pytest.mark.parametrize("cls", ALL_DATACLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("junk", [*JUNK_VALUES, JUNK_FIELDS], ids=range(len(JUNK_VALUES) + 1))
def test_from_dict_never_raises(cls: Any, junk: Any) -> None:
    obj = cls.from_dict(junk)
    assert isinstance(obj, cls)
    wire = obj.to_dict()
    assert isinstance(wire, dict)
    assert cls.from_dict(wire) == obj
    repr(obj)


def test_junk_fields_get_defaults() -> None:
    model = ModelInfo.from_dict(JUNK_FIELDS)
    assert model.id == "" and model.name == ""
    assert model.capabilities == ModelCapabilities()
    assert model.policy is None and model.billing is None
    assert model.supported_reasoning_efforts == ["low"]
    meta = SessionMetadata.from_dict(JUNK_FIELDS)
    assert meta.session_id == "" and meta.start_time is None and meta.is_remote is False
    assert meta.is_detached is None and meta.context is None
    assert GetAuthStatusResponse.from_dict(JUNK_FIELDS).is_authenticated is False
    limits = ModelLimits.from_dict({"max_prompt_tokens": 1000.0, "max_output_tokens": "2000"})
    assert (limits.max_prompt_tokens, limits.max_output_tokens) == (1000, 2000)


@pytest.mark.parametrize("cls", ALL_DATACLASSES, ids=lambda c: c.__name__)
def test_raw_field_is_kept_but_not_compared_or_shown(cls: Any) -> None:
    raw_field = {f.name: f for f in dataclasses.fields(cls)}["raw"]
    assert raw_field.default is None and raw_field.repr is False and raw_field.compare is False
    wire = {"unknownField": {"nested": True}}
    obj = cls.from_dict(wire)
    assert obj.raw is wire
    assert "unknownField" not in repr(obj)
    assert cls.from_dict({}) == obj


def test_non_dict_raw_is_none() -> None:
    assert PingResponse.from_dict(["x"]).raw is None


def test_repr_is_readable() -> None:
    text = repr(SessionMetadata.from_dict(SESSION_ENTRY))
    assert text.startswith("SessionMetadata(session_id='3333aaaa-")
    assert "raw=" not in text
