"""Tests for the session-event runtime (``copilot_sync._events``) and the generated
payload classes (``copilot_sync.generated.session_events``)."""

from __future__ import annotations

import copy
import importlib.util
import inspect
import json
import logging
import os
import pickle
import subprocess
import sys
import types
import typing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot_sync import _events, _records
from copilot_sync._events import (
    RawEventData,
    SessionEvent,
    SessionEventBase,
    UnknownSessionEvent,
    event_type_names,
    parse_datetime,
    parse_event,
)
from copilot_sync._versions import DEFAULT_CLI_VERSION
from copilot_sync.generated import session_events as gen
from copilot_sync.generated.session_events import (
    EVENT_CLASSES,
    EVENT_DATA_TYPES,
    AssistantMessageData,
    AssistantMessageToolRequest,
    PermissionRequest,
    PermissionRequestCustomTool,
    SessionEventType,
)

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "scripts" / "generate_events.py"
GENERATED = REPO / "src" / "copilot_sync" / "generated" / "session_events.py"
LOGGER = "copilot_sync.events"
EXTRA_TYPES = [
    "model.turn_started",
    "model.turn_ended",
    "model.turn_failed",
    "model.turn_retry",
    "model.model_call_started",
    "model.model_call_success",
    "model.model_call_failure",
    "model.message",
    "model.response",
    "model.messages_snapshot",
    "model.tool_execution",
    "model.log",
]


def envelope(event_type: str, data: Any, **extra: Any) -> dict[str, Any]:
    event = {
        "id": "1e55a6f0-0000-4000-8000-000000000001",
        "timestamp": "2026-08-21T10:15:30.123Z",
        "parentId": None,
        "type": event_type,
        "data": data,
    }
    event.update(extra)
    return event


