"""Cancelling a pending turn from another thread (session.abort(), future.cancel(),
stream.close()) and activity-based timeouts (idle_timeout=), against the fake CLI.

Timing: each test measures what it promises (an outcome "at once", a timeout "only after
the session went quiet") with margins of several hundred milliseconds, so a loaded
machine does not make them flaky."""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time

import pytest

from copilot_sync import CopilotTimeoutError, Tool, TurnAbortedError
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import events, reply, sleep

from .conftest import capture_in_thread, running

WAIT = 10
PROMPTLY = 0.5  # seconds: "at once", with room for a loaded machine

STARTED = [("user.message", {"content": "slow"}), ("assistant.turn_start", {"turnId": "0"})]
PARTIAL = [("assistant.message", {"messageId": "m1", "content": "half an ans"})]


def _hanging(times=1):
    """session.send: accepted, the turn starts and writes part of a reply, then nothing (the
    test emits the rest). Later sends get the fake's own turn."""
    return Rule(
        method="session.send",
        times=times,
        actions=[reply({"messageId": "hang"}), events(STARTED + PARTIAL)],
    )


def _on(session, event_type):
    seen = threading.Event()
    session.on(event_type, lambda e: seen.set())
    return seen


def _end_the_aborted_turn(fake, session):
    fake.emit(session.session_id, "session.idle", {"aborted": True}, ephemeral=True)


# --------------------------------------------------------------------------- abort / cancel from another thread


@pytest.mark.timeout(60)
def test_abort_from_another_thread_fails_send_and_wait_at_once_and_the_queue_goes_on():
    with running([_hanging()]) as (fake, client):
        session = client.create_session()
        started = _on(session, "assistant.message")
        failed_at: list[float] = []

        def blocked():
            try:
                session.send_and_wait("slow", timeout=30)
            finally:
                failed_at.append(time.monotonic())

        thread, caught = capture_in_thread(blocked)
        assert started.wait(WAIT)
        queued = session.send_async("next", timeout=WAIT)  # behind the running turn
        assert session.abort() is True
        acknowledged = time.monotonic()
        thread.join(WAIT)
        # the caller did not wait for the aborted idle (which has not even come yet)
        assert failed_at and failed_at[0] - acknowledged < PROMPTLY
        [error] = caught
        assert isinstance(error, TurnAbortedError) and error.event.type == "abort"
        assert "aborted (user_initiated)" in str(error)  # not the partial reply
        # the queued turn waits for the aborted turn's own idle, then runs
        time.sleep(0.3)
        assert not queued.done() and [
            m["params"]["prompt"] for m in fake.requests("session.send")
        ] == ["slow"]
        _end_the_aborted_turn(fake, session)
        assert queued.result(WAIT).data.content == "echo: next"


@pytest.mark.timeout(60)
def test_abort_from_another_thread_ends_a_stream_with_its_abort_event_then_turn_aborted():
    with running([_hanging()]) as (fake, client):
        session = client.create_session()
        started = _on(session, "assistant.message")
        stream = session.stream("slow", timeout=30)
        seen: list[str] = []

        def consume():
            for event in stream:
                seen.append(event.raw_type)

        thread, caught = capture_in_thread(consume)
        assert started.wait(WAIT)
        time.sleep(0.1)
        session.abort()
        acknowledged = time.monotonic()
        thread.join(WAIT)
        assert time.monotonic() - acknowledged < PROMPTLY
        assert [type(e) for e in caught] == [TurnAbortedError]
        assert seen[-4:] == ["user.message", "assistant.turn_start", "assistant.message", "abort"]
        _end_the_aborted_turn(fake, session)
        session.wait_for_idle(WAIT)


@pytest.mark.timeout(60)
def test_abort_fails_a_future_blocked_in_result_with_turn_aborted_at_once():
    with running([_hanging()]) as (fake, client):
        session = client.create_session()
        started = _on(session, "assistant.message")
        future = session.send_async("slow")
        assert started.wait(WAIT)
        thread, caught = capture_in_thread(future.result, 30)
        time.sleep(0.2)  # blocked in result()
        session.abort()
        acknowledged = time.monotonic()
        thread.join(WAIT)
        assert time.monotonic() - acknowledged < PROMPTLY
        assert [type(e) for e in caught] == [TurnAbortedError]
        assert future.done() and not future.cancelled()
        _end_the_aborted_turn(fake, session)
        session.wait_for_idle(WAIT)


