"""Fake-server tests: the SDK against copilot_sync.testing.FakeCLI over real pipes and sockets."""

from __future__ import annotations

import pytest

from copilot_sync import CopilotClient
from copilot_sync.testing import FakeCLI, Scenario


@pytest.fixture
def fake():
    with FakeCLI(Scenario()) as fake_cli:
        yield fake_cli


@pytest.fixture
def sdk(fake):
    client = CopilotClient(cli_path=fake.cli_path)
    client.start()
    yield client
    client.force_stop() if client.state.value == "error" else client.stop(timeout=5)


def start_client(scenario: Scenario, **options) -> tuple[FakeCLI, CopilotClient]:
    fake = FakeCLI(scenario)
    return fake, CopilotClient(cli_path=fake.cli_path, **options)
