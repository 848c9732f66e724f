"""send_and_wait and stream semantics, precisely, against the fake CLI."""

from __future__ import annotations

import threading
import time

import pytest

from copilot_sync import NoReplyError, ReentrancyError, SessionError, TurnAbortedError
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import events, reply

from .conftest import running


def _scripted(turn, *, times=None):
    """A session.send rule that answers at once, then emits exactly ``turn`` (no built-in turn)."""
    return Rule(
        method="session.send", times=times, actions=[reply({"messageId": "scripted"}), events(turn)]
    )


SCRIPTED_TURN = [
    ("user.message", {"content": "hi"}),
    ("assistant.turn_start", {"turnId": "0"}),
    (
        "assistant.message",
        {"messageId": "m1", "content": "", "toolRequests": [{"toolCallId": "c", "name": "t"}]},
    ),
    {
        "type": "assistant.message",
        "data": {"messageId": "sub", "content": "from a sub-agent"},
        "agentId": "agent-7",
    },
    {"type": "session.idle", "data": {}, "agentId": "agent-7"},
    ("assistant.message", {"messageId": "m2", "content": "the real answer"}),
    ("assistant.message", {"messageId": "m3", "content": ""}),
    ("assistant.turn_end", {"turnId": "0"}),
    {"type": "session.idle", "data": {}, "ephemeral": True},
]


def test_send_and_wait_returns_the_last_root_message_with_text():
    with running([_scripted(SCRIPTED_TURN)]) as (_fake, client):
        session = client.create_session()
        reply = session.send_and_wait("hi", timeout=10)
        assert reply.id is not None and reply.data.content == "the real answer"
        assert reply.data.message_id == "m2"


def test_send_and_wait_raises_no_reply_error_when_the_turn_has_no_message():
    turn = [("user.message", {"content": "hi"}), ("session.idle", {})]
    with running([_scripted(turn)]) as (_fake, client):
        with pytest.raises(NoReplyError, match="without an assistant message") as caught:
            client.create_session().send_and_wait("hi", timeout=10)
        assert isinstance(caught.value, SessionError)
        assert caught.value.reason == "empty"
        assert caught.value.event is not None and caught.value.event.type == "session.idle"
        assert [e.raw_type for e in caught.value.events] == ["user.message", "session.idle"]


def test_no_reply_error_names_a_bare_reject_that_ended_the_turn():
    rejected = {
        "toolCallId": "c1",
        "success": False,
        "error": {"message": "The user rejected this tool call.", "code": "rejected"},
    }
    turn = [("user.message", {"content": "hi"}),
            ("tool.execution_start", {"toolCallId": "c1", "toolName": "rm"}),
            ("tool.execution_complete", rejected),
            ("abort", {"reason": "user_initiated"}), ("session.idle", {})]  # fmt: skip
    with running([_scripted(turn)]) as (_fake, client):
        session = client.create_session()
        with pytest.raises(NoReplyError, match="rejected by the permission handler") as caught:
            session.send_and_wait("hi", timeout=10)
        assert caught.value.reason == "tool_rejected"
        assert caught.value.events[-1].raw_type == "session.idle"


def test_session_error_raises_with_the_event():
    with running([], turn_error="Execution failed: no token") as (_fake, client):
        session = client.create_session()
        with pytest.raises(SessionError) as info:
            session.send_and_wait("hi", timeout=10)
        assert "Execution failed: no token" in str(info.value)
        assert info.value.event.type == "session.error" and info.value.error_type == "query"
        with pytest.raises(SessionError):
            list(session.stream("hi again", timeout=10))


def test_an_aborted_idle_raises_turn_aborted():
    turn = [
        ("user.message", {"content": "hi"}),
        ("abort", {"reason": "remote_command"}),
        ("session.idle", {"aborted": True}),
    ]
    with running([_scripted(turn, times=2)]) as (_fake, client):
        session = client.create_session()
        with pytest.raises(TurnAbortedError):
            session.send_and_wait("hi", timeout=10)
        stream = session.stream("hi", timeout=10)
        with pytest.raises(TurnAbortedError):
            for _ in stream:
                pass


def test_a_stale_idle_before_this_turn_starts_does_not_end_it():
    # the idle of an earlier, aborted turn arrives after the next send was accepted
    turn = [("session.idle", {"aborted": True}), ("user.message", {"content": "hi"}),
            ("assistant.message", {"messageId": "m", "content": "fresh"}), ("session.idle", {})]  # fmt: skip
    with running([_scripted(turn)]) as (_fake, client):
        assert client.create_session().send_and_wait("hi", timeout=10).data.content == "fresh"


