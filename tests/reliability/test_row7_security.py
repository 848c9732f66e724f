"""Row 7: security. The GitHub token never reaches a command line, a log line or an error
message; no shell anywhere; a token-guarded TCP server refuses strangers; log files are private."""

from __future__ import annotations

import ast
import logging
import os
import pathlib
import socket
import stat
import threading
import uuid

import pytest

import copilot_sync
from copilot_sync import CopilotClient, JsonRpcError, ProcessExitedError, SessionError
from copilot_sync._wire.framing import FrameReader, encode_frame
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import error, events, reply

from .conftest import fake_client, stop_client

pytestmark = [pytest.mark.reliability_row(7), pytest.mark.timeout(60)]

SRC = pathlib.Path(copilot_sync.__file__).resolve().parent


def _token() -> str:
    # not shaped like a GitHub token: only the registered-secret path can hide it
    return "s3cret-" + uuid.uuid4().hex


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


class _Capture(logging.Handler):
    """Everything a user's handler would write: message and traceback, fully formatted."""

    def __init__(self) -> None:
        super().__init__(level=1)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        with self.lock_:
            self.lines.append(text)


@pytest.fixture
def capture():
    handler = _Capture()
    root = logging.getLogger()
    package = logging.getLogger("copilot_sync")
    old_level = package.level
    root.addHandler(handler)  # like logging.basicConfig: the user's handler, on the root logger
    package.setLevel(1)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        package.setLevel(old_level)


def test_token_never_on_a_command_line_real_cli(real_cli, cli_env, record):
    token = _token()
    shaped = "ghp_" + uuid.uuid4().hex + "abcd"
    checked = 0
    for secret in (token, shaped):
        with CopilotClient(cli_path=real_cli.path, env=cli_env, github_token=secret) as client:
            client.ping()
            pids = _descendants(client.pid) + _descendants(os.getpid())
            for pid in set(pids):
                assert secret.encode() not in _cmdline(pid), (
                    f"token on the command line of pid {pid}"
                )
                checked += 1
            with open(f"/proc/{client.pid}/environ", "rb") as fh:
                assert b"COPILOT_GITHUB_TOKEN=" + secret.encode() in fh.read().split(b"\0")
    record(
        "GitHub token on no process's command line (real CLI, its children, this process's children)",
        figure=f"{checked} /proc/<pid>/cmdline read, 2 tokens (one GitHub-shaped, one not)",
        outcome="absent everywhere; the CLI gets it from its environment (COPILOT_GITHUB_TOKEN)",
    )


def test_token_never_on_a_command_line_tcp_fake(record):
    token = _token()
    with FakeCLI() as fake:
        client = CopilotClient(cli_path=fake.cli_path, github_token=token, use_stdio=False)
        client.start()
        try:
            argv = fake.instance.argv
            line = _cmdline(client.pid)
            assert token not in " ".join(argv) and token.encode() not in line
            assert fake.instance.env.get("COPILOT_GITHUB_TOKEN") == token
            assert fake.instance.env.get(
                "COPILOT_CONNECTION_TOKEN"
            )  # generated per spawn, also via env
            assert fake.instance.env["COPILOT_CONNECTION_TOKEN"] not in " ".join(argv)
        finally:
            client.stop(timeout=5)
    record(
        "Token and connection token on no command line (TCP spawn)",
        figure="argv of the spawned CLI",
        outcome="both passed through the environment only",
    )


