"""Row 11: lifetime, timeouts and errors. One timeout rule checked before anything is sent and
one deadline per call; resuming a session that is already open; a forked child; a client
dropped without ``stop()``; errors that say what to do; secrets kept out of every exception."""

from __future__ import annotations

import gc
import math
import os
import pathlib
import platform
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from copilot_sync import (
    AuthenticationError,
    CapabilityError,
    ClientStateError,
    CLINotFoundError,
    CopilotClient,
    CopilotTimeoutError,
    JsonRpcError,
    PermissionHandler,
    SessionClosedError,
    SessionError,
    UnsupportedMethodError,
)
from copilot_sync.testing import FakeCLI, Rule, Scenario, ScriptedModelServer
from copilot_sync.testing.actions import default, error, events, reply, sleep, stall

from .conftest import fake_client, pid_alive, run_in_thread, wait_until

pytestmark = [pytest.mark.reliability_row(11), pytest.mark.timeout(120)]

BAD_TIMEOUTS: list[Any] = [-1, -0.5, 0, float("inf"), float("-inf"), float("nan"), "5", True, [1]]


def _label(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return repr(value)


# ============================================================================ 7. one timeout rule


def _entry_points(
    client: CopilotClient, session: Any
) -> list[tuple[str, Callable[[Any], Any], str]]:
    """(label, call with a timeout, the wire method it would send)."""
    return [
        ("client.ping", lambda t: client.ping(timeout=t), "ping"),
        ("client.get_status", lambda t: client.get_status(timeout=t), "status.get"),
        ("client.list_sessions", lambda t: client.list_sessions(timeout=t), "session.list"),
        ("client.rpc.models.list", lambda t: client.rpc.models.list(timeout=t), "models.list"),
        ("client.create_session", lambda t: client.create_session(timeout=t), "session.create"),
        (
            "client.resume_session",
            lambda t: client.resume_session(session.session_id, timeout=t),
            "session.resume",
        ),
        ("session.send", lambda t: session.send("t", timeout=t), "session.send"),
        ("session.send_and_wait", lambda t: session.send_and_wait("t", timeout=t), "session.send"),
        ("session.send_async", lambda t: session.send_async("t", timeout=t), "session.send"),
        ("session.stream", lambda t: session.stream("t", timeout=t), "session.send"),
        (
            "session.send_and_collect",
            lambda t: session.send_and_collect("t", timeout=t),
            "session.send",
        ),
        ("session.wait_for_idle", lambda t: session.wait_for_idle(timeout=t), ""),
        ("session.abort", lambda t: session.abort(timeout=t), "session.abort"),
        ("session.get_messages", lambda t: session.get_messages(timeout=t), "session.getMessages"),
        ("session.rpc.mode.get", lambda t: session.rpc.mode.get(timeout=t), "session.mode.get"),
        ("session.disconnect", lambda t: session.disconnect(timeout=t), "session.destroy"),
        ("client.stop", lambda t: client.stop(timeout=t), "runtime.shutdown"),
    ]


def test_every_timeout_is_checked_before_anything_is_sent(record):
    """Every blocking call refuses a bad timeout with ValueError before a byte reaches the CLI."""
    with fake_client() as (fake, client):
        session = client.create_session()
        checked = 0
        for label, call, wire in _entry_points(client, session):
            for bad in BAD_TIMEOUTS:
                before = len(fake.received)
                with pytest.raises(ValueError, match="timeout"):
                    call(bad)
                sent = [m.get("method") for m in fake.received[before:]]
                assert wire not in sent or not wire, f"{label}(timeout={_label(bad)}) sent {sent}"
                checked += 1
        assert not session.closed and client.state.value == "connected"
    record(
        f"{checked} calls: 17 entry points x {len(BAD_TIMEOUTS)} bad timeouts (-1, -0.5, 0, ±inf, nan, '5', True, [1])",
        figure="0 requests sent",
        outcome="ValueError naming the timeout, raised before sending; client and session unaffected",
    )


def test_none_means_no_limit(record):
    """timeout=None waits as long as it takes (here: an answer 0.3 s late)."""
    scenario = Scenario(rules=[Rule(method="ping", actions=[sleep(0.3), default()])])
    with fake_client(scenario) as (_fake, client):
        started = time.monotonic()
        client.ping(timeout=None)
        took = time.monotonic() - started
    assert took >= 0.3
    record(
        "client.ping(timeout=None), answer after 0.3 s", figure=f"{took:.2f} s", outcome="answered"
    )


# ============================================================================ 8. one deadline per call


@pytest.mark.parametrize("timeout", [0.1, 0.5])
def test_a_wait_ends_at_its_deadline(record, timeout):
    """A request that is never answered raises CopilotTimeoutError at its deadline, not a slice later."""
    scenario = Scenario(rules=[Rule(method="ping", actions=[stall()])])
    with fake_client(scenario) as (_fake, client):
        late = []
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(CopilotTimeoutError):
                client.ping(timeout=timeout)
            late.append(time.monotonic() - started - timeout)
    worst = max(late)
    assert min(late) >= -0.001
    assert worst < 0.1, f"ping(timeout={timeout}) ended {worst * 1000:.0f} ms late"
    record(
        f"ping(timeout={timeout}) never answered, 3 times",
        figure=f"at most {worst * 1000:.0f} ms past the deadline",
        outcome="CopilotTimeoutError",
    )


def test_send_and_wait_has_one_deadline(record):
    """timeout=2 with a send answered after 1.5 s and no idle: 2 s in all, not 2 + 1.5."""
    scenario = Scenario(
        rules=[Rule(method="session.send", actions=[sleep(1.5), reply({"messageId": "m"})])]
    )
    with fake_client(scenario) as (_fake, client):
        session = client.create_session()
        started = time.monotonic()
        with pytest.raises(CopilotTimeoutError) as info:
            session.send_and_wait("slow ack", timeout=2)
        took = time.monotonic() - started
    assert took < 2.2, f"send_and_wait(timeout=2) took {took:.2f} s"
    assert "abort" in str(info.value), str(info.value)
    record(
        "send_and_wait(timeout=2), send answered after 1.5 s, no idle",
        figure=f"{took:.2f} s",
        outcome="CopilotTimeoutError saying the turn still runs and how to abort it",
    )


# ============================================================================ 3. resuming an open session


def test_resume_of_an_open_session_takes_it_over(record):
    """The new object gets the events and the handlers; the old one is closed and says why."""
    with fake_client() as (_fake, client):
        old_events: list[str] = []
        new_events: list[str] = []
        old = client.create_session(on_event=lambda e: old_events.append(e.raw_type))
        assert old.send_and_wait("one", timeout=10).data.content == "echo: one"
        new = client.resume_session(
            old.session_id, on_event=lambda e: new_events.append(e.raw_type)
        )
        assert new is not old and old.closed and not new.closed
        assert client.sessions == [new]
        with pytest.raises(SessionClosedError, match="resumed by another CopilotSession"):
            old.send_and_wait("stale", timeout=5)
        old_count = len(old_events)
        assert new.send_and_wait("two", timeout=10).data.content == "echo: two"
        assert "session.idle" in new_events and len(old_events) == old_count
    record(
        "resume_session(id) while the first object is open",
        figure="—",
        outcome="new object receives events; old raises SessionClosedError('resumed by another ...')",
    )


def test_resume_of_an_open_session_wakes_the_old_objects_waiters(record):
    scenario = Scenario(think_time=30)
    with fake_client(scenario) as (fake, client):
        old = client.create_session()
        thread, out = run_in_thread(old.send_and_wait, "long", timeout=30)
        fake.wait_for_request("session.send", timeout=10)
        started = time.monotonic()
        client.resume_session(old.session_id)
        thread.join(10)
        assert isinstance(out.get("error"), SessionClosedError), out
        woke = out["at"] - started
    record(
        "a thread waits on the old object when it is resumed",
        figure=f"woken in {woke:.2f} s",
        outcome="SessionClosedError",
    )


def test_failed_resume_restores_the_old_registration(record):
    scenario = Scenario(
        rules=[Rule(method="session.resume", actions=[error(-32000, "resume refused")])]
    )
    with fake_client(scenario) as (_fake, client):
        old = client.create_session()
        with pytest.raises(JsonRpcError, match="resume refused"):
            client.resume_session(old.session_id)
        assert not old.closed and client.sessions == [old]
        assert old.send_and_wait("still mine", timeout=10).data.content == "echo: still mine"
    record(
        "resume_session(id) of an open session fails",
        figure="—",
        outcome="the old object stays registered and keeps working",
    )


def test_create_with_an_id_already_open_is_refused(record):
    with fake_client() as (fake, client):
        first = client.create_session(session_id="fixed-id")
        before = len(fake.received)
        with pytest.raises(ValueError, match="already open.*resume_session"):
            client.create_session(session_id="fixed-id")
        assert not any(m.get("method") == "session.create" for m in fake.received[before:])
        assert first.send_and_wait("ok", timeout=10).data.content == "echo: ok"
    record(
        "create_session(session_id=<open id>)",
        figure="nothing sent",
        outcome="ValueError pointing at resume_session(); the open session is untouched",
    )


def test_resume_of_an_open_session_on_the_real_cli(record, real_cli, cli_env, model):
    with CopilotClient(cli_path=real_cli.path, env=cli_env) as client:
        old = client.create_session(model=model.model, provider=model.provider())
        assert "one" in old.send_and_wait("one", timeout=60).data.content
        new = client.resume_session(old.session_id, model=model.model, provider=model.provider())
        assert old.closed and client.sessions == [new]
        reply_two = new.send_and_wait("two", timeout=60)
        assert reply_two is not None and "two" in reply_two.data.content
        with pytest.raises(SessionClosedError):
            old.send("three")
    record(
        "resume_session(id) while open, real CLI",
        figure="—",
        outcome="the new object answers the next turn",
    )


# ============================================================================ 9. fork


def _in_child(fn: Callable[[], str]) -> str:
    """Run ``fn`` in a forked child; return what it returned (or the error it raised)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(read_end)
        try:
            text = fn()
        except BaseException as exc:
            text = f"raised {type(exc).__name__}: {exc}"
        os.write(write_end, text.encode("utf-8", "replace"))
        os._exit(0)
    os.close(write_end)
    chunks = []
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode("utf-8")


def _child_uses(client: CopilotClient, session: Any) -> str:
    results = []
    for label, call in (
        ("ping", client.ping),
        ("send_and_wait", lambda: session.send_and_wait("from the child", timeout=5)),
        ("create_session", client.create_session),
    ):
        started = time.monotonic()
        try:
            call()
            results.append(f"{label}: no error")
        except ClientStateError as exc:
            took = time.monotonic() - started
            results.append(f"{label}: ClientStateError in {took:.3f}s: {'fork' in str(exc)}")
        except BaseException as exc:
            results.append(f"{label}: {type(exc).__name__}: {exc}")
    errors = client.stop(timeout=5)
    results.append(f"stop: {errors!r}")
    return "\n".join(results)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_forked_child_cannot_use_the_parents_client(record):
    with fake_client() as (fake, client):
        session = client.create_session()
        pid = client.pid
        sends_before = sum(1 for m in fake.received if m.get("method") in ("ping", "session.send"))
        report = _in_child(lambda: _child_uses(client, session))
        lines = report.splitlines()
        assert all("ClientStateError" in line and line.endswith("True") for line in lines[:3]), (
            report
        )
        assert lines[3] == "stop: []", report
        assert pid_alive(pid)
        assert (
            sum(1 for m in fake.received if m.get("method") in ("ping", "session.send"))
            == sends_before
        )
        assert session.send_and_wait("parent", timeout=10).data.content == "echo: parent"
    record(
        "os.fork(); the child calls ping, send_and_wait, create_session, stop",
        figure="nothing sent by the child",
        outcome="ClientStateError at once naming the fork; child stop() leaves the parent's CLI running",
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_forked_child_leaves_the_real_cli_alone(record, real_cli, cli_env, model):
    with CopilotClient(cli_path=real_cli.path, env=cli_env) as client:
        session = client.create_session(model=model.model, provider=model.provider())
        report = _in_child(lambda: _child_uses(client, session))
        assert "stop: []" in report and report.count("ClientStateError") == 3, report
        assert pid_alive(client.pid)
        reply_event = session.send_and_wait("after the fork", timeout=60)
        assert reply_event is not None and "after the fork" in reply_event.data.content
    record(
        "os.fork() with the real CLI",
        figure="—",
        outcome="the parent's turn after the child's stop() works",
    )


FORK_EXIT_CHILD = """
import os, sys
from copilot_sync import CopilotClient

client = CopilotClient(cli_path=sys.argv[1])
client.start()
pid = os.fork()
if pid == 0:
    sys.exit(0)  # a normal exit: the child's atexit hooks and finalizers run
os.waitpid(pid, 0)
print("pong" if client.ping(timeout=10) is not None else "no answer", flush=True)
print(client.stop(timeout=10), flush=True)
"""


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_forked_child_exiting_normally_leaves_the_parents_cli(record, real_cli, cli_env):
    """The child's interpreter exit (atexit reaper, finalizers) never kills the parent's CLI."""
    import subprocess

    from .conftest import PYTHON, ROOT

    env = dict(cli_env, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [PYTHON, "-c", FORK_EXIT_CHILD, real_cli.path],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["pong", "[]"], (done.stdout, done.stderr)
    record(
        "a forked child ends with sys.exit(0) (its atexit hooks run), real CLI",
        figure="—",
        outcome="the parent's CLI still answers ping and stops cleanly",
    )


# ============================================================================ 11. dropped clients


def _threads_named(names: set[str]) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in names and t.is_alive()]


def _drop_and_collect(
    make: Callable[[], tuple[CopilotClient, Any]],
) -> tuple[int, float, list[str]]:
    client, session = make()
    pid = client.pid
    assert pid is not None
    names = {
        t.name
        for t in threading.enumerate()
        if t.name.startswith("copilot-")
        and not t.name.startswith(("copilot-fake", "copilot-model"))
    } - BASELINE_THREADS
    del client, session
    started = time.monotonic()
    gc.collect()
    gone = wait_until(lambda: not pid_alive(pid), timeout=10)
    assert gone, f"CLI pid {pid} still running after the client was collected"
    wait_until(lambda: not _threads_named(names), timeout=5)
    return pid, time.monotonic() - started, _threads_named(names)


BASELINE_THREADS: set[str] = set()


def test_a_dropped_client_is_collected_with_its_cli(record, caplog):
    """A client dropped without stop(): gc.collect() stops its CLI and its threads."""
    global BASELINE_THREADS
    BASELINE_THREADS = {t.name for t in threading.enumerate()}
    with FakeCLI(Scenario()) as fake:

        def make() -> tuple[CopilotClient, Any]:
            client = CopilotClient(cli_path=fake.cli_path)
            client.on_lifecycle(lambda event: None)
            session = client.create_session()
            session.send_and_wait("hello", timeout=10)
            return client, session

        with caplog.at_level("WARNING", logger="copilot_sync.client"):
            _pid, took, left = _drop_and_collect(make)
    assert not left, f"threads left: {left}"
    assert any("garbage-collected without stop()" in r.getMessage() for r in caplog.records)
    record(
        "client and session dropped without stop() (fake CLI)",
        figure=f"CLI gone {took:.2f} s after gc.collect()",
        outcome="CLI killed, reader/events/lifecycle threads ended, a warning logged",
    )


def test_a_dropped_real_client_is_collected_with_its_cli(record, real_cli, cli_env, model):
    global BASELINE_THREADS
    BASELINE_THREADS = {t.name for t in threading.enumerate()}

    def make() -> tuple[CopilotClient, Any]:
        client = CopilotClient(cli_path=real_cli.path, env=cli_env)
        session = client.create_session(model=model.model, provider=model.provider())
        session.send_and_wait("hello", timeout=60)
        return client, session

    _pid, took, left = _drop_and_collect(make)
    assert not left, f"threads left: {left}"
    record(
        "client dropped without stop() (real CLI, ~250 MB)",
        figure=f"CLI gone {took:.2f} s after gc.collect()",
        outcome="CLI killed and threads ended",
    )


# ============================================================================ 13. errors that say what to do


def test_not_signed_in_says_how_to_sign_in(record, real_cli, cli_env):
    env = {
        k: v
        for k, v in cli_env.items()
        if k not in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN")
    }
    with CopilotClient(cli_path=real_cli.path, env=env, use_logged_in_user=False) as client:
        session = client.create_session()
        with pytest.raises(AuthenticationError) as info:
            session.send_and_wait("hi", timeout=60)
    text = str(info.value)
    assert isinstance(info.value, SessionError)
    for hint in ("/login", "github_token", "provider"):
        assert hint in text, text
    record(
        "a turn with no GitHub credentials and no provider (real CLI)",
        figure="—",
        outcome="AuthenticationError (a SessionError): sign in, pass github_token, or use a BYOK provider",
    )


@pytest.mark.parametrize("program", ["/bin/true", "/bin/cat"])
def test_a_program_that_is_not_the_cli_is_named(record, program):
    client = CopilotClient(cli_path=program, start_timeout=10)
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        client.start()
    took = time.monotonic() - started
    client.force_stop()
    assert program in str(info.value) and "Copilot CLI" in str(info.value), str(info.value)
    record(
        f"cli_path={program}",
        figure=f"{took:.2f} s",
        outcome=f"{type(info.value).__name__} naming {program} and asking whether it is the CLI",
    )


@pytest.mark.parametrize(
    "content",
    [
        b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\xb7\x00" + b"\x00" * 64,
        b"no shebang, not a binary\n",
    ],
)
def test_an_executable_for_another_platform_is_cli_not_found(
    record, tmp_path: pathlib.Path, content
):
    path = tmp_path / "copilot"
    path.write_bytes(content)
    path.chmod(0o755)
    client = CopilotClient(cli_path=str(path))
    with pytest.raises(CLINotFoundError) as info:
        client.start()
    text = str(info.value)
    assert str(path) in text and platform.machine() in text, text
    assert client.state.value == "error"
    record(
        "cli_path to an executable this machine cannot run (ENOEXEC)",
        figure="—",
        outcome="CLINotFoundError naming the path and this platform",
    )


def test_an_unsupported_method_names_itself_and_the_cli_version(record):
    scenario = Scenario(
        rules=[Rule(method="models.list", actions=[error(-32601, "Unhandled method models.list")])]
    )
    with fake_client(scenario) as (_fake, client), pytest.raises(UnsupportedMethodError) as info:
        client.rpc.models.list()
    exc = info.value
    assert isinstance(exc, CapabilityError) and isinstance(exc, JsonRpcError) and exc.code == -32601
    assert "models.list" in str(exc) and "1.0.81-fake" in str(exc) and "not supported" in str(exc)
    record(
        "a method the CLI does not have",
        figure="—",
        outcome="UnsupportedMethodError (CapabilityError and JsonRpcError) naming method and CLI version",
    )


def test_status_reports_the_real_cli_version(record, real_cli, cli_env):
    with CopilotClient(cli_path=real_cli.path, env=cli_env) as client:
        status = client.get_status()
        assert status.version == client.server_version
        assert status.version and status.version != "0.0.1"
    record(
        "get_status().version on the real CLI",
        figure=status.version,
        outcome="the handshake's version, not 0.0.1",
    )


# ============================================================================ 14. secrets


def test_the_token_is_in_no_exception(record):
    token = "tok-" + uuid.uuid4().hex
    rules = [
        Rule(
            method="session.getMessages",
            actions=[error(-32000, f"bad token {token}", {"token": token, "l": [token]})],
        ),
        Rule(
            method="session.send",
            actions=[
                reply({"messageId": "m"}),
                events(
                    [
                        ("user.message", {"content": "x"}),
                        (
                            "session.error",
                            {"errorType": "query", "message": f"rejected {token}", "stack": token},
                        ),
                    ]
                ),
            ],
        ),
    ]
    with fake_client(Scenario(rules=rules), github_token=token) as (_fake, client):
        session = client.create_session()
        with pytest.raises(JsonRpcError) as rpc_info:
            session.get_messages()
        with pytest.raises(SessionError) as turn_info:
            session.send_and_wait("x", timeout=10)
    for exc in (rpc_info.value, turn_info.value):
        shown = " ".join([str(exc), repr(exc), repr(exc.args), repr(vars(exc))])
        assert token not in shown, shown
    assert token not in repr(turn_info.value.event) and token not in repr(turn_info.value.event.raw)
    assert token not in repr(rpc_info.value.data)
    record(
        "the CLI quotes the token in an error message, its data and a session.error event",
        figure="—",
        outcome="[REDACTED] in str, repr, args, data and the attached event",
    )


def test_the_agents_commands_do_not_see_the_token(record, real_cli, cli_env):
    token = "ghp_" + uuid.uuid4().hex[:36]
    with (
        ScriptedModelServer() as model,
        CopilotClient(cli_path=real_cli.path, env=cli_env, github_token=token) as client,
    ):
        session = client.create_session(
            model=model.model,
            provider=model.provider(),
            on_permission_request=PermissionHandler.approve_all,
        )
        model.add_tool_call("bash", {"command": "env", "description": "print the environment"})
        model.add_reply("done")
        session.send_and_wait("show the environment", timeout=90)
        output = " ".join(
            str(r.get("content")) for req in model.wait_for_requests(2) for r in req.tool_results
        )
    assert "PATH=" in output, output[:500]
    assert token not in output
    assert "COPILOT_SDK_AUTH_TOKEN" not in output and "COPILOT_GITHUB_TOKEN" not in output
    record(
        "github_token=..., the agent runs `env` (real CLI)",
        figure="—",
        outcome="the token is not in the command's environment (COPILOT_GITHUB_TOKEN is stripped by the CLI)",
    )


# ============================================================================ 10. max_frame_bytes on the client


def test_client_max_frame_bytes_fails_an_oversized_answer_at_once(record):
    from copilot_sync import FrameTooLargeError

    with pytest.raises(ValueError, match="max_frame_bytes"):
        CopilotClient(max_frame_bytes=0)
    scenario = Scenario(rules=[Rule(method="ping", actions=[reply({"blob": "b" * 4096})])])
    with FakeCLI(scenario) as fake:
        client = CopilotClient(cli_path=fake.cli_path, max_frame_bytes=2048)
        try:
            client.start()
            started = time.monotonic()
            with pytest.raises(FrameTooLargeError) as info:
                client.ping(timeout=30)
            took = time.monotonic() - started
        finally:
            client.force_stop()
    assert info.value.limit == 2048 and info.value.size is not None and info.value.size > 4096
    assert took < 2.0
    record(
        "CopilotClient(max_frame_bytes=2048), a 4 KiB answer",
        figure=f"{took:.2f} s",
        outcome="FrameTooLargeError (size, limit) for the waiter at once",
    )
