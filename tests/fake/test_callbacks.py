"""Tools, permissions, commands, elicitation, hooks, user input and transforms, answered on
the worker pool, against the fake CLI."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid

import pytest

from copilot_sync import (
    CommandDefinition,
    PermissionHandler,
    PermissionRequestResult,
    Tool,
    ToolInvocation,
    ToolResult,
    define_tool,
)
from copilot_sync.testing import Rule, Scenario
from copilot_sync.testing.actions import error, reply

from .conftest import running, start_client

TOOL_ANSWER = "session.tools.handlePendingToolCall"
PERMISSION_ANSWER = "session.permissions.handlePendingPermissionRequest"
COMMAND_ANSWER = "session.commands.handlePendingCommand"
ELICITATION_ANSWER = "session.ui.handlePendingElicitation"


def request_tool(fake, session_id, name, arguments=None, *, request_id=None, agent_id=None):
    request_id = request_id or str(uuid.uuid4())
    data = {
        "requestId": request_id,
        "sessionId": session_id,
        "toolCallId": f"call-{request_id[:8]}",
        "toolName": name,
    }
    if arguments is not None:
        data["arguments"] = arguments
    fake.emit(session_id, "external_tool.requested", data, agent_id=agent_id)
    return request_id


def answer_to(fake, method, request_id, timeout=5.0):
    """The params of the SDK's answer to ``request_id``."""
    message = fake.wait_for_request(
        method, timeout, predicate=lambda m: m["params"].get("requestId") == request_id
    )
    return message["params"]


def answered_ids(fake, method):
    return [m["params"].get("requestId") for m in fake.requests(method)]


def echo_tool(name="echo", **kwargs):
    return Tool(name, "Echo the text", lambda inv: f"echo {inv.arguments['text']}", **kwargs)


# ---------------------------------------------------------------------------- tools


def test_a_tool_call_is_answered_with_the_handlers_result():
    seen: list[ToolInvocation] = []

    def handler(invocation):
        seen.append(invocation)
        return ToolResult("done", session_log="ran", tool_telemetry={"n": 1})

    with running() as (fake, client):
        session = client.create_session(tools=[Tool("work", "Do work", handler)])
        rid = request_tool(fake, session.session_id, "work", {"n": 3}, agent_id="sub-1")
        params = answer_to(fake, TOOL_ANSWER, rid)
    assert params == {
        "sessionId": session.session_id,
        "requestId": rid,
        "result": {
            "textResultForLlm": "done",
            "resultType": "success",
            "sessionLog": "ran",
            "toolTelemetry": {"n": 1},
        },
    }
    (invocation,) = seen
    assert (invocation.tool_name, invocation.arguments, invocation.request_id) == (
        "work",
        {"n": 3},
        rid,
    )
    assert invocation.tool_call_id == f"call-{rid[:8]}" and invocation.agent_id == "sub-1"
    assert invocation.session_id == session.session_id


def test_the_tool_list_is_announced_on_create():
    @define_tool(skip_permission=True)
    def lookup(key: str) -> str:
        """Look a key up."""
        return key

    with running() as (fake, client):
        client.create_session(tools=[lookup, echo_tool(overrides_built_in_tool=True)])
        params = fake.wait_for_request("session.create")["params"]
    assert params["tools"] == [
        {
            "name": "lookup",
            "description": "Look a key up.",
            "parameters": {
                "type": "object",
                "properties": {"key": {"type": "string"}},
                "required": ["key"],
            },
            "skipPermission": True,
        },
        {"name": "echo", "description": "Echo the text", "overridesBuiltInTool": True},
    ]


def test_fifty_concurrent_tool_calls_through_a_pool_of_four_are_all_answered(caplog):
    lock = threading.Lock()
    running_now = [0]
    peak = [0]

    def slow(invocation):
        with lock:
            running_now[0] += 1
            peak[0] = max(peak[0], running_now[0])
        time.sleep(0.02)
        with lock:
            running_now[0] -= 1
        return str(invocation.arguments["i"])

    fake, client = start_client(Scenario(), max_workers=4)
    with fake, client, caplog.at_level(logging.WARNING, logger="copilot_sync.workers"):
        session = client.create_session(tools=[Tool("slow", "", slow)])
        ids = [str(uuid.uuid4()) for _ in range(50)]
        fake.emit_many(
            session.session_id,
            [
                (
                    "external_tool.requested",
                    {
                        "requestId": rid,
                        "toolCallId": rid,
                        "toolName": "slow",
                        "arguments": {"i": i},
                    },
                )
                for i, rid in enumerate(ids)
            ],
        )
        answers = {
            rid: answer_to(fake, TOOL_ANSWER, rid, timeout=10)["result"]["textResultForLlm"]
            for rid in ids
        }
        workers = {t.name for t in threading.enumerate() if t.name.startswith("copilot-worker")}
    assert answers == {rid: str(i) for i, rid in enumerate(ids)}
    assert peak[0] == 4  # concurrent, and never more than the pool
    assert len(workers) <= 4
    assert "all 4 workers are busy" in caplog.text


