"""``on_github_telemetry`` on the real CLI, offline (a BYOK session on the scripted model):
the default and the oldest supported CLI both forward their GitHub telemetry over
``gitHubTelemetry.event`` once ``connect`` opts in, ``session_start`` included, and the
callback gets each event as a typed ``GitHubTelemetryEvent`` on a worker thread."""

from __future__ import annotations

import threading
import time

import pytest

from copilot_sync import CopilotClient
from copilot_sync._requests.github_telemetry import GitHubTelemetryEvent
from copilot_sync._versions import DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION

from .conftest import installed_cli

pytestmark = pytest.mark.timeout(120)

TIMEOUT = 60
VERSIONS = sorted({DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION})


@pytest.fixture(params=VERSIONS)
def versioned_cli(request, copilot_home) -> tuple[str, str, dict[str, str]]:
    """``(version, executable, env)`` of an installed CLI at one end of the supported range."""
    version = request.param
    path, env = installed_cli(version, copilot_home)
    return version, path, env


def test_the_cli_forwards_its_telemetry_to_the_callback_on_workers(versioned_cli, model):
    _version, path, env = versioned_cli
    seen: list[tuple[GitHubTelemetryEvent, str]] = []
    lock = threading.Lock()

    def record(event: GitHubTelemetryEvent) -> None:
        with lock:
            seen.append((event, threading.current_thread().name))

    def kinds_of(session_id: str) -> set[str]:
        with lock:
            return {event.kind for event, _ in seen if event.session_id == session_id}

    model.add_reply("Hello from the scripted model.")
    with CopilotClient(cli_path=path, env=env, on_github_telemetry=record) as client:
        session = client.create_session(model=model.model, provider=model.provider())
        reply = session.send_and_wait("Hi", timeout=TIMEOUT)
        assert reply.data.content == "Hello from the scripted model."
        deadline = time.monotonic() + 15
        while not {"session_start", "assistant_usage"} <= kinds_of(session.session_id):
            assert time.monotonic() < deadline, f"no session_start/assistant_usage: {kinds_of(session.session_id)}"  # fmt: skip
            time.sleep(0.05)
        session.disconnect()
    with lock:
        events = list(seen)
    assert all(thread.startswith("copilot-worker") for _, thread in events)
    start = next(event for event, _ in events if event.kind == "session_start")
    assert start.restricted is False
    assert all(isinstance(value, str) for value in start.properties.values())
    assert start.raw["event"]["kind"] == "session_start"
    usage = next(event for event, _ in events if event.kind == "assistant_usage")
    assert usage.metrics and all(isinstance(value, float) for value in usage.metrics.values())
