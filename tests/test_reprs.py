"""Reprs and Jupyter display: SessionEvent (``__repr__``, ``_repr_markdown_``),
CopilotSession and CopilotClient. No CLI needed."""

from __future__ import annotations

from typing import Any

import pytest

from copilot_sync import CopilotClient, SessionClosedError, define_tool
from copilot_sync._events import parse_event
from copilot_sync._session import CopilotSession

EVENT_ID = "1e55a6f0-0000-4000-8000-000000000001"


def event(event_type: str, data: Any, **extra: Any):
    return parse_event(
        {
            "id": EVENT_ID,
            "timestamp": "2026-08-21T10:15:30.123Z",
            "type": event_type,
            "data": data,
            **extra,
        }
    )


def message(content: Any, tool_requests: Any = None, **extra: Any):
    data = {"messageId": "m-1", "content": content, "model": "gpt-5"}
    if tool_requests is not None:
        data["toolRequests"] = tool_requests
    return event("assistant.message", data, **extra)


def tool_request(name: str, arguments: Any = None) -> dict:
    return {"toolCallId": f"call-{name}", "name": name, "arguments": arguments or {}}


# --------------------------------------------------------------------------- SessionEvent.__repr__

COMMON_EVENTS = [
    ("user.message", {"content": "What's the weather in Lisbon?"}),
    ("assistant.message_delta", {"messageId": "m-1", "deltaContent": "It is "}),
    (
        "tool.execution_start",
        {"toolCallId": "call-1", "toolName": "get_weather", "arguments": {"city": "Lisbon"}},
    ),
    (
        "tool.execution_complete",
        {"toolCallId": "call-1", "success": True, "result": {"content": '{"sky":"sunny"}'}},
    ),
    ("session.error", {"errorType": "model", "message": "the model is unavailable"}),
    ("abort", {"reason": "user_initiated"}),
    ("session.idle", {}),
    ("some.future_event", {"anything": [1, 2, 3]}),
]


@pytest.mark.parametrize(("event_type", "data"), COMMON_EVENTS, ids=[t for t, _ in COMMON_EVENTS])
def test_repr_of_common_events_is_one_readable_line(event_type, data):
    text = repr(event(event_type, data, ephemeral=True))
    assert text.startswith(
        f"SessionEvent(type={event_type!r}, id={EVENT_ID!r}, ephemeral=True, data="
    )
    assert "\n" not in text and len(text) < 300
    for value in data.values():  # the payload's values are all there (short ones in full)
        if isinstance(value, str):
            assert repr(value) in text


def test_repr_shortens_long_content_and_keeps_it_on_one_line():
    content = "# Title\n\n" + "A long paragraph of the reply. " * 400
    text = repr(message(content, [tool_request("get_weather", {"city": "x" * 1000})]))
    assert "\n" not in text and len(text) < 600
    assert "content='# Title\\n\\nA long paragraph" in text and "\u2026" in text
    assert (
        "tool_requests=[AssistantMessageToolRequest(tool_call_id='call-get_weather', name='get_weather'"
        in text
    )
    assert repr(content) in repr(message(content).data)  # the payload's own repr is not shortened


def test_repr_shows_sub_agent_events_and_survives_bad_payloads():
    assert "agent_id='researcher'" in repr(message("hi", agentId="researcher"))
    for data in (None, "not a dict", {"content": 42, "toolRequests": "nope"}):
        assert repr(event("assistant.message", data)).startswith(
            "SessionEvent(type='assistant.message'"
        )


# --------------------------------------------------------------------------- SessionEvent._repr_markdown_


def test_markdown_of_an_assistant_message_is_its_content_exactly():
    content = (
        "Three points:\n\n1. **blocking** calls\n2. no `await`\n\n```python\nprint('hi')\n```\n"
    )
    assert message(content)._repr_markdown_() == content
    assert message(content, [])._repr_markdown_() == content


def test_markdown_names_the_tools_a_message_requested():
    assert (
        message("Let me check.", [tool_request("get_weather")])._repr_markdown_()
        == "Let me check.\n\n*Requested tool: `get_weather`*"
    )
    both = message("", [tool_request("get_weather"), tool_request("plan_`trip")])
    assert both._repr_markdown_() == "*Requested tools: `get_weather`, `plan_trip`*"


