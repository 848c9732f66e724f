"""Session management against the real CLI: disconnect and resume, list and delete,
lifecycle events, ping and status."""

from __future__ import annotations

import threading

import pytest

from copilot_sync import (
    ConnectionState,
    CopilotError,
    GetStatusResponse,
    JsonRpcError,
    PingResponse,
    SessionClosedError,
    SessionLifecycleEvent,
    SessionMetadata,
)
from copilot_sync._versions import DEFAULT_CLI_VERSION

from .conftest import open_session


def test_ping_and_status(client):
    pong = client.ping("hello")
    assert isinstance(pong, PingResponse)
    assert pong.message == "pong: hello"
    assert pong.protocol_version == 3
    assert pong.timestamp is not None and pong.timestamp.tzinfo is not None
    status = client.get_status()
    assert isinstance(status, GetStatusResponse) and status.protocol_version == 3
    assert client.state is ConnectionState.CONNECTED
    assert client.server_version == DEFAULT_CLI_VERSION  # the whole suite runs on the default CLI
    assert (
        status.version == DEFAULT_CLI_VERSION
    )  # the handshake's (1.0.81's status.get says "0.0.1")
    auth = client.get_auth_status()
    assert auth.is_authenticated is False


def test_disconnect_then_resume_keeps_the_history(client, model):
    session = open_session(client, model)
    session_id = session.session_id
    session.send_and_wait("The secret word is tangerine.", timeout=60)
    session.disconnect()
    session.disconnect()  # idempotent
    assert session.closed
    assert session not in client.sessions
    with pytest.raises(SessionClosedError):
        session.send("after disconnect")

    resumed = client.resume_session(session_id, model=model.model, provider=model.provider())
    try:
        assert resumed.session_id == session_id
        history = [m.raw_type for m in resumed.get_messages()]
        assert "user.message" in history and "assistant.message" in history
        model.add_reply("It was tangerine.")
        assert (
            resumed.send_and_wait("What was the secret word?", timeout=60).data.content
            == "It was tangerine."
        )
        last = model.requests[-1]
        assert any(
            "tangerine" in str(m.get("content")) for m in last.messages if m["role"] == "user"
        )
    finally:
        resumed.disconnect()


def test_resume_of_an_unknown_session_raises(client, model):
    with pytest.raises(JsonRpcError) as info:
        client.resume_session(
            "00000000-0000-4000-8000-000000000000", model=model.model, provider=model.provider()
        )
    assert "Session not found" in info.value.message
    assert "00000000-0000-4000-8000-000000000000" not in {s.session_id for s in client.sessions}


def test_list_metadata_last_id_and_delete(client, model):
    session = open_session(client, model)
    session_id = session.session_id
    session.send_and_wait("list me", timeout=60)
    listed = client.list_sessions()
    assert all(isinstance(item, SessionMetadata) for item in listed)
    assert session_id in [item.session_id for item in listed]
    metadata = client.get_session_metadata(session_id)
    assert metadata is not None and metadata.session_id == session_id
    assert metadata.start_time is not None
    assert client.get_last_session_id() == session_id
    filtered = client.list_sessions({"working_directory": "/nowhere/at/all"})
    assert session_id not in [item.session_id for item in filtered]

    client.delete_session(session_id)
    assert session.closed  # a deleted session is closed locally too
    assert session_id not in [item.session_id for item in client.list_sessions()]
    assert client.get_session_metadata(session_id) is None
    with pytest.raises(CopilotError, match="Failed to delete session"):
        client.delete_session(session_id)


def test_foreground_session_is_headless_only(client):
    assert client.get_foreground_session_id() is None
    with pytest.raises(CopilotError, match="foreground"):
        client.set_foreground_session_id("anything")


def test_lifecycle_events(client, model):
    created: list[SessionLifecycleEvent] = []
    everything: list[str] = []
    got_created = threading.Event()

    def on_created(event):
        created.append(event)
        got_created.set()

    stop_typed = client.on_lifecycle("session.created", on_created)
    stop_all = client.on_lifecycle(lambda event: everything.append(event.type))
    try:
        session = open_session(client, model)
        assert got_created.wait(10)
        assert session.session_id in [e.session_id for e in created]
        assert all(e.type == "session.created" for e in created)
        session.send_and_wait("update me", timeout=60)
        session_id = session.session_id
        session.disconnect()
        deleted = threading.Event()
        client.on_lifecycle(
            "session.deleted", lambda e: deleted.set() if e.session_id == session_id else None
        )
        client.delete_session(session_id)
        assert deleted.wait(10)
        assert "session.updated" in everything
    finally:
        stop_typed()
        stop_all()
    count = len(created)
    extra = open_session(client, model)
    extra.disconnect()
    assert len(created) == count  # unsubscribed


def test_list_models_is_cached(client):
    # Unauthenticated, the CLI refuses to list models; the error is typed, and nothing is cached.
    with pytest.raises(JsonRpcError, match="authenticate"):
        client.list_models()