def test_a_request_for_another_clients_tool_gets_no_answer():
    with running() as (fake, client):
        session = client.create_session(
            tools=[echo_tool(), Tool("declared_only", "no handler here")]
        )
        foreign = request_tool(fake, session.session_id, "not_ours", {"text": "x"})
        declared = request_tool(fake, session.session_id, "declared_only", {"text": "x"})
        ours = request_tool(fake, session.session_id, "echo", {"text": "x"})
        answer_to(
            fake, TOOL_ANSWER, ours
        )  # events are handled in order: the others were seen first
        time.sleep(0.2)
        assert answered_ids(fake, TOOL_ANSWER) == [ours]
        assert foreign and declared


def test_a_malformed_request_event_still_reaches_the_handlers(caplog):
    with running() as (fake, client):
        session = client.create_session(tools=[echo_tool()])
        seen = []
        session.on("external_tool.requested", lambda e: seen.append(e.raw["data"]["requestId"]))
        fake.emit(
            session.session_id,
            "external_tool.requested",
            {"requestId": "bad", "toolName": ["not", "a", "name"]},
        )
        rid = request_tool(fake, session.session_id, "echo", {"text": "x"})
        answer_to(fake, TOOL_ANSWER, rid)
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert seen == ["bad", rid]
    assert "could not handle external_tool.requested" in caplog.text


def test_a_repeated_request_event_is_answered_once():
    calls = []
    with running() as (fake, client):
        session = client.create_session(tools=[Tool("t", "", lambda inv: calls.append(1) or "ok")])
        rid = request_tool(fake, session.session_id, "t", {})
        request_tool(fake, session.session_id, "t", {}, request_id=rid)
        answer_to(fake, TOOL_ANSWER, rid)
        marker = request_tool(fake, session.session_id, "t", {})
        answer_to(fake, TOOL_ANSWER, marker)
        assert answered_ids(fake, TOOL_ANSWER) == [rid, marker]
    assert len(calls) == 2


def test_no_answer_once_the_cli_reports_the_call_completed():
    release = threading.Event()
    started = threading.Event()

    def blocked(invocation):
        started.set()
        release.wait(5)
        return "late"

    with running() as (fake, client):
        session = client.create_session(tools=[Tool("t", "", blocked), echo_tool()])
        rid = request_tool(fake, session.session_id, "t", {})
        assert started.wait(5)
        fake.emit(
            session.session_id, "external_tool.completed", {"requestId": rid}
        )  # e.g. the turn was aborted
        marker = request_tool(fake, session.session_id, "echo", {"text": "after"})
        answer_to(fake, TOOL_ANSWER, marker)  # the completed event has been processed
        release.set()
        time.sleep(0.3)
        assert answered_ids(fake, TOOL_ANSWER) == [marker]


def test_a_raising_tool_is_answered_with_a_top_level_error(caplog):
    def broken(invocation):
        raise RuntimeError("database is down")

    with running() as (fake, client), caplog.at_level(logging.WARNING, logger="copilot_sync.tools"):
        session = client.create_session(tools=[Tool("broken", "", broken)])
        rid = request_tool(fake, session.session_id, "broken", {})
        params = answer_to(fake, TOOL_ANSWER, rid)
    assert params == {
        "sessionId": session.session_id,
        "requestId": rid,
        "error": "database is down",
    }
    assert "tool 'broken' raised RuntimeError" in caplog.text and "database is down" in caplog.text


@pytest.mark.parametrize(
    "returned, expected",
    [
        ("plain", {"textResultForLlm": "plain", "resultType": "success"}),
        ({"a": [1, 2]}, {"textResultForLlm": '{"a":[1,2]}', "resultType": "success"}),
        (
            None,
            {"textResultForLlm": "Tool returned no result.", "resultType": "failure", "error": "tool returned no result",
             "toolTelemetry": {}},
        ),
        (ToolResult("nope", result_type="failure", error="404"), {"textResultForLlm": "nope", "resultType": "failure", "error": "404"}),
        (42, {"textResultForLlm": "42", "resultType": "success"}),
    ],
)  # fmt: skip
def test_return_values_become_results(returned, expected):
    with running() as (fake, client):
        session = client.create_session(tools=[Tool("t", "", lambda inv: returned)])
        rid = request_tool(fake, session.session_id, "t", {})
        assert answer_to(fake, TOOL_ANSWER, rid)["result"] == expected


def test_a_return_value_that_is_not_json_is_an_error_naming_the_tool(caplog):
    with running() as (fake, client), caplog.at_level(logging.ERROR, logger="copilot_sync.tools"):
        session = client.create_session(tools=[Tool("t", "", lambda inv: {"x": object()})])
        rid = request_tool(fake, session.session_id, "t", {})
        params = answer_to(fake, TOOL_ANSWER, rid)
    assert "tool 't' returned a value that is not JSON" in params["error"]
    assert "cannot be sent to the model" in caplog.text