@pytest.mark.timeout(60)
def test_cancel_from_another_thread_wakes_result_at_once_with_cancelled_error():
    with running([_hanging()]) as (fake, client):
        session = client.create_session()
        started = _on(session, "assistant.message")
        future = session.send_async("slow")
        assert started.wait(WAIT)
        thread, caught = capture_in_thread(future.result, 30)
        time.sleep(0.2)
        began = time.monotonic()
        assert future.cancel() is True
        thread.join(WAIT)
        assert time.monotonic() - began < PROMPTLY
        assert [type(e) for e in caught] == [cf.CancelledError]  # the concurrent.futures contract
        fake.wait_for_request("session.abort", timeout=WAIT)  # and the CLI was told
        _end_the_aborted_turn(fake, session)
        session.wait_for_idle(WAIT)


@pytest.mark.timeout(60)
def test_closing_a_stream_from_another_thread_stops_its_blocked_consumer():
    with running([_hanging()]) as (fake, client):
        session = client.create_session()
        started = _on(session, "assistant.message")
        stream = session.stream("slow")  # no timeout: only the close can end the wait
        seen: list[str] = []
        thread, caught = capture_in_thread(lambda: seen.extend(e.raw_type for e in stream))
        assert started.wait(WAIT)
        time.sleep(0.3)
        began = time.monotonic()
        stream.close()
        thread.join(WAIT)
        assert not thread.is_alive() and caught == []
        assert time.monotonic() - began < PROMPTLY
        assert fake.requests("session.abort") == []  # closing a stream does not abort its turn
        session.abort()
        _end_the_aborted_turn(fake, session)
        session.wait_for_idle(WAIT)


def test_an_abort_before_the_cli_accepted_the_message_is_not_this_turns():
    # an earlier turn's abort event arriving just before this send's answer: ignored
    rule = Rule(method="session.send", actions=[
        events([("abort", {"reason": "user_initiated"})]), reply({"messageId": "m"}),
        events([("user.message", {"content": "hi"}), ("assistant.message", {"messageId": "a", "content": "fine"}),
                ("session.idle", {})]),
    ])  # fmt: skip
    with running([rule]) as (_fake, client):
        assert client.create_session().send_and_wait("hi", timeout=WAIT).data.content == "fine"


def test_an_abort_by_another_client_is_reported_too():
    turn = [*STARTED, ("abort", {"reason": "remote_command"})]
    rule = Rule(method="session.send", times=1, actions=[reply({"messageId": "m"}), events(turn)])
    with running([rule]) as (fake, client):
        session = client.create_session()
        with pytest.raises(TurnAbortedError, match=r"aborted \(remote_command\)"):
            session.send_and_wait("hi", timeout=WAIT)
        _end_the_aborted_turn(fake, session)
        assert session.send_and_wait("again", timeout=WAIT).data.content == "echo: again"


REJECTED = [
    ("assistant.message", {"messageId": "ask", "content": "", "toolRequests": [{"toolCallId": "c1", "name": "rm"}]}),
    ("tool.execution_start", {"toolCallId": "c1", "toolName": "rm"}),
    ("tool.execution_complete", {"toolCallId": "c1", "success": False,
                                 "error": {"message": "The user rejected this tool call.", "code": "rejected"}}),
    ("assistant.turn_end", {"turnId": "0"}),
]  # fmt: skip


