"""Slash commands and elicitation (``session.ui``) against the real CLI (scripted model)."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from copilot_sync import CapabilityError, CommandContext, CommandDefinition, JsonRpcError

from .conftest import open_session

TIMEOUT = 30


def _wait_for(events, kind, timeout=10.0):
    """Wait until an event of ``kind`` was recorded in ``events`` (a list of raw events)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in events if e["type"] == kind]
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"no {kind} event within {timeout}s; got {[e['type'] for e in events]}")


# ---------------------------------------------------------------------------- commands


def test_a_slash_command_runs_its_handler(client, model):
    ran: list[CommandContext] = []
    threads: list[str] = []

    def deploy(context: CommandContext) -> None:
        threads.append(threading.current_thread().name)
        ran.append(context)

    commands = [CommandDefinition("deploy", deploy, "Deploy the app")]
    with open_session(client, model, commands=commands) as session:
        events: list[dict] = []
        session.on(lambda e: events.append(e.raw) if e.raw_type.startswith("command.") else None)
        result = session._rpc(
            "session.commands.invoke", {"name": "deploy", "input": "prod"}, timeout=10
        )
        assert ran, "invoke returns once the handler has answered"
        completed = _wait_for(events, "command.completed")
        session_id = session.session_id

    assert ran == [
        CommandContext(
            session_id=session_id, command="/deploy prod", command_name="deploy", args="prod"
        )
    ]
    assert threads[0].startswith("copilot-worker")
    execute = next(e for e in events if e["type"] == "command.execute")
    assert execute["data"]["commandName"] == "deploy"
    assert completed[0]["data"]["requestId"] == execute["data"]["requestId"]
    assert model.requests == []  # a command is not a model turn
    assert result == {"kind": "completed"}


def test_a_command_that_raises_is_answered_and_logged(client, model, caplog):
    def broken(context: CommandContext) -> None:
        raise RuntimeError("deploy target unreachable")

    with caplog.at_level(logging.WARNING, logger="copilot_sync.session"):
        with open_session(client, model, commands=[CommandDefinition("deploy", broken)]) as session:
            events: list[dict] = []
            session.on(
                lambda e: events.append(e.raw) if e.raw_type.startswith("command.") else None
            )
            # Observed on 1.0.81: invoke waits for the handler's answer and fails with its error.
            with pytest.raises(
                JsonRpcError, match="Command /deploy failed: deploy target unreachable"
            ):
                session._rpc("session.commands.invoke", {"name": "deploy", "input": ""}, timeout=10)
            _wait_for(events, "command.completed")
            # the session still works afterwards
            assert (
                session.send_and_wait("still there?", timeout=TIMEOUT).data.content
                == "You said: still there?"
            )
    assert any("/deploy raised" in r.getMessage() for r in caplog.records)


def test_registered_commands_are_listed_and_unknown_ones_refused(client, model):
    commands = [
        CommandDefinition("deploy", lambda c: None, "Deploy the app"),
        CommandDefinition("status", lambda c: None),
    ]
    with open_session(client, model, commands=commands) as session:
        listed = session._rpc("session.commands.list", {}, timeout=10)["commands"]
        with pytest.raises(JsonRpcError, match="Unknown slash command"):
            session._rpc("session.commands.invoke", {"name": "rollback", "input": ""}, timeout=10)
        # the other entry point: no command.execute for a name no client registered
        refused = session._rpc(
            "session.commands.execute", {"commandName": "rollback", "args": ""}, timeout=10
        )
    ours = {c["name"]: c for c in listed if c.get("kind") == "client"}
    assert ours == {
        "deploy": {
            "name": "deploy",
            "description": "Deploy the app",
            "kind": "client",
            "allowDuringAgentExecution": False,
        },
        "status": {
            "name": "status",
            "description": "",
            "kind": "client",
            "allowDuringAgentExecution": False,
        },
    }
    assert refused == {"error": "No client found for command: rollback"}


# ---------------------------------------------------------------------------- elicitation


def test_ui_confirm_round_trips_through_the_cli(client, model):
    contexts: list[dict] = []

    def answer(context):
        contexts.append(context)
        return {"action": "accept", "content": {"confirmed": True}}

    with open_session(client, model, on_elicitation_request=answer) as session:
        assert session.capabilities["ui"]["elicitation"] is True
        assert session.ui.available
        assert session.ui.confirm("Deploy to production?", timeout=10) is True
        session_id = session.session_id

    (context,) = contexts
    assert context["session_id"] == session_id
    assert context["message"] == "Deploy to production?"
    assert context["requestedSchema"]["properties"]["confirmed"]["type"] == "boolean"
    assert context["requestId"]


