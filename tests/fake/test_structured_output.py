"""Structured output against the fake CLI: the ``responseFormat`` field of ``session.send``,
the converted reply of ``send_and_wait``/``send_async``, and the errors. The fake's reply
is the prompt itself (``reply_text="{prompt}"``), so each test chooses the reply text."""

from __future__ import annotations

import dataclasses
import enum
import threading

import pytest

from copilot_sync import SessionError, StructuredOutputError, TurnAbortedError, TurnFuture
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import events, reply

from .conftest import running

WAIT = 10

pytestmark = pytest.mark.timeout(60)


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Verdict(enum.Enum):
    ACCEPT = "accept"
    REJECT = "reject"


POINT_FORMAT = {
    "type": "json_schema",
    "jsonSchema": {
        "name": "response",
        "schema": {
            "type": "object",
            "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
            "required": ["x", "y"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def test_send_and_wait_sends_the_schema_and_returns_the_converted_reply():
    with running(reply_text="{prompt}") as (fake, client):
        session = client.create_session()
        point = session.send_and_wait('{"x": 1, "y": 2}', response_format=Point, timeout=WAIT)
        assert point == Point(1, 2)
        (sent,) = fake.requests("session.send")
        assert sent["params"] == {
            "sessionId": session.session_id,
            "prompt": '{"x": 1, "y": 2}',
            "responseFormat": POINT_FORMAT,
        }


def test_the_format_goes_with_the_other_per_message_options():
    with running(reply_text="{prompt}") as (fake, client):
        session = client.create_session()
        verdict = session.send_and_wait(
            '{"value": "reject"}', response_format=Verdict, mode="enqueue", agent_mode="plan",
            display_prompt="Judge it", source="system", timeout=WAIT,
        )  # fmt: skip
        assert verdict is Verdict.REJECT
        params = fake.requests("session.send")[0]["params"]
        assert (params["mode"], params["agentMode"], params["displayPrompt"], params["source"]) == (
            "enqueue",
            "plan",
            "Judge it",
            "system",
        )
        assert params["responseFormat"]["jsonSchema"]["schema"]["properties"] == {
            "value": {"type": "string", "enum": ["accept", "reject"]}
        }


def test_a_json_schema_dict_is_sent_as_given_and_the_parsed_json_returned():
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    with running(reply_text="{prompt}") as (fake, client):
        session = client.create_session()
        assert session.send_and_wait('{"ok": true}', response_format=schema, timeout=WAIT) == {
            "ok": True
        }
        assert fake.requests("session.send")[0]["params"]["responseFormat"] == {
            "type": "json_schema",
            "jsonSchema": {
                "name": "response",
                "schema": schema,
            },  # not strict-compatible: strict left out
        }


def test_a_reply_that_does_not_fit_raises_with_the_text_and_the_event():
    with running(reply_text="{prompt}") as (_fake, client):
        session = client.create_session()
        with pytest.raises(StructuredOutputError) as caught:
            session.send_and_wait('{"x": 1, "y": "two"}', response_format=Point, timeout=WAIT)
        error = caught.value
        assert (
            str(error)
            == "the reply does not match Point: $.y: expected an integer, got 'two' (str)"
        )
        assert error.text == '{"x": 1, "y": "two"}'
        assert error.event.raw_type == "assistant.message"
        assert error.event.raw["data"]["content"] == error.text
        with pytest.raises(StructuredOutputError, match="not valid JSON"):
            session.send_and_wait("no JSON here", response_format=Point, timeout=WAIT)
        # the session goes on
        assert session.send_and_wait(
            '{"x": 5, "y": 6}', response_format=Point, timeout=WAIT
        ) == Point(5, 6)


def test_send_async_future_gives_the_converted_reply_to_result_and_done_callbacks():
    with running(reply_text="{prompt}") as (fake, client):
        session = client.create_session()
        seen = []
        done = threading.Event()
        future = session.send_async('{"x": 3, "y": 4}', response_format=Point)
        assert isinstance(future, TurnFuture)
        future.add_done_callback(lambda f: (seen.append(f.result()), done.set()))
        assert future.result(WAIT) == Point(3, 4)
        assert done.wait(WAIT) and seen == [Point(3, 4)]
        plain = session.send_async("plain")
        assert (
            plain.result(WAIT).data.content == "plain"
        )  # without response_format: the event, as ever
        first, second = (m["params"] for m in fake.requests("session.send"))
        assert first["responseFormat"] == POINT_FORMAT and "responseFormat" not in second


def test_send_async_future_fails_with_the_error_for_a_bad_reply():
    with running(reply_text="{prompt}") as (_fake, client):
        session = client.create_session()
        bad = session.send_async('{"x": 1}', response_format=Point)
        good = session.send_async('{"value": [1, 2]}', response_format=list[int])
        error = bad.exception(WAIT)
        assert isinstance(error, StructuredOutputError) and error.errors == [
            ("$.y", "missing required field")
        ]
        with pytest.raises(StructuredOutputError, match=r"\$\.y: missing required field"):
            bad.result(0)
        assert good.result(WAIT) == [1, 2]


def test_a_turn_without_an_assistant_message_raises():
    silent = Rule(
        method="session.send",
        times=2,
        actions=[
            reply({"messageId": "m1"}),
            events([("user.message", {"content": "hi"}), ("session.idle", {})]),
        ],
    )
    with running([silent]) as (_fake, client):
        session = client.create_session()
        with pytest.raises(StructuredOutputError, match="without an assistant reply") as caught:
            session.send_and_wait("hi", response_format=Point, timeout=WAIT)
        assert (caught.value.text, caught.value.event) == ("", None)
        future = session.send_async("hi", response_format=Point)
        assert isinstance(future.exception(WAIT), StructuredOutputError)


def test_a_session_error_or_an_abort_is_raised_as_ever():
    with running(turn_error="model unavailable") as (_fake, client):
        session = client.create_session()
        with pytest.raises(SessionError, match="model unavailable") as caught:
            session.send_and_wait("hi", response_format=Point, timeout=WAIT)
        assert not isinstance(caught.value, StructuredOutputError)
    with running(think_time=30) as (_fake, client):
        session = client.create_session()
        started = threading.Event()
        session.on("assistant.turn_start", lambda e: started.set())
        future = session.send_async("slow", response_format=Point)
        assert started.wait(WAIT)
        session.abort()
        assert isinstance(future.exception(WAIT), TurnAbortedError)


def test_cancel_works_on_a_structured_future():
    with running(think_time=30) as (_fake, client):
        session = client.create_session()
        running_future = session.send_async("first", response_format=Point)
        queued = session.send_async("second", response_format=Point)
        assert queued.cancel() and queued.cancelled()
        assert running_future.cancel() and running_future.cancelled()
        session.wait_for_idle(WAIT)


@pytest.mark.parametrize("method", ["send_and_wait", "send_async"])
def test_wrong_formats_raise_before_anything_is_sent(method):
    with running() as (fake, client):
        session = client.create_session()
        send = getattr(session, method)
        with pytest.raises(
            ValueError, match='response_format cannot be combined with mode="immediate"'
        ):
            send("hi", response_format=Point, mode="immediate")
        with pytest.raises(TypeError, match="unsupported type bytes"):
            send("hi", response_format=bytes)
        with pytest.raises(TypeError, match="response_format must be a type"):
            send("hi", response_format="json")
        session.wait_for_idle(1)
        assert fake.requests("session.send") == []