@pytest.mark.timeout(60)
def test_overlapping_send_and_wait_calls_each_get_their_own_reply():
    # one idle covers every message the CLI queued: the SDK queues the second call's
    # message itself and sends it only after the first turn's own idle
    with running([], think_time=0.3) as (fake, client):
        session = client.create_session()
        deliveries: list[str] = []
        session.on("user.message", lambda e: deliveries.append(e.raw["data"].get("delivery")))
        results: list[str] = []
        first = threading.Thread(
            target=lambda: results.append(session.send_and_wait("one", timeout=10).data.content)
        )
        first.start()
        fake.wait_for_request("session.send")
        second = session.send_and_wait("two", timeout=10)
        first.join(10)
        assert second.data.content == "echo: two"
        assert results == ["echo: one"]
        assert deliveries == ["idle", "idle"]  # the CLI never had to queue one behind the other


@pytest.mark.timeout(60)
def test_a_plain_send_while_a_turn_runs_shares_that_turns_idle():
    # send() is fire and forget, outside the queue: the CLI queues it behind the running
    # turn, and the one idle covers both (documented on send())
    with running([], think_time=0.3) as (fake, client):
        session = client.create_session()
        deliveries: list[str] = []
        session.on("user.message", lambda e: deliveries.append(e.raw["data"].get("delivery")))
        results: list[str] = []
        waiting = threading.Thread(
            target=lambda: results.append(session.send_and_wait("one", timeout=10).data.content)
        )
        waiting.start()
        fake.wait_for_request("session.send")
        assert session.send("two")
        waiting.join(10)
        assert deliveries == ["idle", "queued"]
        assert results == ["echo: two"]  # woke at the shared idle, after the later message's reply
        session.wait_for_idle(10)


def test_stream_yields_the_whole_turn_in_order():
    with running([]) as (_fake, client):
        session = client.create_session(streaming=True)
        with session.stream("streamed", timeout=10) as stream:
            types = [event.raw_type for event in stream]
        assert stream.closed and stream.message_id
        # session.start may still be on its way after create returned, as with the real CLI
        types = [t for t in types if t != "session.start"]
        assert types[0] == "user.message" and types[-1] == "session.idle"
        assert types.count("assistant.message_delta") == 3
        assert list(stream) == []  # exhausted


def test_a_slow_stream_consumer_holds_up_only_its_own_session():
    with running([_scripted([], times=1)]) as (fake, client):
        streamed = client.create_session()
        other = client.create_session()
        stream = streamed.stream("lots", timeout=60, buffer_size=50)
        fake.emit(streamed.session_id, "user.message", {"content": "lots"})
        message_id = fake.emit_deltas(streamed.session_id, 20_000, text="{i},")
        fake.emit(streamed.session_id, "session.idle", {})
        # the buffer is full and the session's event thread waits; everything else goes on
        began = time.monotonic()
        assert client.ping().message == "pong"
        assert other.send_and_wait("meanwhile", timeout=10).data.content == "echo: meanwhile"
        assert time.monotonic() - began < 5
        deltas = []
        for event in stream:
            if event.raw_type == "assistant.message_delta":
                assert event.data.message_id == message_id
                deltas.append(event.data.delta_content)
        assert deltas == [f"{i}," for i in range(20_000)]


def test_a_dropped_stream_is_released():
    with running([_scripted([], times=1)]) as (fake, client):
        session = client.create_session()
        stream = session.stream("ignored", timeout=60, buffer_size=10)
        del stream  # never iterated: its buffer must not block the session forever
        fake.emit(session.session_id, "user.message", {"content": "ignored"})
        fake.emit_deltas(session.session_id, 1000)
        fake.emit(session.session_id, "session.idle", {})  # its turn ends: the next one goes
        assert session.send_and_wait("next", timeout=10).data.content == "echo: next"


@pytest.mark.timeout(60)
def test_a_stream_closed_before_its_turn_was_sent_never_sends_it():
    with running([], think_time=0.5) as (fake, client):
        session = client.create_session()
        first = session.send_async("first", timeout=10)
        stream = session.stream("never sent", timeout=10)
        assert stream.message_id is None  # queued behind the first turn
        stream.close()
        assert first.result(10).data.content == "echo: first"
        assert session.send_and_wait("after", timeout=10).data.content == "echo: after"
        assert [m["params"]["prompt"] for m in fake.requests("session.send")] == ["first", "after"]


def test_stream_timeout_bounds_the_whole_turn():
    from copilot_sync import CopilotTimeoutError

    with running([], think_time=30) as (_fake, client):
        session = client.create_session()
        began = time.monotonic()
        with pytest.raises(CopilotTimeoutError):
            for _ in session.stream("slow", timeout=0.5):
                pass
        assert time.monotonic() - began < 3


def test_handler_exceptions_are_logged_and_the_next_handler_runs(caplog):
    with running([]) as (_fake, client):
        session = client.create_session()
        seen: list[str] = []

        def broken(event):
            raise ValueError("handler bug")

        session.on("assistant.message", broken)
        session.on("assistant.message", lambda e: seen.append(e.data.content))
        session.send_and_wait("hi", timeout=10)
        assert seen == ["echo: hi"]
        assert "handler bug" in caplog.text and "raised on assistant.message" in caplog.text