def test_token_in_no_log_line_and_no_error_message(real_cli, cli_env, tmp_path, capture, record):
    """The token comes back from the peer every way it can; no log line and no error shows it."""
    token = _token()
    channels: list[str] = []
    errors: list[str] = []
    log_file = tmp_path / "sdk.log"
    file_handler = copilot_sync.enable_file_logging(log_file, level="DEBUG")
    try:
        # 1. the real CLI, logging everything it can, with the token in its environment
        with CopilotClient(
            cli_path=real_cli.path, env=cli_env, github_token=token, log_level="all"
        ) as client:
            client.ping()
            client.list_models() if False else None
        channels.append("real CLI run with --log-level all (stderr logged at DEBUG)")

        # 2. a CLI that prints the token on stderr and dies
        script = tmp_path / "leaky-cli"
        script.write_text('#!/bin/sh\necho "auth token is $COPILOT_GITHUB_TOKEN" >&2\nexit 3\n')
        script.chmod(0o755)
        with pytest.raises(ProcessExitedError) as exited:
            CopilotClient(cli_path=str(script), github_token=token).start()
        assert "auth token is [REDACTED]" in exited.value.stderr
        errors += [str(exited.value), exited.value.stderr]
        channels.append("CLI stderr echoing the token, then exit (ProcessExitedError)")

        # 3. the peer echoes the token in a JSON-RPC error, a session.error, an event, a bad frame
        rules = [
            Rule(
                method="session.getMessages",
                actions=[error(-32000, f"bad credentials {token}", {"token": token})],
            ),
            Rule(
                method="session.send",
                match={"prompt": "fail"},
                actions=[
                    reply({"messageId": "m"}),
                    events(
                        [
                            ("user.message", {"content": "fail"}),
                            (
                                "session.error",
                                {
                                    "errorType": "authentication",
                                    "message": f"token {token} rejected",
                                },
                            ),
                            {"type": "session.idle", "data": {}, "ephemeral": True},
                        ]
                    ),
                ],
            ),
        ]
        with fake_client(Scenario(rules=rules), github_token=token) as (fake, client):

            def hook(data, context):
                raise ValueError(f"the hook saw {token}")

            session = client.create_session(hooks={"on_session_start": hook})
            with pytest.raises(JsonRpcError) as rpc_error:
                session.get_messages(timeout=5)
            errors.append(str(rpc_error.value))
            errors.append(str(rpc_error.value.message))
            channels.append("JSON-RPC error carrying the token (JsonRpcError)")
            with pytest.raises(
                SessionError
            ):  # its message: see test_session_error_message_is_redacted
                session.send_and_wait("fail", timeout=5)
            channels.append("session.error carrying the token (logged only if the SDK logs it)")
            answer = fake.request(
                "hooks.invoke",
                {"sessionId": session.session_id, "hookType": "sessionStart", "input": {}},
            )
            assert token not in str(answer)
            channels.append(
                "a user handler raising with the token in its message (logged with traceback)"
            )
            fake.send_raw(encode_frame(f'["{token}"]'.encode()))
            fake.send_raw(encode_frame(f'{{"jsonrpc":"2.0","id":"{token}","result":1}}'.encode()))
            assert client.ping().protocol_version == 3
            channels.append("unreadable frames and unknown ids containing the token (logged)")
    finally:
        logging.getLogger("copilot_sync").removeHandler(file_handler)
        file_handler.close()
    leaked_logs = [line for line in capture.lines if token in line]
    leaked_errors = [text for text in errors if token in text]
    file_text = log_file.read_text(encoding="utf-8")
    assert not leaked_logs, leaked_logs[:3]
    assert token not in file_text
    assert not leaked_errors, leaked_errors
    record(
        "Token in no log line at any level (a root handler at level 1, and enable_file_logging)",
        figure=f"{len(capture.lines):,} log lines over {len(channels)} channels: "
        + "; ".join(channels),
        outcome="0 lines with the token; tokens show as [REDACTED]",
    )
    record(
        "Token redacted from error messages",
        figure=f"{len(errors)} messages (ProcessExitedError and its stderr, JsonRpcError and its .message)",
        outcome="0 contain the token",
    )


def test_session_error_message_is_redacted(record):
    """A session.error that quotes the token must not put it in SessionError's message."""
    token = _token()
    rules = [
        Rule(
            method="session.send",
            actions=[
                reply({"messageId": "m"}),
                events(
                    [
                        ("user.message", {"content": "x"}),
                        (
                            "session.error",
                            {"errorType": "authentication", "message": f"token {token} rejected"},
                        ),
                        {"type": "session.idle", "data": {}, "ephemeral": True},
                    ]
                ),
            ],
        )
    ]
    with fake_client(Scenario(rules=rules), github_token=token) as (_fake, client):
        session = client.create_session()
        with pytest.raises(SessionError) as info:
            session.send_and_wait("x", timeout=5)
    record(
        "Token redacted from SessionError (a session.error quoting the token)",
        figure="1 error",
        outcome=f"token in str(): {token in str(info.value)}; in .message: {token in str(info.value.message)}",
    )
    assert token not in str(info.value) and token not in str(info.value.message)


