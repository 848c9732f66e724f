"""Leaving plan mode and per-session GitHub identity against the real CLI (scripted model).

Not here, and why: ``on_auto_mode_switch_request`` needs a Copilot rate limit, and
``on_mcp_auth_request`` an OAuth-protected remote MCP server; both are covered on the
fake CLI (tests/fake/test_more_handlers.py)."""

from __future__ import annotations

import logging
import threading

import pytest

from copilot_sync import JsonRpcError

from .conftest import open_session

TIMEOUT = 30
TOKEN = "gho_" + "Zz9" * 12


def test_exit_plan_mode_handler_rejects_a_plan_with_feedback(client, model):
    asked = []

    def review(request, invocation):
        asked.append((request, invocation, threading.current_thread().name))
        return {"approved": False, "feedback": "Do C instead."}

    model.add_tool_call(
        "exit_plan_mode",
        {"summary": "- do A\n- do B", "recommendedAction": "interactive"},
        call_id="p1",
    )
    model.add_reply("Revised.")
    with open_session(client, model, on_exit_plan_mode_request=review) as session:
        reply = session.send_and_wait("plan it", agent_mode="plan", timeout=TIMEOUT)
        session_id = session.session_id
    assert reply.data.content == "Revised."
    ((request, invocation, thread),) = asked
    assert request["summary"] == "- do A\n- do B" and request["recommended_action"] == "interactive"
    assert "interactive" in request["actions"]
    assert invocation == {"session_id": session_id} and thread.startswith("copilot-worker")
    (result,) = model.requests[1].tool_results
    assert result["tool_call_id"] == "p1" and "Do C instead." in result["content"]


def test_exit_plan_mode_approved_leaves_plan_mode(client, model):
    model.add_tool_call("exit_plan_mode", {"summary": "- do A"}, call_id="p2")
    model.add_reply("Starting.")
    with open_session(
        client,
        model,
        on_exit_plan_mode_request=lambda r, i: {"approved": True, "selected_action": "interactive"},
    ) as session:
        session.send_and_wait("plan it", agent_mode="plan", timeout=TIMEOUT)
        assert session.rpc.mode.get() == "interactive"
    assert "approved" in model.requests[1].tool_results[0]["content"].lower()


def test_a_token_provider_is_asked_at_session_start(client, caplog):
    """Both supported CLIs ask the provider for the initial token while session.create runs,
    then validate it at api.github.com (offline here, so the create fails, and says so)."""
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    calls = []

    def provider(args):
        calls.append((args, threading.current_thread().name))
        return {"access_token": TOKEN, "expires_in": 8 * 3600}

    with pytest.raises(JsonRpcError, match="GitHub token validation failed") as failed:
        client.create_session(
            session_id="token-user-1", github_token_provider=provider, timeout=TIMEOUT
        )
    ((args, thread),) = calls
    assert args == {"host": "https://github.com", "session_id": "token-user-1", "reason": "initial"}
    assert thread.startswith("copilot-worker")
    assert TOKEN not in str(failed.value) and TOKEN not in caplog.text
    assert client.sessions == []


def test_a_session_github_token_is_used_by_the_cli(client, caplog):
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    with pytest.raises(JsonRpcError, match="GitHub token validation failed") as failed:
        client.create_session(github_token=TOKEN, timeout=TIMEOUT)
    assert TOKEN not in str(failed.value) and TOKEN not in caplog.text