def test_unsubscribe_and_bad_subscriptions():
    with running([]) as (_fake, client):
        session = client.create_session()
        seen: list[str] = []
        off = session.on(lambda e: seen.append(e.raw_type))
        session.send_and_wait("one", timeout=10)
        off()
        count = len(seen)
        session.send_and_wait("two", timeout=10)
        assert len(seen) == count
        with pytest.raises(TypeError):
            session.on("assistant.message")
        with pytest.raises(TypeError):
            session.on(42, print)
        with pytest.raises(TypeError, match="prompt"):
            session.send(None)
        with pytest.raises(ValueError, match="mode"):
            session.send("x", mode="later")
        with pytest.raises(TypeError, match="attachments"):
            session.send("x", attachments="file.txt")


def test_send_and_wait_refuses_to_run_on_its_own_event_thread():
    with running([]) as (fake, client):
        session = client.create_session()
        errors: list[BaseException] = []
        done = threading.Event()

        def handler(event):
            began = time.monotonic()
            try:
                session.send_and_wait("nested", timeout=5)
            except RuntimeError as exc:  # a ReentrancyError is also a RuntimeError
                errors.append(exc)
            errors.append(time.monotonic() - began)
            done.set()

        session.on("assistant.message", handler)
        session.send("outer")
        assert done.wait(10)
        assert isinstance(errors[0], ReentrancyError)
        assert "cannot be called from this session's own event handler" in str(errors[0])
        assert errors[1] < 1  # at once, not after its timeout
        session.wait_for_idle(10)
        assert [m["params"]["prompt"] for m in fake.requests("session.send")] == [
            "outer"
        ]  # nothing sent


def test_destroy_is_a_deprecated_disconnect():
    with running([]) as (_fake, client):
        session = client.create_session()
        with pytest.warns(DeprecationWarning):
            session.destroy()
        assert session.closed


def test_a_late_message_of_an_earlier_turn_is_not_the_answer():
    turn = [("assistant.message", {"messageId": "old", "content": "from the turn before"}),
            ("user.message", {"content": "hi"}), ("session.idle", {})]  # fmt: skip
    with running([_scripted(turn)]) as (_fake, client):
        with pytest.raises(NoReplyError):
            client.create_session().send_and_wait("hi", timeout=10)


# --------------------------------------------------------------------------- the queue: Ctrl-C and closing


def _sent(fake):
    return [m["params"]["prompt"] for m in fake.requests("session.send")]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("call", ["send_and_wait", "stream", "send_and_collect"])
def test_ctrl_c_while_queued_drops_the_message_without_aborting_anything(call):
    import _thread

    with running([], think_time=1.0) as (fake, client):
        session = client.create_session()
        first = session.send_async("running", timeout=10)
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                if call == "send_and_wait":
                    session.send_and_wait("queued", timeout=10)
                elif call == "stream":
                    list(session.stream("queued", timeout=10))
                else:
                    session.send_and_collect("queued", timeout=10)
        finally:
            timer.cancel()
        assert first.result(10).data.content == "echo: running"  # the running turn was not aborted
        assert session.send_and_wait("next", timeout=10).data.content == "echo: next"
        assert _sent(fake) == ["running", "next"]
        assert fake.requests("session.abort") == []


@pytest.mark.timeout(60)
def test_ctrl_c_while_sent_aborts_the_turn_and_the_queue_goes_on():
    import _thread

    with running([], think_time=1.0) as (fake, client):
        session = client.create_session()
        idles: list[bool] = []
        session.on("session.idle", lambda e: idles.append(bool(e.raw["data"].get("aborted"))))
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                session.send_and_wait("interrupted", timeout=10)
        finally:
            timer.cancel()
        after = session.send_async("after", timeout=10)  # queued until the aborted turn's idle
        assert after.result(10).data.content == "echo: after"
        assert idles == [True, False]
        assert _sent(fake) == ["interrupted", "after"]
        assert len(fake.requests("session.abort")) == 1


@pytest.mark.timeout(60)
def test_disconnect_fails_queued_and_running_blocking_calls():
    from copilot_sync import SessionClosedError

    with running([], think_time=5) as (fake, client):
        session = client.create_session()
        outcomes: dict[str, BaseException] = {}

        def call(name):
            try:
                session.send_and_wait(name, timeout=30)
            except BaseException as exc:
                outcomes[name] = exc

        threads = [
            threading.Thread(target=call, args=(name,)) for name in ("first", "second", "third")
        ]
        for thread in threads:
            thread.start()
            if thread is threads[0]:
                fake.wait_for_request("session.send")
        time.sleep(0.2)
        began = time.monotonic()
        session.disconnect()
        for thread in threads:
            thread.join(10)
        assert time.monotonic() - began < 3
        assert sorted(outcomes) == ["first", "second", "third"]
        assert all(isinstance(e, SessionClosedError) for e in outcomes.values()), outcomes
        assert _sent(fake) == ["first"]  # the queued two never reached the CLI
