"""Row 1: the CLI process dies (SIGKILL) at every stage; stop() in awkward places; no leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import threading
import time

import pytest

from copilot_sync import ConnectionState, CopilotClient, ProcessExitedError
from copilot_sync._versions import cli_at_least
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import stall

from .conftest import (
    PYTHON,
    child_env,
    pid_alive,
    run_in_thread,
    sdk_threads,
    stop_client,
    wait_until,
)

pytestmark = [pytest.mark.reliability_row(1), pytest.mark.timeout(60)]

LIMIT = 1.0  # every waiter must fail within this many seconds of the kill


def _assert_fresh_client_works(cli_path: str, **options) -> None:
    with CopilotClient(cli_path=cli_path, **options) as again:
        assert again.ping("again").message == "pong: again"


def _killed(outcome: dict, killed_at: float) -> float:
    assert isinstance(outcome.get("error"), ProcessExitedError), outcome
    assert outcome["error"].exit_code == -signal.SIGKILL, outcome["error"]
    return outcome["at"] - killed_at


# ----------------------------------------------------------------------------- fake CLI


def test_sigkill_at_start_up(tmp_path, record):
    """The CLI is SIGKILLed before it reads a byte: start() fails fast with ProcessExitedError."""
    script = tmp_path / "copilot"
    script.write_text("#!/bin/sh\necho 'starting...' >&2\nkill -9 $$\n")
    script.chmod(0o755)
    client = CopilotClient(cli_path=str(script))
    began = time.monotonic()
    with pytest.raises(ProcessExitedError) as info:
        client.start()
    elapsed = time.monotonic() - began
    assert elapsed < LIMIT
    assert info.value.exit_code == -signal.SIGKILL
    assert "starting..." in info.value.stderr
    assert client.state is ConnectionState.ERROR
    with FakeCLI() as fake:
        _assert_fresh_client_works(fake.cli_path)
    record(
        "SIGKILL at start-up (before the handshake is read)",
        figure=f"start() failed {elapsed:.3f} s after it was called (spawn included)",
        outcome=f"ProcessExitedError(exit_code={info.value.exit_code}, stderr tail kept); state=error; new client works",
    )


def test_sigkill_mid_handshake(record):
    """The CLI dies with the SDK's `connect` request pending."""
    with FakeCLI(Scenario(rules=[Rule(method="connect", instance=0, actions=[stall()])])) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        thread, out = run_in_thread(client.start)
        fake.wait_for_request("connect")
        killed_at = time.monotonic()
        fake.kill()
        thread.join(5)
        elapsed = _killed(out, killed_at)
        assert elapsed < LIMIT
        assert client.state is ConnectionState.ERROR
        client.start()  # the same client starts a new CLI (the rule held only for instance 0)
        assert client.ping().protocol_version == 3
        client.stop(timeout=5)
        _assert_fresh_client_works(fake.cli_path)
    record(
        "SIGKILL mid-handshake (`connect` pending)",
        figure=f"start() failed {elapsed * 1000:.0f} ms after the kill",
        outcome="ProcessExitedError(exit_code=-9); state=error; start() again and a new client work",
    )


def test_sigkill_mid_turn_fails_every_waiter(record):
    """send_and_wait, stream, a pending RPC and a second session's waiter all fail at once."""
    scenario = Scenario(
        think_time=30, rules=[Rule(method="session.getMessages", actions=[stall()])]
    )
    with FakeCLI(scenario) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            sessions = [client.create_session() for _ in range(3)]
            waiters = [
                run_in_thread(sessions[0].send_and_wait, "slow", timeout=30),
                run_in_thread(lambda: list(sessions[1].stream("slow", timeout=30))),
                run_in_thread(sessions[2].get_messages, timeout=30),
                run_in_thread(sessions[2].send_and_wait, "slow too", timeout=30),
            ]
            for _ in range(3):
                fake.wait_for_request("session.send")
            fake.wait_for_request("session.getMessages")
            time.sleep(0.1)
            killed_at = time.monotonic()
            fake.kill()
            for thread, _ in waiters:
                thread.join(5)
            latencies = [_killed(out, killed_at) for _, out in waiters]
            assert max(latencies) < LIMIT, latencies
            assert client.state is ConnectionState.ERROR
            assert all(s.closed for s in sessions)
            with pytest.raises(ProcessExitedError):
                sessions[0].send("still dead?")
            with pytest.raises(ProcessExitedError, match="call start"):
                client.ping()
            client.start()
            assert client.ping().protocol_version == 3
        finally:
            stop_client(client)
        _assert_fresh_client_works(fake.cli_path)
    record(
        "SIGKILL mid-turn: send_and_wait, stream, a pending RPC, 2nd turn",
        figure=f"{len(latencies)} waiters failed within {max(latencies) * 1000:.0f} ms of the kill",
        outcome="each: ProcessExitedError(exit_code=-9); sessions closed; state=error; restart and new client work",
    )


