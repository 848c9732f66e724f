"""Shell output from session events (CLI 1.0.92 and later), against the fake CLI.

``tool.shell_output`` events become :class:`ShellOutput` and a ``tool.execution_complete``
with ``shellExecution`` becomes :class:`ShellExit`, delivered to ``on_shell_output`` /
``on_shell_exit`` on the session's shell thread, in order, each once; malformed payloads
are skipped. A ``session.rpc.shell.exec`` on a CLI that no longer reports its output logs
one warning per session. See docs/CLI_VERSIONS.md, "Shell command output".
"""

from __future__ import annotations

import logging
import threading

import pytest

from copilot_sync import ShellExit, ShellOutput
from copilot_sync._requests.shell import exec_output_reported
from copilot_sync._versions import parse_cli_version as parse_version
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import events, reply

from .conftest import running

WAIT = 20  # seconds; generous, the machine may be busy with another test run
UNOBSERVABLE = "does not report the output or exit code"


class _Recorder:
    """Shell items, the threads they arrived on, and an event per finished tool call."""

    def __init__(self, session):
        self.items: list = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()
        self._exits: dict[str, threading.Event] = {}
        session.on_shell_output(self.add)
        session.on_shell_exit(self.add)

    def _exit_event(self, process_id):
        with self._lock:
            return self._exits.setdefault(process_id, threading.Event())

    def add(self, item):
        self.items.append(item)
        self.threads.add(threading.current_thread().name)
        if isinstance(item, ShellExit):
            self._exit_event(item.process_id).set()

    def wait_exit(self, process_id, timeout=WAIT):
        assert self._exit_event(process_id).wait(timeout), (
            f"no exit for {process_id}; got {self.items}"
        )


def _output(call_id, text, sequence, stream=None):
    data = {"toolCallId": call_id, "text": text, "sequence": sequence}
    if stream is not None:
        data["stream"] = stream
    return {"type": "tool.shell_output", "data": data, "ephemeral": True}


def _complete(call_id, exit_code, **extra):
    data = {"toolCallId": call_id, "success": exit_code == 0, "isUserRequested": True, **extra}
    if exit_code is not ...:
        data["shellExecution"] = {"exitCode": exit_code}
    return {"type": "tool.execution_complete", "data": data}


def _shell_thread(session):
    return f"copilot-shell-{session.session_id[:8]}"


# --------------------------------------------------------------------------- delivery


def test_execute_user_requested_output_and_exit_arrive_in_order_on_the_shell_thread():
    """The wire flow of CLI 1.0.102 for ``echo out; echo err >&2; sleep 0.5; echo late; exit 3``."""
    call = "3a61-call"
    flow = [
        {
            "type": "tool.user_requested",
            "data": {"toolCallId": call, "toolName": "local_shell", "arguments": {"command": "x"}},
        },
        _output(call, "out\n", 0, "stdout"),
        _output(call, "err\n", 1, "stderr"),
        _output(call, "late\n", 2, "stdout"),
        _complete(call, 3),
    ]
    answer = {
        "toolCallId": call,
        "success": False,
        "output": "out\nerr\nlate",
        "exitCode": 3,
        "error": "exit 3",
    }
    rule = Rule(
        method="session.shell.executeUserRequested", times=1, actions=[events(flow), reply(answer)]
    )
    with running([rule], version="1.0.102") as (_fake, client):
        mine = client.create_session()
        other = client.create_session()
        recorder = _Recorder(mine)
        stranger = _Recorder(other)
        seen_by_on: list[str] = []
        mine.on("tool.shell_output", lambda event: seen_by_on.append(event.raw["data"]["text"]))

        result = mine.rpc.shell.execute_user_requested(request_id="r1", command="x")
        assert result.exit_code == 3 and result.tool_call_id == call
        recorder.wait_exit(call)
        assert recorder.items == [
            ShellOutput(call, "stdout", "out\n", tool_call_id=call, sequence=0),
            ShellOutput(call, "stderr", "err\n", tool_call_id=call, sequence=1),
            ShellOutput(call, "stdout", "late\n", tool_call_id=call, sequence=2),
            ShellExit(call, 3, tool_call_id=call),
        ]
        assert recorder.threads == {_shell_thread(mine)}
        assert seen_by_on == ["out\n", "err\n", "late\n"]  # on() handlers still get the events
        assert stranger.items == []


