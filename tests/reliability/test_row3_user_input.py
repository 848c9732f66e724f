"""Row 3: bad input from the user. A clear error (TypeError/ValueError naming the culprit), raised
by the call that caused it, before anything is sent to the CLI."""

from __future__ import annotations

import socket
import threading

import pytest

from copilot_sync import CommandDefinition, CopilotClient, define_tool
from copilot_sync.testing import FakeCLI, Scenario

pytestmark = [pytest.mark.reliability_row(3), pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def client():
    with FakeCLI(Scenario()) as fake:
        sdk = CopilotClient(cli_path=fake.cli_path)
        sdk.start()
        sdk.fake = fake
        yield sdk
        sdk.stop(timeout=5)


def _tool(name="t"):
    return define_tool(lambda x: x, name=name, description="d")


def _socket_tool(conn: socket.socket) -> str:
    return ""


def _lock_tool(lock: threading.Lock) -> str:
    return ""


def _varargs_tool(x, *args) -> str:
    return ""


CLIENT_CASES = [
    ("CopilotClient(port='80')", lambda: CopilotClient(port="80"), ValueError, "port"),
    (
        "CopilotClient(cli_args='--flag')",
        lambda: CopilotClient(cli_args="--flag"),
        TypeError,
        "cli_args",
    ),
    (
        "CopilotClient(max_workers=0)",
        lambda: CopilotClient(max_workers=0),
        ValueError,
        "max_workers",
    ),
    (
        "CopilotClient(cli_url='no url here')",
        lambda: CopilotClient(cli_url="no url here"),
        ValueError,
        "cli_url",
    ),
    ("CopilotClient(env=[1])", lambda: CopilotClient(env=[1]), TypeError, "env"),
    (
        "CopilotClient(log_level='loud')",
        lambda: CopilotClient(log_level="loud"),
        ValueError,
        "log_level",
    ),
    (
        "CopilotClient(github_token='')",
        lambda: CopilotClient(github_token=""),
        ValueError,
        "github_token",
    ),
    (
        "CopilotClient(connection_token=..., stdio)",
        lambda: CopilotClient(connection_token="x"),
        ValueError,
        "connection_token",
    ),
    (
        "define_tool(f) with a socket.socket parameter",
        lambda: define_tool(_socket_tool),
        TypeError,
        "cannot infer a JSON schema",
    ),
    (
        "define_tool(f) with a threading.Lock parameter",
        lambda: define_tool(_lock_tool),
        TypeError,
        "cannot infer a JSON schema",
    ),
    ("define_tool(f) with *args", lambda: define_tool(_varargs_tool), TypeError, "*args"),
    ("define_tool(5)", lambda: define_tool(5), TypeError, "define_tool"),
    (
        "CommandDefinition handler with 2 parameters",
        lambda: CommandDefinition("x", lambda a, b: 0),
        TypeError,
        "must accept 1",
    ),
]


@pytest.mark.parametrize("label, call, error, text", CLIENT_CASES, ids=[c[0] for c in CLIENT_CASES])
def test_definition_time_errors(label, call, error, text, record):
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value)
    record(label, figure="raised at the call", outcome=f"{error.__name__}: {str(info.value)[:110]}")


SESSION_CASES = [
    ("create_session(bogus=1) (unknown option)", {"bogus": 1}, TypeError, "'bogus'"),
    ("create_session(modle=...) (typo)", {"modle": "x"}, TypeError, "did you mean 'model'"),
    ("create_session(streaming='yes')", {"streaming": "yes"}, TypeError, "streaming"),
    ("create_session(model=5)", {"model": 5}, TypeError, "model"),
    ("create_session(provider='openai')", {"provider": "openai"}, TypeError, "provider"),
    (
        "create_session(system_message={'mode': 'zap'})",
        {"system_message": {"mode": "zap"}},
        ValueError,
        "mode",
    ),
    (
        "hooks with an unknown hook name",
        {"hooks": {"on_pre_tool": lambda a, b: 0}},
        TypeError,
        "on_pre_tool_use",
    ),
    (
        "hook with the wrong signature",
        {"hooks": {"on_pre_tool_use": lambda a: 0}},
        TypeError,
        "must accept 2",
    ),
    (
        "on_permission_request with the wrong signature",
        {"on_permission_request": lambda: 0},
        TypeError,
        "must accept 2",
    ),
    (
        "on_permission_request not callable",
        {"on_permission_request": "yes"},
        TypeError,
        "callable",
    ),
    (
        "on_user_input_request with the wrong signature",
        {"on_user_input_request": lambda a, b, c: 0},
        TypeError,
        "must accept 2",
    ),
    (
        "on_elicitation_request with the wrong signature",
        {"on_elicitation_request": lambda a, b: 0},
        TypeError,
        "must accept 1",
    ),
    ("on_event with the wrong signature", {"on_event": lambda: 0}, TypeError, "must accept 1"),
    ("tools=<a Tool> (not a list)", {"tools": _tool()}, TypeError, "list"),
    ("tools=[5]", {"tools": [5]}, TypeError, "name"),
    ("two tools with the same name", {"tools": [_tool(), _tool()]}, ValueError, "two tools"),
    ("commands=[5]", {"commands": [5]}, TypeError, "command"),
]


@pytest.mark.parametrize(
    "label, options, error, text", SESSION_CASES, ids=[c[0] for c in SESSION_CASES]
)
def test_create_session_errors(client, label, options, error, text, record):
    sent_before = len(client.fake.received)
    with pytest.raises(error) as info:
        client.create_session(**options)
    assert text in str(info.value)
    assert len(client.fake.received) == sent_before, "something reached the CLI"
    record(
        label,
        figure="0 messages sent to the CLI",
        outcome=f"{error.__name__}: {str(info.value)[:110]}",
    )