def test_sigkill_mid_tool_call(record, caplog):
    """The CLI dies while a handler (a preToolUse hook: a tool call in progress) runs on a worker."""
    hook = {
        "sessionId": None,
        "hookType": "preToolUse",
        "input": {"toolName": "bash", "toolArgs": {}},
    }
    entered, release = threading.Event(), threading.Event()

    def on_pre_tool_use(data, context):
        entered.set()
        release.wait(10)
        return {"permissionDecision": "allow"}

    with FakeCLI(Scenario(think_time=30)) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            session = client.create_session(hooks={"on_pre_tool_use": on_pre_tool_use})
            hook["sessionId"] = session.session_id
            thread, out = run_in_thread(session.send_and_wait, "use a tool", timeout=30)
            fake.wait_for_request("session.send")
            asker = threading.Thread(
                target=lambda: _quiet(fake.request, "hooks.invoke", hook, 30), daemon=True
            )
            asker.start()
            assert entered.wait(5), "the hook never ran"
            killed_at = time.monotonic()
            fake.kill()
            thread.join(5)
            elapsed = _killed(out, killed_at)
            assert elapsed < LIMIT
            assert client.state is ConnectionState.ERROR
            release.set()  # the handler finishes after the CLI died: its answer is dropped quietly
            asker.join(5)
            time.sleep(0.1)
        finally:
            release.set()
            stop_client(client)
        _assert_fresh_client_works(fake.cli_path)
    record(
        "SIGKILL mid-tool call (a preToolUse hook running on a worker)",
        figure=f"send_and_wait failed {elapsed * 1000:.0f} ms after the kill, while the handler still ran",
        outcome="ProcessExitedError(exit_code=-9); the handler's late answer is dropped (logged at DEBUG); new client works",
    )


def test_sigkill_mid_tool_call_external_tool(record):
    """The CLI dies while a tool of this session runs on a worker (external_tool.requested)."""
    from copilot_sync import define_tool

    entered, release = threading.Event(), threading.Event()

    @define_tool(description="slow")
    def slow_tool(n: int) -> str:
        entered.set()
        release.wait(10)
        return "late"

    with FakeCLI(Scenario(think_time=30)) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            session = client.create_session(tools=[slow_tool])
            thread, out = run_in_thread(session.send_and_wait, "use the tool", timeout=30)
            fake.wait_for_request("session.send")
            fake.emit(
                session.session_id,
                "external_tool.requested",
                {
                    "requestId": "r1",
                    "toolCallId": "c1",
                    "toolName": "slow_tool",
                    "arguments": {"n": 1},
                },
            )
            assert entered.wait(5), "the tool never ran"
            killed_at = time.monotonic()
            fake.kill()
            thread.join(5)
            elapsed = _killed(out, killed_at)
            assert elapsed < LIMIT
            assert client.state is ConnectionState.ERROR
            release.set()
            time.sleep(0.1)
        finally:
            release.set()
            stop_client(client)
        _assert_fresh_client_works(fake.cli_path)
    record(
        "SIGKILL mid-tool call (a define_tool handler running on a worker)",
        figure=f"send_and_wait failed {elapsed * 1000:.0f} ms after the kill, while the tool still ran",
        outcome="ProcessExitedError(exit_code=-9); the tool's late answer is dropped quietly; new client works",
    )


def _quiet(fn, *args):
    try:
        fn(*args)
    except Exception:
        pass


