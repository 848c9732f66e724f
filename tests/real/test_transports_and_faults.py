"""Stdio and TCP, a second client by cli_url, a killed CLI, and no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from copilot_sync import ConnectionState, CopilotClient, JsonRpcError, ProcessExitedError

from ..conftest import assert_no_sdk_threads


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def fresh_threads():
    before = {t.ident for t in threading.enumerate()}
    yield
    assert_no_sdk_threads(before)


def test_tcp_spawned_cli_holds_a_conversation(real_cli, cli_env, model, fresh_threads):
    with CopilotClient(cli_path=real_cli.path, env=cli_env, use_stdio=False) as client:
        assert client.ping().protocol_version == 3
        assert client.runtime_port is not None and client.runtime_port > 0
        with client.create_session(model=model.model, provider=model.provider()) as session:
            model.add_reply("over TCP")
            assert session.send_and_wait("hi over tcp", timeout=60).data.content == "over TCP"
        pid = client.pid
    assert pid is not None and not _alive(pid)


def test_second_client_attaches_by_cli_url(real_cli, cli_env, model, fresh_threads):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    owner = CopilotClient(
        cli_path=real_cli.path,
        env=cli_env,
        use_stdio=False,
        port=port,
        connection_token="s3cret-token",
    )
    assert owner.runtime_port is None  # not started yet
    owner.start()
    try:
        assert owner.runtime_port == port
        session = owner.create_session(model=model.model, provider=model.provider())
        session.send_and_wait("owned by the first client", timeout=60)
        for url in (f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"):
            with CopilotClient(cli_url=url, connection_token="s3cret-token") as second:
                assert second.ping("second").message == "pong: second"
                assert second.runtime_port == port
                assert session.session_id in [s.session_id for s in second.list_sessions()]
        # the second client's stop() must not shut the server down
        assert owner.ping().protocol_version == 3
        stranger = CopilotClient(cli_url=str(port))  # no token: refused at the handshake
        with pytest.raises(JsonRpcError) as info:
            stranger.start()
        assert info.value.code == -32002
        assert stranger.state is ConnectionState.ERROR
        session.disconnect()
    finally:
        assert owner.stop() == []


def test_cli_killed_during_send_and_wait_fails_fast(real_cli, cli_env, model, fresh_threads):
    model.add_reply("never delivered", delay=30)
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    try:
        session = client.create_session(model=model.model, provider=model.provider())
        killed_at: list[float] = []

        def kill_when_asked():
            model.wait_for_requests(1, timeout=30)
            killed_at.append(time.monotonic())
            os.kill(client.pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_asked)
        killer.start()
        with pytest.raises(ProcessExitedError) as info:
            session.send_and_wait("you will not answer", timeout=60)
        elapsed = time.monotonic() - killed_at[0]
        killer.join()
        assert elapsed < 1.0, f"took {elapsed:.2f}s to notice the dead CLI"
        assert info.value.exit_code == -signal.SIGKILL
        assert client.state is ConnectionState.ERROR
        with pytest.raises(ProcessExitedError):
            session.send("still dead")
        with pytest.raises(ProcessExitedError):
            client.ping()
    finally:
        client.stop()
    # a new client works
    with CopilotClient(cli_path=real_cli.path, env=cli_env) as again:
        assert again.ping().protocol_version == 3


def test_restart_after_the_cli_died(real_cli, cli_env, fresh_threads):
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    try:
        first = client.pid
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while client.state is not ConnectionState.ERROR and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.state is ConnectionState.ERROR
        client.start()
        assert client.pid != first and client.ping().protocol_version == 3
    finally:
        client.stop()


def test_stop_leaves_no_cli_process(real_cli, cli_env, fresh_threads):
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    pid = client.pid
    assert _alive(pid)
    started = time.monotonic()
    assert client.stop() == []
    assert time.monotonic() - started < 15
    assert not _alive(pid)
    assert client.state is ConnectionState.DISCONNECTED
    assert client.stop() == []  # twice is fine


def test_force_stop_kills_at_once(real_cli, cli_env, fresh_threads):
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    pid = client.pid
    client.force_stop()
    assert not _alive(pid)


def test_interpreter_exit_without_stop_leaves_no_cli(real_cli, cli_env, tmp_path):
    script = tmp_path / "forgetful.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from copilot_sync import CopilotClient
            client = CopilotClient(cli_path={real_cli.path!r})
            client.start()
            print(client.pid, flush=True)
            # no stop(): the atexit reaper must take the CLI down with the interpreter
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(result.stdout.split()[0])
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_github_token_goes_through_the_environment(real_cli, cli_env, fresh_threads):
    token = "ghp_" + "x" * 36
    with CopilotClient(cli_path=real_cli.path, env=cli_env, github_token=token) as client:
        with open(f"/proc/{client.pid}/cmdline", "rb") as cmdline:
            argv = cmdline.read().split(b"\0")
        with open(f"/proc/{client.pid}/environ", "rb") as environ:
            variables = environ.read().split(b"\0")
    assert token.encode() not in b" ".join(argv)
    assert b"--auth-token-env" in argv and b"COPILOT_GITHUB_TOKEN" in argv
    assert b"COPILOT_GITHUB_TOKEN=" + token.encode() in variables