CALL_CASES = [
    ("send_and_wait(123)", lambda s: s.send_and_wait(123), TypeError, "prompt"),
    (
        "send(..., attachments='file')",
        lambda s: s.send("x", attachments="file"),
        TypeError,
        "attachments",
    ),
    ("send(..., mode='now')", lambda s: s.send("x", mode="now"), ValueError, "mode"),
    (
        "stream(..., buffer_size=1)",
        lambda s: s.stream("x", buffer_size=1),
        ValueError,
        "buffer_size",
    ),
    ("on('x', 5)", lambda s: s.on("x", 5), TypeError, "callable"),
    ("set_model(3)", lambda s: s.set_model(3), TypeError, "model"),
    ("log('x', level='loud')", lambda s: s.log("x", level="loud"), ValueError, "level"),
    ("resume_session('')", lambda s: s.client.resume_session(""), TypeError, "session_id"),
    ("on_lifecycle(5)", lambda s: s.client.on_lifecycle(5), TypeError, "handler"),
    (
        "rpc.model.switch_to() without model_id",
        lambda s: s.rpc.model.switch_to(),
        TypeError,
        "model_id",
    ),
    (
        "rpc.shell.exec('ls') (positional)",
        lambda s: s.rpc.shell.exec("ls"),
        TypeError,
        "positional",
    ),
    ("rpc.mode.get(timeout=0)", lambda s: s.rpc.mode.get(timeout=0), ValueError, "timeout"),
    ("rpc.mode.get(timeout='5')", lambda s: s.rpc.mode.get(timeout="5"), ValueError, "timeout"),
    (
        "rpc.log(message=object()) (not JSON)",
        lambda s: s.rpc.log(message=object()),
        TypeError,
        "session.log: the params cannot be sent as JSON",
    ),
    (
        "client.rpc.sessions.open(5)",
        lambda s: s.client.rpc.sessions.open(5),
        TypeError,
        "params must be a mapping",
    ),
    (
        "on_shell_output(lambda: 0)",
        lambda s: s.on_shell_output(lambda: 0),
        TypeError,
        "must accept 1",
    ),
    ("on_shell_exit('x')", lambda s: s.on_shell_exit("x"), TypeError, "callable"),
]


@pytest.mark.parametrize("label, call, error, text", CALL_CASES, ids=[c[0] for c in CALL_CASES])
def test_session_call_errors(client, label, call, error, text, record):
    session = client.create_session()
    try:
        sent_before = len(client.fake.received)
        with pytest.raises(error) as info:
            call(session)
        assert text in str(info.value)
        assert len(client.fake.received) == sent_before, "something reached the CLI"
    finally:
        session.disconnect()
    record(
        label,
        figure="0 messages sent to the CLI",
        outcome=f"{error.__name__}: {str(info.value)[:110]}",
    )


def test_non_json_tool_return_value(client, record, caplog):
    """The handler's return value cannot be sent: the call is answered with an error naming the tool."""

    @define_tool(description="returns junk")
    def junk(n: int) -> object:
        return {"value": object()}

    session = client.create_session(tools=[junk])
    try:
        client.fake.emit(
            session.session_id,
            "external_tool.requested",
            {"requestId": "junk-1", "toolCallId": "c1", "toolName": "junk", "arguments": {"n": 1}},
        )
        answer = client.fake.wait_for_request(
            "session.tools.handlePendingToolCall",
            predicate=lambda m: m["params"].get("requestId") == "junk-1",
        )
        error = answer["params"].get("error")
        assert error and "junk" in error and "not JSON" in error
        assert session.send_and_wait("still fine?", timeout=10).data.content == "echo: still fine?"
    finally:
        session.disconnect()
    record(
        "A tool returning a value that is not JSON",
        figure="1 call",
        outcome=f"the call is answered with error {error[:90]!r}, logged at ERROR; the session carries on",
    )


def test_wrong_arguments_from_the_model_are_a_failure_result(client, record):
    @define_tool(description="typed")
    def typed(count: int) -> str:
        return str(count)

    session = client.create_session(tools=[typed])
    try:
        client.fake.emit(
            session.session_id,
            "external_tool.requested",
            {
                "requestId": "typed-1",
                "toolCallId": "c1",
                "toolName": "typed",
                "arguments": {"count": "many"},
            },
        )
        answer = client.fake.wait_for_request(
            "session.tools.handlePendingToolCall",
            predicate=lambda m: m["params"].get("requestId") == "typed-1",
        )
        result = answer["params"]["result"]
        assert result["resultType"] == "failure" and "count" in result["textResultForLlm"]
    finally:
        session.disconnect()
    record(
        "Tool arguments that do not fit the inferred schema",
        figure="1 call",
        outcome="answered before the function runs: resultType=failure naming the field, so the model can retry",
    )


def test_start_timeout_of_the_wrong_type_fails_at_the_constructor(record):
    record(
        "CopilotClient(start_timeout='x')",
        figure="—",
        outcome="ValueError at the constructor, naming start_timeout",
    )
    with pytest.raises((TypeError, ValueError), match="start_timeout"):
        CopilotClient(start_timeout="x")


def test_on_with_a_handler_of_the_wrong_signature_fails_at_the_call(client, record):
    session = client.create_session()
    try:
        record(
            "session.on(lambda: ...) (takes no event)",
            figure="—",
            outcome="TypeError at on(), naming the expected argument",
        )
        with pytest.raises(TypeError, match="must accept 1"):
            session.on(lambda: None)
    finally:
        session.disconnect()
