"""send_async futures, wait_for_idle and send_and_collect, against the fake CLI."""

from __future__ import annotations

import _thread
import concurrent.futures as cf
import threading
import time

import pytest

from copilot_sync import (
    CopilotTimeoutError,
    NoReplyError,
    ProcessExitedError,
    ReentrancyError,
    SessionClosedError,
    SessionError,
    TurnAbortedError,
    TurnFuture,
)
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import default, events, reply, sleep

from .conftest import running

WAIT = 10  # seconds: the most any single wait in this file may take


def _scripted(turn, *, times=None):
    """A session.send rule that answers at once, then emits exactly ``turn`` (no built-in turn)."""
    return Rule(
        method="session.send", times=times, actions=[reply({"messageId": "scripted"}), events(turn)]
    )


def _deliveries(session):
    """The ``delivery`` of every user.message the session sees: "idle" means the CLI got the
    message while no turn ran, "queued" that it had to queue it behind a running turn."""
    seen: list[str] = []
    session.on("user.message", lambda e: seen.append(e.raw["data"].get("delivery")))
    return seen


def _sent_prompts(fake):
    return [m["params"]["prompt"] for m in fake.requests("session.send")]


# --------------------------------------------------------------------------- serialisation and results


def test_futures_run_one_at_a_time_in_order_and_each_gets_its_own_reply():
    with running([], think_time=0.2) as (fake, client):
        session = client.create_session()
        deliveries = _deliveries(session)
        began = time.monotonic()
        futures = [session.send_async(f"prompt {i}", timeout=WAIT) for i in range(4)]
        assert time.monotonic() - began < 1.0  # send_async does not wait for the turn
        assert all(isinstance(f, TurnFuture) for f in futures)
        assert futures[0].running() and not futures[1].running() and not futures[1].done()
        assert [f.result(WAIT).data.content for f in futures] == [
            f"echo: prompt {i}" for i in range(4)
        ]
        # each message reached the CLI while it was idle: never queued behind another turn
        session.wait_for_idle(WAIT)
        assert deliveries == ["idle"] * 4
        assert _sent_prompts(fake) == [f"prompt {i}" for i in range(4)]
        assert all(f.message_id for f in futures) and len({f.message_id for f in futures}) == 4
        assert not any(f.running() for f in futures)
        assert "finished" in repr(futures[0]) and "prompt 0" in repr(futures[0])


def test_the_result_is_what_send_and_wait_returns():
    turn = [
        ("user.message", {"content": "hi"}),
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
        ("session.idle", {}),
    ]
    with running([_scripted(turn, times=2)]) as (_fake, client):
        session = client.create_session()
        blocking = session.send_and_wait("hi", timeout=WAIT)
        future = session.send_async("hi", timeout=WAIT)
        result = future.result(WAIT)
        assert (result.data.message_id, result.data.content) == (
            blocking.data.message_id,
            blocking.data.content,
        )
        assert result.data.message_id == "m2"
        assert future.message_id == "scripted"


def test_a_turn_without_a_message_fails_with_no_reply_error():
    with running([_scripted([("user.message", {"content": "hi"}), ("session.idle", {})])]) as (
        _fake,
        client,
    ):
        future = client.create_session().send_async("hi", timeout=WAIT)
        with pytest.raises(NoReplyError, match="without an assistant message"):
            future.result(WAIT)
        assert isinstance(future.exception(0), NoReplyError)


def test_session_error_fails_the_future_with_session_error():
    with running([], turn_error="Execution failed: no token") as (fake, client):
        session = client.create_session()
        first, second = (
            session.send_async("one", timeout=WAIT),
            session.send_async("two", timeout=WAIT),
        )
        for future in (first, second):
            error = future.exception(WAIT)
            assert isinstance(error, SessionError) and not isinstance(error, TurnAbortedError)
            assert "Execution failed: no token" in str(error) and error.error_type == "query"
        fake.set_turn_error(None)
        assert session.send_async("three", timeout=WAIT).result(WAIT).data.content == "echo: three"
        assert _sent_prompts(fake) == ["one", "two", "three"]


