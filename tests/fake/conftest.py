"""Fake-server tests: the SDK against copilot_sync.testing.FakeCLI over real pipes and sockets."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

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


@contextlib.contextmanager
def running(rules=(), **scenario) -> Iterator[tuple[FakeCLI, CopilotClient]]:
    """A started client on a fake CLI with these rules and scenario fields; stopped afterwards."""
    fake = FakeCLI(Scenario(rules=list(rules), **scenario))
    with fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            yield fake, client
        finally:
            client.stop(timeout=5)


def capture_in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, list[BaseException]]:
    """Run ``fn(*args, **kwargs)`` in a started thread; the list receives what it raised."""
    caught: list[BaseException] = []

    def run():
        try:
            fn(*args, **kwargs)
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, caught
