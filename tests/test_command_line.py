"""Fast tests of the command line's parts: parsing, exit statuses, the printer, the
permission policy and the turn runner (with stand-ins; the real CLI is in tests/real)."""

from __future__ import annotations

import argparse
import io
import os
import threading

import pytest

from copilot_sync import CopilotTimeoutError, SessionError, TurnAbortedError
from copilot_sync.__main__ import build_parser, main
from copilot_sync._cli.options import provider_from_args, read_prompt
from copilot_sync._cli.permission_prompt import PermissionPolicy, describe_request
from copilot_sync._cli.printing import TurnPrinter, format_arguments
from copilot_sync._cli.status import API_KEY_ENV, EXIT_STATUSES, UsageError
from copilot_sync._cli.turn import INTERRUPTED, TurnResult, run_turn
from copilot_sync._errors import ProcessExitedError
from copilot_sync._events import parse_event
from copilot_sync._requests.permissions import PermissionRequest

# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_run_options():
    args = parse(
        "run", "--model", "m1", "--timeout", "2.5", "--cli-path", "/x/copilot", "--provider-url", "http://h/v1",
        "--provider-type", "azure", "--wire-api", "responses", "--api-key", "k3y", "--allow-all-tools", "hello", "world",
    )  # fmt: skip
    assert args.prompt == ["hello", "world"]
    assert (args.model, args.timeout, args.cli_path) == ("m1", 2.5, "/x/copilot")
    assert args.allow_all_tools is True
    assert provider_from_args(args, {}) == {
        "type": "azure",
        "base_url": "http://h/v1",
        "api_key": "k3y",
        "wire_api": "responses",
    }


def test_chat_and_doctor_options():
    args = parse("chat", "--provider-url", "http://h", "-m", "m2")
    assert args.model == "m2" and args.timeout is None and args.allow_all_tools is False
    assert provider_from_args(args, {}) == {"type": "openai", "base_url": "http://h"}
    args = parse("doctor", "--json", "--cli-path", "/c")
    assert args.json is True and args.cli_path == "/c" and args.timeout == 30.0


