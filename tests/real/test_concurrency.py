"""Threads against the real CLI: a slow handler holds up only its own session; many threads
share one session; a handler's blocking call on its own session fails at once."""

from __future__ import annotations

import threading
import time

import pytest

from .conftest import open_session


def test_a_sleeping_handler_delays_neither_other_sessions_nor_responses(client, model):
    slow = open_session(client, model)
    fast = open_session(client, model)
    try:
        sleeping = threading.Event()

        def sleepy(event):
            sleeping.set()
            time.sleep(2.0)

        slow.on("assistant.message", sleepy)
        slow_idle = threading.Event()
        slow.on("session.idle", lambda e: slow_idle.set())
        slow.send("take your time")
        assert sleeping.wait(30)
        began = time.monotonic()
        pong = client.ping("still there?")
        ping_time = time.monotonic() - began
        reply = fast.send_and_wait("quick one", timeout=30)
        fast_time = time.monotonic() - began
        assert pong.message == "pong: still there?"
        assert reply.data.content == "You said: quick one"
        assert ping_time < 0.5, f"ping took {ping_time:.2f}s behind a sleeping handler"
        assert fast_time < 1.8, (
            f"another session's turn took {fast_time:.2f}s behind a sleeping handler"
        )
        assert not slow_idle.is_set()  # the slow session's own events wait for its handler
        assert slow_idle.wait(10)
    finally:
        slow.disconnect()
        fast.disconnect()


def test_sessions_driven_from_many_threads_get_only_their_own_replies(client, model):
    sessions = [open_session(client, model) for _ in range(6)]
    errors: list[BaseException] = []
    replies: dict[str, list[str]] = {}

    def drive(session, index):
        try:
            for turn in range(3):
                reply = session.send_and_wait(f"session {index} turn {turn}", timeout=60)
                replies.setdefault(session.session_id, []).append(reply.data.content)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=(s, i)) for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert not errors, errors
        for index, session in enumerate(sessions):
            assert replies[session.session_id] == [
                f"You said: session {index} turn {t}" for t in range(3)
            ]
    finally:
        for session in sessions:
            session.disconnect()


def test_a_handler_may_disconnect_on_idle_without_spoiling_the_result(client, model):
    session = open_session(client, model)
    session.on("session.idle", lambda event: session.disconnect())
    reply = session.send_and_wait("last words", timeout=30)
    assert reply.data.content == "You said: last words"
    assert session.closed


def test_a_handler_may_send_and_call_the_client(client, model):
    with open_session(client, model) as session:
        answers: list[str] = []
        pings: list[str] = []
        second_done = threading.Event()

        def on_message(event):
            answers.append(event.data.content)
            if len(answers) == 1:
                pings.append(client.ping("from a handler").message)
                session.send("follow-up from a handler")
            else:
                second_done.set()

        session.on("assistant.message", on_message)
        session.send_and_wait("first", timeout=30)
        assert second_done.wait(30)
        assert answers == ["You said: first", "You said: follow-up from a handler"]
        assert pings == ["pong: from a handler"]


@pytest.mark.timeout(120)
def test_a_permission_handler_calling_send_and_wait_on_its_session_fails_at_once(client, model):
    from copilot_sync import ReentrancyError, define_tool

    holder = {}
    outcome = {}

    @define_tool
    def guarded(n: int) -> str:
        """A tool that needs permission."""
        return f"ran with {n}"

    def permission(request, invocation):
        began = time.monotonic()
        try:
            holder["session"].send_and_wait("ask myself", timeout=10)
        except ReentrancyError as exc:
            outcome["error"] = exc
        outcome["took"] = time.monotonic() - began
        return {"kind": "approve-once"}

    model.add_tool_call("guarded", {"n": 7})
    model.add_reply("the tool ran")
    with open_session(client, model, tools=[guarded], on_permission_request=permission) as session:
        holder["session"] = session
        reply = session.send_and_wait("use the guarded tool", timeout=60)
    assert isinstance(outcome["error"], ReentrancyError) and outcome["took"] < 1.0, outcome
    assert "permission handler" in str(outcome["error"])
    assert reply.data.content == "the tool ran"
    assert model.requests[-1].tool_results[-1]["content"] == "ran with 7"
    assert "ask myself" not in [r.user_prompt for r in model.requests]


@pytest.mark.timeout(120)
def test_eight_threads_streaming_on_one_session_each_get_their_own_turn(client, model):
    session = open_session(client, model, streaming=True)
    replies: dict[int, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def run(index):
        try:
            barrier.wait(30)
            with session.stream(f"stream {index}", timeout=120) as stream:
                events = list(stream)
            assert events[-1].raw_type == "session.idle"
            text = "".join(
                e.data.delta_content for e in events if e.raw_type == "assistant.message_delta"
            )
            replies[index] = text
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert not errors, errors
        assert replies == {i: f"You said: stream {i}" for i in range(8)}
    finally:
        session.disconnect()


@pytest.mark.timeout(120)
def test_a_command_handler_may_wait_for_a_turn_of_its_own_session(client, model):
    # the CLI runs turns while a command waits for its answer, so this can complete
    from copilot_sync import CommandDefinition

    holder = {}
    outcome = {}
    finished = threading.Event()

    def summarize(context):
        try:
            outcome["reply"] = (
                holder["session"]
                .send_and_wait(f"summarize {context.args}", timeout=30)
                .data.content
            )
        except BaseException as exc:
            outcome["reply"] = exc
        finished.set()

    with open_session(
        client, model, commands=[CommandDefinition("summarize", summarize)]
    ) as session:
        holder["session"] = session
        session.rpc.commands.execute(command_name="summarize", args="the notes")
        assert finished.wait(60)
    assert outcome["reply"] == "You said: summarize the notes"