def test_bad_arguments_are_rejected_before_the_function_runs():
    calls = []

    @define_tool
    def book(city: str, nights: int = 1) -> str:
        calls.append((city, nights))
        return "booked"

    with running() as (fake, client):
        session = client.create_session(tools=[book])
        bad = request_tool(fake, session.session_id, "book", {"city": 7, "nights": "two"})
        good = request_tool(fake, session.session_id, "book", {"city": "Oslo"})
        bad_result = answer_to(fake, TOOL_ANSWER, bad)["result"]
        good_result = answer_to(fake, TOOL_ANSWER, good)["result"]
    assert bad_result["resultType"] == "failure"
    assert "city: expected a string" in bad_result["textResultForLlm"]
    assert "nights: expected an integer" in bad_result["textResultForLlm"]
    assert good_result["textResultForLlm"] == "booked"
    assert calls == [("Oslo", 1)]


def test_a_tool_handler_may_call_back_into_the_session_and_client():
    with running() as (fake, client):
        holder = {}

        def chatty(invocation):
            session = holder["session"]
            session.log("working on it")
            message_id = session.send("a follow-up from inside the tool")
            models = client.list_models()
            return f"sent {bool(message_id)} models {len(models)}"

        session = client.create_session(tools=[Tool("chatty", "", chatty)])
        holder["session"] = session
        rid = request_tool(fake, session.session_id, "chatty", {})
        result = answer_to(fake, TOOL_ANSWER, rid, timeout=10)["result"]
        assert result["textResultForLlm"].startswith("sent True models")
        sends = [m["params"]["prompt"] for m in fake.requests("session.send")]
        assert sends == ["a follow-up from inside the tool"]
        assert session.send_and_wait("and the session still works", timeout=10) is not None


def test_a_hung_handler_blocks_neither_its_sessions_events_nor_other_sessions():
    release = threading.Event()
    started = threading.Event()

    def hangs(invocation):
        started.set()
        release.wait(30)
        return "finally"

    fake, client = start_client(Scenario(), max_workers=2)
    with fake:
        client.start()
        try:
            stuck = client.create_session(tools=[Tool("hang", "", hangs)])
            other = client.create_session(tools=[echo_tool()])
            seen = []
            stuck.on("session.info", lambda e: seen.append(e.data.message))
            request_tool(fake, stuck.session_id, "hang", {})
            assert started.wait(5)
            fake.emit(
                stuck.session_id,
                "session.info",
                {"infoType": "notification", "message": "still flowing"},
            )
            rid = request_tool(fake, other.session_id, "echo", {"text": "hi"})
            assert answer_to(fake, TOOL_ANSWER, rid)["result"]["textResultForLlm"] == "echo hi"
            assert other.send_and_wait("hello", timeout=10).data.content
            assert stuck.send_and_wait("me too", timeout=10).data.content
            deadline = time.monotonic() + 5
            while not seen and time.monotonic() < deadline:
                time.sleep(0.01)
            assert seen == ["still flowing"]
        finally:
            started_stop = time.monotonic()
            errors = client.stop(timeout=5)
            assert time.monotonic() - started_stop < 8  # bounded although a handler is stuck
            release.set()
    assert errors == []


# ---------------------------------------------------------------------------- run-time tools


def test_register_and_unregister_tools_at_run_time():
    with running() as (fake, client):
        session = client.create_session(tools=[echo_tool()])
        session.register_tool(Tool("added", "Added later", lambda inv: "from added"))
        first = fake.wait_for_request("session.tools.set")["params"]
        assert [t["name"] for t in first["tools"]] == ["echo", "added"]
        assert [t.name for t in session.get_tools()] == ["echo", "added"]
        rid = request_tool(fake, session.session_id, "added", {})
        assert answer_to(fake, TOOL_ANSWER, rid)["result"]["textResultForLlm"] == "from added"

        session.unregister_tool("echo")
        second = fake.wait_for_request("session.tools.set")["params"]
        assert [t["name"] for t in second["tools"]] == ["added"]
        with pytest.raises(KeyError, match="no tool named 'echo'"):
            session.unregister_tool("echo")
        gone = request_tool(fake, session.session_id, "echo", {"text": "x"})
        marker = request_tool(fake, session.session_id, "added", {})
        answer_to(fake, TOOL_ANSWER, marker)
        assert gone not in answered_ids(fake, TOOL_ANSWER)


def test_a_refused_tool_list_leaves_the_tools_unchanged():
    from copilot_sync import JsonRpcError

    with running([Rule(method="session.tools.set", actions=[error(-32603, "bad tool")])]) as (
        _fake,
        client,
    ):
        session = client.create_session(tools=[echo_tool()])
        with pytest.raises(JsonRpcError, match="bad tool"):
            session.register_tool(Tool("bad", ""))
        assert [t.name for t in session.get_tools()] == ["echo"]