def test_sigkill_while_idle(record):
    """Nobody waits: the client notices on its own, and every later call fails at once."""
    with FakeCLI() as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            session = client.create_session()
            killed_at = time.monotonic()
            fake.kill()
            assert wait_until(lambda: client.state is ConnectionState.ERROR, 2.0)
            noticed = time.monotonic() - killed_at
            assert noticed < LIMIT
            assert wait_until(lambda: session.closed, 1.0)
            began = time.monotonic()
            with pytest.raises(ProcessExitedError):
                session.send_and_wait("anyone?", timeout=30)
            with pytest.raises(ProcessExitedError):
                client.create_session()
            fail_fast = time.monotonic() - began
            client.start()
            assert client.ping().protocol_version == 3
        finally:
            stop_client(client)
        _assert_fresh_client_works(fake.cli_path)
    record(
        "SIGKILL while idle",
        figure=f"state=error {noticed * 1000:.0f} ms after the kill; later calls failed in {fail_fast * 1000:.1f} ms",
        outcome="ProcessExitedError on every later call; start() again and a new client work",
    )


# ----------------------------------------------------------------------------- real CLI


def test_real_cli_sigkill_during_start(real_cli, cli_env, record):
    """The real CLI is SIGKILLed while start() waits for it."""
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    thread, out = run_in_thread(client.start)
    assert wait_until(lambda: client.pid is not None, 10)
    time.sleep(0.05)
    killed_at = time.monotonic()
    os.kill(client.pid, signal.SIGKILL)
    thread.join(10)
    elapsed = _killed(out, killed_at)
    assert elapsed < LIMIT
    assert client.state is ConnectionState.ERROR
    client.start()
    try:
        assert client.ping().protocol_version == 3
    finally:
        client.stop()
    record(
        "Real CLI: SIGKILL 50 ms after spawn, during start()",
        figure=f"start() failed {elapsed * 1000:.0f} ms after the kill",
        outcome="ProcessExitedError(exit_code=-9); state=error; start() again works",
    )


def test_real_cli_sigkill_mid_turn_and_idle(real_cli, cli_env, model, record):
    """The real CLI dies with a turn in flight (the model is slow); then while idle."""
    model.add_reply("never delivered", delay=30)
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    try:
        session = client.create_session(model=model.model, provider=model.provider())
        other = client.create_session(model=model.model, provider=model.provider())
        waiters = [
            run_in_thread(session.send_and_wait, "you will not answer", timeout=60),
            run_in_thread(other.get_messages, timeout=60),
        ]
        model.wait_for_requests(1, timeout=30)
        killed_at = time.monotonic()
        os.kill(client.pid, signal.SIGKILL)
        for thread, _ in waiters:
            thread.join(10)
        assert isinstance(waiters[0][1].get("error"), ProcessExitedError)
        turn_latency = _killed(waiters[0][1], killed_at)
        # get_messages may have completed before the kill; if it was pending it failed the same way
        if "error" in waiters[1][1]:
            _killed(waiters[1][1], killed_at)
        assert turn_latency < LIMIT
        assert client.state is ConnectionState.ERROR

        client.start()  # idle kill: nobody waits
        pid = client.pid
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: client.state is ConnectionState.ERROR, 2.0)
        idle_latency = time.monotonic() - killed_at
        assert idle_latency < LIMIT
        with pytest.raises(ProcessExitedError):
            client.ping()
    finally:
        stop_client(client)
    with CopilotClient(cli_path=real_cli.path, env=cli_env) as again:
        assert again.ping().protocol_version == 3
    record(
        "Real CLI: SIGKILL mid-turn (model answering slowly)",
        figure=f"send_and_wait failed {turn_latency * 1000:.0f} ms after the kill",
        outcome="ProcessExitedError(exit_code=-9); state=error; a new client works",
    )
    record(
        "Real CLI: SIGKILL while idle",
        figure=f"state=error {idle_latency * 1000:.0f} ms after the kill",
        outcome="later calls raise ProcessExitedError",
    )


# ----------------------------------------------------------------------------- stop()