def test_an_abort_fails_the_running_future_with_turn_aborted_and_the_queue_goes_on():
    with running([], think_time=0.5) as (_fake, client):
        session = client.create_session()
        started = threading.Event()
        session.on("assistant.turn_start", lambda e: started.set())
        first, second = (
            session.send_async("one", timeout=WAIT),
            session.send_async("two", timeout=WAIT),
        )
        assert started.wait(WAIT)
        assert session.abort() is True
        assert isinstance(first.exception(WAIT), TurnAbortedError)
        assert second.result(WAIT).data.content == "echo: two"


def test_a_failed_send_rpc_fails_only_its_future():
    rule = Rule(
        method="session.send",
        times=1,
        actions=[{"op": "error", "code": -32603, "message": "no way"}],
    )
    with running([rule]) as (_fake, client):
        session = client.create_session()
        first, second = (
            session.send_async("one", timeout=WAIT),
            session.send_async("two", timeout=WAIT),
        )
        error = first.exception(WAIT)
        assert error.__class__.__name__ == "JsonRpcError" and "no way" in str(error)
        assert second.result(WAIT).data.content == "echo: two"


# --------------------------------------------------------------------------- cancel


def test_cancelling_a_queued_turn_never_reaches_the_cli():
    with running([], think_time=0.3) as (fake, client):
        session = client.create_session()
        futures = [session.send_async(f"p{i}", timeout=WAIT) for i in range(3)]
        assert futures[1].cancel() is True
        assert futures[1].cancelled() and futures[1].done() and futures[1].cancel() is True
        with pytest.raises(cf.CancelledError):
            futures[1].result(0)
        assert futures[0].result(WAIT).data.content == "echo: p0"
        assert futures[2].result(WAIT).data.content == "echo: p2"
        assert _sent_prompts(fake) == ["p0", "p2"]
        assert fake.requests("session.abort") == []
        assert "cancelled" in repr(futures[1])


def test_cancelling_the_running_turn_aborts_it_and_the_next_one_follows():
    with running([], think_time=1.0) as (fake, client):
        session = client.create_session()
        aborted_idles: list[bool] = []
        session.on(
            "session.idle", lambda e: aborted_idles.append(bool(e.raw["data"].get("aborted")))
        )
        first, second = (
            session.send_async("one", timeout=WAIT),
            session.send_async("two", timeout=WAIT),
        )
        fake.wait_for_request("session.send")
        began = time.monotonic()
        assert first.cancel() is True
        assert time.monotonic() - began < 0.5  # cancel() does not wait for the CLI
        assert first.cancelled() and first.done() and not first.running()
        with pytest.raises(cf.CancelledError):
            first.result(0)
        fake.wait_for_request("session.abort", timeout=WAIT)
        assert second.result(WAIT).data.content == "echo: two"
        # the next message went out only after the aborted turn's idle
        methods = [
            m["method"] for m in fake.requests() if m["method"] in ("session.send", "session.abort")
        ]
        assert methods == ["session.send", "session.abort", "session.send"]
        assert aborted_idles == [True, False]
        assert first.cancel() is True and second.cancel() is False


def test_cancel_before_the_cli_answered_the_send_aborts_once_it_did():
    slow_send = Rule(method="session.send", times=1, actions=[sleep(0.5), default()])
    with running([slow_send], think_time=1.0) as (fake, client):
        session = client.create_session()
        aborted_idles: list[bool] = []
        session.on(
            "session.idle", lambda e: aborted_idles.append(bool(e.raw["data"].get("aborted")))
        )
        first, second = (
            session.send_async("one", timeout=WAIT),
            session.send_async("two", timeout=WAIT),
        )
        fake.wait_for_request("session.send")
        assert first.running() and first.cancel() is True
        fake.wait_for_request("session.abort", timeout=WAIT)
        assert second.result(WAIT).data.content == "echo: two"
        # an abort sent before the CLI accepted the message would have found no turn to abort
        assert aborted_idles == [True, False]
        methods = [
            m["method"] for m in fake.requests() if m["method"] in ("session.send", "session.abort")
        ]
        assert methods == ["session.send", "session.abort", "session.send"]