def test_set_tools_replaces_the_whole_list_and_a_refusal_changes_nothing():
    from copilot_sync import JsonRpcError

    with running() as (fake, client):
        session = client.create_session(tools=[echo_tool()])
        session.set_tools([Tool("one", "First", lambda inv: "1"), Tool("two", "Second", lambda inv: "2")])  # fmt: skip
        sent = fake.wait_for_request("session.tools.set")["params"]
        assert [t["name"] for t in sent["tools"]] == ["one", "two"]
        assert [t.name for t in session.get_tools()] == ["one", "two"]
        rid = request_tool(fake, session.session_id, "two", {})
        assert answer_to(fake, TOOL_ANSWER, rid)["result"]["textResultForLlm"] == "2"
        session.set_tools([])
        assert fake.wait_for_request("session.tools.set")["params"]["tools"] == []
        assert session.get_tools() == []
        with pytest.raises(TypeError, match="must be a list"):
            session.set_tools(Tool("x", ""))  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            session.set_tools([Tool("x", ""), Tool("x", "")])
    refuse = [Rule(method="session.tools.set", actions=[error(-32603, "bad tool")])]
    with running(refuse) as (_fake, client):
        session = client.create_session(tools=[echo_tool()])
        with pytest.raises(JsonRpcError, match="bad tool"):
            session.set_tools([Tool("bad", "")])
        assert [t.name for t in session.get_tools()] == ["echo"]


def test_set_auto_tier_sends_an_explicit_null_and_reads_the_result():
    ack = {"status": "pending", "autoTier": "fast"}
    with running([Rule(method="session.model.switchAutoTier", actions=[reply(ack)])]) as (fake, client):  # fmt: skip
        session = client.create_session()
        result = session.set_auto_tier("fast")
        assert result.raw == ack
        session.set_auto_tier(None)
        first, second = (m["params"] for m in fake.requests("session.model.switchAutoTier"))
        assert first == {"sessionId": session.session_id, "autoTier": "fast"}
        assert second == {"sessionId": session.session_id, "autoTier": None}
        with pytest.raises(TypeError):
            session.set_auto_tier("")


def test_invoke_tool_runs_the_handler_locally_with_validation():
    @define_tool
    def add(a: int, b: int = 2) -> int:
        return a + b

    with running() as (fake, client):
        session = client.create_session(tools=[add])
        assert session.invoke_tool("add", {"a": 1}).text_result_for_llm == "3"
        rejected = session.invoke_tool("add", {"a": "one"})
        assert (
            rejected.result_type == "failure"
            and "a: expected an integer" in rejected.text_result_for_llm
        )
        with pytest.raises(KeyError):
            session.invoke_tool("missing")
        assert fake.requests(TOOL_ANSWER) == []


# ---------------------------------------------------------------------------- permissions


def request_permission(fake, session_id, permission, **extra):
    request_id = str(uuid.uuid4())
    fake.emit(
        session_id,
        "permission.requested",
        {"requestId": request_id, "permissionRequest": permission, **extra},
    )
    return request_id


SHELL = {
    "kind": "shell",
    "toolCallId": "c1",
    "fullCommandText": "rm -rf build",
    "intention": "clean",
    "commands": [{"identifier": "rm", "readOnly": False}],
}


def test_the_permission_handler_gets_a_request_object_and_its_decision_is_sent():
    seen = []

    def policy(request, invocation):
        seen.append((request, invocation))
        return PermissionRequestResult(kind="reject", feedback="not on my watch")

    with running() as (fake, client):
        session = client.create_session(on_permission_request=policy)
        rid = request_permission(
            fake, session.session_id, SHELL, promptRequest={"kind": "commands"}
        )
        params = answer_to(fake, PERMISSION_ANSWER, rid)
    assert params["result"] == {"kind": "reject", "feedback": "not on my watch"}
    request, invocation = seen[0]
    assert request.kind == "shell" and request.full_command_text == "rm -rf build"
    assert request.commands[0].identifier == "rm" and request["fullCommandText"] == "rm -rf build"
    assert request.file_name is None  # a field of another kind of request
    assert invocation == {"session_id": session.session_id, "prompt_request": {"kind": "commands"}}


@pytest.mark.parametrize(
    "decision, wire",
    [
        ("approve-once", {"kind": "approve-once"}),
        ("approved", {"kind": "approve-once"}),
        ("denied-interactively-by-user", {"kind": "reject"}),
        ("denied-no-approval-rule-and-could-not-request-from-user", {"kind": "user-not-available"}),
        ({"kind": "approve-for-session"}, {"kind": "approve-for-session", "approval": {"kind": "commands", "commandIdentifiers": ["rm"]}}),
        (PermissionRequestResult(kind="approve-for-session", approval={"kind": "write"}), {"kind": "approve-for-session", "approval": {"kind": "write"}}),
    ],
)  # fmt: skip
def test_decisions_reach_the_wire_in_the_kinds_the_cli_accepts(decision, wire):
    with running() as (fake, client):
        session = client.create_session(on_permission_request=lambda request, invocation: decision)
        rid = request_permission(fake, session.session_id, SHELL)
        assert answer_to(fake, PERMISSION_ANSWER, rid)["result"] == wire


