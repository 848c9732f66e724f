"""The examples run, through the real CLI, offline with the scripted model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_quickstart_holds_a_conversation_offline(cli_env, real_cli):
    env = dict(cli_env, COPILOT_CLI_PATH=real_cli.path)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "running offline" in out
    assert "assistant: Because a plain script" in out
    assert "assistant (streamed): You asked why a script would want a synchronous SDK." in out


def _run(cli_env, real_cli, name, *args, stdin_text=None):
    env = dict(cli_env, COPILOT_CLI_PATH=real_cli.path)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=env,
        input=stdin_text,
        stdin=None if stdin_text is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "running offline" in result.stdout
    return result.stdout


def test_tools_example_calls_typed_tools(cli_env, real_cli):
    out = _run(cli_env, real_cli, "tools.py")
    assert "[tool call] get_weather({'city': 'Lisbon', 'unit': 'celsius'})" in out
    assert "[tool call] plan_trip(" in out
    assert (
        '[tool done] get_weather -> {"city":"Oslo","temperature":6,"unit":"celsius","sky":"rainy"}'
        in out
    )
    assert "[tool done] plan_trip -> Lisbon -> Oslo: 5 nights, about 600 EUR" in out
    assert (
        "assistant: Lisbon: 24 degrees celsius and sunny; Oslo: 6 degrees celsius and rainy. "
        "Your trip: Lisbon -> Oslo: 5 nights, about 600 EUR." in out
    )


def test_permissions_example_approves_reads_and_tools_and_rejects_shell(cli_env, real_cli):
    out = _run(cli_env, real_cli, "permissions.py")
    assert "[permission] APPROVED: read " in out and "permissions.py" in out
    assert "[permission] REJECTED: run `rm -rf build`" in out
    assert "[permission] APPROVED: call count_lines(" in out
    assert (
        "[tool] failed: The user rejected this tool call. User feedback: This app never runs shell commands."
        in out
    )
    lines = out.splitlines()
    answer = next(line for line in lines if line.startswith("assistant: "))
    assert 'The file starts with \'"""Permissions: decide' in answer
    assert "The shell command was refused" in answer
    assert "permissions.py has " in answer and " lines." in answer


def test_hooks_example_logs_tools_and_rewrites_the_prompt(cli_env, real_cli):
    out = _run(cli_env, real_cli, "hooks.py")
    lines = out.splitlines()
    hook_lines = [line.strip() for line in lines if line.strip().startswith("[hook]")]
    rewritten = next(line for line in hook_lines if line.startswith("[hook] prompt rewritten"))
    assert (
        rewritten.startswith("[hook] prompt rewritten: 'Which tz are")
        and "'Which time zone are" in rewritten
    )
    # the session starts before the prompt from CLI 1.0.102 on (after it on 1.0.81), and ends
    # when it closes (1.0.81: at the end of each send)
    assert set(hook_lines[:2]) == {rewritten, "[hook] session start (new)"}
    assert hook_lines[-1] in ("[hook] session end (user_exit)", "[hook] session end (complete)")
    assert "[hook] about to run time_zone({'city': 'Tokyo'})" in hook_lines
    assert "[hook] blocked time_zone({'city': 'Atlantis'})" in hook_lines
    assert "[hook] time_zone returned 'Lisbon is in UTC+0'" in hook_lines
    answer = next(line for line in lines if line.startswith("assistant: "))
    assert (
        "You asked: 'Which time zone are Tokyo, Lisbon and Atlantis in?" in answer
    )  # the model got the rewrite
    assert "Denied by preToolUse hook: Atlantis is not a real city" in answer
    assert "Tokyo is in UTC+9" in answer


def test_ask_user_example_answers_from_its_table(cli_env, real_cli):
    out = _run(cli_env, real_cli, "ask_user.py")
    assert "[ask_user] What is your favourite colour? ['red', 'green', 'blue'] -> blue" in out
    assert "[ask_user] What is your name? -> Ada" in out
    assert "assistant: Hello Ada, a fine person whose favourite colour is blue!" in out
    assert "'User selected: blue', 'User responded: Ada'" in out


def test_ask_user_example_answers_from_input(cli_env, real_cli):
    out = _run(cli_env, real_cli, "ask_user.py", "--ask", stdin_text="green\nGrace\n")
    assert "What is your favourite colour? (red / green / blue):" in out
    assert "assistant: Hello Grace, a fine person whose favourite colour is green!" in out