def test_api_key_comes_from_the_environment_unless_given():
    args = parse("run", "--provider-url", "http://h", "hi")
    assert provider_from_args(args, {API_KEY_ENV: "from-env"})["api_key"] == "from-env"
    args = parse("run", "--provider-url", "http://h", "--api-key", "given", "hi")
    assert provider_from_args(args, {API_KEY_ENV: "from-env"})["api_key"] == "given"
    assert (
        provider_from_args(parse("run", "hi"), {API_KEY_ENV: "ignored"}) is None
    )  # no BYOK without a URL


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],  # no prompt
        ["run", "--timeout", "0", "hi"],
        ["run", "--timeout", "soon", "hi"],
        ["run", "--provider-type", "nope", "hi"],
        ["chat", "stray"],
        ["doctor", "--timeout", "-1"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    assert exc_info.value.code == 2
    assert "usage: copilot-sync" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--api-key", "k", "hi"], "--api-key needs --provider-url"),
        (["chat", "--wire-api", "responses"], "--wire-api needs --provider-url"),
        (["run", " "], "the prompt is empty"),
    ],
)
def test_inconsistent_options_exit_2_before_starting_anything(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "run" in capsys.readouterr().err


def test_prompt_from_stdin():
    assert read_prompt(["-"], io.StringIO("  line one\nline two\n\n")) == "line one\nline two"
    assert read_prompt(["what", "is", "2+2?"]) == "what is 2+2?"
    with pytest.raises(UsageError, match="empty"):
        read_prompt(["-"], io.StringIO("\n"))


def test_a_missing_cli_exits_3(tmp_path, capsys):
    assert main(["run", "--cli-path", str(tmp_path / "missing"), "hi"]) == 3
    err = capsys.readouterr().err
    assert "was not found" in err and "install-cli" in err


def test_exit_statuses_are_documented():
    assert sorted(EXIT_STATUSES) == [0, 1, 2, 3, 124, 130]
    assert {
        TurnResult(status).exit_status
        for status in ("completed", "failed", "timed out", "interrupted", "lost")
    } == {
        0,
        1,
        124,
        130,
    }
    doc = os.path.join(os.path.dirname(__file__), "..", "docs", "COMMAND_LINE.md")
    with open(doc, encoding="utf-8") as file:
        text = file.read()
    for code in EXIT_STATUSES:
        assert f"| {code} " in text


# ---------------------------------------------------------------------------
# the printer
# ---------------------------------------------------------------------------


def event(kind: str, agent_id: str | None = None, **data):
    raw = {"type": kind, "id": "e", "timestamp": "2026-01-01T00:00:00Z", "data": data}
    if agent_id:
        raw["agentId"] = agent_id
    return parse_event(raw)


def make_printer(**kwargs):
    out, err = io.StringIO(), io.StringIO()
    return TurnPrinter(out, err, **kwargs), out, err


def test_printer_streams_deltas_once_and_ends_the_line():
    printer, out, err = make_printer()
    printer.start_turn()
    for piece in ("Hel", "lo"):
        printer.handle(event("assistant.message_delta", messageId="m1", deltaContent=piece))
    printer.handle(event("assistant.message", messageId="m1", content="Hello"))
    printer.handle(event("assistant.message", messageId="m2", content="Not streamed.\n"))
    printer.handle(event("assistant.message", messageId="m3", content=""))
    printer.finish_turn()
    assert out.getvalue() == "Hello\nNot streamed.\n"
    assert err.getvalue() == ""


def test_printer_one_line_per_tool_call_and_a_line_for_failures():
    printer, out, err = make_printer(refused={"c3"})
    printer.start_turn()
    printer.handle(
        event(
            "tool.execution_start", toolCallId="c1", toolName="view", arguments={"path": "/tmp/x"}
        )
    )
    printer.handle(
        event("tool.execution_complete", toolCallId="c1", success=True, result={"content": "x"})
    )
    printer.handle(
        event(
            "tool.execution_start", toolCallId="c2", toolName="bash", arguments={"command": "false"}
        )
    )
    printer.handle(
        event(
            "tool.execution_complete",
            toolCallId="c2",
            success=False,
            error={"message": "exit 1\nboom"},
        )
    )
    printer.handle(event("tool.execution_start", toolCallId="c3", toolName="edit", arguments={}))
    printer.handle(
        event(
            "tool.execution_complete", toolCallId="c3", success=False, error={"message": "rejected"}
        )
    )
    assert err.getvalue().splitlines() == [
        '→ view {"path": "/tmp/x"}',
        '→ bash {"command": "false"}',
        "✗ bash failed: exit 1 boom",
        "→ edit",
    ]
    assert out.getvalue() == ""


def test_printer_ignores_sub_agent_text_and_shortens_long_arguments():
    printer, out, _err = make_printer()
    printer.start_turn()
    printer.handle(
        event("assistant.message_delta", agent_id="a1", messageId="s", deltaContent="inner")
    )
    printer.handle(event("assistant.message", agent_id="a1", messageId="s", content="inner"))
    assert out.getvalue() == ""
    long = format_arguments({"content": "x" * 500})
    assert len(long) == 160 and long.endswith("…")
    assert format_arguments(None) == "" and format_arguments("raw") == "raw"


# ---------------------------------------------------------------------------
# permissions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"kind": "shell", "fullCommandText": "ls -l"}, "run `ls -l`"),
        ({"kind": "write", "fileName": "a.py"}, "write a.py"),
        ({"kind": "read", "path": "/etc/hosts"}, "read /etc/hosts"),
        ({"kind": "url", "url": "https://x"}, "fetch https://x"),
        ({"kind": "mcp", "serverName": "gh", "toolName": "issues"}, "call MCP tool gh/issues"),
        ({"kind": "custom-tool", "toolName": "weather"}, "call tool weather"),
        ({"kind": "hook", "toolName": "t"}, "hook (t)"),
    ],
)
def test_describe_request(data, expected):
    assert describe_request(PermissionRequest(data)) == expected


def test_deny_policy_refuses_and_says_so():
    err = io.StringIO()
    policy = PermissionPolicy("deny", err=err)
    decision = policy(PermissionRequest({"kind": "read", "path": "/p", "toolCallId": "t1"}), {})
    assert decision.kind == "reject" and "--allow-all-tools" in decision.feedback
    assert policy.refused == {"t1"}
    assert err.getvalue().startswith("✗ permission denied: read /p")