def test_cancel_of_a_finished_future_returns_false():
    with running([]) as (_fake, client):
        future = client.create_session().send_async("hi", timeout=WAIT)
        assert future.result(WAIT).data.content == "echo: hi"
        assert future.cancel() is False and not future.cancelled()


# --------------------------------------------------------------------------- timeouts


def test_the_timeout_counts_from_the_send_not_from_the_call():
    with running([], think_time=0.8) as (_fake, client):
        session = client.create_session()
        first = session.send_async("one")
        # queued for ~0.8 s, then its own turn takes ~0.8 s: 1.2 s would be too short from the call
        second = session.send_async("two", timeout=1.2)
        assert first.result(WAIT).data.content == "echo: one"
        assert second.result(WAIT).data.content == "echo: two"


def test_a_timeout_fails_the_future_without_aborting_and_the_queue_waits_for_the_turn():
    with running([], think_time=1.0) as (fake, client):
        session = client.create_session()
        deliveries = _deliveries(session)
        began = time.monotonic()
        slow = session.send_async("slow", timeout=0.3)
        after = session.send_async("after", timeout=WAIT)
        with pytest.raises(CopilotTimeoutError, match="Timeout after 0.3s"):
            slow.result(WAIT)
        assert time.monotonic() - began < 0.9
        assert after.result(WAIT).data.content == "echo: after"
        assert fake.requests("session.abort") == []
        assert deliveries == ["idle", "idle"]  # "after" went out once the slow turn had ended


# --------------------------------------------------------------------------- closing


def test_disconnect_fails_every_queued_and_running_future():
    with running([], think_time=5) as (fake, client):
        session = client.create_session()
        futures = [session.send_async(f"p{i}") for i in range(3)]
        fake.wait_for_request("session.send")
        began = time.monotonic()
        session.disconnect()
        _done, pending = cf.wait(futures, timeout=WAIT)
        assert not pending and time.monotonic() - began < 3
        assert all(isinstance(f.exception(0), SessionClosedError) for f in futures)
        with pytest.raises(SessionClosedError):
            session.send_async("too late")


def test_client_stop_fails_every_future():
    with running([], think_time=5) as (fake, client):
        session = client.create_session()
        futures = [session.send_async(f"p{i}") for i in range(3)]
        fake.wait_for_request("session.send")
        client.stop(timeout=5)
        assert all(isinstance(f.exception(WAIT), SessionClosedError) for f in futures)


def test_the_cli_dying_fails_every_future_with_process_exited():
    with running([], think_time=5) as (fake, client):
        session = client.create_session()
        futures = [session.send_async(f"p{i}") for i in range(3)]
        fake.wait_for_request("session.send")
        began = time.monotonic()
        fake.kill()
        errors = [f.exception(WAIT) for f in futures]
        assert time.monotonic() - began < 5
        assert all(isinstance(e, ProcessExitedError) for e in errors), errors
        assert len({id(e) for e in errors}) == 3  # each future has its own exception object


# --------------------------------------------------------------------------- callbacks and concurrent.futures


def test_done_callbacks_run_on_the_event_thread_and_may_queue_more_turns():
    with running([], think_time=0.1) as (fake, client):
        session = client.create_session()
        deliveries = _deliveries(session)
        seen: list[tuple[str, str]] = []
        chained: list[TurnFuture] = []
        chained_ready = threading.Event()

        def on_done(future):
            seen.append((future.result().data.content, threading.current_thread().name))
            if not chained:
                chained.append(session.send_async("from the callback", timeout=WAIT))
                chained_ready.set()

        first = session.send_async("one", timeout=WAIT)
        first.add_done_callback(on_done)
        second = session.send_async("two", timeout=WAIT)
        assert chained_ready.wait(WAIT)
        assert chained[0].result(WAIT).data.content == "echo: from the callback"
        assert second.result(WAIT).data.content == "echo: two"
        assert seen[0][0] == "echo: one" and seen[0][1].startswith("copilot-events-")
        assert _sent_prompts(fake) == ["one", "two", "from the callback"]  # FIFO by submission
        assert deliveries == ["idle"] * 3
        late: list[str] = []
        first.add_done_callback(
            lambda f: late.append(threading.current_thread().name)
        )  # already done: runs here
        assert late == [threading.current_thread().name]