@pytest.mark.parametrize("streamed", [False, True])
def test_a_bare_reject_ends_the_turn_normally_on_every_cli(streamed):
    # CLI 1.0.102 ends the agent loop after a reject without feedback with an abort event
    # (1.0.81 just goes idle): the application said no, nobody aborted the turn
    turn = STARTED + REJECTED + [("abort", {"reason": "user_initiated"}), ("session.idle", {})]
    rule = Rule(method="session.send", times=1, actions=[reply({"messageId": "m"}), events(turn)])
    with running([rule]) as (_fake, client):
        session = client.create_session()
        if streamed:
            with session.stream("rm it", timeout=WAIT) as stream:
                seen = [event.raw_type for event in stream]
            assert seen[-2:] == ["abort", "session.idle"]
        else:
            assert session.send_and_wait("rm it", timeout=WAIT).data.message_id == "ask"
        assert session.send_and_wait("again", timeout=WAIT).data.content == "echo: again"


def test_an_abort_after_a_reject_with_feedback_is_an_abort():
    # with feedback the model is asked again (a new assistant turn): an abort then is real
    turn = (
        STARTED
        + REJECTED
        + [("assistant.turn_start", {"turnId": "1"}), ("abort", {"reason": "user_initiated"})]
    )
    rule = Rule(method="session.send", times=1, actions=[reply({"messageId": "m"}), events(turn)])
    with running([rule]) as (fake, client):
        session = client.create_session()
        with pytest.raises(TurnAbortedError, match=r"aborted \(user_initiated\)"):
            session.send_and_wait("rm it", timeout=WAIT)
        _end_the_aborted_turn(fake, session)


# --------------------------------------------------------------------------- idle_timeout


def _busy(seconds=3.0, every=0.3):
    """session.send: a turn that sends a delta every ``every`` s for ``seconds`` s, then its reply."""
    actions = [reply({"messageId": "busy"}), events(STARTED)]
    for i in range(int(seconds / every)):
        actions += [sleep(every), events([{"type": "assistant.message_delta", "ephemeral": True,
                                           "data": {"messageId": "b", "deltaContent": f"{i} "}}])]  # fmt: skip
    actions.append(events([("assistant.message", {"messageId": "b", "content": "done after a while"}),
                           ("session.idle", {})]))  # fmt: skip
    return Rule(method="session.send", times=1, actions=actions)


def _silent(seconds=2.0):
    """session.send: the turn starts, then nothing for ``seconds`` s, then its reply."""
    actions = [
        reply({"messageId": "quiet"}),
        events(STARTED),
        sleep(seconds),
        events(
            [("assistant.message", {"messageId": "q", "content": "late"}), ("session.idle", {})]
        ),
    ]
    return Rule(method="session.send", times=1, actions=actions)


def _run(session, method, **kwargs):
    if method == "send_and_wait":
        return session.send_and_wait("go", **kwargs).data.content
    if method == "send_async":
        return session.send_async("go", **kwargs).result(WAIT).data.content
    if method == "stream":
        return [e for e in session.stream("go", **kwargs) if e.type == "assistant.message"][
            -1
        ].data.content
    return session.send_and_collect("go", **kwargs)


