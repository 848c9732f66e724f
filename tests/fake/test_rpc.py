"""Typed RPC (client.rpc / session.rpc) and shell output routing, against the fake CLI:
exactly what goes on the wire, what comes back, and how failures surface."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

from copilot_sync import (
    CopilotTimeoutError,
    JsonRpcError,
    SessionClosedError,
    ShellExit,
    ShellOutput,
)
from copilot_sync.generated import rpc as generated
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import error, notify, reply, stall

from .conftest import running


def _last_params(fake, method):
    return fake.requests(method)[-1]["params"]


def test_keyword_arguments_become_camel_case_params_and_none_is_left_out(sdk, fake):
    session = sdk.create_session()
    result = session.rpc.model.switch_to(
        model_id="gpt-x", reasoning_effort="high", context_tier=None
    )
    assert _last_params(fake, "session.model.switchTo") == {
        "sessionId": session.session_id,
        "modelId": "gpt-x",
        "reasoningEffort": "high",
    }
    assert isinstance(result, generated.ModelSwitchToResult)
    assert result.model_id == "gpt-x"


def test_records_and_datetimes_in_params_go_out_as_wire_json():
    rules = [Rule(method="sessions.open", actions=[reply({"sessionId": "s1"})])]
    with running(rules) as (fake, client):
        session = client.create_session()
        capabilities = generated.ModelCapabilitiesOverride.from_dict({"supports": {"vision": True}})
        session.rpc.model.switch_to(model_id="m", model_capabilities=capabilities, timeout=5)
        assert _last_params(fake, "session.model.switchTo")["modelCapabilities"] == {
            "supports": {"vision": True}
        }
        when = datetime.datetime(2026, 11, 21, 1, 2, 3, 456000, tzinfo=datetime.timezone.utc)
        client.rpc.sessions.open(
            {"mode": "resume", "sessionId": "s1", "since": when, "nested": {"at": [when]}}
        )
        sent = _last_params(fake, "sessions.open")
        assert sent["since"] == "2026-11-21T01:02:03.456Z"
        assert sent["nested"] == {"at": ["2026-11-21T01:02:03.456Z"]}


def test_server_methods_have_no_session_id_and_parse_their_result(sdk, fake):
    pong = sdk.rpc.ping(message="hi")
    assert isinstance(pong, generated.PingResult)
    assert pong.message == "pong: hi"
    assert isinstance(pong.timestamp, datetime.datetime)
    assert _last_params(fake, "ping") == {"message": "hi"}


def test_unknown_result_fields_are_kept_and_odd_results_are_handed_over():
    rules = [
        Rule(method="session.mode.get", actions=[reply("autopilot")]),
        Rule(method="session.name.get", actions=[reply({"name": "n", "brandNew": {"x": 1}})]),
        Rule(method="session.metadata.isProcessing", actions=[reply(["not", "an", "object"])]),
        Rule(method="session.name.set", actions=[reply({"unexpected": True})]),
    ]
    with running(rules) as (_fake, client):
        session = client.create_session()
        assert session.rpc.mode.get() == "autopilot"
        name = session.rpc.name.get()
        assert name.name == "n" and name.raw["brandNew"] == {"x": 1}
        assert name.to_dict() == {"name": "n", "brandNew": {"x": 1}}
        assert session.rpc.metadata.is_processing() == ["not", "an", "object"]
        assert session.rpc.name.set(name="x") is None  # a void method returns None


def test_union_params_take_a_mapping_or_a_record():
    rules = [Rule(method="sessions.open", actions=[reply({"sessionId": "s1"})])]
    with running(rules) as (fake, client):
        client.rpc.sessions.open({"mode": "resume", "sessionId": "abc", "skipped": None})
        assert _last_params(fake, "sessions.open") == {"mode": "resume", "sessionId": "abc"}
        with pytest.raises(TypeError, match="sessions.open: params must be a mapping"):
            client.rpc.sessions.open(["not", "a", "mapping"])


def test_errors_timeouts_and_bad_arguments():
    rules = [
        Rule(method="session.plan.read", actions=[error(-32602, "Invalid params: nope")]),
        Rule(method="session.usage.getMetrics", actions=[stall()]),
    ]
    with running(rules) as (fake, client):
        session = client.create_session()
        with pytest.raises(JsonRpcError) as caught:
            session.rpc.plan.read()
        assert caught.value.code == -32602 and "nope" in caught.value.message
        started = time.monotonic()
        with pytest.raises(CopilotTimeoutError, match="session.usage.getMetrics"):
            session.rpc.usage.get_metrics(timeout=0.3)
        assert time.monotonic() - started < 5
        for bad in (0, -1, "5", True, float("nan")):
            with pytest.raises(ValueError, match="timeout must be a positive, finite number"):
                session.rpc.plan.read(timeout=bad)
        with pytest.raises(TypeError):
            session.rpc.model.switch_to()  # model_id is required
        with pytest.raises(TypeError):
            session.rpc.model.switch_to("positional")  # keyword-only
        count = len(fake.requests("session.model.switchTo"))
        assert count == 0  # nothing was sent for the bad calls


def test_a_closed_session_refuses_rpc(sdk):
    session = sdk.create_session()
    rpc = session.rpc
    session.disconnect()
    with pytest.raises(SessionClosedError):
        rpc.mode.get()


def test_hand_written_methods_go_through_the_typed_path(sdk, fake):
    session = sdk.create_session()
    result = session.set_model("other", reasoning_effort="low")
    assert isinstance(result, generated.ModelSwitchToResult)
    assert _last_params(fake, "session.model.switchTo") == {
        "sessionId": session.session_id,
        "modelId": "other",
        "reasoningEffort": "low",
    }
    assert session.log("hello", level="warning")
    assert _last_params(fake, "session.log") == {
        "sessionId": session.session_id,
        "message": "hello",
        "level": "warning",
    }
    assert sdk.ping().message.startswith("pong")
    assert _last_params(fake, "ping") == {}
    assert [m.id for m in sdk.list_models(refresh=True)]


def test_reprs_name_the_namespace(sdk):
    session = sdk.create_session()
    assert repr(sdk.rpc) == "<ServerRpc server.* for the client>"
    assert (
        repr(session.rpc.model)
        == f"<SessionModelApi session.model.* for session {session.session_id[:8]}>"
    )
    assert sdk.rpc is sdk.rpc and session.rpc is session.rpc


# --------------------------------------------------------------------------- shell output


def _exec_rule(process_id, notifications, *, before_reply):
    actions = [notify(method, params) for method, params in notifications]
    answer = reply({"processId": process_id})
    return Rule(
        method="session.shell.exec",
        times=1,
        actions=[*actions, answer] if before_reply else [answer, *actions],
    )


class _Recorder:
    def __init__(self, session):
        self.items: list = []
        self.threads: set[str] = set()
        self.done = threading.Event()
        session.on_shell_output(self.add)
        session.on_shell_exit(self.add)

    def add(self, item):
        self.items.append(item)
        self.threads.add(threading.current_thread().name)
        if isinstance(item, ShellExit):
            self.done.set()


@pytest.mark.parametrize(
    "before_reply", [False, True], ids=["after-the-answer", "before-the-answer"]
)
def test_shell_output_reaches_the_session_that_started_the_process_in_order(before_reply):
    notifications = [
        ("shell.output", {"processId": "p1", "stream": "stdout", "data": "one\n"}),
        ("shell.output", {"processId": "p1", "stream": "stderr", "data": "two\n"}),
        ("shell.output", {"processId": "p1", "stream": "stdout", "data": "three"}),
        ("shell.exit", {"processId": "p1", "exitCode": 7}),
    ]
    with running([_exec_rule("p1", notifications, before_reply=before_reply)]) as (fake, client):
        mine = client.create_session()
        other = client.create_session()
        recorder = _Recorder(mine)
        stranger = _Recorder(other)
        result = mine.rpc.shell.exec(command="anything", cwd="/tmp", timeout_ms=1000)
        assert result.process_id == "p1"
        assert _last_params(fake, "session.shell.exec") == {
            "sessionId": mine.session_id,
            "command": "anything",
            "cwd": "/tmp",
            "timeout": 1000,
        }
        assert recorder.done.wait(5)
        assert recorder.items == [
            ShellOutput("p1", "stdout", "one\n"),
            ShellOutput("p1", "stderr", "two\n"),
            ShellOutput("p1", "stdout", "three"),
            ShellExit("p1", 7),
        ]
        assert recorder.threads == {f"copilot-shell-{mine.session_id[:8]}"}
        assert stranger.items == []


def test_shell_notifications_nobody_claims_are_dropped_and_bad_ones_skipped(sdk, fake, caplog):
    session = sdk.create_session()
    recorder = _Recorder(session)
    fake.notify("shell.output", {"processId": "unknown", "stream": "stdout", "data": "x"})
    fake.notify("shell.output", {"stream": "stdout", "data": "no process id"})
    fake.notify("shell.exit", "garbage")
    assert sdk.ping().message  # the reader went past them and is alive
    assert recorder.items == []
    assert "without a processId" in caplog.text


def test_a_raising_shell_handler_is_logged_and_the_next_one_runs(caplog):
    notifications = [
        ("shell.output", {"processId": "p2", "stream": "stdout", "data": "x"}),
        ("shell.exit", {"processId": "p2"}),
    ]
    with running([_exec_rule("p2", notifications, before_reply=False)]) as (_fake, client):
        session = client.create_session()

        def broken(item):
            raise RuntimeError("handler bug")

        session.on_shell_output(broken)
        recorder = _Recorder(session)
        session.rpc.shell.exec(command="x")
        assert recorder.done.wait(5)
        assert recorder.items == [ShellOutput("p2", "stdout", "x"), ShellExit("p2", None)]
        assert "handler bug" in caplog.text


def test_shell_handlers_are_checked_when_registered(sdk):
    session = sdk.create_session()
    with pytest.raises(
        TypeError, match="on_shell_output handler must accept 1 positional argument"
    ):
        session.on_shell_output(lambda: None)
    with pytest.raises(TypeError, match="on_shell_exit handler must be callable"):
        session.on_shell_exit("nope")
    unsubscribe = session.on_shell_exit(lambda item: None)
    unsubscribe()