def test_stop_while_handlers_run_twice_and_from_a_handler(record):
    """stop() with an event handler and a worker handler busy; again; and from inside a handler."""
    entered_event, entered_hook, release = threading.Event(), threading.Event(), threading.Event()

    def slow_event_handler(event):
        if event.type == "assistant.message":
            entered_event.set()
            release.wait(1.0)

    def slow_hook(data, context):
        entered_hook.set()
        release.wait(1.0)
        return None

    with FakeCLI() as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        session = client.create_session(hooks={"on_session_start": slow_hook})
        session.on(slow_event_handler)
        session.send("hello")
        hook = {"sessionId": session.session_id, "hookType": "sessionStart", "input": {}}
        threading.Thread(
            target=lambda: _quiet(fake.request, "hooks.invoke", hook, 10), daemon=True
        ).start()
        assert entered_event.wait(5) and entered_hook.wait(5)
        began = time.monotonic()
        first = client.stop(timeout=10)
        busy_stop = time.monotonic() - began
        began = time.monotonic()
        second = client.stop(timeout=10)
        twice = time.monotonic() - began
        release.set()
        assert busy_stop < 10 and first == [] and second == []
        assert client.state is ConnectionState.DISCONNECTED

        # from inside an event handler and from inside a worker handler (a hook)
        inside: dict[str, object] = {}
        done = threading.Event()
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        session = client.create_session()

        def stop_from_handler(event):
            began = time.monotonic()
            inside["errors"] = client.stop(timeout=5)
            inside["seconds"] = time.monotonic() - began
            done.set()

        session.on("session.idle", stop_from_handler)
        session.send("stop from the handler")
        assert done.wait(10)
        assert inside["errors"] == [] and client.state is ConnectionState.DISCONNECTED

        hook_done = threading.Event()
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()

        def stop_from_hook(data, context):
            began = time.monotonic()
            inside["hook_errors"] = client.stop(timeout=5)
            inside["hook_seconds"] = time.monotonic() - began
            hook_done.set()
            return None

        session = client.create_session(hooks={"on_session_start": stop_from_hook})
        hook = {"sessionId": session.session_id, "hookType": "sessionStart", "input": {}}
        threading.Thread(
            target=lambda: _quiet(fake.request, "hooks.invoke", hook, 10), daemon=True
        ).start()
        assert hook_done.wait(10)
        assert inside["hook_errors"] == [] and client.state is ConnectionState.DISCONNECTED
    record(
        "stop() while an event handler and a worker handler run",
        figure=f"returned in {busy_stop:.2f} s (handlers busy for 1 s)",
        outcome="[] (no errors); state=disconnected",
    )
    record(
        "stop() twice",
        figure=f"second call returned in {twice * 1000:.1f} ms",
        outcome="[]; no error",
    )
    record(
        "stop() from inside an event handler / a worker handler",
        figure=f"{inside['seconds']:.2f} s / {inside['hook_seconds']:.2f} s",
        outcome="[] both times; never joins its own thread",
    )


def test_no_sdk_thread_survives_stop(record):
    """Threads named copilot-* (reader, events, workers, lifecycle, stderr/stdout drains) end with stop()."""
    before = {t.ident for t in threading.enumerate()}
    seen: set[str] = set()
    hook = {"hookType": "sessionStart", "input": {}}
    with FakeCLI() as fake:
        for use_stdio in (True, False):
            client = CopilotClient(cli_path=fake.cli_path, use_stdio=use_stdio, max_workers=4)
            client.start()
            client.on_lifecycle(lambda event: None)
            sessions = [
                client.create_session(hooks={"on_session_start": lambda d, c: None})
                for _ in range(3)
            ]
            for session in sessions:
                session.send_and_wait("hi", timeout=10)
                fake.request("hooks.invoke", {**hook, "sessionId": session.session_id}, 5)
            seen |= {t.name for t in sdk_threads() if t.ident not in before}
            assert client.stop(timeout=10) == []
            left = [t for t in sdk_threads() if t.ident not in before and t.is_alive()]
            # joined by stop(); the drains end with the pipes: allow them a moment
            assert wait_until(lambda left=left: not [t for t in left if t.is_alive()], 1.0), [
                t.name for t in left if t.is_alive()
            ]
    import re

    kinds = sorted({re.sub(r"(-[0-9a-f]{8}|-\d+)+$", "", name) for name in seen})
    record(
        "No `copilot-*` thread survives stop() (stdio and TCP)",
        figure=f"{len(seen)} SDK threads started ({', '.join(kinds)}); 0 alive 1 s after stop()",
        outcome="all joined or ended",
    )