def test_streams_default_to_stdout_and_terminal_is_kept():
    with running() as (fake, client):
        session = client.create_session()
        recorder = _Recorder(session)
        fake.emit_many(
            session.session_id,
            [
                _output("c1", "no stream ", 0),
                _output("c1", "oops ", 1, "stderr"),
                _output("c1", "merged", 2, "terminal"),
                {
                    "type": "tool.shell_output",
                    "data": {
                        "toolCallId": "c1",
                        "text": "null stream",
                        "sequence": 3,
                        "stream": None,
                    },
                },
                _complete("c1", 0),
            ],
        )
        recorder.wait_exit("c1")
        assert [(item.stream, item.data) for item in recorder.items[:-1]] == [
            ("stdout", "no stream "),
            ("stderr", "oops "),
            ("terminal", "merged"),
            ("stdout", "null stream"),
        ]
        assert recorder.items[-1] == ShellExit("c1", 0, "c1")


def test_malformed_payloads_are_skipped_and_logged(caplog):
    caplog.set_level(logging.DEBUG, logger="copilot_sync.session")
    with running() as (fake, client):
        session = client.create_session()
        recorder = _Recorder(session)
        fake.emit_many(
            session.session_id,
            [
                {"type": "tool.shell_output", "data": None},  # the fake sends {}
                {"type": "tool.shell_output", "data": "text"},
                {"type": "tool.shell_output", "data": {"text": "no call id", "sequence": 0}},
                {
                    "type": "tool.shell_output",
                    "data": {"toolCallId": "c2", "sequence": 0},
                },  # no text
                {
                    "type": "tool.shell_output",
                    "data": {"toolCallId": "c2", "text": 5, "sequence": 0},
                },
                {
                    "type": "tool.shell_output",
                    "data": {"toolCallId": "c2", "text": "x", "stream": 7, "sequence": 0},
                },
                {
                    "type": "tool.execution_complete",
                    "data": {"toolCallId": "c2", "shellExecution": "done"},
                },
                {"type": "tool.execution_complete", "data": {"shellExecution": {"exitCode": 1}}},
                {
                    "type": "tool.execution_complete",
                    "data": {"toolCallId": "not-shell", "success": True},
                },
                {
                    "type": "tool.execution_complete",
                    "data": {"toolCallId": "c2", "shellExecution": {}},
                },
            ],
        )
        recorder.wait_exit("c2")
        assert recorder.items == [
            ShellExit("c2", None, "c2")
        ]  # only the well-formed exit (code unknown)
        assert caplog.text.count("malformed tool.shell_output") == 5
        assert "without data" in caplog.text
        assert caplog.text.count("malformed shellExecution") == 2
        assert client.ping().message  # the reader and the event thread are alive


def test_a_repeated_chunk_or_exit_is_delivered_once():
    with running() as (fake, client):
        session = client.create_session()
        recorder = _Recorder(session)
        fake.emit_many(
            session.session_id,
            [
                _output("c3", "one", 0),
                _output("c3", "one", 0),  # the same chunk again
                _output("c3", "two", 1),
                _complete("c3", 0),
                _complete("c3", 0),  # the same exit again
                _output("c3", "two", 1),  # late repeat after the exit
                _output("c4", "one", 0),  # the same sequence in another tool call is new
                _complete("c4", 1),
            ],
        )
        recorder.wait_exit("c4")
        assert recorder.items == [
            ShellOutput("c3", "stdout", "one", "c3", 0),
            ShellOutput("c3", "stdout", "two", "c3", 1),
            ShellExit("c3", 0, "c3"),
            ShellOutput("c4", "stdout", "one", "c4", 0),
            ShellExit("c4", 1, "c4"),
        ]


def test_a_raising_handler_does_not_stop_later_chunks_or_handlers(caplog):
    with running() as (fake, client):
        session = client.create_session()
        calls: list[str] = []

        def broken(item):
            calls.append(item.data)
            raise RuntimeError("shell handler bug")

        def exits_first_broken(item):
            raise SystemExit(2)

        session.on_shell_output(broken)
        session.on_shell_exit(exits_first_broken)
        recorder = _Recorder(session)
        fake.emit_many(
            session.session_id, [_output("c5", "a", 0), _output("c5", "b", 1), _complete("c5", 0)]
        )
        recorder.wait_exit("c5")
        assert calls == ["a", "b"]
        assert [item.data for item in recorder.items if isinstance(item, ShellOutput)] == ["a", "b"]
        assert "shell handler bug" in caplog.text and "SystemExit" in caplog.text