def load_generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("_generate_events_under_test", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses needs the module registered
    spec.loader.exec_module(module)
    return module


def schema_path() -> Path | None:
    explicit = os.environ.get("COPILOT_SYNC_EVENTS_SCHEMA")
    if explicit:
        return Path(explicit)
    return load_generator().default_schema_path()


# --------------------------------------------------------------------------- real-looking events


def test_assistant_message_with_tool_requests() -> None:
    raw = envelope(
        "assistant.message",
        {
            "messageId": "b73d0c1e",
            "model": "gpt-4o",
            "content": "",
            "toolRequests": [
                {
                    "toolCallId": "call_c6",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                    "type": "function",
                    "intentionSummary": None,
                }
            ],
            "interactionId": "e854",
            "turnId": "0",
            "apiCallId": "chatcmpl-4a79",
        },
    )
    event = parse_event(raw)
    assert isinstance(event, SessionEvent)
    assert not hasattr(event, "__dict__")  # slotted: cheap to build
    assert event.type is SessionEventType.ASSISTANT_MESSAGE
    assert event.raw_type == "assistant.message"
    assert event.id == "1e55a6f0-0000-4000-8000-000000000001"
    assert event.parent_id is None
    assert event.ephemeral is False
    assert event.agent_id is None
    data = event.data
    assert isinstance(data, AssistantMessageData)
    assert data.message_id == "b73d0c1e"
    assert data.content == ""
    assert data.model == "gpt-4o"
    assert data.turn_id == "0"
    assert data.api_call_id == "chatcmpl-4a79"
    assert data.reasoning_text is None
    [request] = data.tool_requests
    assert isinstance(request, AssistantMessageToolRequest)
    assert request.tool_call_id == "call_c6"
    assert request.name == "get_weather"
    assert request.arguments == {"city": "Paris"}
    assert request.type == "function"
    assert request.intention_summary is None
    assert request.raw is raw["data"]["toolRequests"][0]
    assert event.data is data  # cached


def test_session_start() -> None:
    raw = envelope(
        "session.start",
        {
            "sessionId": "3333",
            "version": 1,
            "producer": "copilot-agent",
            "copilotVersion": "0.0.0",
            "startTime": "2026-08-21T10:15:29.001Z",
            "selectedModel": "gpt-4o",
            "contextTier": None,
            "context": {"cwd": "/w", "gitRoot": "/w", "branch": "main"},
        },
    )
    data = parse_event(raw).data
    assert type(data).__name__ == "SessionStartData"
    assert data.session_id == "3333"
    assert data.version == 1
    assert data.producer == "copilot-agent"
    assert data.start_time == datetime(2026, 8, 21, 10, 15, 29, 1000, tzinfo=timezone.utc)
    assert data.selected_model == "gpt-4o"
    assert data.context_tier is None
    assert type(data.context).__name__ == "WorkingDirectoryContext"
    assert (data.context.cwd, data.context.git_root, data.context.branch) == ("/w", "/w", "main")
    assert data.context.head_commit is None


def test_session_error() -> None:
    message = "Execution failed: InvalidArg, No GitHub OAuth token or Copilot HMAC key provided"
    event = parse_event(
        envelope("session.error", {"errorType": "query", "message": message, "statusCode": 401})
    )
    assert event.type == SessionEventType.SESSION_ERROR
    assert type(event.data).__name__ == "SessionErrorData"
    assert event.data.error_type == "query"
    assert event.data.message == message
    assert event.data.status_code == 401
    assert event.data.stack is None


def test_session_idle() -> None:
    event = parse_event(envelope("session.idle", {"mode": "interactive"}, ephemeral=True))
    assert event.type == "session.idle"
    assert event.ephemeral is True
    assert event.data.mode == "interactive"
    assert event.data.aborted is None
    aborted = parse_event(
        envelope("session.idle", {"aborted": True}, ephemeral=True, agentId="sub-1")
    )
    assert aborted.data.aborted is True
    assert aborted.agent_id == "sub-1"


def test_ephemeral_is_strictly_true() -> None:
    assert parse_event(envelope("session.idle", {}, ephemeral="yes")).ephemeral is False
    assert parse_event(envelope("session.idle", {})).ephemeral is False


def test_union_payload_dispatches_on_discriminator() -> None:
    event = parse_event(
        envelope(
            "permission.requested",
            {
                "requestId": "927f",
                "permissionRequest": {
                    "kind": "custom-tool",
                    "toolCallId": "call_c6",
                    "toolName": "get_weather",
                    "toolDescription": "Get weather for a city",
                    "args": {"city": "Paris"},
                },
            },
        )
    )
    request = event.data.permission_request
    assert isinstance(request, PermissionRequestCustomTool)
    assert isinstance(request, PermissionRequest)
    assert (request.kind, request.tool_name, request.args) == (
        "custom-tool",
        "get_weather",
        {"city": "Paris"},
    )


def test_union_unknown_variant_keeps_raw(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    payload = {"kind": "teleport", "toolCallId": "c1", "destination": "moon"}
    event = parse_event(
        envelope("permission.requested", {"requestId": "r", "permissionRequest": payload})
    )
    request = event.data.permission_request
    assert type(request) is PermissionRequest
    assert request.raw is payload
    assert request.kind == "teleport"
    assert request.tool_call_id == "c1"  # snake_case attribute → camelCase key
    with pytest.raises(AttributeError):
        request.nothing_here
    assert "teleport" in repr(request)
    assert any("teleport" in r.getMessage() for r in caplog.records)


def test_event_payload_that_is_a_union() -> None:
    data = parse_event(
        envelope(
            "sandbox.decision", {"kind": "spawn_completed", "control": "shell", "durationMs": 12.5}
        )
    ).data
    assert type(data).__name__ == "SandboxDecisionSpawnCompletedData"
    assert isinstance(data, gen.SandboxDecisionData)
    assert data.duration_ms == 12.5
    assert data.control == "shell"


def test_shared_payload_gets_an_event_named_subclass() -> None:
    data = parse_event(envelope("session.context_changed", {"cwd": "/w", "branch": "dev"})).data
    assert type(data).__name__ == "SessionContextChangedData"
    assert isinstance(data, gen.WorkingDirectoryContext)
    assert (data.cwd, data.branch) == ("/w", "dev")
    assert type(data).wire_names()["git_root"] == "gitRoot"
    for event_type in (
        "mcp.tools.list_changed",
        "mcp.resources.list_changed",
        "mcp.prompts.list_changed",
    ):
        parsed = parse_event(envelope(event_type, {"serverName": "gh"})).data
        assert isinstance(parsed, gen.McpListChangedData)
        assert parsed.server_name == "gh"


# --------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2026-08-21T10:15:30.123Z",
            datetime(2026, 8, 21, 10, 15, 30, 123000, tzinfo=timezone.utc),
        ),
        (
            "2026-08-21T10:15:30.123456789Z",
            datetime(2026, 8, 21, 10, 15, 30, 123456, tzinfo=timezone.utc),
        ),
        (
            "2026-08-21T10:15:30.123456789+00:00",
            datetime(2026, 8, 21, 10, 15, 30, 123456, tzinfo=timezone.utc),
        ),
        ("2026-08-21T10:15:30Z", datetime(2026, 8, 21, 10, 15, 30, tzinfo=timezone.utc)),
        ("2026-08-21T10:15:30.5Z", datetime(2026, 8, 21, 10, 15, 30, 500000, tzinfo=timezone.utc)),
        (
            "2026-08-21T12:15:30.123+02:00",
            datetime(2026, 8, 21, 12, 15, 30, 123000, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2026-08-21T10:15:30.123", datetime(2026, 8, 21, 10, 15, 30, 123000)),
    ],
)
def test_timestamps(text: str, expected: datetime) -> None:
    event = parse_event(envelope("session.idle", {}, timestamp=text))
    assert event.timestamp == expected
    assert event.timestamp.utcoffset() == expected.utcoffset()
    assert event.timestamp is event.timestamp  # parsed once
    assert parse_datetime(text) == expected


def test_utc_is_timezone_utc_on_every_path() -> None:
    for text in ("2026-08-21T10:15:30.123Z", "2026-08-21T10:15:30.123456789Z", "20260821T101530Z"):
        assert parse_datetime(text).tzinfo is timezone.utc, text


@pytest.mark.parametrize(
    "value", ["", "not a date", "2026-13-45T99:99:99Z", "Z", 1724235330, None, ["x"]]
)
def test_bad_or_missing_timestamps_are_none(value: Any) -> None:
    assert parse_event(envelope("session.idle", {}, timestamp=value)).timestamp is None
    assert parse_datetime(value) is None
    raw = envelope("session.idle", {})
    del raw["timestamp"]
    assert parse_event(raw).timestamp is None


# --------------------------------------------------------------------------- forward compatibility


def test_unknown_type(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    raw = envelope("future.thing_happened", {"someValue": 1, "other_key": [1, 2]})
    first = parse_event(raw)
    second = parse_event(dict(raw))
    assert first.type is SessionEventType.UNKNOWN
    assert first.raw_type == "future.thing_happened"
    assert first.type != "future.thing_happened"
    data = first.data
    assert isinstance(data, RawEventData)
    assert data.raw is raw["data"]
    assert data.some_value == 1
    assert data.someValue == 1
    assert data.other_key == [1, 2]
    assert data.get("missing", "dflt") == "dflt"
    assert data.get("some_value") == 1
    with pytest.raises(AttributeError):
        data.missing
    assert "some_value" in dir(data)
    assert first.to_dict() == raw
    assert second.data == first.data
    messages = [r.getMessage() for r in caplog.records if "future.thing_happened" in r.getMessage()]
    assert len(messages) == 1  # logged once per type string


@pytest.mark.parametrize("event_type", EXTRA_TYPES)
def test_types_sent_by_the_cli_but_missing_from_the_schema(event_type: str) -> None:
    event = parse_event(envelope(event_type, {"turnId": "1"}, ephemeral=True))
    assert event.type is not SessionEventType.UNKNOWN
    assert event.type == event_type
    assert EVENT_DATA_TYPES[event_type] is RawEventData
    assert isinstance(event.data, RawEventData)
    assert event.data.turn_id == "1"
    assert event_type in event_type_names()


@pytest.mark.parametrize("value", [None, 42, ["assistant.message"], {"a": 1}])
def test_non_string_type(value: Any) -> None:
    raw = envelope("x", {"content": "hi"})
    raw["type"] = value
    event = parse_event(raw)
    assert event.type is SessionEventType.UNKNOWN
    assert event.raw_type == ""
    assert isinstance(event.data, RawEventData)
    assert event.to_dict() == raw


def test_unknown_fields_are_ignored_but_kept() -> None:
    payload = {"messageId": "m", "content": "hi", "brandNewField": {"x": 1}}
    data = parse_event(envelope("assistant.message", payload)).data
    assert data.content == "hi"
    assert not hasattr(data, "brand_new_field")
    assert data.raw["brandNewField"] == {"x": 1}
    assert data.to_dict()["brandNewField"] == {"x": 1}


def test_missing_fields_are_none(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    data = parse_event(envelope("assistant.message", {"content": "hi"})).data
    assert data.message_id is None
    assert data.tool_requests is None
    assert any(
        "messageId" in r.getMessage() and "missing" in r.getMessage() for r in caplog.records
    )
    assert all(r.levelno == logging.DEBUG for r in caplog.records)
    for payload in (None, [], "text", 5):
        raw = envelope("assistant.message", payload)
        if payload is None:
            del raw["data"]
        data = parse_event(raw).data
        assert isinstance(data, AssistantMessageData)
        assert data.content is None
        assert data.raw == {}


def test_wrong_types_are_kept_as_received(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    payload = {
        "messageId": 12,
        "content": ["not", "a", "string"],
        "chunkIndex": True,  # bool is not an integer here
        "outputTokens": 1.5,
        "rte": "yes",
        "toolRequests": [{"toolCallId": "c1", "name": "n"}, "junk", None, {"toolCallId": 7}],
        "serverTools": "oops",
    }
    data = parse_event(envelope("assistant.message", payload)).data
    assert data.message_id == 12
    assert data.content == ["not", "a", "string"]
    assert data.chunk_index is True
    assert data.output_tokens == 1.5
    assert data.rte == "yes"
    assert data.server_tools == "oops"
    first, junk, none, partial = data.tool_requests
    assert isinstance(first, AssistantMessageToolRequest) and first.tool_call_id == "c1"
    assert junk == "junk" and none is None
    assert isinstance(partial, AssistantMessageToolRequest) and partial.tool_call_id == 7
    assert any("messageId" in r.getMessage() for r in caplog.records)
    assert all(r.levelno == logging.DEBUG for r in caplog.records)
    bad_list = parse_event(envelope("assistant.message", {"toolRequests": {"a": 1}})).data
    assert bad_list.tool_requests == {"a": 1}


def test_bad_date_time_field_is_kept_as_string() -> None:
    data = parse_event(envelope("session.start", {"startTime": "yesterday", "version": "1"})).data
    assert data.start_time == "yesterday"
    assert data.version == "1"


def test_numbers_stay_int_or_float() -> None:
    data = parse_event(
        envelope("assistant.usage", {"model": "m", "inputTokens": 10, "cost": 1, "duration": 2.5})
    ).data
    assert data.input_tokens == 10 and type(data.input_tokens) is int
    assert data.cost == 1 and type(data.cost) is int  # "number": an int stays an int
    assert data.duration == 2.5


def test_duplicate_deliveries() -> None:
    raw = envelope("session.resume", {"resumeTime": "2026-08-21T10:15:30.123Z", "eventCount": 3})
    first, second = parse_event(raw), parse_event(copy.deepcopy(raw))
    assert first is not second
    assert first.id == second.id
    assert first.data == second.data
    assert first.data is not second.data
    assert first.data.event_count == 3
    assert first.raw is raw  # not copied
    assert first.data.raw is raw["data"]


def test_parse_event_rejects_non_dicts() -> None:
    for value in (None, [], "event", 3, b"{}"):
        with pytest.raises(TypeError):
            parse_event(value)  # type: ignore[arg-type]


def test_empty_dict() -> None:
    event = parse_event({})
    assert event.type is SessionEventType.UNKNOWN
    assert (event.id, event.parent_id, event.agent_id, event.timestamp) == (None, None, None, None)
    assert event.ephemeral is False
    assert isinstance(event.data, RawEventData)
    assert event.to_dict() == {}


# --------------------------------------------------------------------------- round trips, enum, repr


def test_to_dict_round_trip() -> None:
    raws = [
        envelope(
            "assistant.message",
            {
                "messageId": "m",
                "content": "x",
                "toolRequests": [{"toolCallId": "c", "name": "n", "arguments": {}}],
            },
            ephemeral=False,
            agentId="a",
        ),
        envelope(
            "session.start",
            {
                "sessionId": "s",
                "version": 1,
                "startTime": "2026-08-21T10:15:29.001Z",
                "context": {"cwd": "/w"},
                "contextTier": None,
            },
        ),
        envelope("brand.new", {"anything": [1, {"b": None}]}),
        envelope("model.log", {"level": "info"}),
    ]
    for raw in raws:
        event = parse_event(raw)
        event.data
        event.timestamp
        assert event.to_dict() == raw
        assert event.to_dict() is not raw
        assert parse_event(event.to_dict()).raw_type == raw["type"]
        assert event.data.to_dict() == raw["data"]


def test_to_dict_of_hand_built_payloads() -> None:
    request = AssistantMessageToolRequest("c1", "get_weather", arguments={"city": "Paris"})
    data = AssistantMessageData(message_id="m", content="hi", tool_requests=[request])
    assert data.raw == {}
    assert data.to_dict() == {
        "messageId": "m",
        "content": "hi",
        "toolRequests": [
            {"toolCallId": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}
        ],
    }
    start = gen.SessionStartData(
        start_time=datetime(2026, 8, 21, 10, 0, 0, 5000, tzinfo=timezone.utc)
    )
    assert start.to_dict() == {"startTime": "2026-08-21T10:00:00.005Z"}
    with pytest.raises(TypeError):
        AssistantMessageData(bogus=1)
    assert AssistantMessageData("m", "hi") == AssistantMessageData(message_id="m", content="hi")
    assert AssistantMessageData("m", "hi") != AssistantMessageData("m", "ho")


def test_session_event_type_enum() -> None:
    assert SessionEventType("assistant.message") is SessionEventType.ASSISTANT_MESSAGE
    assert SessionEventType("no.such.type") is SessionEventType.UNKNOWN
    assert SessionEventType(42) is SessionEventType.UNKNOWN
    assert SessionEventType.UNKNOWN.value == "unknown"
    assert SessionEventType.MCP_TOOLS_LIST_CHANGED == "mcp.tools.list_changed"
    assert SessionEventType.MODEL_MESSAGES_SNAPSHOT == "model.messages_snapshot"
    assert str(SessionEventType.ASSISTANT_MESSAGE) == "assistant.message"
    assert f"{SessionEventType.SESSION_IDLE}" == "session.idle"
    assert {"assistant.message": 1}[SessionEventType.ASSISTANT_MESSAGE] == 1
    assert hash(SessionEventType.SESSION_IDLE) == hash("session.idle")


def test_string_comparison() -> None:
    event = parse_event(envelope("assistant.message", {"messageId": "m", "content": "c"}))
    assert event.type == "assistant.message"
    assert event.type == "assistant.message"
    assert event.type != "assistant.message_delta"
    assert event.type in {"assistant.message", "session.idle"}
    assert isinstance(event.type, str)


def test_repr_is_readable() -> None:
    content = "Hi! " + "lorem ipsum " * 20
    event = parse_event(
        envelope(
            "assistant.message",
            {"messageId": "b73d", "content": content, "toolRequests": []},
            agentId="sub",
        )
    )
    text = repr(event)
    assert text.startswith(
        "SessionEvent(type='assistant.message', id='1e55a6f0-0000-4000-8000-000000000001'"
    )
    assert "agent_id='sub'" in text
    assert "data=AssistantMessageData(message_id='b73d', content='Hi! lorem" in text
    assert "\u2026" in text and len(text) < 300
    assert "raw" not in text and "reasoning_text" not in text
    full = repr(event.data)
    assert content in full and "tool_requests=[]" in full
    unknown = repr(parse_event(envelope("x.y", {"a": 1})))
    assert (
        unknown
        == "SessionEvent(type='x.y', id='1e55a6f0-0000-4000-8000-000000000001', data=RawEventData({'a': 1}))"
    )
    assert (
        repr(SessionEventType.ASSISTANT_MESSAGE)
        == "<SessionEventType.ASSISTANT_MESSAGE: 'assistant.message'>"
    )


def test_payloads_copy_and_pickle() -> None:
    data = parse_event(envelope("assistant.message", {"messageId": "m", "content": "c"})).data
    assert copy.copy(data) == data
    assert pickle.loads(pickle.dumps(data)) == data
    raw = RawEventData({"someKey": 1})
    assert pickle.loads(pickle.dumps(raw)) == raw


# --------------------------------------------------------------------------- generated module


def test_event_data_types_cover_every_event_type() -> None:
    names = event_type_names()
    assert len(names) == len(set(names)) == len(EVENT_DATA_TYPES)
    assert set(names) == set(EVENT_DATA_TYPES)
    assert "unknown" not in names
    assert {m.value for m in SessionEventType} == set(names) | {"unknown"}
    for event_type, cls in EVENT_DATA_TYPES.items():
        data = cls.from_dict({})
        assert data.raw == {}
        if cls is not RawEventData:
            assert type(data).__name__.endswith("Data"), event_type


def _all_payload_classes() -> list[type]:
    return [
        obj
        for name in gen.__all__
        if isinstance(obj := getattr(gen, name), type) and issubclass(obj, _records._Record)
    ]


def test_every_annotation_is_understood() -> None:
    classes = _all_payload_classes()
    assert len(classes) > 250
    for cls in classes:
        hints = {}
        for klass in reversed(cls.__mro__):
            hints.update(inspect.get_annotations(klass))
        for attr, wire, accepted, convert, _required in _records._field_spec(cls):
            annotation = hints[attr]
            if accepted is None and convert is None:
                assert annotation in ("Any", "Any | None"), (cls.__name__, attr, annotation)
            assert wire, (cls, attr)
        assert len(cls.wire_names()) == len(_records._field_spec(cls))


def test_generated_module_header() -> None:
    first = GENERATED.read_text(encoding="utf-8").splitlines()[0]
    assert first == (
        "# Generated by scripts/generate_events.py from session-events.schema.json "
        f"(@github/copilot {DEFAULT_CLI_VERSION}). Do not edit."
    )


def test_import_is_lazy() -> None:
    code = (
        "import sys, time\n"
        "import copilot_sync, copilot_sync._events\n"
        "assert 'copilot_sync.generated.session_events' not in sys.modules, 'generated module imported eagerly'\n"
        "from copilot_sync._events import parse_event\n"
        "started = time.perf_counter()\n"
        "parse_event({'type': 'session.idle', 'data': {}})\n"
        "elapsed = time.perf_counter() - started\n"
        "assert 'copilot_sync.generated.session_events' in sys.modules\n"
        "assert elapsed < 0.5, f'first parse_event (imports the generated module) took {elapsed:.3f} s'\n"
        "from copilot_sync._events import SessionEventType, EVENT_DATA_TYPES\n"
        "assert SessionEventType('session.idle') is SessionEventType.SESSION_IDLE\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)


def test_module_getattr() -> None:
    assert _events.SessionEventType is SessionEventType
    assert _events.EVENT_DATA_TYPES is EVENT_DATA_TYPES
    with pytest.raises(AttributeError):
        _events.NoSuchThing


# --------------------------------------------------------------------------- event classes


def test_parse_event_picks_the_class_of_the_type() -> None:
    event = parse_event(envelope("assistant.message", {"messageId": "m", "content": "hi"}))
    assert type(event) is gen.AssistantMessageEvent
    assert isinstance(event, SessionEventBase) and isinstance(event, SessionEvent)
    assert isinstance(event, gen.SessionEvent)  # the union, at run time too
    assert event.type is SessionEventType.ASSISTANT_MESSAGE  # still the enum member
    assert event.type == "assistant.message" == SessionEventType.ASSISTANT_MESSAGE
    assert isinstance(event.data, AssistantMessageData) and event.data.content == "hi"
    assert repr(event).startswith("SessionEvent(type='assistant.message'")


def test_unknown_and_unschematised_types_get_their_own_classes() -> None:
    unknown = parse_event(envelope("x.future_thing", {"a": 1}))
    assert type(unknown) is UnknownSessionEvent
    assert unknown.type == "unknown" and unknown.raw_type == "x.future_thing"
    assert isinstance(unknown.data, RawEventData) and unknown.data.a == 1
    extra = parse_event(envelope("model.turn_started", {"b": 2}))
    assert type(extra) is gen.ModelTurnStartedEvent
    assert extra.type == "model.turn_started" and isinstance(extra.data, RawEventData)
    assert type(parse_event({"type": 7})) is UnknownSessionEvent
    assert type(parse_event({})) is UnknownSessionEvent


def test_event_classes_cover_every_event_type() -> None:
    assert set(EVENT_CLASSES) == set(event_type_names()) == set(EVENT_DATA_TYPES)
    union = set(typing.get_args(gen.SessionEvent))
    assert union == set(EVENT_CLASSES.values()) | {UnknownSessionEvent}
    for event_type, cls in EVENT_CLASSES.items():
        event = parse_event(envelope(event_type, {}))
        assert type(event) is cls and cls.__slots__ == ()
        assert type(event.data) is EVENT_DATA_TYPES[event_type], event_type
        assert cls.__name__.endswith("Event") and cls.__name__ in gen.__all__
        (base,) = cls.__orig_bases__  # SessionEventBase[Literal[<type>], <payload class>]
        literal, payload = typing.get_args(base)
        assert typing.get_args(literal) == (event_type,) and payload is EVENT_DATA_TYPES[event_type]


def test_event_classes_are_reachable_lazily() -> None:
    assert _events.AssistantMessageEvent is gen.AssistantMessageEvent
    assert _events.EVENT_CLASSES is EVENT_CLASSES
    import copilot_sync

    assert copilot_sync.AssistantMessageEvent is gen.AssistantMessageEvent
    assert copilot_sync.UnknownSessionEvent is UnknownSessionEvent
    assert copilot_sync.SessionEvent is SessionEventBase
    with pytest.raises(AttributeError):
        _events.NoSuchEvent


def test_no_generated_attribute_shadows_an_annotation_name() -> None:
    # ``list: list[Any]`` in a class body makes its later ``list[...]`` annotations refer to
    # the attribute: the generators rename such fields (``list_``), keeping the wire name.
    from copilot_sync.generated import rpc

    shadowing = {"str", "int", "float", "bool", "list", "dict", "datetime"}
    for module in (gen, rpc):
        for name in module.__all__:
            cls = getattr(module, name)
            if isinstance(cls, type) and issubclass(cls, _records._Record):
                assert not shadowing & set(cls.__slots__), (module.__name__, name)
    assert rpc.SessionModelList.wire_names()["list_"] == "list"
    models = rpc.SessionModelList.from_dict({"list": [{"id": "gpt"}]})
    assert models.list_ == [{"id": "gpt"}] and models.to_dict() == {"list": [{"id": "gpt"}]}


# --------------------------------------------------------------------------- generator


def test_generated_file_is_up_to_date(tmp_path: Path) -> None:
    schema = schema_path()
    if schema is None or not schema.is_file():
        pytest.skip(
            "session-events.schema.json not found (install the CLI with `python -m copilot_sync install-cli`, "
            "or set COPILOT_SYNC_CLI_HOME or COPILOT_SYNC_EVENTS_SCHEMA)"
        )
    output = tmp_path / "session_events.py"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--schema", str(schema), "--output", str(output)],
        check=True,
        timeout=60,
    )
    assert output.read_bytes() == GENERATED.read_bytes(), (
        f"{GENERATED} is stale: run python scripts/generate_events.py --schema {schema}"
    )


SYNTHETIC_SCHEMA: dict[str, Any] = {
    "$ref": "#/definitions/SessionEvent",
    "definitions": {
        "SessionEvent": {
            "anyOf": [
                {"$ref": "#/definitions/PingEvent"},
                {"$ref": "#/definitions/SharedOneEvent"},
                {"$ref": "#/definitions/SharedTwoEvent"},
            ]
        },
        "PingEvent": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "const": "demo.ping"},
                "ephemeral": {"type": "boolean", "const": True},
                "data": {"$ref": "#/definitions/PingData"},
            },
        },
        "SharedOneEvent": {
            "type": "object",
            "properties": {
                "type": {"const": "demo.shared_one"},
                "data": {"$ref": "#/definitions/Shared"},
            },
        },
        "SharedTwoEvent": {
            "type": "object",
            "properties": {
                "type": {"const": "demo.shared_two"},
                "data": {"$ref": "#/definitions/Shared"},
            },
        },
        "PingData": {
            "type": "object",
            "description": 'Ping with a """tricky""" \\ description',
            "properties": {
                "count": {"type": "integer", "description": "How many."},
                "when": {"type": "string", "format": "date-time"},
                "items": {"type": "array", "items": {"$ref": "#/definitions/Item"}},
                "choice": {"$ref": "#/definitions/Choice"},
                "loose": {"$ref": "#/definitions/Loose"},
                "mode": {"$ref": "#/definitions/Mode"},
                "class": {"type": ["string", "null"]},
                "_meta": {"type": "object", "additionalProperties": {"x-opaque-json": True}},
                "nested": {"type": "object", "properties": {"deep": {"type": "number"}}},
            },
            "required": ["mode", "count"],
        },
        "Item": {
            "type": "object",
            "properties": {"itemId": {"type": "string"}},
            "required": ["itemId"],
        },
        "Choice": {"anyOf": [{"$ref": "#/definitions/ChoiceA"}, {"$ref": "#/definitions/ChoiceB"}]},
        "ChoiceA": {
            "type": "object",
            "properties": {"kind": {"const": "a", "type": "string"}, "a": {"type": "integer"}},
        },
        "ChoiceB": {
            "type": "object",
            "properties": {"kind": {"const": "b", "type": "string"}, "b": {"type": "string"}},
        },
        "Loose": {"anyOf": [{"$ref": "#/definitions/Item"}, {"$ref": "#/definitions/Shared"}]},
        "Shared": {"type": "object", "properties": {"name": {"type": "string"}}},
        "Mode": {"type": "string", "enum": ["fast", "slow"]},
    },
}


def load_synthetic(source: str) -> types.ModuleType:
    name = "copilot_sync.generated._synthetic_under_test"
    module = types.ModuleType(name)
    module.__package__ = "copilot_sync.generated"
    sys.modules[name] = module
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def test_generator_on_a_synthetic_schema() -> None:
    generator = load_generator()
    source = generator.generate(SYNTHETIC_SCHEMA)
    assert source == generator.generate(json.loads(json.dumps(SYNTHETIC_SCHEMA)))  # deterministic
    assert source.splitlines()[0].endswith(f"(@github/copilot {DEFAULT_CLI_VERSION}). Do not edit.")
    module = load_synthetic(source)
    enum = module.SessionEventType
    assert enum.DEMO_PING == "demo.ping"
    assert enum.MODEL_TURN_STARTED == "model.turn_started"
    assert module.EVENT_DATA_TYPES["demo.ping"] is module.DemoPingData
    assert module.EVENT_DATA_TYPES["model.log"] is RawEventData
    assert issubclass(module.DemoSharedOneData, module.Shared)
    assert issubclass(module.DemoSharedTwoData, module.Shared)
    assert '"""tricky"""' in module.DemoPingData.__doc__
    data = module.DemoPingData.from_dict(
        {
            "count": 2,
            "mode": "medium",  # enums are open
            "when": "2026-01-02T03:04:05.678Z",
            "items": [{"itemId": "i"}],
            "choice": {"kind": "b", "b": "bee"},
            "loose": {"itemId": "kept as a dict"},
            "class": None,
            "_meta": {"x": 1},
            "nested": {"deep": 1.5},
        }
    )
    assert module.DemoPingData.__slots__[:2] == ("count", "mode")  # required first
    assert data.count == 2 and data.mode == "medium"
    assert data.when == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    assert data.items[0].item_id == "i"
    assert isinstance(data.choice, module.ChoiceB) and isinstance(data.choice, module.Choice)
    assert data.choice.b == "bee"
    assert data.loose == {"itemId": "kept as a dict"}
    assert data.class_ is None
    assert data.meta == {"x": 1}
    assert type(data.nested).__name__ == "DemoPingDataNested" and data.nested.deep == 1.5
    assert module.DemoPingData.wire_names()["meta"] == "_meta"


def test_generator_cli_requires_a_schema(tmp_path: Path) -> None:
    env = dict(os.environ, COPILOT_SYNC_CLI_HOME=str(tmp_path / "nowhere"))
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--output", str(tmp_path / "out.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--schema" in result.stderr
    assert not (tmp_path / "out.py").exists()


# --------------------------------------------------------------------------- properties

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
iso_datetimes = st.datetimes(timezones=st.none() | st.just(timezone.utc)).map(
    lambda d: d.isoformat().replace("+00:00", "Z")
)
_strategies: dict[tuple[str, int], st.SearchStrategy[Any]] = {}


def plausible(annotation: str, depth: int) -> st.SearchStrategy[Any]:
    """Values shaped like the annotation, mixed with arbitrary JSON (wrong types)."""
    key = (annotation, depth)
    if key in _strategies:
        return _strategies[key]
    base = annotation[: -len(" | None")] if annotation.endswith(" | None") else annotation
    if base == "str":
        right: st.SearchStrategy[Any] = st.text(max_size=12)
    elif base == "int":
        right = st.integers()
    elif base == "float":
        right = st.integers() | st.floats()
    elif base == "bool":
        right = st.booleans()
    elif base == "datetime":
        right = iso_datetimes | st.text(max_size=30)
    elif base.startswith("list["):
        right = st.lists(plausible(base[5:-1], depth + 1), max_size=3)
    elif base.startswith("dict[str, "):
        right = st.dictionaries(st.text(max_size=6), plausible(base[10:-1], depth + 1), max_size=3)
    elif depth < 4 and isinstance(getattr(gen, base, None), type):
        right = payload_for(getattr(gen, base), depth + 1)
    else:
        right = json_values
    strategy = st.one_of(right, right, json_values)
    _strategies[key] = strategy
    return strategy


def payload_for(cls: type, depth: int = 0) -> st.SearchStrategy[Any]:
    variants = cls.__dict__.get("_VARIANTS")
    if variants:
        return st.sampled_from(sorted(variants.values())).flatmap(
            lambda name: payload_for(getattr(gen, name), depth)
        )
    if cls is RawEventData:
        return st.dictionaries(st.text(max_size=8), json_values, max_size=4)
    hints: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        hints.update(inspect.get_annotations(klass))
    optional = {wire: plausible(hints[attr], depth) for attr, wire in cls.wire_names().items()}
    return st.fixed_dictionaries({}, optional=optional)


mostly = st.sampled_from([True, True, True, True, False])  # True 4 times in 5
_known_types = st.sampled_from(sorted(EVENT_DATA_TYPES))
event_types = st.one_of(_known_types, _known_types, _known_types, st.text(max_size=15))


@st.composite
def wire_events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(event_types)
    cls = EVENT_DATA_TYPES.get(event_type)
    data = draw(payload_for(cls) if cls is not None and draw(mostly) else json_values)
    event = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "id": st.uuids().map(str) | json_values,
                "timestamp": iso_datetimes | json_values,
                "parentId": st.none() | st.uuids().map(str) | json_values,
                "ephemeral": st.booleans() | json_values,
                "agentId": st.text(max_size=8) | json_values,
            },
        )
    )
    event["type"] = event_type if draw(mostly) else draw(json_values)
    if draw(mostly):
        event["data"] = data
    return event


