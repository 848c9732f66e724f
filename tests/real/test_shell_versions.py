"""``on_shell_output`` / ``on_shell_exit`` against the real CLI, on whichever version runs.

CLI 1.0.81 to 1.0.89 report ``session.rpc.shell.exec`` commands with ``shell.output`` /
``shell.exit`` notifications; from 1.0.92 on nothing reports them, and the output of
``session.rpc.shell.execute_user_requested`` and of the agent's shell tool comes as
``tool.shell_output`` / ``tool.execution_complete{shellExecution}`` events instead (see
docs/CLI_VERSIONS.md, "Shell command output"). Each test branches on the connected CLI's
handshake version, so the module passes on both sides of the change.
"""

from __future__ import annotations

import logging
import threading

from copilot_sync import PermissionHandler, ShellExit, ShellOutput
from copilot_sync._requests.shell import EXEC_OUTPUT_SILENT_FROM
from copilot_sync._versions import parse_cli_version as parse_version

from .conftest import open_session

WAIT = 30  # seconds; generous, another test run may share the machine
UNOBSERVABLE = "does not report the output or exit code"


def _events_carry_shell_output(client) -> bool:
    version = parse_version(client.server_version)
    assert version is not None, client.server_version
    return version >= EXEC_OUTPUT_SILENT_FROM


class _Recorder:
    def __init__(self, session):
        self.items: list = []
        self.threads: set[str] = set()
        self.finished = threading.Event()
        session.on_shell_output(self.add)
        session.on_shell_exit(self.add)

    def add(self, item):
        self.items.append(item)
        self.threads.add(threading.current_thread().name)
        if isinstance(item, ShellExit):
            self.finished.set()

    def text(self, stream):
        return "".join(
            item.data
            for item in self.items
            if isinstance(item, ShellOutput) and item.stream == stream
        )


def _unobservable_warnings(caplog):
    return [
        r for r in caplog.records if r.levelno == logging.WARNING and UNOBSERVABLE in r.getMessage()
    ]


def test_shell_handlers_hear_the_command_the_cli_reports(client, model, tmp_path, caplog):
    command = "echo out; echo err >&2; exit 3"
    with open_session(client, model, working_directory=str(tmp_path)) as session:
        recorder = _Recorder(session)
        if _events_carry_shell_output(client):
            result = session.rpc.shell.execute_user_requested(request_id="r1", command=command)
            assert result.exit_code == 3 and result.tool_call_id
            assert recorder.finished.wait(WAIT), recorder.items
            call = result.tool_call_id
            assert recorder.text("stdout") == "out\n" and recorder.text("stderr") == "err\n"
            assert recorder.items[-1] == ShellExit(call, 3, tool_call_id=call)
            assert all(
                item.process_id == call and item.tool_call_id == call for item in recorder.items
            )
            outputs = [item for item in recorder.items if isinstance(item, ShellOutput)]
            assert [item.sequence for item in outputs] == list(range(len(outputs)))

            # exec still runs (and can be killed), but its output is not reported: one warning
            assert _unobservable_warnings(caplog) == []
            started = session.rpc.shell.exec(command="true")
            assert isinstance(started.process_id, str) and started.process_id
            session.rpc.shell.exec(command="true")
            (warning,) = _unobservable_warnings(caplog)
            assert client.server_version in warning.getMessage()
        else:
            started = session.rpc.shell.exec(command=command)
            assert recorder.finished.wait(WAIT), recorder.items
            assert recorder.text("stdout") == "out\n" and recorder.text("stderr") == "err\n"
            assert recorder.items[-1] == ShellExit(started.process_id, 3)
            assert all(
                item.process_id == started.process_id and item.tool_call_id is None
                for item in recorder.items
            )
            assert _unobservable_warnings(caplog) == []
        assert recorder.threads == {f"copilot-shell-{session.session_id[:8]}"}


def test_the_agents_shell_tool_output_reaches_the_shell_handlers(client, model, tmp_path):
    model.add_tool_call(
        "bash",
        {"command": "echo agent-out; echo agent-err >&2; exit 4", "description": "probe"},
        call_id="call_bash",
    )
    model.add_reply("ran it")
    completions: list[dict] = []
    with open_session(
        client,
        model,
        working_directory=str(tmp_path),
        on_permission_request=PermissionHandler.approve_all,
    ) as session:
        session.on("tool.execution_complete", lambda event: completions.append(event.raw["data"]))
        recorder = _Recorder(session)
        reply = session.send_and_wait("Run the probe.", timeout=WAIT)
        assert reply is not None and reply.data.content == "ran it"
        (complete,) = [data for data in completions if data.get("toolCallId") == "call_bash"]
        if _events_carry_shell_output(client):
            assert recorder.finished.wait(WAIT), recorder.items
            assert (
                recorder.text("stdout") == "agent-out\n"
                and recorder.text("stderr") == "agent-err\n"
            )
            assert recorder.items[-1] == ShellExit("call_bash", 4, tool_call_id="call_bash")
            assert {item.tool_call_id for item in recorder.items} == {"call_bash"}
            assert recorder.threads == {f"copilot-shell-{session.session_id[:8]}"}
        else:  # CLI 1.0.81 reports the agent's shell only in the tool result
            assert "shellExecution" not in complete
            assert recorder.items == []
    assert "agent-out" in model.requests[-1].tool_results[0]["content"]