def test_concurrent_futures_wait_and_as_completed_work_with_cancelled_futures_too():
    with running([], think_time=0.2) as (_fake, client):
        session = client.create_session()
        futures = [session.send_async(f"p{i}", timeout=WAIT) for i in range(4)]
        assert futures[2].cancel()
        done, pending = cf.wait(futures, timeout=WAIT, return_when=cf.ALL_COMPLETED)
        assert not pending and len(done) == 4
        order = [futures.index(f) for f in cf.as_completed(futures, timeout=WAIT)]
        assert sorted(order) == [0, 1, 2, 3]
        only_cancelled = [
            session.send_async("x", timeout=WAIT),
            session.send_async("y", timeout=WAIT),
        ]
        assert only_cancelled[1].cancel()
        done, _ = cf.wait(
            only_cancelled[1:], timeout=1
        )  # a cancelled future counts as done at once
        assert done == {only_cancelled[1]}
        assert only_cancelled[0].result(WAIT).data.content == "echo: x"


def test_a_future_cannot_be_waited_on_from_its_sessions_event_thread():
    with running([], think_time=0.2) as (_fake, client):
        session = client.create_session()
        errors: list[BaseException] = []
        done = threading.Event()

        def handler(event):
            future = session.send_async("nested", timeout=WAIT)
            try:
                future.result(1)
            except RuntimeError as exc:
                errors.append(exc)
            done.set()

        off = session.on("user.message", handler)
        session.send_async("outer", timeout=WAIT)
        assert done.wait(WAIT)
        off()
        assert isinstance(errors[0], ReentrancyError)
        assert "TurnFuture.result()" in str(errors[0])
        assert "cannot be called from this session's own event handler" in str(errors[0])
        session.wait_for_idle(WAIT)


def test_send_async_argument_errors_raise_at_the_call():
    with running([]) as (fake, client):
        session = client.create_session()
        with pytest.raises(TypeError, match="prompt"):
            session.send_async(None)
        with pytest.raises(ValueError, match="mode"):
            session.send_async("x", mode="later")
        with pytest.raises(TypeError, match="attachments"):
            session.send_async("x", attachments="file.txt")
        for bad in (0, -1, float("nan"), True, "5"):
            with pytest.raises(ValueError, match="timeout"):
                session.send_async("x", timeout=bad)
        assert fake.requests("session.send") == []


def test_send_async_passes_attachments_and_mode():
    with running([]) as (fake, client):
        session = client.create_session()
        attachment = {"type": "file", "path": "/tmp/a.txt"}
        session.send_async("look", attachments=[attachment], mode="immediate", timeout=WAIT).result(
            WAIT
        )
        params = fake.requests("session.send")[0]["params"]
        assert params["attachments"] == [attachment] and params["mode"] == "immediate"
        assert params["sessionId"] == session.session_id


# --------------------------------------------------------------------------- wait_for_idle


def test_wait_for_idle_returns_at_once_when_idle():
    with running([]) as (_fake, client):
        session = client.create_session()
        began = time.monotonic()
        assert session.wait_for_idle() is None
        assert session.wait_for_idle(timeout=0.1) is None
        assert time.monotonic() - began < 0.5


def test_wait_for_idle_waits_for_the_running_turn_and_every_queued_future():
    with running([], think_time=0.3) as (_fake, client):
        session = client.create_session()
        idles: list[float] = []
        session.on("session.idle", lambda e: idles.append(time.monotonic()))
        futures = [session.send_async(f"p{i}") for i in range(3)]
        session.wait_for_idle(timeout=WAIT)
        assert all(f.done() for f in futures) and len(idles) == 3  # handlers saw the last idle


