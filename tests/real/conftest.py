"""Real-CLI tests: the default CLI (native executable, `copilot_sync._versions`) with the scripted
model server; `test_smoke_versions.py` also runs on the oldest supported CLI."""

from __future__ import annotations

import os
import threading

import pytest

from copilot_sync import CopilotClient
from copilot_sync._install import cli_home, find_installed_cli

from ..conftest import assert_no_sdk_threads


def pytest_collection_modifyitems(items):
    for item in items:
        if "/real/" in str(item.fspath):
            item.add_marker(pytest.mark.real_cli)


@pytest.fixture(scope="module")
def client(cli_env, real_cli):
    """One stdio client per test module (starting the CLI takes about a second)."""
    before = {t.ident for t in threading.enumerate()}
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    yield client
    assert client.stop() == []
    assert_no_sdk_threads(before)


def open_session(client, model, **options):
    return client.create_session(model=model.model, provider=model.provider(), **options)


def installed_cli(version: str, copilot_home: str) -> tuple[str, dict[str, str]]:
    """``(executable, env)`` of the installed CLI ``version``, with the tests' COPILOT_HOME
    and no GitHub token (offline, with the scripted model)."""
    installed = find_installed_cli(version, cli_home(version))
    if installed is None:  # a missing CLI is a set-up failure, never a silent skip
        pytest.fail(f"Copilot CLI {version} is not installed; run `bash scripts/setup.sh`")
    env = dict(os.environ, COPILOT_HOME=copilot_home, **installed.env)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN", "COPILOT_CLI_PATH"):
        env.pop(name, None)
    return str(installed.executable), env
