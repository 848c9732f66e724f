"""Handshake, version check, and routing of every kind of message, against the fake CLI."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from copilot_sync import (
    ConnectionState,
    CopilotClient,
    JsonRpcError,
    ProtocolVersionError,
    SessionLifecycleEvent,
)
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import error, events

from .conftest import start_client


def test_connect_handshake_and_the_spawn_arguments(fake, sdk):
    assert sdk.state is ConnectionState.CONNECTED
    assert sdk.protocol_version == 3 and sdk.server_version == "1.0.81-fake"
    instance = fake.wait_for_instance()
    assert instance.argv[-5:] == [
        "--headless",
        "--no-auto-update",
        "--log-level",
        "info",
        "--stdio",
    ]
    first = fake.received[0]
    assert first["method"] == "connect" and first["params"] == {}


def test_legacy_server_falls_back_to_ping():
    fake, client = start_client(Scenario(connect_unhandled=True))
    with fake:
        client.start()
        try:
            assert client.protocol_version == 3
            assert [m["method"] for m in fake.received[:2]] == ["connect", "ping"]
        finally:
            client.stop(timeout=5)


@pytest.mark.parametrize(
    "scenario, server_version",
    [
        (Scenario(protocol_version=2), 2),
        (Scenario(protocol_version=4), 4),
        (Scenario(connect_unhandled=True, ping_without_version=True), None),
    ],
)
def test_a_protocol_version_other_than_3_is_refused(scenario, server_version):
    fake, client = start_client(scenario)
    with fake:
        with pytest.raises(ProtocolVersionError) as info:
            client.start()
        assert info.value.server_version == server_version
        assert "protocol version" in str(info.value)
        assert client.state is ConnectionState.ERROR
        fake.wait_for_exit(timeout=5)  # the refused CLI is not left running
        assert client.stop() == []


def test_unknown_server_requests_get_method_not_found(fake, sdk):
    response = fake.request("no.such.method", {"x": 1})
    assert response["error"]["code"] == -32601
    assert response["error"]["message"] == "Method not found: no.such.method"


def test_server_request_ids_that_collide_with_ours_are_routed_by_method(fake, sdk):
    # the fake numbers its requests 1, 2, 3... exactly like the SDK numbers its own
    results = []
    for _ in range(5):
        results.append(fake.request("unknown.thing", {}))
        assert sdk.ping("still fine").message == "pong: still fine"
    assert [r["id"] for r in results] == [1, 2, 3, 4, 5]
    assert all(r["error"]["code"] == -32601 for r in results)


def test_session_requests_have_defaults(fake, sdk):
    session = sdk.create_session()
    sid = session.session_id
    transform = fake.request(
        "systemMessage.transform", {"sessionId": sid, "sections": {"tone": {"content": "Be kind."}}}
    )
    assert transform["result"] == {"sections": {"tone": {"content": "Be kind."}}}
    assert fake.request("exitPlanMode.request", {"sessionId": sid, "summary": "s", "actions": []})[
        "result"
    ] == {"approved": True}
    assert fake.request("autoModeSwitch.request", {"sessionId": sid})["result"] == {
        "response": "no"
    }
    assert (
        fake.request("hooks.invoke", {"sessionId": sid, "hookType": "preToolUse", "input": {}})[
            "result"
        ]
        == {}
    )
    no_handler = fake.request("userInput.request", {"sessionId": sid, "question": "?"})
    assert no_handler["error"]["code"] == -32603 and "no handler" in no_handler["error"]["message"]
    unknown = fake.request(
        "hooks.invoke", {"sessionId": "nobody", "hookType": "preToolUse", "input": {}}
    )
    assert (
        unknown["error"]["code"] == -32603
        and "unknown session nobody" in unknown["error"]["message"]
    )
    session.disconnect()


def test_hooks_and_user_input_handlers_answer_from_worker_threads(fake, sdk):
    threads: list[str] = []

    def pre_tool_use(hook_input, invocation):
        threads.append(threading.current_thread().name)
        assert invocation == {"session_id": session.session_id}
        return {
            "permissionDecision": "deny",
            "permissionDecisionReason": f"no {hook_input['toolName']}",
        }

    def failing_hook(hook_input, invocation):
        raise RuntimeError("hook bug")

    def ask(request, invocation):
        threads.append(threading.current_thread().name)
        return {"answer": request["choices"][1], "wasFreeform": False}

    session = sdk.create_session(
        hooks={"on_pre_tool_use": pre_tool_use, "on_session_end": failing_hook},
        on_user_input_request=ask,
    )
    sid = session.session_id
    created = fake.wait_for_request("session.create")
    assert created["params"]["hooks"] is True and created["params"]["requestUserInput"] is True
    hook = fake.request(
        "hooks.invoke", {"sessionId": sid, "hookType": "preToolUse", "input": {"toolName": "shell"}}
    )
    assert hook["result"] == {
        "output": {"permissionDecision": "deny", "permissionDecisionReason": "no shell"}
    }
    assert (
        fake.request("hooks.invoke", {"sessionId": sid, "hookType": "sessionEnd", "input": {}})[
            "result"
        ]
        == {}
    )
    answer = fake.request(
        "userInput.request", {"sessionId": sid, "question": "Pick", "choices": ["red", "blue"]}
    )
    assert answer["result"] == {"answer": "blue", "wasFreeform": False}
    assert all(name.startswith("copilot-worker-") for name in threads)
    session.disconnect()


def test_the_session_is_registered_before_create_so_early_events_are_seen():
    scenario = Scenario(
        rules=[
            Rule(
                method="session.create",
                actions=[events([("session.info", {"infoType": "x", "message": "early"})])],
            )
        ]
    )
    fake, client = start_client(scenario)
    with fake:
        client.start()
        try:
            seen: list[str] = []
            session = client.create_session(on_event=lambda e: seen.append(e.raw_type))
            deadline = time.monotonic() + 5
            while "session.start" not in seen and time.monotonic() < deadline:
                time.sleep(0.01)
            assert seen[:2] == ["session.info", "session.start"]
            session.disconnect()
        finally:
            client.stop(timeout=5)


def test_events_for_unknown_sessions_and_stray_responses_are_dropped(fake, sdk, caplog):
    caplog.set_level(logging.DEBUG, logger="copilot_sync")
    fake.emit("no-such-session", "session.info", {"infoType": "x", "message": "lost"})
    fake.send_raw(b'Content-Length: 41\r\n\r\n{"jsonrpc":"2.0","id":999,"result":"odd"}')
    fake.notify("something.new", {"a": 1})
    assert sdk.ping("after").message == "pong: after"
    text = caplog.text
    assert (
        "unknown session" in text and "unknown request id 999" in text and "something.new" in text
    )


def test_events_arrive_in_order_and_only_to_their_own_session(fake, sdk):
    first, second = sdk.create_session(), sdk.create_session()
    got: dict[str, list[int]] = {first.session_id: [], second.session_id: []}
    done = threading.Event()

    def collect(session):
        def handler(event):
            if event.raw_type == "session.info":
                got[session.session_id].append(int(event.data.message))
                if len(got[first.session_id]) == len(got[second.session_id]) == 500:
                    done.set()

        return handler

    first.on(collect(first))
    second.on(collect(second))
    fake.emit_many(
        first.session_id,
        [("session.info", {"infoType": "n", "message": str(i)}) for i in range(500)],
    )
    fake.emit_many(
        second.session_id,
        [("session.info", {"infoType": "n", "message": str(-i)}) for i in range(500)],
    )
    assert done.wait(20)
    assert got[first.session_id] == list(range(500))
    assert got[second.session_id] == [-i for i in range(500)]
    first.disconnect()
    second.disconnect()


def test_duplicate_and_unknown_events_are_delivered_without_failing(fake, sdk):
    session = sdk.create_session()
    seen = []
    done = threading.Event()
    session.on(lambda e: (seen.append((e.raw_type, e.type.value, e.id)), e.data, e.timestamp,
                          done.set() if e.raw_type == "session.idle" else None))  # fmt: skip
    fake.emit(session.session_id, "brand.new_event", {"whatever": [1, 2]}, id="e1")
    fake.emit(session.session_id, "session.info", {"surprise": True}, id="e2")
    fake.emit(session.session_id, "session.info", {"surprise": True}, id="e2")
    fake.emit(session.session_id, "session.idle", {})
    assert done.wait(5)
    seen = [item for item in seen if item[0] != "session.start"]
    assert seen[:3] == [("brand.new_event", "unknown", "e1"), ("session.info", "session.info", "e2"),
                        ("session.info", "session.info", "e2")]  # fmt: skip
    session.disconnect()


def test_lifecycle_events_including_unknown_types(fake, sdk):
    seen: list[SessionLifecycleEvent] = []
    done = threading.Event()
    sdk.on_lifecycle(lambda e: (seen.append(e), done.set() if e.session_id == "last" else None))
    fake.notify("session.lifecycle", {"type": "session.created", "sessionId": "a",
                                      "metadata": {"startTime": "2026-01-01T00:00:00Z", "modifiedTime": "2026-01-01T00:00:01Z"}})  # fmt: skip
    fake.notify("session.lifecycle", {"type": "session.renamed", "sessionId": "last"})
    assert done.wait(5)
    assert [(e.type, e.session_id) for e in seen] == [
        ("session.created", "a"),
        ("session.updated", "last"),
    ]
    assert seen[0].metadata.start_time.year == 2026


def test_tcp_spawn_uses_a_generated_connection_token():
    with FakeCLI(Scenario(), mode="tcp") as fake:
        with CopilotClient(cli_path=fake.cli_path, use_stdio=False) as client:
            assert client.ping().protocol_version == 3
            instance = fake.wait_for_instance()
            token = instance.env.get("COPILOT_CONNECTION_TOKEN")
            assert token and "--stdio" not in instance.argv
            assert fake.received[0]["params"] == {"token": token}
            assert token not in " ".join(instance.argv)


def test_cli_url_with_and_without_the_right_token():
    with FakeCLI.serve_tcp(Scenario(), token="right-token") as server:
        for url in (server.url, f"http://{server.url}", str(server.port)):
            with CopilotClient(cli_url=url, connection_token="right-token") as client:
                assert client.ping("tcp").message == "pong: tcp"
        wrong = CopilotClient(cli_url=server.url, connection_token="wrong-token")
        with pytest.raises(JsonRpcError) as info:
            wrong.start()
        assert info.value.code == -32002
        assert wrong.stop() == []


def test_github_token_reaches_the_cli_through_its_environment_only():
    token = "ghp_" + "t" * 36
    with FakeCLI(Scenario()) as fake, CopilotClient(cli_path=fake.cli_path, github_token=token):
        instance = fake.wait_for_instance()
        assert instance.env.get("COPILOT_GITHUB_TOKEN") == token
        assert token not in " ".join(instance.argv)
        assert "--auth-token-env" in instance.argv and "--no-auto-login" in instance.argv


def test_create_session_sends_the_options(fake, sdk):
    session = sdk.create_session(
        model="m1", streaming=True, provider={"type": "openai", "base_url": "http://x"}
    )
    params = fake.wait_for_request("session.create")["params"]
    assert params["sessionId"] == session.session_id
    assert params["model"] == "m1" and params["streaming"] is True
    assert params["provider"] == {"type": "openai", "baseUrl": "http://x"}
    assert session.workspace_path is not None and session.workspace_path.name == session.session_id
    assert session.capabilities["ui"]["elicitation"] is False
    with pytest.raises(TypeError, match="modle"):
        sdk.create_session(modle="x")
    with pytest.raises(ValueError, match="already open"):
        sdk.create_session(session_id=session.session_id)
    session.disconnect()


def test_capabilities_changed_is_merged(fake, sdk):
    session = sdk.create_session()
    done = threading.Event()
    session.on("capabilities.changed", lambda e: done.set())
    fake.emit(session.session_id, "capabilities.changed", {"ui": {"elicitation": True}})
    assert done.wait(5)
    assert session.capabilities["ui"] == {"elicitation": True, "mcpApps": False, "canvases": False}
    session.disconnect()


def test_a_failing_create_unregisters_the_session():
    scenario = Scenario(rules=[Rule(method="session.create", actions=[error(-32603, "nope")])])
    fake, client = start_client(scenario)
    with fake:
        client.start()
        try:
            with pytest.raises(JsonRpcError, match="nope"):
                client.create_session(session_id="doomed")
            assert client.sessions == []
        finally:
            client.stop(timeout=5)


def test_lifecycle_handlers_survive_a_restart(fake):
    client = CopilotClient(cli_path=fake.cli_path)
    seen: list[str] = []
    got = threading.Event()
    client.on_lifecycle(lambda e: (seen.append(e.session_id), got.set()))  # registered before start
    try:
        for round_ in range(2):
            client.start()
            got.clear()
            fake.wait_for_instance(index=round_)
            fake.notify(
                "session.lifecycle", {"type": "session.updated", "sessionId": f"round-{round_}"}
            )
            assert got.wait(5)
            client.stop(timeout=5)
        assert seen == ["round-0", "round-1"]
    finally:
        client.stop(timeout=5)


def test_list_models_is_fetched_once_and_cached(fake, sdk):
    first = sdk.list_models()
    second = sdk.list_models()
    assert [m.id for m in first] == [m.id for m in second] and len(first) == 2
    assert first[0].capabilities.limits.max_prompt_tokens is not None
    assert len(fake.requests("models.list")) == 1
    sdk.list_models(refresh=True)
    assert len(fake.requests("models.list")) == 2


def test_auto_start_and_states(fake):
    client = CopilotClient(cli_path=fake.cli_path)
    assert client.state is ConnectionState.DISCONNECTED and client.pid is None
    try:
        session = client.create_session()  # starts the client on first use
        assert client.state is ConnectionState.CONNECTED and client.pid == fake.pid
        assert client.runtime_port is None  # stdio
        assert repr(client).startswith("<CopilotClient connected stdio pid=")
        assert repr(session) == f"<CopilotSession {session.session_id!r} open>"
        assert client.sessions == [session]
    finally:
        assert client.stop(timeout=5) == []
    assert client.state is ConnectionState.DISCONNECTED
    assert session.closed and client.sessions == []


def test_declined_requests_get_method_not_found_and_one_log_line_each(fake, sdk, caplog):
    from copilot_sync._requests import router

    caplog.set_level(logging.INFO, logger="copilot_sync")
    for method in ("tasks.cancel", "providerToken.getToken", "workflow.execute", "uiThread.run"):
        for _ in range(3):
            response = fake.request(method, {"sessionId": "s"})
            assert response["error"] == {"code": -32601, "message": f"Method not found: {method}"}
        lines = [r for r in caplog.records if method in r.getMessage()]
        assert len(lines) == 1 and lines[0].levelno == logging.INFO
        assert router.DECLINED[method] in lines[0].getMessage()
    # a request nobody knows is a warning (a newer CLI may expect an answer), once
    for _ in range(2):
        fake.request("brand.newThing", {})
    (line,) = [r for r in caplog.records if "brand.newThing" in r.getMessage()]
    assert line.levelno == logging.WARNING
