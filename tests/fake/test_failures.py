"""Every way the CLI can fail, and what the SDK does about it (fake CLI, real pipes)."""

from __future__ import annotations

import logging
import signal
import threading
import time

import pytest

from copilot_sync import (
    ConnectionState,
    CopilotClient,
    CopilotTimeoutError,
    ProcessExitedError,
    ProtocolError,
    SessionClosedError,
)
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import events, exit, kill, raw, stall

from .conftest import capture_in_thread, start_client


def _wait_for_state(client, state, timeout=2.0):
    deadline = time.monotonic() + timeout
    while client.state is not state and time.monotonic() < deadline:
        time.sleep(0.01)
    return client.state


@pytest.mark.parametrize(
    "action, exit_code",
    [(exit(3), 3), (kill(), -signal.SIGKILL)],
    ids=["exit-3", "sigkill"],
)
def test_cli_dying_mid_turn_fails_send_and_wait_within_a_second(action, exit_code):
    scenario = Scenario(
        rules=[
            Rule(
                method="session.send",
                actions=[events([("user.message", {"content": "x"})]), action],
            )
        ]
    )
    fake, client = start_client(scenario)
    with fake:
        client.start()
        session = client.create_session()
        began = time.monotonic()
        with pytest.raises(ProcessExitedError) as info:
            session.send_and_wait("die now", timeout=30)
        assert time.monotonic() - began < 1.0
        assert info.value.exit_code == exit_code
        assert f"code {exit_code}" in str(info.value)
        assert client.state is ConnectionState.ERROR
        assert session.closed
        assert client.stop() == []


def test_sigkill_while_waiting_fails_every_waiter_at_once():
    fake, client = start_client(
        Scenario(think_time=30, rules=[Rule(method="session.getMessages", actions=[stall()])])
    )
    with fake:
        client.start()
        sessions = [client.create_session() for _ in range(2)]
        outcomes: list[BaseException] = []
        lock = threading.Lock()

        def wait(session):
            try:
                session.send_and_wait("slow", timeout=30)
            except BaseException as exc:
                with lock:
                    outcomes.append(exc)

        def stream(session):
            try:
                for _ in session.stream("slow", timeout=30):
                    pass
            except BaseException as exc:
                with lock:
                    outcomes.append(exc)

        threads = [
            threading.Thread(target=wait, args=(sessions[0],)),
            threading.Thread(target=stream, args=(sessions[1],)),
        ]
        threads.append(threading.Thread(target=lambda: outcomes.append(_ping_error(client))))
        for thread in threads:
            thread.start()
        fake.wait_for_request("session.send")
        fake.wait_for_request("session.send")
        fake.wait_for_request("session.getMessages")
        time.sleep(0.2)
        killed = time.monotonic()
        fake.kill()
        for thread in threads:
            thread.join(5)
        assert time.monotonic() - killed < 1.0
        assert len(outcomes) == 3 and all(isinstance(o, ProcessExitedError) for o in outcomes), (
            outcomes
        )
        assert all(o.exit_code == -signal.SIGKILL for o in outcomes)
        assert client.stop() == []


def _ping_error(client):
    # a request that the fake never answers (stall) is pending when the CLI dies
    try:
        client._request("session.getMessages", {"sessionId": "stalled"}, timeout=30)
    except BaseException as exc:
        return exc
    return None


def test_a_cli_killed_while_idle_is_noticed_and_a_new_client_works(fake, sdk):
    pid = sdk.pid
    fake.kill()
    assert _wait_for_state(sdk, ConnectionState.ERROR) is ConnectionState.ERROR
    with pytest.raises(ProcessExitedError, match="call start"):
        sdk.ping()
    sdk.start()  # restarting the same client spawns a new CLI
    assert sdk.pid != pid and sdk.ping().protocol_version == 3


def test_the_cli_closing_its_output_ends_the_connection(fake, sdk):
    session = sdk.create_session()
    fake.close_stdout()
    with pytest.raises(ProcessExitedError):
        session.send_and_wait("anyone?", timeout=5)