def test_ui_select_input_and_decline(client, model):
    answers = iter(
        [
            {"action": "accept", "content": {"selection": "staging"}},
            {"action": "accept", "content": {"value": "v1.2.3"}},
            {"action": "decline"},
            {"action": "accept", "content": {"confirmed": False}},
        ]
    )
    schemas = []

    def answer(context):
        schemas.append(context["requestedSchema"])
        return next(answers)

    with open_session(client, model, on_elicitation_request=answer) as session:
        assert session.ui.select("Where to?", ["staging", "production"], timeout=10) == "staging"
        assert (
            session.ui.input("Version?", {"title": "Version", "minLength": 1}, timeout=10)
            == "v1.2.3"
        )
        assert session.ui.select("Where to?", ["staging"], timeout=10) is None
        assert session.ui.confirm("Sure?", timeout=10) is False
    assert schemas[0]["properties"]["selection"]["enum"] == ["staging", "production"]
    assert schemas[1]["properties"]["value"]["title"] == "Version"


def test_an_elicitation_handler_that_raises_cancels(client, model, caplog):
    def broken(context):
        raise RuntimeError("no dialog today")

    with caplog.at_level(logging.ERROR, logger="copilot_sync.session"):
        with open_session(client, model, on_elicitation_request=broken) as session:
            result = session.ui.elicitation(
                "Name?", {"type": "object", "properties": {"name": {"type": "string"}}}, timeout=10
            )
    assert result == {"action": "cancel"}
    assert any("elicitation handler failed" in r.getMessage() for r in caplog.records)


def test_ui_without_an_elicitation_handler_raises_capability_error(client, model):
    with open_session(client, model) as session:
        assert not session.capabilities.get("ui", {}).get("elicitation")
        assert not session.ui.available
        with pytest.raises(CapabilityError, match="on_elicitation_request"):
            session.ui.confirm("Deploy?")
        with pytest.raises(RuntimeError):  # CapabilityError is also a RuntimeError
            session.ui.select("Which?", ["a", "b"])


def test_a_tool_may_ask_the_user_through_session_ui(client, model):
    """A tool handler (a worker thread) blocks on ui.confirm while the elicitation handler
    (another worker) answers it: nested callbacks do not deadlock the pool."""
    from copilot_sync import PermissionHandler, define_tool

    holder = {}
    asked = []

    @define_tool
    def deploy(target: str) -> str:
        """Deploys after asking the user."""
        ok = holder["session"].ui.confirm(f"Deploy to {target}?", timeout=10)
        return f"deployed to {target}" if ok else "cancelled by the user"

    def answer(context):
        asked.append(context["message"])
        return {"action": "accept", "content": {"confirmed": "prod" not in context["message"]}}

    model.add_tool_calls(
        [("deploy", {"target": "staging"}, "c_staging"), ("deploy", {"target": "prod"}, "c_prod")]
    )
    model.add_reply("done")
    with open_session(
        client,
        model,
        tools=[deploy],
        on_permission_request=PermissionHandler.approve_all,
        on_elicitation_request=answer,
    ) as session:
        holder["session"] = session
        session.send_and_wait("deploy both", timeout=TIMEOUT)
    assert sorted(asked) == ["Deploy to prod?", "Deploy to staging?"]
    results = {r["tool_call_id"]: r["content"] for r in model.requests[-1].tool_results}
    assert results == {"c_staging": "deployed to staging", "c_prod": "cancelled by the user"}


def test_a_command_handler_may_send_a_message(client, model):
    holder = {}

    def ask(context: CommandContext) -> None:
        holder["message_id"] = holder["session"].send(f"Summarise {context.args}", timeout=10)

    model.add_reply("A summary.")
    with open_session(client, model, commands=[CommandDefinition("summarise", ask)]) as session:
        holder["session"] = session
        idle = threading.Event()
        messages = []
        session.on("assistant.message", lambda e: messages.append(e.data.content))
        session.on("session.idle", lambda e: idle.set())
        session._rpc(
            "session.commands.invoke", {"name": "summarise", "input": "the README"}, timeout=10
        )
        assert idle.wait(TIMEOUT)
    assert holder["message_id"]
    assert model.requests[0].user_prompt == "Summarise the README"
    assert messages == ["A summary."]