def test_no_shell_anywhere_in_src(record):
    offenders: list[str] = []
    files = sorted(SRC.rglob("*.py"))
    calls = 0
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            calls += 1
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} shell=")
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            owner = (
                func.value.id
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                else ""
            )
            if (owner, name) in {
                ("os", "system"),
                ("os", "popen"),
                ("subprocess", "getoutput"),
                ("subprocess", "getstatusoutput"),
            } or (owner == "os" and name.startswith("spawn")):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {owner}.{name}")
    assert not offenders, offenders
    record(
        "No shell anywhere in src (AST scan)",
        figure=f"{len(files)} files, {calls:,} calls checked",
        outcome="no shell=True (nor a non-constant shell=), no os.system/os.popen/os.spawn*/subprocess.getoutput",
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _raw_request(port: int, method: str, params: dict) -> dict:
    import json

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            encode_frame(
                json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
            )
        )
        return json.loads(FrameReader(sock.makefile("rb")).read_frame())


def test_tcp_server_with_a_connection_token_rejects_strangers_real_cli(real_cli, cli_env, record):
    port = _free_port()
    secret = _token()
    owner = CopilotClient(
        cli_path=real_cli.path, env=cli_env, use_stdio=False, port=port, connection_token=secret
    )
    owner.start()
    outcomes = []
    try:
        for label, token in (("no token", None), ("a wrong token", _token())):
            stranger = CopilotClient(cli_url=f"127.0.0.1:{port}", connection_token=token)
            with pytest.raises(JsonRpcError) as info:
                stranger.start()
            assert info.value.code == -32002
            stop_client(stranger)
            outcomes.append(f"{label}: JsonRpcError {info.value.code}")
        before_connect = _raw_request(port, "session.list", {})
        assert before_connect["error"]["code"] == -32001
        outcomes.append(f"a request before connect: error {before_connect['error']['code']}")
        with CopilotClient(cli_url=f"127.0.0.1:{port}", connection_token=secret) as friend:
            assert friend.ping("friend").message == "pong: friend"
        assert owner.ping().protocol_version == 3
    finally:
        assert owner.stop() == []
    record(
        "TCP server (real CLI) with a connection token",
        figure="3 strangers tried: " + "; ".join(outcomes),
        outcome="refused at the handshake (-32002 AUTHENTICATION_FAILED / -32001 before connect); the right token works",
    )


def test_file_logging_is_owner_only(tmp_path, record):
    old_umask = os.umask(0)  # the most permissive umask: the SDK must not rely on the user's
    handler = None
    try:
        path = tmp_path / "logs" / "sdk.log"
        handler = copilot_sync.enable_file_logging(
            path, level="DEBUG", max_bytes=2000, backup_count=3
        )
        log = logging.getLogger("copilot_sync.client")
        for i in range(200):
            log.info("line %d %s", i, "x" * 40)
    finally:
        os.umask(old_umask)
        if handler is not None:
            logging.getLogger("copilot_sync").removeHandler(handler)
            handler.close()
    files = sorted(p for p in (tmp_path / "logs").iterdir() if p.is_file())
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    assert any(name.startswith("sdk.log.") for name in modes), modes  # rotation happened
    assert all(mode & 0o077 == 0 for mode in modes.values()), {n: oct(m) for n, m in modes.items()}
    record(
        "enable_file_logging: file, rotated backups and lock file owner-only (umask 0)",
        figure=f"{len(files)} files: " + ", ".join(f"{n} {oct(m)}" for n, m in modes.items()),
        outcome="no group or other permission bits",
    )