def test_permission_requests_are_handled_at_the_same_time():
    barrier = threading.Barrier(3, timeout=5)

    def policy(request, invocation):
        barrier.wait()  # only returns once all three handlers run at once
        return "approve-once"

    with running() as (fake, client):
        session = client.create_session(on_permission_request=policy)
        ids = [
            request_permission(fake, session.session_id, {"kind": "read", "path": f"/f{i}"})
            for i in range(3)
        ]
        for rid in ids:
            assert answer_to(fake, PERMISSION_ANSWER, rid)["result"] == {"kind": "approve-once"}


def test_approve_all_and_deny_all():
    with running() as (fake, client):
        yes = client.create_session(on_permission_request=PermissionHandler.approve_all)
        no = client.create_session(on_permission_request=PermissionHandler.deny_all)
        managed = request_permission(
            fake, yes.session_id, {"kind": "read", "path": "/x", "managedApprovalRequired": True}
        )
        approved = request_permission(fake, yes.session_id, {"kind": "read", "path": "/x"})
        denied = request_permission(fake, no.session_id, {"kind": "read", "path": "/x"})
        assert answer_to(fake, PERMISSION_ANSWER, approved)["result"] == {"kind": "approve-once"}
        assert answer_to(fake, PERMISSION_ANSWER, denied)["result"]["kind"] == "reject"
        assert managed not in answered_ids(
            fake, PERMISSION_ANSWER
        )  # no-result: another client decides


@pytest.mark.parametrize("behaviour", ["raises", "returns None", "returns junk kind"])
def test_a_failing_permission_handler_denies_and_logs(behaviour, caplog):
    def policy(request, invocation):
        if behaviour == "raises":
            raise RuntimeError("policy service down")
        return None if behaviour == "returns None" else "maybe"

    with running() as (fake, client), caplog.at_level(logging.ERROR, logger="copilot_sync.session"):
        session = client.create_session(on_permission_request=policy)
        rid = request_permission(fake, session.session_id, SHELL)
        assert answer_to(fake, PERMISSION_ANSWER, rid)["result"] == {"kind": "user-not-available"}
    assert "permission handler failed on a shell request" in caplog.text


def test_no_permission_answer_without_a_handler_or_when_a_hook_resolved_it():
    with running() as (fake, client):
        silent = client.create_session()
        hooked = client.create_session(on_permission_request=PermissionHandler.approve_all)
        first = request_permission(fake, silent.session_id, SHELL)
        second = request_permission(fake, hooked.session_id, SHELL, resolvedByHook=True)
        marker = request_permission(fake, hooked.session_id, SHELL)
        answer_to(fake, PERMISSION_ANSWER, marker)
        time.sleep(0.2)
        assert answered_ids(fake, PERMISSION_ANSWER) == [marker]
        assert first and second


def test_a_tool_denied_for_want_of_a_handler_warns_what_to_do(caplog, recwarn):
    with (
        running() as (fake, client),
        caplog.at_level(logging.WARNING, logger="copilot_sync.session"),
    ):
        session = client.create_session(tools=[echo_tool()])
        done = threading.Event()
        session.on("tool.execution_complete", lambda e: done.set())
        fake.emit(
            session.session_id,
            "tool.execution_complete",
            {"toolCallId": "c", "success": False,
             "error": {"message": "Permission denied and could not request permission from user", "code": "denied"}},
        )  # fmt: skip
        assert done.wait(5)
    assert "no on_permission_request handler" in caplog.text
    assert "PermissionHandler.approve_all" in caplog.text
    (warning,) = [w for w in recwarn if "on_permission_request" in str(w.message)]
    assert warning.category.__name__ == "MissingPermissionHandlerWarning"


# ---------------------------------------------------------------------------- commands and elicitation


def execute_command(fake, session_id, name, args=""):
    request_id = str(uuid.uuid4())
    data = {
        "requestId": request_id,
        "command": f"/{name} {args}".strip(),
        "commandName": name,
        "args": args,
    }
    fake.emit(session_id, "command.execute", data)
    return request_id


def test_a_command_runs_its_handler_and_unknown_ones_are_answered_too():
    contexts = []

    def deploy(context):
        contexts.append(context)

    def broken(context):
        raise ValueError("target is locked")

    with running() as (fake, client):
        session = client.create_session(
            commands=[
                CommandDefinition("deploy", deploy, "Deploy"),
                CommandDefinition("broken", broken),
            ]
        )
        params = fake.wait_for_request("session.create")["params"]
        assert params["commands"] == [
            {"name": "deploy", "description": "Deploy"},
            {"name": "broken", "description": ""},
        ]
        ok = execute_command(fake, session.session_id, "deploy", "prod")
        bad = execute_command(fake, session.session_id, "broken")
        unknown = execute_command(fake, session.session_id, "nope")
        assert answer_to(fake, COMMAND_ANSWER, ok) == {
            "sessionId": session.session_id,
            "requestId": ok,
        }
        assert answer_to(fake, COMMAND_ANSWER, bad)["error"] == "target is locked"
        assert answer_to(fake, COMMAND_ANSWER, unknown)["error"] == "Unknown command: nope"
    (context,) = contexts
    assert (context.command, context.command_name, context.args) == (
        "/deploy prod",
        "deploy",
        "prod",
    )