def exercise(raw: dict[str, Any]) -> None:
    before = json.dumps(raw, sort_keys=True, default=repr)
    event = parse_event(raw)
    data = event.data
    timestamp = event.timestamp
    assert timestamp is None or isinstance(timestamp, datetime)
    assert isinstance(data, (_records._Record, RawEventData))
    assert isinstance(event.type, SessionEventType)
    assert isinstance(event.raw_type, str)
    assert isinstance(event.ephemeral, bool)
    repr(event)
    data.to_dict()
    assert event.to_dict() == raw or raw != raw  # NaN never equals itself
    assert json.dumps(raw, sort_keys=True, default=repr) == before  # the input is not mutated


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(wire_events())
def test_parse_never_raises_on_event_like_dicts(raw: dict[str, Any]) -> None:
    exercise(raw)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "timestamp", "type", "data", "parentId"]) | st.text(max_size=6),
        json_values,
    )
)
def test_parse_never_raises_on_arbitrary_dicts(raw: dict[str, Any]) -> None:
    exercise(raw)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.sampled_from(sorted(_all_payload_classes(), key=lambda c: c.__name__)).flatmap(
        lambda cls: st.tuples(st.just(cls), payload_for(cls))
    )
)
def test_every_payload_class_parses_plausible_and_wrong_values(case: tuple[type, Any]) -> None:
    cls, payload = case
    data = cls.from_dict(payload)
    assert isinstance(data, cls)
    repr(data)
    data.to_dict()
    for attr, wire in type(data).wire_names().items():
        value = getattr(data, attr)
        if wire not in payload:
            assert value is None