@pytest.mark.parametrize(
    "data",
    [
        {"messageId": "m", "content": ""},
        {"messageId": "m", "content": "  \n "},
        {"messageId": "m", "content": None, "toolRequests": [None, {"name": 3}, "x"]},
        {"messageId": "m", "content": 42},
        {"messageId": "m", "content": ["a"], "toolRequests": {"name": "x"}},
        None,
        "text",
    ],
)
def test_markdown_falls_back_to_the_repr_for_empty_or_odd_messages(data):
    assert event("assistant.message", data)._repr_markdown_() is None


@pytest.mark.parametrize(("event_type", "data"), COMMON_EVENTS, ids=[t for t, _ in COMMON_EVENTS])
def test_markdown_is_only_for_assistant_messages(event_type, data):
    assert event(event_type, data)._repr_markdown_() is None


def test_ipython_displays_a_reply_as_markdown_and_other_events_as_text():
    formatters = pytest.importorskip("IPython.core.formatters")
    display = formatters.DisplayFormatter()
    reply = message("It is **sunny**.")
    data, _ = display.format(reply)
    assert data == {"text/plain": repr(reply), "text/markdown": "It is **sunny**."}
    idle = event("session.idle", {})
    data, _ = display.format(idle)
    assert data == {"text/plain": repr(idle)}


# --------------------------------------------------------------------------- CopilotSession / CopilotClient


class _StubClient:
    """Just enough of a client for a session that never talks to a CLI."""

    def _forget_session(self, session: CopilotSession) -> None:
        pass


@define_tool(skip_permission=True)
def get_weather(city: str) -> str:
    """Weather for a city."""
    return "sunny"


def _session(
    session_id: str = "5c0e2d1a-0000-4000-8000-00000000abcd", **options: Any
) -> CopilotSession:
    return CopilotSession(_StubClient(), session_id, options)  # type: ignore[arg-type]


def test_session_repr_shows_id_state_model_provider_tools_and_handlers():
    session = _session(
        model="gpt-5",
        provider={
            "type": "openai",
            "base_url": "http://10.0.0.7:8000/v1",
            "api_key": "sk-very-secret",
        },
        tools=[get_weather],
        on_event=lambda event: None,
    )
    try:
        session.on("assistant.message", lambda event: None)
        text = repr(session)
        assert text == (
            "<CopilotSession '5c0e2d1a-0000-4000-8000-00000000abcd' open model='gpt-5' provider='openai' tools=1 handlers=2>"
        )
        assert "secret" not in text and "10.0.0.7" not in text
    finally:
        session._close(SessionClosedError("test over"))
    assert repr(session).startswith(
        "<CopilotSession '5c0e2d1a-0000-4000-8000-00000000abcd' closed model='gpt-5'"
    )


def test_session_repr_leaves_out_what_is_not_set():
    session = _session("s-1")
    try:
        assert repr(session) == "<CopilotSession 's-1' open>"
        session._disconnecting = True
        assert repr(session) == "<CopilotSession 's-1' disconnecting>"
    finally:
        session._close(SessionClosedError("test over"))
    assert repr(session) == "<CopilotSession 's-1' closed>"


def test_client_repr_is_readable_and_keeps_secrets_out():
    client = CopilotClient(
        cli_path="/nonexistent/copilot", github_token="ghp_not_in_repr", auto_start=False
    )
    assert repr(client) == "<CopilotClient disconnected stdio sessions=0>"
    client.server_version = "1.0.81"  # what start() records from the CLI's answer
    assert repr(client) == "<CopilotClient disconnected stdio cli=1.0.81 sessions=0>"
    assert "ghp_" not in repr(client)
    assert (
        repr(CopilotClient(use_stdio=False, auto_start=False))
        == "<CopilotClient disconnected tcp:auto sessions=0>"
    )
    assert (
        repr(
            CopilotClient(cli_url="localhost:3000", connection_token="tok-secret", auto_start=False)
        )
        == "<CopilotClient disconnected localhost:3000 sessions=0>"
    )