IDLE_METHODS = ["send_and_wait", "send_async", "stream", "send_and_collect"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", IDLE_METHODS)
def test_a_busy_turn_longer_than_the_idle_timeout_completes(method):
    with running([_busy()]) as (_fake, client):
        session = client.create_session()
        began = time.monotonic()
        assert _run(session, method, idle_timeout=1, timeout=WAIT) == "done after a while"
        assert time.monotonic() - began >= 2.9  # three times the idle timeout, never idle for one


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", IDLE_METHODS)
def test_a_silent_turn_fails_fast_and_is_left_running(method):
    with running([_silent(2.0)]) as (fake, client):
        session = client.create_session()
        ended = _on(session, "session.idle")
        began = time.monotonic()
        with pytest.raises(CopilotTimeoutError) as info:
            _run(session, method, idle_timeout=0.5, timeout=WAIT)
        elapsed = time.monotonic() - began
        assert 0.5 <= elapsed < 1.3, elapsed  # 0.5 s of silence (plus one sampling step), not 2 s
        text = str(info.value)
        assert "no event from the session for 0.5s (idle_timeout)" in text
        assert "still running on the CLI" in text and "session.abort()" in text
        # as with timeout=: nothing was aborted, the turn runs to its end
        assert ended.wait(WAIT)
        assert fake.requests("session.abort") == []
        session.wait_for_idle(WAIT)


@pytest.mark.timeout(60)
def test_idle_time_counts_from_the_send_not_from_the_queue():
    with running([_silent(1.5)]) as (_fake, client):
        session = client.create_session()
        first = session.send_async("first", timeout=WAIT)  # 1.5 s of silence, no idle limit
        began = time.monotonic()
        # queued for 1.5 s, three times its idle timeout: it must not fire while queued
        second = session.send_and_wait("second", timeout=WAIT, idle_timeout=0.5)
        assert time.monotonic() - began >= 1.4
        assert second.data.content == "echo: second"
        assert first.result(0).data.content == "late"


@pytest.mark.timeout(60)
def test_the_first_of_timeout_and_idle_timeout_wins():
    with running([_busy(seconds=3.0), _silent(2.0)]) as (_fake, client):
        session = client.create_session()
        began = time.monotonic()
        with pytest.raises(CopilotTimeoutError, match="Timeout after 1s waiting for session.idle"):
            session.send_and_wait("busy", timeout=1, idle_timeout=0.8)  # busy: the deadline fires
        assert time.monotonic() - began < 1.5
        session.wait_for_idle(WAIT)
        began = time.monotonic()
        with pytest.raises(CopilotTimeoutError, match="idle_timeout"):
            session.send_and_wait(
                "silent", timeout=5, idle_timeout=0.5
            )  # silent: the idle timeout fires
        assert time.monotonic() - began < 1.3
        session.wait_for_idle(WAIT)


@pytest.mark.timeout(60)
def test_a_send_async_idle_timeout_fails_the_future_and_the_next_turn_waits_for_the_end():
    with running([_silent(2.0)]) as (fake, client):
        session = client.create_session()
        began = time.monotonic()
        quiet = session.send_async("quiet", idle_timeout=0.5)
        after = session.send_async("after", timeout=WAIT)
        error = quiet.exception(WAIT)
        assert isinstance(error, CopilotTimeoutError) and "idle_timeout" in str(error)
        assert 0.5 <= time.monotonic() - began < 1.3
        assert not after.done()  # still queued behind the turn that runs on
        assert after.result(WAIT).data.content == "echo: after"
        assert [m["params"]["prompt"] for m in fake.requests("session.send")] == ["quiet", "after"]
        assert fake.requests("session.abort") == []


@pytest.mark.timeout(60)
def test_a_running_tool_handler_stops_the_idle_clock():
    def slow_tool(invocation):
        time.sleep(1.5)  # the CLI sends nothing while it waits for the tool
        return "tool result"

    rule = Rule(
        method="session.send", times=1, actions=[reply({"messageId": "t"}), events(STARTED)]
    )
    with running([rule]) as (fake, client):
        session = client.create_session(tools=[Tool("slow", "A slow tool", slow_tool)])
        future = session.send_async("use the tool", idle_timeout=0.5)
        fake.wait_for_request("session.send", timeout=WAIT)
        fake.emit(session.session_id, "external_tool.requested",
                  {"requestId": "r1", "sessionId": session.session_id, "toolCallId": "c1", "toolName": "slow",
                   "arguments": {}})  # fmt: skip
        fake.wait_for_request("session.tools.handlePendingToolCall", timeout=WAIT)
        assert not future.done()  # 1.5 s in the tool did not count as silence
        fake.emit_many(session.session_id, [("assistant.message", {"messageId": "a", "content": "used it"}),
                                            ("session.idle", {})])  # fmt: skip
        assert future.result(WAIT).data.content == "used it"


@pytest.mark.timeout(60)
def test_ctrl_c_while_waiting_with_an_idle_timeout_aborts_the_turn():
    import _thread

    with running([], think_time=1.0) as (fake, client):
        session = client.create_session()
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                session.send_and_wait("interrupted", timeout=WAIT, idle_timeout=5)
        finally:
            timer.cancel()
        assert (
            session.send_and_wait("after", timeout=WAIT, idle_timeout=5).data.content
            == "echo: after"
        )
        assert len(fake.requests("session.abort")) == 1