def test_invalid_json_and_non_utf8_frames_are_skipped(fake, sdk, caplog):
    caplog.set_level(logging.WARNING, logger="copilot_sync")
    fake.send_raw(b"Content-Length: 9\r\n\r\n{not json")
    fake.send_raw(b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc")
    fake.send_raw(b"Content-Length: 7\r\n\r\n[1,2,3]")
    fake.send_raw(b"Content-Length: 2\r\n\r\n{}")
    fake.send_raw(b"X-Only: header\r\n\r\n")
    assert sdk.ping("survived").message == "pong: survived"
    assert sdk.state is ConnectionState.CONNECTED
    text = caplog.text
    assert (
        "not valid JSON" in text and "not a JSON object" in text and "neither method nor id" in text
    )
    assert "without Content-Length" in text


@pytest.mark.parametrize(
    "garbage",
    [b"Content-Length: -4\r\n\r\n{}", b"Content-Length: many\r\n\r\n{}", b"what is this\r\n\r\n"],
)
def test_an_unreadable_header_fails_the_connection_with_a_protocol_error(garbage):
    scenario = Scenario(rules=[Rule(method="session.send", actions=[raw(garbage), stall()])])
    fake, client = start_client(scenario)
    with fake:
        client.start()
        session = client.create_session()
        with pytest.raises(ProtocolError, match="cannot be read as a frame"):
            session.send_and_wait("break it", timeout=10)
        assert client.state is ConnectionState.ERROR
        client.stop()


def test_a_truncated_frame_then_exit_is_a_process_exit():
    scenario = Scenario(
        rules=[
            Rule(
                method="session.send",
                actions=[raw(b'Content-Length: 100\r\n\r\n{"jsonrpc"'), exit(7)],
            )
        ]
    )
    fake, client = start_client(scenario)
    with fake:
        client.start()
        session = client.create_session()
        with pytest.raises(ProcessExitedError) as info:
            session.send_and_wait("half a frame", timeout=10)
        assert info.value.exit_code == 7
        client.stop()


def test_a_request_that_is_never_answered_times_out_and_the_client_goes_on():
    scenario = Scenario(rules=[Rule(method="session.getMessages", actions=[stall()])])
    fake, client = start_client(scenario)
    with fake:
        client.start()
        try:
            session = client.create_session()
            began = time.monotonic()
            with pytest.raises(CopilotTimeoutError, match="session.getMessages"):
                session.get_messages(timeout=0.3)
            assert 0.3 <= time.monotonic() - began < 2
            assert client.ping().protocol_version == 3
            session.disconnect()
        finally:
            client.stop(timeout=5)


def test_a_start_that_never_completes_times_out_and_kills_the_cli():
    scenario = Scenario(rules=[Rule(method="connect", actions=[stall()])])
    fake = FakeCLI(scenario)
    with fake:
        client = CopilotClient(cli_path=fake.cli_path, start_timeout=1.0)
        with pytest.raises(CopilotTimeoutError, match="handshake"):
            client.start()
        assert client.state is ConnectionState.ERROR
        fake.wait_for_exit(timeout=5)


def test_a_cli_that_exits_at_start_reports_its_stderr(tmp_path):
    script = tmp_path / "broken-cli"
    script.write_text("#!/bin/sh\necho 'fatal: cannot start' >&2\nexit 4\n")
    script.chmod(0o755)
    client = CopilotClient(cli_path=str(script))
    with pytest.raises(ProcessExitedError) as info:
        client.start()
    assert info.value.exit_code == 4
    assert "fatal: cannot start" in info.value.stderr and "fatal: cannot start" in str(info.value)
    assert client.state is ConnectionState.ERROR


def test_disconnect_from_another_thread_fails_the_waiter():
    with FakeCLI(Scenario(think_time=30)) as slow:
        client = CopilotClient(cli_path=slow.cli_path)
        client.start()
        try:
            session = client.create_session()
            waiter, caught = capture_in_thread(session.send_and_wait, "wait", timeout=30)
            slow.wait_for_request("session.send")
            session.disconnect()
            waiter.join(5)
            assert len(caught) == 1 and isinstance(caught[0], SessionClosedError)
        finally:
            client.stop(timeout=5)


def test_stop_while_a_turn_is_running_is_bounded_and_fails_the_waiter():
    with FakeCLI(Scenario(think_time=30)) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        session = client.create_session()
        waiter, caught = capture_in_thread(session.send_and_wait, "slow", timeout=30)
        fake.wait_for_request("session.send")
        began = time.monotonic()
        errors = client.stop(timeout=10)
        assert time.monotonic() - began < 10
        waiter.join(5)
        assert errors == []
        assert len(caught) == 1 and isinstance(caught[0], SessionClosedError)
        assert client.state is ConnectionState.DISCONNECTED
        fake.wait_for_exit(timeout=5)
        methods = [m["method"] for m in fake.received if "method" in m]
        assert methods[-2:] == ["session.destroy", "runtime.shutdown"]


def test_stop_from_inside_a_handler_completes(fake, sdk):
    session = sdk.create_session()
    stopped = threading.Event()
    results: list[list] = []

    def on_idle(event):
        results.append(sdk.stop(timeout=5))
        stopped.set()

    session.on("session.idle", on_idle)
    session.send("hello")
    assert stopped.wait(10)
    assert results == [[]]
    assert sdk.state is ConnectionState.DISCONNECTED


def test_a_server_closing_the_socket_fails_cli_url_waiters_at_once():
    with FakeCLI.serve_tcp(Scenario(think_time=30)) as server:
        client = CopilotClient(cli_url=server.url)
        client.start()
        try:
            session = client.create_session()
            waiter, caught = capture_in_thread(session.send_and_wait, "slow", timeout=30)
            server.wait_for_request("session.send")
            closed_at = time.monotonic()
            server.process.kill()
            waiter.join(5)
            assert time.monotonic() - closed_at < 1.0
            assert len(caught) == 1 and isinstance(caught[0], ProcessExitedError)
            assert caught[0].exit_code is None and "closed the connection" in str(caught[0])
            assert client.state is ConnectionState.ERROR
        finally:
            client.stop(timeout=5)