def test_a_session_without_commands_still_answers_command_execute():
    with running() as (fake, client):
        session = client.create_session()
        rid = execute_command(fake, session.session_id, "deploy")
        assert answer_to(fake, COMMAND_ANSWER, rid)["error"] == "Unknown command: deploy"


def request_elicitation(fake, session_id, **data):
    request_id = str(uuid.uuid4())
    fake.emit(
        session_id,
        "elicitation.requested",
        {"requestId": request_id, "message": "Pick one", **data},
    )
    return request_id


def test_the_elicitation_handler_answers_and_failures_cancel(caplog):
    schema = {"type": "object", "properties": {"choice": {"type": "string"}}}
    contexts = []

    def handler(context):
        contexts.append(context)
        if context["message"] == "explode":
            raise RuntimeError("no UI")
        if context["message"] == "junk":
            return {"action": "sure"}
        return {"action": "accept", "content": {"choice": "b"}}

    with running() as (fake, client), caplog.at_level(logging.ERROR, logger="copilot_sync.session"):
        session = client.create_session(on_elicitation_request=handler)
        assert fake.wait_for_request("session.create")["params"]["requestElicitation"] is True
        ok = request_elicitation(fake, session.session_id, requestedSchema=schema, mode="form")
        boom = request_elicitation(fake, session.session_id, message="explode")
        junk = request_elicitation(fake, session.session_id, message="junk")
        assert answer_to(fake, ELICITATION_ANSWER, ok)["result"] == {
            "action": "accept",
            "content": {"choice": "b"},
        }
        assert answer_to(fake, ELICITATION_ANSWER, boom)["result"] == {"action": "cancel"}
        assert answer_to(fake, ELICITATION_ANSWER, junk)["result"] == {"action": "cancel"}
    assert contexts[0] == {
        "session_id": session.session_id,
        "message": "Pick one",
        "requestedSchema": schema,
        "mode": "form",
        "requestId": ok,
    }
    assert caplog.text.count("elicitation handler failed") == 2


def test_ui_calls_need_the_capability_and_go_through_the_cli():
    from copilot_sync import CapabilityError

    answer = {
        "action": "accept",
        "content": {"confirmed": True, "selection": "blue", "value": "typed"},
    }
    with running([Rule(method="session.ui.elicitation", actions=[reply(answer)])]) as (
        fake,
        client,
    ):
        session = client.create_session()
        with pytest.raises(CapabilityError, match="does not support elicitation"):
            session.ui.confirm("Deploy?")
        fake.emit(session.session_id, "capabilities.changed", {"ui": {"elicitation": True}})
        deadline = time.monotonic() + 5
        while not session.ui.available and time.monotonic() < deadline:
            time.sleep(0.01)
        assert session.ui.confirm("Deploy?") is True
        assert session.ui.select("Color?", ["red", "blue"]) == "blue"
        assert session.ui.input("Name?", {"maxLength": 10}) == "typed"
        sent = [m["params"] for m in fake.requests("session.ui.elicitation")]
    assert sent[0]["message"] == "Deploy?"
    assert sent[0]["requestedSchema"]["properties"] == {
        "confirmed": {"type": "boolean", "default": True}
    }
    assert sent[1]["requestedSchema"]["properties"]["selection"]["enum"] == ["red", "blue"]
    assert sent[2]["requestedSchema"]["properties"]["value"] == {"type": "string", "maxLength": 10}


# ---------------------------------------------------------------------------- direct requests


def test_hooks_get_converted_input_and_their_output_reaches_the_cli():
    inputs = []

    def pre_tool_use(hook_input, invocation):
        inputs.append((hook_input, invocation))
        return {"permission_decision": "deny", "permissionDecisionReason": "no shell"}

    with running() as (fake, client):
        session = client.create_session(hooks={"on_pre_tool_use": pre_tool_use})
        assert fake.wait_for_request("session.create")["params"]["hooks"] is True
        response = fake.request(
            "hooks.invoke",
            {"sessionId": session.session_id, "hookType": "preToolUse",
             "input": {"sessionId": session.session_id, "timestamp": 1767225600000, "cwd": "/repo",
                       "toolName": "bash", "toolArgs": {"command": "ls"}}},
        )  # fmt: skip
        unhooked = fake.request(
            "hooks.invoke",
            {"sessionId": session.session_id, "hookType": "postToolUse", "input": {}},
        )
        unknown_type = fake.request(
            "hooks.invoke",
            {"sessionId": session.session_id, "hookType": "somethingNew", "input": {}},
        )
    assert response["result"] == {
        "output": {"permissionDecision": "deny", "permissionDecisionReason": "no shell"}
    }
    assert unhooked["result"] == {} and unknown_type["result"] == {}
    hook_input, invocation = inputs[0]
    assert invocation == {"session_id": session.session_id}
    assert hook_input["workingDirectory"] == "/repo" and "cwd" not in hook_input
    assert hook_input["timestamp"] == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert hook_input["toolArgs"] == {"command": "ls"}


