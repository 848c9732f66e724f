"""The ``copilot-sync`` command line, end to end: a real subprocess running the real CLI,
with the scripted model as its BYOK provider (offline). ``chat`` runs under a
pseudo-terminal (``pty``; no tmux, no pexpect) so that Ctrl-C and Ctrl-D are real."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from copilot_sync._cli.chat import ABORTED_MESSAGE, PROMPT
from copilot_sync._versions import DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX only (pty, signals)")

WAIT = 45  # seconds any one subprocess may take; the pytest timeout is 60 per test


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "copilot_sync", *args]


def _byok(model, real_cli) -> list[str]:
    return ["--cli-path", real_cli.path, "--provider-url", model.base_url, "--model", model.model]


def _run(args: list[str], env: dict, *, stdin_text: str | None = None, timeout: float = WAIT):
    """Run the command line to completion; kill it if it overstays."""
    proc = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        out, err = proc.communicate(stdin_text, timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _tool_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("→", "✗"))]


# ---------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------


def test_run_streams_the_reply_and_exits_0(model, real_cli, cli_env):
    model.add_reply("Streaming works fine.", chunks=4, chunk_delay=0.2)
    result = _run(_cmd("run", *_byok(model, real_cli), "Say", "something"), cli_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Streaming works fine.\n"
    assert _tool_lines(result.stderr) == []
    (request,) = model.requests
    assert request.user_prompt == "Say something"
    assert request.stream is True  # the session streams, so the reply came as deltas


def test_run_shows_one_line_per_tool_call(model, real_cli, cli_env, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("the secret word is parsnip\n")
    model.add_tool_call("view", {"path": str(notes)})
    model.add_reply("The word is parsnip.")
    result = _run(
        _cmd("run", *_byok(model, real_cli), "--allow-all-tools", "Read the notes"), cli_env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The word is parsnip.\n"
    assert _tool_lines(result.stderr) == [f'→ view {{"path": "{notes}"}}']
    # the CLI really ran the tool, and sent its result to the model
    assert "parsnip" in model.requests[1].tool_results[0]["content"]


def test_run_denies_permissions_without_a_terminal(model, real_cli, cli_env, tmp_path):
    notes = tmp_path / "private.txt"
    notes.write_text("do not read me\n")
    model.add_tool_call("view", {"path": str(notes)})
    model.add_reply("I was not allowed to read it.")
    result = _run(_cmd("run", *_byok(model, real_cli), "Read it"), cli_env)  # stdin: /dev/null
    assert result.returncode == 0, result.stderr
    assert result.stdout == "I was not allowed to read it.\n"
    lines = _tool_lines(result.stderr)
    assert lines[0] == f'→ view {{"path": "{notes}"}}'
    assert lines[1].startswith(f"✗ permission denied: read {notes}")
    assert "--allow-all-tools" in lines[1]
    assert len(lines) == 2  # no separate "view failed" line repeating the refusal
    tool_result = model.requests[1].tool_results[0]["content"]
    assert "do not read me" not in tool_result and "--allow-all-tools" in tool_result


def test_run_reads_the_prompt_from_stdin(model, real_cli, cli_env):
    result = _run(
        _cmd("run", *_byok(model, real_cli), "-"), cli_env, stdin_text="a prompt\nover two lines\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "You said: a prompt\nover two lines\n"
    assert model.requests[0].user_prompt == "a prompt\nover two lines"


def test_run_exits_1_when_the_turn_fails(model, real_cli, cli_env):
    model.add_error(400, "the scripted model refuses")  # 4xx: not retried, session.error at once
    result = _run(_cmd("run", *_byok(model, real_cli), "Fail, please"), cli_env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert "the turn failed" in result.stderr and "the scripted model refuses" in result.stderr


def test_run_exits_124_on_timeout_and_aborts_the_turn(model, real_cli, cli_env):
    model.add_reply("too late", delay=30)
    started = time.monotonic()
    result = _run(_cmd("run", *_byok(model, real_cli), "--timeout", "5", "Take your time"), cli_env)
    elapsed = time.monotonic() - started
    assert result.returncode == 124, result.stderr
    assert "timed out after 5s" in result.stderr
    assert "too late" not in result.stdout
    assert elapsed < 25  # abort + stop, not the model's 30 s


def test_run_exits_3_when_the_cli_is_missing(cli_env, tmp_path):
    result = _run(_cmd("run", "--cli-path", str(tmp_path / "nonexistent"), "hi"), cli_env)
    assert result.returncode == 3
    assert "was not found" in result.stderr
    assert "install-cli" in result.stderr and "copilot-sync doctor" in result.stderr
    assert result.stdout == ""


def test_run_exits_3_when_discovery_finds_nothing(tmp_path):
    result = _run(_cmd("run", "hi"), _env_without_any_cli(tmp_path))
    assert result.returncode == 3
    assert "The Copilot CLI was not found" in result.stderr and "install-cli" in result.stderr


def test_run_ctrl_c_aborts_the_turn_and_exits_130(model, real_cli, cli_env):
    model.add_reply("never finished", delay=30)
    proc = subprocess.Popen(
        _cmd("run", *_byok(model, real_cli), "Slow one"),
        env=cli_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, signalled as a terminal would
    )
    try:
        model.wait_for_requests(1, timeout=WAIT)  # the turn is now waiting on the model
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)
    assert proc.returncode == 130, err
    assert "interrupted; the turn was aborted" in err
    assert out == ""


# ---------------------------------------------------------------------------
# chat, under a pseudo-terminal
# ---------------------------------------------------------------------------

# Become the session leader's controlling terminal's owner, then run the command line:
# the pty's Ctrl-C then signals this process group, as a real terminal does.
_WRAPPER = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'copilot_sync', *sys.argv[1:]])"
)


class Terminal:
    """A command running on a pseudo-terminal: type into it, read what it shows."""

    def __init__(self, args: list[str], env: dict) -> None:
        import pty

        self.master, slave = pty.openpty()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _WRAPPER, *args],
                env=dict(env, TERM="dumb"),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(slave)
        self.shown = ""  # everything read so far
        self._seen = 0  # how far expect() has matched

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the other side is closed
            return False
        if not data:
            return False
        self.shown += data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return True

    def expect(self, text: str, timeout: float = WAIT) -> str:
        """Wait until ``text`` shows (after the last match); return what showed up to it."""
        deadline = time.monotonic() + timeout
        while True:
            index = self.shown.find(text, self._seen)
            if index >= 0:
                before = self.shown[self._seen : index]
                self._seen = index + len(text)
                return before
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(min(0.2, remaining)):
                if self.shown.find(text, self._seen) >= 0:
                    continue
                raise AssertionError(
                    f"{text!r} did not show within {timeout}s; the terminal shows:\n{self.shown}"
                )

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait(self, timeout: float = WAIT) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)  # keep draining, so the child never blocks on a full terminal
        return self.proc.wait(max(0.1, deadline - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self.master)


def test_chat_on_a_terminal_ctrl_c_aborts_a_turn_then_exits(model, real_cli, cli_env):
    terminal = Terminal(["chat", *_byok(model, real_cli)], cli_env)
    try:
        terminal.expect(PROMPT)
        model.add_reply("The first answer.", chunks=3)
        terminal.type("first question\r")
        terminal.expect("The first answer.\n")
        terminal.expect(PROMPT)

        # a slow reply: Ctrl-C while it streams aborts the turn and brings the prompt back
        model.add_reply("Slowly " * 40, chunks=40, chunk_delay=0.5)
        terminal.type("second question\r")
        terminal.expect("Slowly")
        terminal.type("\x03")
        terminal.expect(ABORTED_MESSAGE)
        terminal.expect(PROMPT)
        assert terminal.proc.poll() is None

        # the session survived, and the conversation goes on where it was
        model.add_reply("The third answer.")
        terminal.type("third question\r")
        terminal.expect("The third answer.\n")
        terminal.expect(PROMPT)
        last = model.requests[-1]
        assert last.user_prompt == "third question"
        history = json.dumps(last.messages)
        assert "first question" in history and "The first answer." in history
        assert "second question" in history

        # Ctrl-C at the prompt (no turn running) exits with 130. CPython's readline shows the
        # prompt before it starts waiting (select) for input, and a SIGINT in between is only
        # seen at the next key: a person never types that fast, so let readline get there.
        time.sleep(0.5)
        terminal.type("\x03")
        assert terminal.wait() == 130
    finally:
        terminal.close()
    assert len(model.requests) == 3


def test_chat_asks_permission_on_the_terminal(model, real_cli, cli_env, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("turnips\n")
    question = f"? allow: read {notes}  [y]es / [n]o / [a]lways this session: "
    terminal = Terminal(["chat", *_byok(model, real_cli)], cli_env)
    try:
        terminal.expect(PROMPT)
        model.add_tool_call("view", {"path": str(notes)})
        model.add_reply("It says turnips.")
        terminal.type("read the notes\r")
        terminal.expect(f'→ view {{"path": "{notes}"}}')
        terminal.expect(question)
        terminal.type("y\r")
        terminal.expect("It says turnips.\n")
        terminal.expect(PROMPT)
        assert "turnips" in model.requests[1].tool_results[0]["content"]

        # Ctrl-C while the question waits: the turn is aborted, and a line typed later is
        # a new prompt, not an answer to the forgotten question
        model.add_tool_call("view", {"path": str(notes)})
        terminal.type("read them again\r")
        terminal.expect(question)
        terminal.type("\x03")
        terminal.expect(ABORTED_MESSAGE)
        terminal.expect(PROMPT)
        model.add_reply("Back again.")
        terminal.type("yes\r")
        terminal.expect("Back again.\n")
        assert model.requests[-1].user_prompt == "yes"
        terminal.expect(PROMPT)
        terminal.type("/exit\r")
        assert terminal.wait() == 0
    finally:
        terminal.close()


def test_chat_on_a_terminal_ctrl_d_exits_0(model, real_cli, cli_env):
    terminal = Terminal(["chat", *_byok(model, real_cli)], cli_env)
    try:
        terminal.expect(PROMPT)
        terminal.type("\x04")
        assert terminal.wait() == 0
    finally:
        terminal.close()
    assert model.requests == []


def test_chat_reads_lines_from_a_pipe_and_exits_0_on_quit(model, real_cli, cli_env):
    stdin = "hello there\n\n/quit\nnot sent\n"
    result = _run(_cmd("chat", *_byok(model, real_cli)), cli_env, stdin_text=stdin)
    assert result.returncode == 0, result.stderr
    assert "You said: hello there\n" in result.stdout
    assert [request.user_prompt for request in model.requests] == ["hello there"]


# ---------------------------------------------------------------------------
# doctor
# ---------------------------------------------------------------------------


def _env_without_any_cli(tmp_path) -> dict:
    """An environment where discovery finds nothing: no COPILOT_CLI_PATH, an empty
    install directory, and a PATH without ``copilot``."""
    env = {k: v for k, v in os.environ.items() if k not in ("COPILOT_CLI_PATH", "XDG_CACHE_HOME")}
    empty = tmp_path / "empty"
    empty.mkdir()
    env.update(
        COPILOT_SYNC_CLI_HOME=str(empty), PATH=str(empty), COPILOT_HOME=str(tmp_path / "home")
    )
    return env


def test_doctor_with_the_real_cli(real_cli, copilot_home):
    # the environment discovery normally sees (not the tests' COPILOT_CLI_PATH-free cli_env)
    env = dict(os.environ, COPILOT_HOME=copilot_home)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN"):
        env.pop(name, None)
    result = _run(_cmd("doctor"), env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    found = next(line for line in lines if "Copilot CLI found" in line)
    assert found.startswith("[ ok ]") and real_cli.path in found
    started = next(line for line in lines if "Copilot CLI started" in line)
    assert (
        started == f"[ ok ] Copilot CLI started: version {DEFAULT_CLI_VERSION}, protocol version 3"
    )
    supported = f"the supported range {OLDEST_SUPPORTED_CLI_VERSION} to {DEFAULT_CLI_VERSION}"
    assert f"[ ok ] CLI version {DEFAULT_CLI_VERSION} is in {supported}" in lines
    assert any(
        f"supports CLI {OLDEST_SUPPORTED_CLI_VERSION} to {DEFAULT_CLI_VERSION}" in line
        for line in lines
    )
    assert "[ ok ] protocol version: the CLI speaks 3, this SDK speaks 3 (match)" in lines
    auth = lines.index(
        next(line for line in lines if "authenticated" in line and line.startswith("["))
    )
    assert lines[auth].startswith("[warn] not authenticated")
    assert (
        lines[auth + 1].startswith("       fix: set GITHUB_TOKEN")
        and "--provider-url" in lines[auth + 1]
    )
    assert lines[-1] == "The Copilot CLI is usable (1 warning)."


def test_doctor_json_with_cli_path(real_cli, cli_env):
    result = _run(_cmd("doctor", "--json", "--cli-path", real_cli.path), cli_env)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["usable"] is True and report["exit_status"] == 0
    assert report["cli"]["path"] == real_cli.path and report["cli"]["source"] == "cli_path"
    assert (
        report["cli"]["version"] == DEFAULT_CLI_VERSION and report["cli"]["protocol_version"] == 3
    )
    assert report["cli"]["version_fit"] == "supported"
    assert report["sdk"]["supported_cli_range"] == {
        "oldest": OLDEST_SUPPORTED_CLI_VERSION,
        "newest_tested": DEFAULT_CLI_VERSION,
    }
    assert report["auth"]["isAuthenticated"] is False
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses == {
        "python": "ok",
        "copilot-sync": "ok",
        "cli-found": "ok",
        "cli-start": "ok",
        "protocol": "ok",
        "cli-version": "ok",
        "auth": "warn",
    }


def test_doctor_with_a_missing_cli_path(cli_env, tmp_path):
    missing = str(tmp_path / "nonexistent")
    result = _run(_cmd("doctor", "--cli-path", missing), cli_env)
    assert result.returncode == 1
    out = result.stdout
    assert "[FAIL] Copilot CLI not found" in out
    assert f"looked at cli_path argument '{missing}'" in out
    assert (
        "fix: pass the path of an existing Copilot CLI to --cli-path" in out
        and "copilot-sync install-cli" in out
    )
    assert "[skip]" in out
    assert out.splitlines()[-1] == "The Copilot CLI is not usable: 1 problem to fix."


def test_doctor_when_discovery_finds_nothing(tmp_path):
    result = _run(_cmd("doctor"), _env_without_any_cli(tmp_path))
    assert result.returncode == 1
    out = result.stdout
    assert "[FAIL] Copilot CLI not found" in out
    assert "looked at COPILOT_CLI_PATH: not set" in out and "looked at PATH: no 'copilot'" in out
    assert "fix: run `copilot-sync install-cli`" in out

    (tmp_path / "second").mkdir()
    broken = dict(
        _env_without_any_cli(tmp_path / "second"), COPILOT_CLI_PATH=str(tmp_path / "gone")
    )
    result = _run(_cmd("doctor", "--json"), broken)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    found = next(check for check in report["checks"] if check["name"] == "cli-found")
    assert found["status"] == "fail" and "COPILOT_CLI_PATH" in found["fix"]