def test_allow_policy_approves():
    policy = PermissionPolicy("allow")
    assert (
        policy(PermissionRequest({"kind": "shell", "fullCommandText": "ls"}), {}).kind
        == "approve-once"
    )
    args = argparse.Namespace(allow_all_tools=False)
    assert PermissionPolicy.from_args(args, stdin=io.StringIO()).mode == "deny"  # not a terminal


@pytest.mark.parametrize(
    "typed, kind", [("y\n", "approve-once"), ("a\n", "approve-for-session"), ("\n", "reject")]
)
def test_ask_policy_reads_the_answer(typed, kind):
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, typed.encode())
        policy = PermissionPolicy("ask", stdin_fd=read_fd, err=io.StringIO())
        assert policy(PermissionRequest({"kind": "read", "path": "/p"}), {}).kind == kind
        assert "? allow: read /p" in policy.err.getvalue()
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_ask_policy_gives_up_when_the_turn_is_cancelled():
    read_fd, write_fd = os.pipe()
    try:
        policy = PermissionPolicy("ask", stdin_fd=read_fd, err=io.StringIO())
        threading.Timer(0.2, policy.cancel.set).start()
        assert (
            policy(PermissionRequest({"kind": "read", "path": "/p", "toolCallId": "t"}), {}).kind
            == "reject"
        )
        os.write(write_fd, b"y\n")  # typed after the turn: must not be taken as an answer
        assert policy(PermissionRequest({"kind": "read", "path": "/q"}), {}).kind == "reject"
    finally:
        os.close(read_fd)
        os.close(write_fd)


# ---------------------------------------------------------------------------
# run_turn, with a stand-in session
# ---------------------------------------------------------------------------


class FakeStream:
    def __init__(self, items):
        self.items = list(items)
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        if not self.items:
            self.closed = True
            raise StopIteration
        item = self.items.pop(0)
        if isinstance(item, BaseException):
            self.closed = True  # as EventStream does before raising
            raise item
        return item

    def close(self):
        self.closed = True


class FakeSession:
    def __init__(self, items):
        self.items = items
        self.aborts = 0
        self.timeouts = []

    def stream(self, prompt, *, timeout=None):
        self.timeouts.append(timeout)
        return FakeStream(self.items)

    def abort(self, *, timeout=None):
        self.aborts += 1
        return True


def turn(items, **kwargs):
    session = FakeSession(items)
    printer, out, _err = make_printer()
    result = run_turn(
        session,
        "hi",
        printer,
        PermissionPolicy("deny", err=io.StringIO()),
        timeout=kwargs.get("timeout"),
    )
    return result, session, out.getvalue()


def test_turn_completed():
    result, session, out = turn(
        [event("assistant.message", messageId="m", content="ok"), event("session.idle")]
    )
    assert (result.status, result.exit_status, session.aborts, out) == ("completed", 0, 0, "ok\n")


def test_turn_failed_by_session_error():
    result, session, _ = turn([SessionError("Session error: boom")])
    assert (result.status, result.exit_status, session.aborts) == ("failed", 1, 0)
    result, _, _ = turn([TurnAbortedError("aborted elsewhere")])
    assert result.exit_status == 1


def test_turn_timeout_aborts():
    result, session, _ = turn([CopilotTimeoutError("late")], timeout=3.0)
    assert (result.status, result.exit_status, session.aborts, session.timeouts) == (
        "timed out",
        124,
        1,
        [3.0],
    )


def test_turn_interrupted_inside_the_stream_is_aborted_by_the_stream_not_twice():
    result, session, _ = turn([KeyboardInterrupt()])  # the stream closed itself (and aborted)
    assert (result.status, result.exit_status, session.aborts) == (INTERRUPTED, 130, 0)


def test_turn_interrupted_outside_the_stream_is_aborted():
    class Interrupting(TurnPrinter):
        def handle(self, event):
            raise KeyboardInterrupt

    session = FakeSession([event("assistant.message_delta", messageId="m", deltaContent="x")])
    result = run_turn(
        session,
        "hi",
        Interrupting(io.StringIO(), io.StringIO()),
        PermissionPolicy("allow"),
        timeout=None,
    )
    assert (result.status, session.aborts) == (INTERRUPTED, 1)


def test_turn_lost_when_the_cli_dies():
    result, _session, _ = turn([ProcessExitedError("gone", exit_code=-9)])
    assert (result.status, result.exit_status) == ("lost", 1)