@pytest.mark.parametrize("behaviour", ["raises", "returns junk"])
def test_a_failing_hook_answers_with_no_output(behaviour, caplog):
    def hook(hook_input, invocation):
        if behaviour == "raises":
            raise RuntimeError("hook bug")
        return ["not", "a", "dict"]

    with (
        running() as (fake, client),
        caplog.at_level(logging.WARNING, logger="copilot_sync.session"),
    ):
        session = client.create_session(hooks={"on_session_end": hook})
        response = fake.request(
            "hooks.invoke",
            {"sessionId": session.session_id, "hookType": "sessionEnd",
             "input": {"reason": "error", "error": {"message": "model down"}}},
        )  # fmt: skip
    assert response["result"] == {}
    assert "on_session_end" in caplog.text


def test_system_message_transforms_answer_their_sections_and_keep_others():
    def shout(content):
        return content.upper()

    def broken(content):
        raise RuntimeError("transform bug")

    system_message = {
        "mode": "customize",
        "sections": {
            "tone": shout,
            "safety": {"action": broken},
            "guidelines": {"action": "append", "content": "Be brief."},
            "identity": {"action": "remove"},
        },
    }
    with running() as (fake, client):
        session = client.create_session(system_message=system_message)
        wire = fake.wait_for_request("session.create")["params"]["systemMessage"]
        response = fake.request(
            "systemMessage.transform",
            {"sessionId": session.session_id,
             "sections": {"tone": {"content": "be kind"}, "safety": {"content": "stay safe"}, "other": {"content": "x"}}},
        )  # fmt: skip
        empty = fake.request(
            "systemMessage.transform", {"sessionId": session.session_id, "sections": {}}
        )
    assert wire == {
        "mode": "customize",
        "sections": {
            "tone": {"action": "transform"},
            "safety": {"action": "transform"},
            "guidelines": {"action": "append", "content": "Be brief."},
            "identity": {"action": "remove"},
        },
    }
    assert response["result"] == {
        "sections": {
            "tone": {"content": "BE KIND"},
            "safety": {"content": "stay safe"},
            "other": {"content": "x"},
        }
    }
    assert "error" in empty


def test_user_input_requests_reach_the_handler():
    asked = []

    def answer(request, invocation):
        asked.append((request, invocation))
        if request["question"] == "fail":
            raise RuntimeError("no human here")
        return (
            "blue"
            if request["question"] == "color?"
            else {"answer": "free text", "wasFreeform": True}
        )

    with running() as (fake, client):
        session = client.create_session(on_user_input_request=answer)
        assert fake.wait_for_request("session.create")["params"]["requestUserInput"] is True
        sid = session.session_id
        picked = fake.request(
            "userInput.request",
            {"sessionId": sid, "question": "color?", "choices": ["red", "blue"]},
        )
        typed = fake.request(
            "userInput.request", {"sessionId": sid, "question": "why?", "allowFreeform": True}
        )
        failed = fake.request("userInput.request", {"sessionId": sid, "question": "fail"})
    assert picked["result"] == {"answer": "blue", "wasFreeform": False}
    assert typed["result"] == {"answer": "free text", "wasFreeform": True}
    assert failed["error"]["message"] == "no human here"
    assert asked[0] == ({"question": "color?", "choices": ["red", "blue"]}, {"session_id": sid})


def test_user_input_without_a_handler_is_an_error():
    with running() as (fake, client):
        session = client.create_session()
        response = fake.request(
            "userInput.request", {"sessionId": session.session_id, "question": "q"}
        )
    assert response["error"]["message"] == "User input requested but no handler registered"


# ---------------------------------------------------------------------------- re-entrancy


def _reentering_options(calls):
    """One handler of every kind; each calls send_and_wait on its own session and reports
    what happened in ``calls`` (kind -> (exception type name, seconds))."""
    from copilot_sync import CommandDefinition, define_tool

    holder = {}

    def reenter(kind):
        began = time.monotonic()
        try:
            holder["session"].send_and_wait(f"from the {kind} handler", timeout=5)
            calls[kind] = ("returned", time.monotonic() - began)
        except BaseException as exc:
            calls[kind] = (type(exc).__name__, time.monotonic() - began, str(exc))

    @define_tool(name="reenter", description="re-enters")
    def tool(n: int) -> str:
        reenter("tool")
        return "ok"

    def hook(data, context):
        reenter("hook")

    def permission(request, invocation):
        reenter("permission")
        return {"kind": "approve-once"}

    def elicitation(context):
        reenter("elicitation")
        return {"action": "cancel"}

    def user_input(request, context):
        reenter("user input")
        return "a"

    def transform(content):
        reenter("system message transform")
        return content

    options = {
        "tools": [tool],
        "on_permission_request": permission,
        "commands": [CommandDefinition("reenter", lambda context: reenter("command"))],
        "on_elicitation_request": elicitation,
        "hooks": {"on_pre_tool_use": hook},
        "on_user_input_request": user_input,
        "system_message": {"mode": "customize", "sections": {"tone": transform}},
    }
    return holder, options


