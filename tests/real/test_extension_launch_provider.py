"""The client's ``extension_launch_provider`` on the real CLI, offline: a session that
requests extensions makes the CLI discover the project's ``.github/extensions/<name>/
extension.mjs`` and ask the provider how to launch it; the CLI then spawns the profile's
process (here a Python one-liner that records its arguments and environment), and an
entrypoint the provider declines (``None``) is not launched at all."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from copilot_sync import CopilotClient
from copilot_sync._install import cli_home, find_installed_cli
from copilot_sync._requests.extension_launch import ExtensionLaunchProfile, ExtensionLaunchRequest
from copilot_sync._versions import DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION

pytestmark = pytest.mark.timeout(120)

TIMEOUT = 60
VERSIONS = sorted({DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION})
RECORD = (
    "import json, os, sys; "
    "json.dump({'argv': sys.argv[1:], 'probe': os.environ.get('EXT_PROBE')}, open(sys.argv[1], 'w'))"
)


def _project(root: Path, *names: str) -> Path:
    for name in names:
        entry = root / ".github" / "extensions" / name
        entry.mkdir(parents=True)
        (entry / "extension.mjs").write_text("// launched by the host's provider\n")
    return root


@pytest.fixture(params=VERSIONS)
def versioned(request):
    """``(path, env)`` of an installed CLI at one end of the supported range."""
    installed = find_installed_cli(request.param, cli_home(request.param))
    if installed is None:  # a missing CLI is a set-up failure, never a silent skip
        pytest.fail(f"Copilot CLI {request.param} is not installed; run `bash scripts/setup.sh`")
    env = dict(os.environ, **installed.env)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN", "COPILOT_CLI_PATH"):
        env.pop(name, None)
    return str(installed.executable), env


def test_the_cli_asks_the_provider_and_spawns_its_profile(versioned, model, tmp_path, caplog):
    cli_path, cli_env = versioned
    project = _project(tmp_path / "project", "probe", "declined")
    marker = tmp_path / "launched.json"
    env = {**cli_env, "COPILOT_HOME": str(tmp_path / "copilot-home")}  # no user extensions
    calls: list[tuple[ExtensionLaunchRequest, str]] = []
    lock = threading.Lock()

    def launch(request: ExtensionLaunchRequest) -> ExtensionLaunchProfile | None:
        with lock:
            calls.append((request, threading.current_thread().name))
        if request.name == "declined":
            return None
        return ExtensionLaunchProfile(
            executable=sys.executable,
            args=["-c", RECORD, str(marker), request.module_path],
            env={"EXT_PROBE": "from-the-provider"},
        )

    with CopilotClient(cli_path=cli_path, env=env, extension_launch_provider=launch) as client:
        session = client.create_session(
            model=model.model,
            provider=model.provider(),
            working_directory=str(project),
            request_extensions=True,
        )
        deadline = time.monotonic() + TIMEOUT
        while not (marker.exists() and marker.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.1)
        listed = {ext.id: ext for ext in session.rpc.extensions.list().extensions}
    with lock:
        by_name = {request.name: (request, thread) for request, thread in calls}
    assert set(by_name) == {"probe", "declined"}
    probe, thread = by_name["probe"]
    assert probe.id == "project:probe" and probe.source == "project"
    assert probe.module_path == str(project / ".github" / "extensions" / "probe" / "extension.mjs")
    assert thread.startswith("copilot-worker")
    assert marker.exists(), f"the profile's process never ran; the provider saw {calls}"
    recorded = json.loads(marker.read_text())
    assert recorded == {"argv": [str(marker), probe.module_path], "probe": "from-the-provider"}
    # declined: the CLI does not fall back to its own launcher, the extension never runs
    declined = listed["project:declined"]
    assert declined.status == "failed" and declined.pid is None
    # both ends of the supported range know registerExtensionLaunchProvider: no warning
    assert "registerExtensionLaunchProvider" not in caplog.text
