"""Threads against the real CLI: a slow handler holds up only its own session."""

from __future__ import annotations

import threading
import time

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
        assert fast_time < 1.8, f"another session's turn took {fast_time:.2f}s behind a sleeping handler"
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
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=(s, i)) for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert not errors, errors
        for index, session in enumerate(sessions):
            assert replies[session.session_id] == [f"You said: session {index} turn {t}" for t in range(3)]
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
