"""Row 6: Ctrl-C. A child interpreter puts itself in a process group; the test sends SIGINT to
that group, as a terminal does. The CLI runs in a session of its own and never sees it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time

import pytest

from .conftest import PYTHON, child_env

pytestmark = [pytest.mark.reliability_row(6), pytest.mark.timeout(90)]

CHILD = textwrap.dedent(
    """
    import json, os, sys, threading, time
    from copilot_sync import CopilotClient
    from copilot_sync.testing import FakeCLI, Rule, Scenario
    from copilot_sync.testing.actions import default, events, reply, sleep

    os.setpgid(0, 0)
    mode, cli = sys.argv[1], sys.argv[2]
    report = {}

    def say(**fields):
        print(json.dumps(fields), flush=True)

    rules = [
        # "slow": the turn starts and then thinks forever, like a slow model
        Rule(method="session.send", match={"prompt": "slow"}, actions=[
            reply({"messageId": "m-slow"}),
            events([("user.message", {"content": "slow"}), ("assistant.turn_start", {"turnId": "0"})]),
        ]),
        Rule(method="session.abort", actions=[
            default(), events([{"type": "session.idle", "data": {"aborted": True}, "ephemeral": True}]),
        ]),
        Rule(method="connect", instance=0, actions=[sleep(30), default()]),
    ]
    fake = FakeCLI(Scenario(rules=rules if mode == "start" else rules[:2]))
    path = fake.cli_path if cli == "fake" else cli
    extra = {}
    model = None
    if cli != "fake":
        from copilot_sync.testing import ScriptedModelServer
        model = ScriptedModelServer()
        model.__enter__()
    client = CopilotClient(cli_path=path)

    def announce(method):
        if cli == "fake":
            fake.wait_for_request(method, timeout=20)
        else:
            model.wait_for_requests(1, timeout=30)
        time.sleep(0.2)
        say(ready=True)

    try:
        if mode == "start":
            threading.Thread(target=announce, args=("connect",), daemon=True).start()
            try:
                client.start()
                report["outcome"] = "returned"
            except KeyboardInterrupt:
                report["caught_at"] = time.monotonic()
                report["outcome"] = "KeyboardInterrupt"
            report["state_after"] = client.state.value
            first = fake.instances[0]
            deadline = time.monotonic() + 5
            while first.alive and time.monotonic() < deadline:
                time.sleep(0.02)
            report["interrupted_cli_gone"] = not first.alive
            client.start()
            session = client.create_session()
        else:
            client.start()
            if model is not None:
                session = client.create_session(model=model.model, provider=model.provider())
                model.add_reply("never finished", delay=30)
            else:
                session = client.create_session()
            seen = []
            session.on(lambda e: seen.append(e.raw_type))
            threading.Thread(target=announce, args=("session.send",), daemon=True).start()
            try:
                if mode == "send_and_wait":
                    session.send_and_wait("slow", timeout=60)
                else:
                    for _ in session.stream("slow", timeout=60):
                        pass
                report["outcome"] = "returned"
            except KeyboardInterrupt:
                report["caught_at"] = time.monotonic()
                report["outcome"] = "KeyboardInterrupt"
            time.sleep(0.3)
            report["abort_requests"] = (len(fake.requests("session.abort")) if cli == "fake" else None)
            report["abort_event"] = "abort" in seen
            report["aborted_idle"] = "session.idle" in seen
        report["ping"] = client.ping("after").message
        if model is not None:
            model.add_reply("after the interrupt")
        answer = session.send_and_wait("again", timeout=30)
        report["next_reply"] = answer.data.content
        report["state"] = client.state.value
    finally:
        report["stop"] = [str(e) for e in client.stop()]
        if model is not None:
            model.__exit__(None, None, None)
        fake.close()
    say(**report)
    """
)


def _run_child(mode: str, cli: str, tmp_path, env=None) -> tuple[dict, float]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [PYTHON, str(script), mode, cli],
        env=env or child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line, child.communicate(timeout=10)[1]
        assert json.loads(line) == {"ready": True}
        sent_at = time.monotonic()
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    return report, report["caught_at"] - sent_at


@pytest.mark.parametrize("mode", ["send_and_wait", "stream"])
def test_ctrl_c_during_a_turn_fake(mode, tmp_path, record):
    report, latency = _run_child(mode, "fake", tmp_path)
    assert report["outcome"] == "KeyboardInterrupt"
    assert report["abort_requests"] == 1 and report["abort_event"] and report["aborted_idle"]
    assert report["ping"] == "pong: after" and report["next_reply"] == "echo: again"
    assert report["state"] == "connected" and report["stop"] == []
    record(
        f"SIGINT during {mode}() (fake CLI)",
        figure=f"KeyboardInterrupt {latency * 1000:.0f} ms after the signal",
        outcome="session.abort sent, aborted idle received; then ping and a new turn on the same session work",
    )


def test_ctrl_c_during_start_fake(tmp_path, record):
    report, latency = _run_child("start", "fake", tmp_path)
    assert report["outcome"] == "KeyboardInterrupt"
    assert report["state_after"] == "disconnected"
    assert report["interrupted_cli_gone"] is True
    assert report["ping"] == "pong: after" and report["next_reply"] == "echo: again"
    assert report["stop"] == []
    record(
        "SIGINT during start() (handshake pending; fake CLI)",
        figure=f"KeyboardInterrupt {latency * 1000:.0f} ms after the signal",
        outcome="the half-started CLI is killed, state=disconnected; start() again, a session and a turn work",
    )


def test_ctrl_c_during_send_and_wait_real_cli(real_cli, cli_env, tmp_path, record):
    env = {**cli_env, "PYTHONPATH": child_env()["PYTHONPATH"]}
    report, latency = _run_child("send_and_wait", real_cli.path, tmp_path, env=env)
    assert report["outcome"] == "KeyboardInterrupt"
    assert report["abort_event"]
    assert report["ping"] == "pong: after" and report["next_reply"] == "after the interrupt"
    assert report["stop"] == []
    record(
        "SIGINT during send_and_wait() (real CLI, slow scripted model)",
        figure=f"KeyboardInterrupt {latency * 1000:.0f} ms after the signal",
        outcome="the CLI reported the abort; ping and a new turn on the same session work",
    )


# ============================================================================ two Ctrl-C in a row

DOUBLE_CHILD = textwrap.dedent(
    """
    import json, os, sys, threading, time
    from copilot_sync import CopilotClient
    from copilot_sync.testing import FakeCLI, Rule, Scenario
    from copilot_sync.testing.actions import default, events, reply

    os.setpgid(0, 0)
    mode, cli = sys.argv[1], sys.argv[2]
    report = {}

    def say(**fields):
        print(json.dumps(fields), flush=True)

    fake = FakeCLI(Scenario(rules=[
        Rule(method="session.send", match={"prompt": "slow"}, actions=[
            reply({"messageId": "m-slow"}),
            events([("user.message", {"content": "slow"}), ("assistant.turn_start", {"turnId": "0"})]),
        ]),
        Rule(method="session.abort", actions=[
            default(), events([{"type": "session.idle", "data": {"aborted": True}, "ephemeral": True}]),
        ]),
    ]))
    model = None
    if cli != "fake":
        from copilot_sync.testing import ScriptedModelServer
        model = ScriptedModelServer()
        model.__enter__()
    client = CopilotClient(cli_path=fake.cli_path if cli == "fake" else cli)

    def announce():
        if cli == "fake":
            fake.wait_for_request("session.send", timeout=20)
        else:
            model.wait_for_requests(1, timeout=30)
        time.sleep(0.2)
        say(ready=True)

    interrupts = 0
    outcome = "returned"
    try:
        client.start()
        if model is not None:
            session = client.create_session(model=model.model, provider=model.provider())
            model.add_reply("never finished", delay=30)
        else:
            session = client.create_session()
        seen = []
        session.on(lambda e: seen.append(e.raw_type))
        threading.Thread(target=announce, daemon=True).start()
        # Only plain statements in the handlers below: no call, so a second SIGINT cannot
        # land inside them; it lands in the SDK's hand-off or in the sleep that follows.
        try:
            try:
                if mode == "send_and_wait":
                    session.send_and_wait("slow", timeout=60)
                elif mode == "stream":
                    for _ in session.stream("slow", timeout=60):
                        pass
                else:
                    session.send_and_collect("slow", timeout=60)
            except KeyboardInterrupt:
                interrupts += 1
                outcome = "KeyboardInterrupt"
        except KeyboardInterrupt:
            interrupts += 1
            outcome = "KeyboardInterrupt"
        settled = None
        while True:  # absorb the second SIGINT wherever it lands
            try:
                if settled is None:
                    settled = time.monotonic() + 1.5
                if time.monotonic() > settled:
                    break
                time.sleep(0.02)
            except KeyboardInterrupt:
                interrupts += 1
        report["outcome"] = outcome
        report["interrupts"] = interrupts
        report["abort_requests"] = len(fake.requests("session.abort")) if cli == "fake" else None
        report["abort_event"] = "abort" in seen
        report["aborted_idle"] = "session.idle" in seen
        report["ping"] = client.ping("after").message
        if model is not None:
            model.add_reply("after the interrupt")
        began = time.monotonic()
        try:
            report["next_reply"] = session.send_and_wait("again", timeout=20).data.content
        except Exception as exc:
            report["next_reply"] = f"{type(exc).__name__}: {exc}"
        report["next_took"] = time.monotonic() - began
        report["state"] = client.state.value
    finally:
        report["stop"] = [str(e) for e in client.stop()]
        if model is not None:
            model.__exit__(None, None, None)
        fake.close()
    say(**report)
    """
)


def _run_double(mode: str, cli: str, tmp_path, env=None, gap: float = 0.005) -> dict:
    script = tmp_path / "double_child.py"
    script.write_text(DOUBLE_CHILD)
    child = subprocess.Popen(
        [PYTHON, str(script), mode, cli],
        env=env or child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line, child.communicate(timeout=10)[1]
        assert json.loads(line) == {"ready": True}
        os.killpg(child.pid, signal.SIGINT)
        time.sleep(gap)
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["send_and_wait", "stream", "send_and_collect"])
def test_two_ctrl_c_5_ms_apart_still_abort_the_turn_fake(mode, tmp_path, record):
    """Two SIGINTs 5 ms apart: the second never cancels the first one's abort; the next turn works."""
    report = _run_double(mode, "fake", tmp_path)
    assert report["outcome"] == "KeyboardInterrupt" and report["interrupts"] == 2, report
    assert report["abort_requests"] == 1 and report["abort_event"] and report["aborted_idle"], (
        report
    )
    assert report["ping"] == "pong: after" and report["next_reply"] == "echo: again", report
    assert report["state"] == "connected" and report["stop"] == []
    record(
        f"two SIGINTs 5 ms apart during {mode}() (fake CLI)",
        figure=f"2 KeyboardInterrupts; next turn in {report['next_took'] * 1000:.0f} ms",
        outcome="exactly one session.abort sent, aborted idle received; ping and a new turn work",
    )


@pytest.mark.parametrize("mode", ["send_and_wait", "send_and_collect"])
def test_two_ctrl_c_5_ms_apart_still_abort_the_turn_real_cli(
    mode, real_cli, cli_env, tmp_path, record
):
    env = {**cli_env, "PYTHONPATH": child_env()["PYTHONPATH"]}
    report = _run_double(mode, real_cli.path, tmp_path, env=env)
    assert report["outcome"] == "KeyboardInterrupt" and report["interrupts"] == 2, report
    assert report["abort_event"], report
    assert report["ping"] == "pong: after" and report["next_reply"] == "after the interrupt", report
    assert report["next_took"] < 10, report  # not queued behind a turn that was never aborted
    assert report["stop"] == []
    record(
        f"two SIGINTs 5 ms apart during {mode}() (real CLI, slow scripted model)",
        figure=f"next turn answered {report['next_took']:.2f} s later",
        outcome="the CLI reported the abort; ping and a new turn on the same session work",
    )