def test_wait_for_idle_after_send_waits_for_that_turn():
    with running([], think_time=0.3) as (_fake, client):
        session = client.create_session()
        replies: list[str] = []
        session.on("assistant.message", lambda e: replies.append(e.data.content))
        session.send("fire and forget")
        session.wait_for_idle(timeout=WAIT)
        assert replies == ["echo: fire and forget"]


def test_wait_for_idle_times_out_without_aborting():
    with running([], think_time=1.0) as (fake, client):
        session = client.create_session()
        future = session.send_async("slow")
        began = time.monotonic()
        with pytest.raises(CopilotTimeoutError, match="idle"):
            session.wait_for_idle(timeout=0.2)
        assert time.monotonic() - began < 1.0
        assert future.result(WAIT).data.content == "echo: slow"
        assert fake.requests("session.abort") == []


def test_wait_for_idle_follows_turns_it_did_not_send():
    with running([]) as (fake, client):
        session = client.create_session()
        fake.emit(session.session_id, "user.message", {"content": "from another client"})
        fake.emit(session.session_id, "assistant.turn_start", {"turnId": "0"})
        with pytest.raises(CopilotTimeoutError):
            session.wait_for_idle(timeout=0.3)
        fake.emit(
            session.session_id, "session.idle", {}, agent_id="sub-agent"
        )  # not the session's idle
        with pytest.raises(CopilotTimeoutError):
            session.wait_for_idle(timeout=0.3)
        fake.emit(session.session_id, "session.idle", {})
        session.wait_for_idle(timeout=WAIT)


def test_wait_for_idle_ends_with_the_session():
    with running([], think_time=5) as (_fake, client):
        session = client.create_session()
        session.send_async("slow")
        threading.Timer(0.3, session.disconnect).start()
        began = time.monotonic()
        with pytest.raises(SessionClosedError):
            session.wait_for_idle(timeout=WAIT)
        assert time.monotonic() - began < 3
        with pytest.raises(SessionClosedError):
            session.wait_for_idle()


def test_ctrl_c_interrupts_wait_for_idle_and_aborts_nothing():
    with running([], think_time=1.0) as (fake, client):
        session = client.create_session()
        future = session.send_async("slow")
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                session.wait_for_idle(timeout=WAIT)
        finally:
            timer.cancel()
        assert future.result(WAIT).data.content == "echo: slow"
        assert fake.requests("session.abort") == []


def test_wait_for_idle_refuses_to_run_on_the_event_thread():
    with running([]) as (_fake, client):
        session = client.create_session()
        errors: list[BaseException] = []
        done = threading.Event()

        def handler(event):
            try:
                session.wait_for_idle(timeout=1)
            except RuntimeError as exc:
                errors.append(exc)
            done.set()

        session.on("assistant.message", handler)
        session.send("outer")
        assert done.wait(WAIT)
        assert isinstance(errors[0], ReentrancyError)
        assert "wait_for_idle() on session" in str(errors[0])
        assert "cannot be called from this session's own event handler" in str(errors[0])


# --------------------------------------------------------------------------- send_and_collect


def test_send_and_collect_without_streaming_passes_the_whole_message_once():
    with running([]) as (_fake, client):
        session = client.create_session()
        chunks: list[str] = []
        assert session.send_and_collect("hi", timeout=WAIT, on_text=chunks.append) == "echo: hi"
        assert chunks == ["echo: hi"]
        assert session.send_and_collect("again", timeout=WAIT) == "echo: again"


