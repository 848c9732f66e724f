"""Per-message options (agent_mode, request_headers, display_prompt, source) against the
fake CLI: the exact session.send params of every sending method, and argument checks."""

from __future__ import annotations

import math

import pytest

from .conftest import running

WAIT = 10

OPTIONS = {
    "agent_mode": "plan",
    "request_headers": {"X-Trace-Id": "abc-123", "x-tenant": "blue"},
    "display_prompt": "Summarise the report",
    "source": "system",
}
WIRE = {
    "agentMode": "plan",
    "requestHeaders": {"X-Trace-Id": "abc-123", "x-tenant": "blue"},
    "displayPrompt": "Summarise the report",
    "source": "system",
}


def _call(session, method, prompt, **kwargs):
    """Send ``prompt`` with ``method`` and wait until its turn is over."""
    if method == "send":
        session.send(prompt, **kwargs)
        session.wait_for_idle(WAIT)
    elif method == "send_and_wait":
        session.send_and_wait(prompt, timeout=WAIT, **kwargs)
    elif method == "send_async":
        session.send_async(prompt, timeout=WAIT, **kwargs).result(WAIT)
    elif method == "stream":
        list(session.stream(prompt, timeout=WAIT, **kwargs))
    else:
        session.send_and_collect(prompt, timeout=WAIT, **kwargs)


METHODS = ["send", "send_and_wait", "send_async", "stream", "send_and_collect"]


@pytest.mark.parametrize("method", METHODS)
def test_every_sending_method_puts_the_options_on_the_wire_exactly(method):
    with running() as (fake, client):
        session = client.create_session()
        _call(session, method, "plain")
        _call(session, method, "with options", mode="enqueue", **OPTIONS)
        plain, full = (m["params"] for m in fake.requests("session.send"))
        assert plain == {"sessionId": session.session_id, "prompt": "plain"}
        assert full == {
            "sessionId": session.session_id,
            "prompt": "with options",
            "mode": "enqueue",
            **WIRE,
        }


def test_the_user_message_shows_the_display_prompt_source_and_agent_mode():
    with running() as (_fake, client):
        session = client.create_session()
        seen = []
        session.on("user.message", lambda e: seen.append(e.raw["data"]))
        reply = session.send_and_wait("the real prompt", timeout=WAIT, **OPTIONS)
        assert reply.data.content == "echo: the real prompt"  # the model got the prompt
        assert [(d["content"], d.get("source"), d.get("agentMode")) for d in seen] == [
            ("Summarise the report", "system", "plan")
        ]


@pytest.mark.parametrize(
    "source", ["user", "system", "command-deploy", "schedule-42", "agent-reviewer-7"]
)
def test_every_source_the_schema_allows_is_accepted(source):
    with running() as (fake, client):
        session = client.create_session()
        session.send_and_wait("hi", source=source, timeout=WAIT)
        assert fake.requests("session.send")[0]["params"]["source"] == source


@pytest.mark.parametrize("agent_mode", ["interactive", "plan", "autopilot", "shell"])
def test_every_agent_mode_is_accepted(agent_mode):
    with running() as (fake, client):
        session = client.create_session()
        session.send(prompt="hi", agent_mode=agent_mode)
        session.wait_for_idle(WAIT)
        assert fake.requests("session.send")[0]["params"]["agentMode"] == agent_mode


BAD = [
    (
        {"agent_mode": "planning"},
        ValueError,
        "agent_mode must be one of interactive, plan, autopilot, shell",
    ),
    ({"agent_mode": 1}, TypeError, "agent_mode must be a string"),
    ({"request_headers": [("X-A", "1")]}, TypeError, "request_headers must be a dict"),
    ({"request_headers": {"X-A": 1}}, TypeError, r"request_headers\['X-A'\] must be a string"),
    ({"request_headers": {"bad name": "1"}}, ValueError, "not a valid HTTP header name"),
    ({"request_headers": {"": "1"}}, ValueError, "not a valid HTTP header name"),
    ({"request_headers": {1: "1"}}, ValueError, "not a valid HTTP header name"),
    ({"request_headers": {"X-A": "one\r\nX-Injected: two"}}, ValueError, "line break"),
    ({"display_prompt": b"bytes"}, TypeError, "display_prompt must be a string"),
    ({"source": "bot"}, ValueError, "source must be 'user', 'system'"),
    ({"source": "schedule-x"}, ValueError, "source must be"),
    ({"source": "agent-"}, ValueError, "source must be"),
    ({"source": "user\n"}, ValueError, "source must be"),
    ({"source": 7}, TypeError, "source must be a string"),
    ({"mode": "later"}, ValueError, "mode must be one of enqueue, immediate"),
    ({"idle_timeout": 0}, ValueError, "idle_timeout must be a positive, finite number"),
    ({"idle_timeout": -1}, ValueError, "idle_timeout must be"),
    ({"idle_timeout": math.nan}, ValueError, "idle_timeout must be"),
    ({"idle_timeout": math.inf}, ValueError, "idle_timeout must be"),
    ({"idle_timeout": True}, ValueError, "idle_timeout must be"),
    ({"idle_timeout": "5"}, ValueError, "idle_timeout must be"),
]


@pytest.mark.parametrize("method", METHODS)
def test_wrong_options_raise_before_anything_is_sent(method):
    with running() as (fake, client):
        session = client.create_session()
        for kwargs, error, message in BAD:
            if method == "send" and "idle_timeout" in kwargs:
                continue  # send() does not wait: it takes no idle_timeout
            with pytest.raises(error, match=message):
                getattr(session, method)("hi", **kwargs)
        session.wait_for_idle(1)  # nothing was queued either
        assert fake.requests("session.send") == []


def test_send_takes_no_idle_timeout():
    with running() as (_fake, client), pytest.raises(TypeError):
        client.create_session().send("hi", idle_timeout=1)
