"""Per-message options, cancelling from another thread and idle timeouts against the real
CLI, with the scripted model: each test shows an effect the CLI or the model can see."""

from __future__ import annotations

import threading
import time

import pytest

from copilot_sync import CopilotTimeoutError, TurnAbortedError

from .conftest import open_session

PROMPTLY = 1.0  # seconds after the CLI acknowledged the abort


def _user_messages(session):
    seen: list[dict] = []
    session.on("user.message", lambda e: seen.append(e.raw["data"]))
    return seen


# --------------------------------------------------------------------------- per-message options


def test_request_headers_reach_the_model_server(client, model):
    model.add_reply("first")
    model.add_reply("second")
    with open_session(client, model) as session:
        session.send_and_wait(
            "with headers",
            request_headers={"X-Trace-Id": "trace-42", "X-Tenant": "blue"},
            timeout=60,
        )
        session.send_and_wait("without", timeout=60)
    with_headers, without = model.requests[-2:]
    assert (
        with_headers.headers.get("x-trace-id") == "trace-42"
        and with_headers.headers.get("x-tenant") == "blue"
    )
    assert "x-trace-id" not in without.headers  # per turn: not inherited by the next one
    assert (
        with_headers.headers.get("authorization") == "Bearer scripted"
    )  # the provider's own still there


def test_display_prompt_is_what_the_timeline_shows_and_the_model_gets_the_prompt(client, model):
    model.add_reply("done")
    with open_session(client, model) as session:
        seen = _user_messages(session)
        reply = session.send_and_wait(
            "the real, long prompt", display_prompt="Summarise", timeout=60
        )
        assert reply.data.content == "done"
        assert [m["content"] for m in seen] == ["Summarise"]
        history = [
            e.raw["data"]["content"] for e in session.get_messages() if e.raw_type == "user.message"
        ]
        assert history == ["Summarise"]
    assert model.requests[-1].user_prompt.endswith("the real, long prompt")


def test_agent_mode_and_source_are_carried_by_the_user_message(client, model):
    model.add_reply("planned")
    model.add_reply("plain")
    with open_session(client, model) as session:
        seen = _user_messages(session)
        before = session.rpc.mode.get()
        session.send_and_wait("make a plan", agent_mode="plan", source="system", timeout=60)
        session.send_and_wait("and now?", timeout=60)
        assert [(m.get("agentMode"), m.get("source")) for m in seen] == [
            ("plan", "system"),
            (None, None),
        ]
        assert session.rpc.mode.get() == before  # the message's mode, not the session's
    planned, _plain = model.requests[-2:]
    # CLI 1.0.102 gives the model its plan-mode instructions for a message sent in plan mode
    assert "plan_mode" in planned.user_prompt and "make a plan" in planned.user_prompt


def test_stream_send_async_and_send_and_collect_take_the_options_too(client, model):
    for text in ("one", "two", "three"):
        model.add_reply(text)
    with open_session(client, model) as session:
        seen = _user_messages(session)
        list(
            session.stream("p1", display_prompt="shown 1", request_headers={"X-N": "1"}, timeout=60)
        )
        session.send_async("p2", display_prompt="shown 2", request_headers={"X-N": "2"}).result(60)
        assert (
            session.send_and_collect("p3", display_prompt="shown 3", request_headers={"X-N": "3"})
            == "three"
        )
        assert [m["content"] for m in seen] == ["shown 1", "shown 2", "shown 3"]
    assert [r.headers.get("x-n") for r in model.requests[-3:]] == ["1", "2", "3"]


# --------------------------------------------------------------------------- abort from another thread


@pytest.mark.parametrize("call", ["send_and_wait", "stream", "future"])
def test_abort_from_another_thread_raises_turn_aborted_at_once_and_the_queue_goes_on(
    client, model, call
):
    model.add_reply("never finished", delay=30)
    model.add_reply("the next reply")
    with open_session(client, model) as session:
        outcome: list[BaseException] = []
        raised_at: list[float] = []

        def blocked():
            try:
                if call == "send_and_wait":
                    session.send_and_wait("slow", timeout=60)
                elif call == "stream":
                    for _ in session.stream("slow", timeout=60):
                        pass
                else:
                    session.send_async("slow").result(60)
            except BaseException as exc:
                outcome.append(exc)
            raised_at.append(time.monotonic())

        thread = threading.Thread(target=blocked)
        thread.start()
        model.wait_for_requests(1, timeout=30)
        queued = session.send_async("next", timeout=60)
        time.sleep(0.3)  # the turn now waits on the (slow) model
        assert session.abort() is True
        acknowledged = time.monotonic()
        thread.join(30)
        assert raised_at and raised_at[0] - acknowledged < PROMPTLY, raised_at[0] - acknowledged
        assert [type(e) for e in outcome] == [TurnAbortedError]
        assert outcome[0].event.type == "abort" and outcome[0].event.data.reason == "user_initiated"
        assert queued.result(30).data.content == "the next reply"
        session.wait_for_idle(timeout=10)


# --------------------------------------------------------------------------- idle_timeout


def test_a_long_streamed_reply_outlives_a_shorter_idle_timeout(client, model):
    text = "one two three four five six seven eight nine ten"
    model.add_reply(text, chunks=10, chunk_delay=0.3)
    with open_session(client, model, streaming=True) as session:
        began = time.monotonic()
        assert session.send_and_collect("talk slowly", timeout=60, idle_timeout=1.5) == text
        assert (
            time.monotonic() - began >= 2.5
        )  # longer than the idle timeout, but never quiet that long


def test_a_silent_model_trips_the_idle_timeout_and_the_turn_goes_on(client, model):
    model.add_reply("late but fine", delay=4)
    with open_session(client, model) as session:
        replies: list[str] = []
        session.on("assistant.message", lambda e: replies.append(e.data.content))
        began = time.monotonic()
        with pytest.raises(CopilotTimeoutError, match=r"idle_timeout.*still running on the CLI"):
            session.send_and_wait("think hard", timeout=60, idle_timeout=1)
        assert time.monotonic() - began < 3.5  # well before the model answers
        session.wait_for_idle(timeout=30)  # as with timeout=: nothing was aborted
        assert replies == ["late but fine"]