@pytest.mark.timeout(60)
def test_every_handler_kind_calling_send_and_wait_on_its_session_fails_at_once():
    """Handlers the running turn waits for refuse at once; a command, and a dialog no tool
    asked for, run beside turns: their blocking call completes."""
    from copilot_sync import ReentrancyError

    calls: dict[str, tuple] = {}
    holder, options = _reentering_options(calls)
    with running() as (fake, client):
        session = client.create_session(**options)
        holder["session"] = session
        sid = session.session_id
        broadcasts = [
            (
                "external_tool.requested",
                {"toolCallId": "c1", "toolName": "reenter", "arguments": {"n": 1}},
                "session.tools.handlePendingToolCall",
            ),
            (
                "permission.requested",
                {"permissionRequest": {"kind": "shell", "fullCommandText": "ls"}},
                "session.permissions.handlePendingPermissionRequest",
            ),
            (
                "elicitation.requested",
                {"message": "Sure?", "toolCallId": "c2"},
                "session.ui.handlePendingElicitation",
            ),
        ]
        for index, (event_type, data, method) in enumerate(broadcasts):
            request_id = f"reenter-{index}"
            fake.emit(sid, event_type, {"requestId": request_id, **data})
            answer_to(fake, method, request_id)
        fake.request(
            "hooks.invoke",
            {"sessionId": sid, "hookType": "preToolUse", "input": {"toolName": "bash"}},
        )
        fake.request(
            "userInput.request", {"sessionId": sid, "question": "Which?", "choices": ["a"]}
        )
        fake.request(
            "systemMessage.transform", {"sessionId": sid, "sections": {"tone": {"content": "x"}}}
        )
        refused = dict(calls)
        calls.clear()
        fake.emit(
            sid,
            "command.execute",
            {"requestId": "cmd", "command": "/reenter", "commandName": "reenter", "args": ""},
        )
        answer_to(fake, "session.commands.handlePendingCommand", "cmd", timeout=10)
        fake.emit(
            sid, "elicitation.requested", {"requestId": "dialog", "message": "From another client?"}
        )
        answer_to(fake, "session.ui.handlePendingElicitation", "dialog", timeout=10)
        assert session.send_and_wait("still fine", timeout=10).data.content == "echo: still fine"
        sent = [m["params"]["prompt"] for m in fake.requests("session.send")]
    kinds = {"tool", "permission", "elicitation", "hook", "user input", "system message transform"}
    assert set(refused) == kinds
    for kind, (outcome, took, message) in refused.items():
        assert outcome == ReentrancyError.__name__ and took < 1.0, (kind, outcome, took)
        assert f"from inside a{'n' if kind[0] in 'aeio' else ''} {kind} handler" in message, message
        assert "send_async() or send()" in message
    assert {kind: outcome for kind, (outcome, *_rest) in calls.items()} == {
        "command": "returned",
        "elicitation": "returned",
    }
    # none of the refused calls sent anything; the two that could complete did
    assert sent == ["from the command handler", "from the elicitation handler", "still fine"]


@pytest.mark.timeout(60)
def test_two_sessions_event_handlers_waiting_on_each_other_fail_at_once():
    from copilot_sync import ReentrancyError

    with running([], think_time=0.3) as (_fake, client):
        a, b = client.create_session(), client.create_session()
        outcomes: dict[str, object] = {}
        done = threading.Event()

        def a_handler(event):  # on a's event thread: waits on b
            try:
                outcomes["a"] = b.send_and_wait("from a's handler", timeout=10).data.content
            except ReentrancyError as exc:
                outcomes["a"] = exc

        def b_handler(event):  # on b's event thread: waits on a, whose event thread waits on b
            began = time.monotonic()
            try:
                outcomes["b"] = a.send_and_wait("from b's handler", timeout=10).data.content
            except ReentrancyError as exc:
                outcomes["b"] = exc
            outcomes["b_took"] = time.monotonic() - began
            done.set()

        a.on("assistant.turn_start", a_handler)
        b.on(
            "user.message", lambda e: b_handler(e) if e.data.content == "from a's handler" else None
        )
        a.send("start")
        assert done.wait(30)
        a.wait_for_idle(30)
        b.wait_for_idle(30)
    assert isinstance(outcomes["b"], ReentrancyError), outcomes
    assert outcomes["b_took"] < 1.0
    text = str(outcomes["b"])
    assert "deadlock" in text and a.session_id[:8] in text and b.session_id[:8] in text, text
    assert (
        outcomes["a"] == "echo: from a's handler"
    )  # the first call, no longer in a ring, completed


def test_invoke_tool_lets_a_keyboard_interrupt_through():
    from copilot_sync import define_tool

    @define_tool(name="interrupted", description="raises KeyboardInterrupt")
    def interrupted(n: int) -> str:
        raise KeyboardInterrupt

    with running() as (_fake, client):
        session = client.create_session(tools=[interrupted])
        with pytest.raises(
            KeyboardInterrupt
        ):  # on the caller's thread: a real Ctrl-C must get through
            session.invoke_tool("interrupted", {"n": 1})