def test_interpreter_exit_without_stop_leaves_no_cli(real_cli, cli_env, tmp_path, record):
    """A child interpreter starts the real CLI (and a fake one over TCP) and exits without stop()."""
    with FakeCLI() as fake:
        script = tmp_path / "forgetful.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import sys
                from copilot_sync import CopilotClient
                clients = [CopilotClient(cli_path={real_cli.path!r}), CopilotClient(cli_path={fake.cli_path!r}, use_stdio=False)]
                for client in clients:
                    client.start()
                session = clients[0].create_session()
                print(" ".join(str(c.pid) for c in clients), flush=True)
                if sys.argv[1] == "raise":
                    raise SystemExit("uncaught: still no stop()")
                """
            )
        )
        pids: list[int] = []
        for how in ("return", "raise"):
            result = subprocess.run(
                [PYTHON, str(script), how],
                env={**child_env(), **cli_env, "PYTHONPATH": child_env()["PYTHONPATH"]},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.stdout.strip(), result.stderr
            pids += [int(p) for p in result.stdout.split()]
        assert wait_until(lambda: not any(pid_alive(p) for p in pids), 5.0), [
            p for p in pids if pid_alive(p)
        ]
    record(
        "Interpreter exit without stop() (normal end and uncaught exit), real CLI and TCP fake",
        figure=f"{len(pids)} CLI processes started by 2 child interpreters; 0 alive afterwards",
        outcome="the atexit reaper killed them all",
    )


def test_sigkill_with_async_turns_queued_and_running(record):
    """send_async futures (running and queued, on several sessions) all fail at once."""
    with FakeCLI(Scenario(think_time=30)) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            sessions = [client.create_session() for _ in range(3)]
            futures = [session.send_async(f"turn {i}") for session in sessions for i in range(3)]
            for _ in range(3):  # one running turn per session, two queued behind it
                fake.wait_for_request("session.send")
            time.sleep(0.1)
            killed_at = time.monotonic()
            fake.kill()
            errors = [future.exception(timeout=5) for future in futures]
            latency = time.monotonic() - killed_at
            assert all(
                isinstance(error, ProcessExitedError) and error.exit_code == -signal.SIGKILL
                for error in errors
            ), errors
            assert latency < LIMIT, latency
            assert len({id(error) for error in errors}) == len(
                errors
            )  # each future its own exception
        finally:
            stop_client(client)
    record(
        "SIGKILL with send_async futures: 3 running, 6 queued, 3 sessions",
        figure=f"{len(futures)} futures failed within {latency * 1000:.0f} ms of the kill",
        outcome="each: ProcessExitedError(exit_code=-9), its own exception object",
    )


def test_sigkill_while_a_shell_command_streams(real_cli, cli_env, model, tmp_path, record):
    """Real CLI: the process dies while session.rpc.shell.exec output streams; calls fail, nothing hangs."""
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    try:
        session = client.create_session(
            model=model.model, provider=model.provider(), working_directory=str(tmp_path)
        )
        chunks: list[str] = []
        first = threading.Event()
        session.on_shell_output(lambda out: (chunks.append(out.data), first.set()))
        command = "yes tick | head -c 131072; sleep 30"
        if cli_at_least(client.server_version, "1.0.92"):
            # a user-requested command streams live, and its request waits for the command
            running = run_in_thread(
                session.rpc.shell.execute_user_requested, request_id="r", command=command
            )
        else:
            # CLI 1.0.81 sends a command's output in 64 KiB pieces (the rest when it exits):
            # two full pieces at once, then the command keeps running
            running = None
            session.rpc.shell.exec(command=command, timeout_ms=60_000)
        assert first.wait(20)
        waiter = run_in_thread(session.send_and_wait, "anything", timeout=30)
        killed_at = time.monotonic()
        os.kill(client.pid, signal.SIGKILL)
        waiter[0].join(5)
        latency = _killed(waiter[1], killed_at)
        assert latency < LIMIT
        if running is not None:
            running[0].join(5)
            assert isinstance(running[1].get("error"), ProcessExitedError), running[1]
        with pytest.raises(ProcessExitedError):
            session.rpc.shell.exec(command="echo again")
    finally:
        stop_client(client)
    record(
        "SIGKILL (real CLI) while a shell command streams output",
        figure=f"{len(chunks)} chunks received; the waiting turn failed {latency * 1000:.0f} ms after the kill",
        outcome="ProcessExitedError(exit_code=-9) for the waiter and for later rpc calls; shell thread stopped",
    )