def test_send_and_collect_with_streaming_passes_each_delta_once():
    with running([], streaming_chunks=4) as (_fake, client):
        session = client.create_session(streaming=True)
        chunks: list[str] = []
        threads: set[str] = set()

        def on_text(chunk):
            chunks.append(chunk)
            threads.add(threading.current_thread().name)

        text = session.send_and_collect("a longer prompt to split", timeout=WAIT, on_text=on_text)
        assert text == "echo: a longer prompt to split"
        assert len(chunks) == 4 and "".join(chunks) == text
        assert threads == {threading.current_thread().name}  # on the calling thread


def test_send_and_collect_completes_partial_deltas_and_skips_sub_agents():
    turn = [
        ("assistant.message", {"messageId": "old", "content": "late text of an earlier turn"}),
        ("user.message", {"content": "hi"}),
        ("assistant.message_delta", {"messageId": "m1", "deltaContent": "Let me "}),
        (
            "assistant.message",
            {"messageId": "m1", "content": "Let me look.", "toolRequests": [{"toolCallId": "c"}]},
        ),
        {
            "type": "assistant.message_delta",
            "data": {"messageId": "s", "deltaContent": "sub "},
            "agentId": "agent-1",
        },
        {
            "type": "assistant.message",
            "data": {"messageId": "s", "content": "sub text"},
            "agentId": "agent-1",
        },
        (
            "assistant.message_delta",
            {"messageId": "t", "deltaContent": "tool ", "parentToolCallId": "c"},
        ),
        ("assistant.message", {"messageId": "t", "content": "tool text", "parentToolCallId": "c"}),
        ("assistant.message_delta", {"messageId": "m2", "deltaContent": "Found"}),
        ("assistant.message_delta", {"messageId": "m2", "deltaContent": " it"}),
        ("assistant.message", {"messageId": "m2", "content": "Found it"}),
        ("assistant.message", {"messageId": "m2", "content": "Found it"}),  # delivered twice
        ("assistant.message", {"messageId": "m3", "content": "Done."}),
        ("assistant.message", {"messageId": "m4", "content": ""}),
        ("session.idle", {}),
    ]
    with running([_scripted(turn)]) as (_fake, client):
        session = client.create_session()
        chunks: list[str] = []
        assert session.send_and_collect("hi", timeout=WAIT, on_text=chunks.append) == "Done."
        assert chunks == ["Let me ", "look.", "Found", " it", "Done."]


def test_send_and_collect_returns_empty_text_without_a_message_and_raises_like_send_and_wait():
    rules = [_scripted([("user.message", {"content": "hi"}), ("session.idle", {})], times=1)]
    with running(rules) as (fake, client):
        session = client.create_session()
        assert session.send_and_collect("hi", timeout=WAIT) == ""
        fake.set_turn_error("broken")
        with pytest.raises(SessionError, match="broken"):
            session.send_and_collect("hi", timeout=WAIT)
        with pytest.raises(TypeError, match="on_text"):
            session.send_and_collect("hi", on_text="print")


def test_send_and_collect_times_out_and_an_on_text_error_propagates():
    with running([], think_time=1.0) as (_fake, client):
        session = client.create_session()
        with pytest.raises(CopilotTimeoutError):
            session.send_and_collect("slow", timeout=0.3)
        session.wait_for_idle(WAIT)

        def broken(chunk):
            raise ValueError("on_text bug")

        with pytest.raises(ValueError, match="on_text bug"):
            session.send_and_collect("hi", timeout=WAIT, on_text=broken)
        session.wait_for_idle(WAIT)


def test_send_and_collect_refuses_to_run_on_the_event_thread():
    with running([]) as (fake, client):
        session = client.create_session()
        errors: list[BaseException] = []
        done = threading.Event()

        def handler(event):
            try:
                session.send_and_collect("nested", timeout=1)
            except RuntimeError as exc:
                errors.append(exc)
            done.set()

        session.on("assistant.message", handler)
        session.send("outer")
        assert done.wait(WAIT)
        assert isinstance(errors[0], ReentrancyError)
        assert "send_and_collect() on session" in str(errors[0]) and "can" in str(errors[0])
        assert [m["params"]["prompt"] for m in fake.requests("session.send")] == [
            "outer"
        ]  # nothing sent
