"""A real conversation with the real CLI: create, send_and_wait, memory, stream, messages, abort."""

from __future__ import annotations

import threading
import time

import pytest

from copilot_sync import CopilotTimeoutError, SessionEvent, TurnAbortedError
from copilot_sync.testing import Reply

from .conftest import open_session


def test_send_and_wait_returns_the_models_reply(client, model):
    model.add_reply("Paris is the capital of France.")
    with open_session(client, model) as session:
        reply = session.send_and_wait("What is the capital of France?", timeout=60)
    assert isinstance(reply, SessionEvent)
    assert reply.type == "assistant.message"
    assert reply.data.content == "Paris is the capital of France."
    (request,) = model.requests
    assert request.last_user_message.strip().endswith("What is the capital of France?")


def test_a_multi_turn_conversation_remembers(client, model):
    def remember(request):
        history = " ".join(
            str(m.get("content"))
            for m in request.messages
            if m.get("role") in ("user", "assistant")
        )
        if "What is my name?" in request.last_user_message:
            return Reply(
                text="Your name is Ada." if "My name is Ada" in history else "I don't know."
            )
        return Reply(text="Nice to meet you.")

    model.responder = remember
    with open_session(client, model) as session:
        first = session.send_and_wait("My name is Ada.", timeout=60)
        second = session.send_and_wait("What is my name?", timeout=60)
    assert first.data.content == "Nice to meet you."
    assert second.data.content == "Your name is Ada."
    last = model.requests[-1]
    roles = [m["role"] for m in last.messages]
    assert roles.count("user") >= 2 and "assistant" in roles
    assert any(
        m.get("content") == "Nice to meet you." for m in last.messages if m["role"] == "assistant"
    )


def test_stream_yields_deltas_then_idle(client, model):
    model.add_reply("one two three four five six", chunks=4)
    with open_session(client, model, streaming=True) as session:
        events = list(session.stream("Count for me", timeout=60))
    types = [e.raw_type for e in events]
    assert types[-1] == "session.idle"
    deltas = [e.data.delta_content for e in events if e.type == "assistant.message_delta"]
    assert len(deltas) >= 2
    final = [e for e in events if e.type == "assistant.message"][-1]
    assert "".join(deltas) == final.data.content == "one two three four five six"
    assert (
        types.index("user.message") < types.index("assistant.message") < types.index("session.idle")
    )


def test_on_handlers_see_every_event_before_send_and_wait_returns(client, model):
    seen: list[str] = []
    typed: list[str] = []
    with open_session(client, model, on_event=lambda e: seen.append(e.raw_type)) as session:
        session.on("assistant.message", lambda e: typed.append(e.data.content))
        session.send_and_wait("hello", timeout=60)
        assert seen[-1] == "session.idle"  # already seen by the time send_and_wait returned
        assert "session.start" in seen  # on_event sees events from the very first one
    assert typed == ["You said: hello"]


def test_get_messages_returns_the_persisted_history(client, model):
    with open_session(client, model) as session:
        session.send_and_wait("remember this", timeout=60)
        messages = session.get_messages()
    types = [m.raw_type for m in messages]
    assert "user.message" in types and "assistant.message" in types
    user = next(m for m in messages if m.type == "user.message")
    assert user.data.content == "remember this"
    assert all(not m.ephemeral for m in messages)


def test_abort_ends_the_turn_and_the_session_stays_usable(client, model):
    model.add_reply("too late", delay=30)
    with open_session(client, model) as session:
        outcome: list[BaseException] = []

        def wait():
            try:
                session.send_and_wait("slow question", timeout=60)
            except BaseException as exc:
                outcome.append(exc)

        waiter = threading.Thread(target=wait)
        waiter.start()
        model.wait_for_requests(1, timeout=30)
        started = time.monotonic()
        assert session.abort() is True
        waiter.join(10)
        assert not waiter.is_alive()
        assert time.monotonic() - started < 10
        assert len(outcome) == 1 and isinstance(outcome[0], TurnAbortedError)
        model.add_reply("fast answer")
        assert session.send_and_wait("again", timeout=60).data.content == "fast answer"


def test_send_and_wait_times_out_without_aborting(client, model):
    model.add_reply("eventually", delay=3)
    with open_session(client, model) as session:
        with pytest.raises(CopilotTimeoutError):
            session.send_and_wait("slow", timeout=0.5)
        # the turn goes on: its idle arrives, and the next turn works
        model.add_reply("next")
        assert session.send_and_wait("next one", timeout=60).data.content == "next"
    assert any(r.last_user_message.strip().endswith("slow") for r in model.requests)


def test_send_returns_a_message_id_and_log_writes_the_timeline(client, model):
    with open_session(client, model) as session:
        infos: list[str] = []
        done = threading.Event()
        session.on("session.info", lambda e: (infos.append(e.data.message), done.set()))
        event_id = session.log("hello from the test")
        assert isinstance(event_id, str) and event_id
        assert done.wait(10)
        assert infos == ["hello from the test"]
        idle = threading.Event()
        session.on("session.idle", lambda e: idle.set())
        message_id = session.send("fire and forget")
        assert isinstance(message_id, str) and message_id
        assert idle.wait(30)


def test_set_model_applies(client, model):
    with open_session(client, model) as session:
        changes: list[str] = []
        changed = threading.Event()
        session.on(
            "session.model_change", lambda e: (changes.append(e.data.new_model), changed.set())
        )
        result = session.set_model("other-model")
        assert result.status == "applied" and result.model_id == "other-model"
        assert changed.wait(10)
        assert changes == ["other-model"]
