"""Ctrl-C against the real CLI, in a child interpreter so the signal is real.

The child puts itself in a process group and the test sends SIGINT to that whole group,
as a terminal would: Python must get KeyboardInterrupt, abort the turn, and the CLI (in a
process group of its own) must not see the signal at all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from copilot_sync import CopilotClient, TurnAbortedError
    from copilot_sync.testing import ScriptedModelServer

    os.setpgid(0, 0)
    mode = sys.argv[1]
    report = {}
    with ScriptedModelServer() as model, CopilotClient(cli_path=sys.argv[2]) as client:
        session = client.create_session(model=model.model, provider=model.provider(), streaming=True)
        aborted = []
        session.on("abort", lambda e: aborted.append(e.data.reason))
        model.add_reply("never finished", delay=30)
        print(json.dumps({"ready": client.pid}), flush=True)
        try:
            if mode == "send_and_wait":
                session.send_and_wait("slow", timeout=60)
            else:
                for _ in session.stream("slow", timeout=60):
                    pass
            report["outcome"] = "returned"
        except KeyboardInterrupt:
            report["outcome"] = "KeyboardInterrupt"
        report["cli_alive"] = client.ping().protocol_version == 3
        model.add_reply("after the interrupt")
        report["next_reply"] = session.send_and_wait("again", timeout=60).data.content
        report["aborted"] = aborted
        session.disconnect()
    print(json.dumps(report), flush=True)
    """
)


@pytest.mark.parametrize("mode", ["send_and_wait", "stream"])
def test_ctrl_c_aborts_the_turn_and_everything_stays_usable(mode, real_cli, cli_env, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), mode, real_cli.path],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(child.stdout.readline())
        cli_pid = ready["ready"]
        time.sleep(1.0)  # the turn is now waiting on the (slow) model
        os.killpg(child.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["outcome"] == "KeyboardInterrupt"
    assert report["cli_alive"] is True
    assert report["next_reply"] == "after the interrupt"
    assert report["aborted"] == ["user_initiated"]
    assert cli_pid != child.pid
