"""The smoke set on every end of the supported CLI range: the default (newest tested) CLI and
the oldest supported one (``copilot_sync._versions``). ``scripts/setup.sh`` installs both.

Each test runs once per version: start, a turn, a tool, a permission, hooks, a session
filesystem and shell output. Where the CLIs legitimately differ (docs/CLI_VERSIONS.md), the
test says which version does what.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import pytest

from copilot_sync import (
    CopilotClient,
    LocalSessionFs,
    PermissionHandler,
    PermissionRequestResult,
    SessionFsConfig,
    ShellExit,
    ShellOutput,
    define_tool,
)
from copilot_sync._versions import DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION, cli_at_least

from ..conftest import assert_no_sdk_threads
from .conftest import installed_cli

TIMEOUT = 60
VERSIONS = sorted({DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION})


@pytest.fixture(scope="module", params=VERSIONS)
def versioned(request, copilot_home):
    """``(version, env)`` of an installed CLI at one end of the range."""
    version = request.param
    path, env = installed_cli(version, copilot_home)
    return version, path, env


@pytest.fixture(scope="module")
def vclient(versioned):
    _version, path, env = versioned
    before = {t.ident for t in threading.enumerate()}
    client = CopilotClient(cli_path=path, env=env)
    client.start()
    yield client
    assert client.stop() == []
    assert_no_sdk_threads(before)


def _open(client, model, **options):
    return client.create_session(model=model.model, provider=model.provider(), **options)


def test_start_reports_the_version(vclient, versioned):
    version, _, _ = versioned
    assert vclient.server_version == version
    assert vclient.protocol_version == 3
    assert vclient.get_status(timeout=TIMEOUT).version == version


def test_a_turn(vclient, model):
    model.add_reply("Hello from the scripted model.")
    with _open(vclient, model) as session:
        reply = session.send_and_wait("Hi", timeout=TIMEOUT)
    assert reply.data.content == "Hello from the scripted model."
    assert model.requests[0].messages[-1]["content"].endswith("Hi")


def test_a_tool(vclient, model):
    seen: list[str] = []

    @define_tool
    def shout(text: Annotated[str, "What to shout"]) -> str:
        """Shout some text."""
        seen.append(text)
        return text.upper() + "!"

    model.add_tool_call("shout", {"text": "smoke"}, call_id="call_shout")
    model.add_reply("Shouted.")
    with _open(
        vclient, model, tools=[shout], on_permission_request=PermissionHandler.approve_all
    ) as session:
        reply = session.send_and_wait("Shout smoke", timeout=TIMEOUT)
    assert reply.data.content == "Shouted."
    assert seen == ["smoke"]
    tool_messages = [m for m in model.requests[1].messages if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["SMOKE!"]


def test_a_permission_decides_the_agents_shell_command(vclient, model, tmp_path):
    kinds: list[str] = []
    marker = tmp_path / "approved.txt"

    def decide(request, invocation):
        kinds.append(request.kind)
        return PermissionRequestResult(kind="approve-once")

    model.add_tool_call(
        "bash", {"command": f"echo yes > {marker}", "description": "write a marker"}, call_id="c1"
    )
    model.add_reply("Done.")
    with _open(
        vclient, model, on_permission_request=decide, working_directory=str(tmp_path)
    ) as session:
        assert session.send_and_wait("Write the marker", timeout=TIMEOUT).data.content == "Done."
    assert "shell" in kinds
    assert marker.read_text().strip() == "yes"


def test_hooks_fire(vclient, versioned, model):
    version, _, _ = versioned
    fired: list[str] = []
    lock = threading.Lock()

    def record(name):
        def hook(hook_input, invocation):
            with lock:
                fired.append(name)

        return hook

    names = [
        "on_session_start",
        "on_user_prompt_submitted",
        "on_pre_tool_use",
        "on_post_tool_use",
        "on_session_end",
    ]

    @define_tool
    def ping(text: str) -> str:
        """Echo the text."""
        return text

    model.add_tool_call("ping", {"text": "p"}, call_id="call_ping")
    model.add_reply("Pinged.")
    with _open(
        vclient,
        model,
        tools=[ping],
        on_permission_request=PermissionHandler.approve_all,
        hooks={name: record(name) for name in names},
    ) as session:
        session.send_and_wait("Ping", timeout=TIMEOUT)
    # docs/CLI_VERSIONS.md "Hooks": the order changed in 1.0.102, and sessionEnd moved to the close
    if cli_at_least(version, "1.0.102"):
        expected = ["on_session_start", "on_user_prompt_submitted", "on_pre_tool_use", "on_post_tool_use",
                    "on_session_end"]  # fmt: skip
    else:
        expected = ["on_user_prompt_submitted", "on_session_start", "on_pre_tool_use", "on_post_tool_use",
                    "on_session_end"]  # fmt: skip
    assert fired == expected


def test_a_session_filesystem_provider_holds_the_state(versioned, model, tmp_path):
    _, path, env = versioned
    (tmp_path / "cwd").mkdir()
    state = str(tmp_path / "state")
    handlers: dict[str, LocalSessionFs] = {}

    def factory(session):
        handlers[session.session_id] = LocalSessionFs(tmp_path / "fs" / session.session_id)
        return handlers[session.session_id]

    config = SessionFsConfig(initial_cwd=str(tmp_path / "cwd"), session_state_path=state)
    model.add_reply("Stored.")
    with CopilotClient(cli_path=path, env=env, session_fs=config) as client:
        session = _open(client, model, create_session_fs_handler=factory)
        assert session.send_and_wait("Store this", timeout=TIMEOUT).data.content == "Stored."
        session.disconnect()
    (handler,) = handlers.values()
    events = Path(handler.local_path(f"{state}/events.jsonl")).read_text(encoding="utf-8")
    assert '"session.start"' in events and "Store this" in events


def test_shell_output_reaches_the_handlers(vclient, versioned, model):
    version, _, _ = versioned
    outputs: list[ShellOutput] = []
    exits: list[ShellExit] = []
    ended = threading.Event()

    def on_exit(item: ShellExit) -> None:
        exits.append(item)
        ended.set()

    with _open(vclient, model) as session:
        session.on_shell_output(outputs.append)
        session.on_shell_exit(on_exit)
        if cli_at_least(version, "1.0.92"):
            # shell.exec no longer reports its output: the user-requested command does
            session.rpc.shell.execute_user_requested(
                request_id="smoke", command="echo out; exit 3", timeout=TIMEOUT
            )
        else:
            session.rpc.shell.exec(command="echo out; exit 3", timeout=TIMEOUT)
        assert ended.wait(TIMEOUT)
    assert "".join(o.data for o in outputs if o.stream == "stdout") == "out\n"
    assert [e.exit_code for e in exits] == [3]