def test_without_shell_handlers_no_shell_thread_starts_and_unsubscribed_handlers_are_not_called():
    with running() as (fake, client):
        quiet = client.create_session()
        quiet_done = threading.Event()
        quiet.on("tool.execution_complete", lambda event: quiet_done.set())
        fake.emit_many(quiet.session_id, [_output("c6", "a", 0), _complete("c6", 0)])
        assert quiet_done.wait(WAIT)  # the quiet session's event thread went past both events
        listening = client.create_session()
        got: list = []
        unsubscribe = listening.on_shell_output(got.append)
        unsubscribe()
        recorder = _Recorder(listening)
        fake.emit_many(listening.session_id, [_output("c7", "b", 0), _complete("c7", 0)])
        recorder.wait_exit("c7")
        assert got == []
        assert recorder.items == [
            ShellOutput("c7", "stdout", "b", "c7", 0),
            ShellExit("c7", 0, "c7"),
        ]
        names = {thread.name for thread in threading.enumerate()}
        assert _shell_thread(quiet) not in names and _shell_thread(listening) in names


# --------------------------------------------------------------------------- exec on a CLI that hides its output


def _exec_rule():
    return Rule(method="session.shell.exec", actions=[reply({"processId": "p-silent"})])


def _unobservable_warnings(caplog):
    return [
        r for r in caplog.records if r.levelno == logging.WARNING and UNOBSERVABLE in r.getMessage()
    ]


@pytest.mark.parametrize("version", ["1.0.92", "1.0.102", "v1.0.102-beta.1", "1.1"])
def test_exec_with_handlers_on_a_newer_cli_warns_once_per_session(caplog, version):
    with running([_exec_rule()], version=version) as (_fake, client):
        assert client.server_version == version
        session = client.create_session()
        session.on_shell_output(lambda item: None)
        assert session.rpc.shell.exec(command="ls").process_id == "p-silent"  # exec still works
        session.rpc.shell.exec(command="ls")
        session.on_shell_exit(lambda item: None)
        warnings = _unobservable_warnings(caplog)
        assert len(warnings) == 1
        message = warnings[0].getMessage()
        assert version in message and session.session_id in message
        assert "session.rpc.shell.execute_user_requested(" in message and "shell tool" in message

        other = client.create_session()  # once per session, not once per client
        other.on_shell_exit(lambda item: None)
        other.rpc.shell.exec(command="ls")
        assert len(_unobservable_warnings(caplog)) == 2


def test_exec_first_then_handlers_warns_when_the_handler_is_added(caplog):
    with running([_exec_rule()], version="1.0.102") as (_fake, client):
        session = client.create_session()
        session.rpc.shell.exec(command="ls")
        assert _unobservable_warnings(caplog) == []  # nobody listens: nothing to say
        session.on_shell_exit(lambda item: None)
        assert len(_unobservable_warnings(caplog)) == 1
        session.on_shell_output(lambda item: None)
        session.rpc.shell.exec(command="ls")
        assert len(_unobservable_warnings(caplog)) == 1


@pytest.mark.parametrize("version", ["1.0.81-fake", "1.0.89", "not-a-version"])
def test_no_warning_where_exec_output_is_reported_or_the_version_is_unknown(caplog, version):
    with running([_exec_rule()], version=version) as (_fake, client):
        session = client.create_session()
        session.on_shell_output(lambda item: None)
        session.on_shell_exit(lambda item: None)
        session.rpc.shell.exec(command="ls")
        assert _unobservable_warnings(caplog) == []


def test_the_notification_path_still_works_on_a_newer_handshake_version():
    """A newer CLI that did send ``shell.output`` would still be heard."""
    rule = Rule(
        method="session.shell.exec",
        times=1,
        actions=[
            reply({"processId": "p9"}),
            # notifications go out after the answer; the router keeps them until claimed
        ],
    )
    with running([rule], version="1.0.102") as (fake, client):
        session = client.create_session()
        recorder = _Recorder(session)
        session.rpc.shell.exec(command="x")
        fake.notify("shell.output", {"processId": "p9", "stream": "stdout", "data": "hi"})
        fake.notify("shell.exit", {"processId": "p9", "exitCode": 0})
        recorder.wait_exit("p9")
        assert recorder.items == [ShellOutput("p9", "stdout", "hi"), ShellExit("p9", 0)]


def test_version_parsing_is_tolerant():
    assert parse_version("1.0.81") == (1, 0, 81)
    assert parse_version("1.0.81-fake") == (1, 0, 81)
    assert parse_version(" v1.0.102+build.7") == (1, 0, 102)
    assert parse_version("2.1") == (2, 1, 0)
    assert (
        parse_version("") is None and parse_version(None) is None and parse_version("fake") is None
    )
    assert (
        exec_output_reported("1.0.89")
        and exec_output_reported("1.0.81-fake")
        and exec_output_reported(None)
    )
    assert (
        not exec_output_reported("1.0.92")
        and not exec_output_reported("1.0.102")
        and not exec_output_reported("2.0.0")
    )
