"""``CopilotClient(entra=...)`` on both ends of the supported CLI range, offline: CLI 1.0.102
checks the ``connect`` handshake and refuses the unknown ``entra`` field, so ``start()``
raises ``EntraNotSupportedError``; CLI 1.0.81 does not check it, accepts it and ignores it,
so the client starts (and sessions work) with one warning logged."""

from __future__ import annotations

import logging
import os

import pytest

from copilot_sync import CopilotClient
from copilot_sync._entra import EntraAuthConfig
from copilot_sync._errors import EntraNotSupportedError
from copilot_sync._install import cli_home, find_installed_cli
from copilot_sync._versions import DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION

pytestmark = pytest.mark.timeout(120)

TIMEOUT = 60
ENTRA = EntraAuthConfig(client_id="00000000-0000-0000-0000-0000000000e1")


def _installed(version: str, copilot_home: str) -> tuple[str, dict[str, str]]:
    installed = find_installed_cli(version, cli_home(version))
    if installed is None:  # a missing CLI is a set-up failure, never a silent skip
        pytest.fail(f"Copilot CLI {version} is not installed; run `bash scripts/setup.sh`")
    env = dict(os.environ, COPILOT_HOME=copilot_home, **installed.env)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN", "COPILOT_CLI_PATH"):
        env.pop(name, None)
    return str(installed.executable), env


def test_the_default_cli_refuses_entra_and_start_says_so(copilot_home):
    assert DEFAULT_CLI_VERSION == "1.0.102", "check what the new default CLI does with entra"
    path, env = _installed(DEFAULT_CLI_VERSION, copilot_home)
    client = CopilotClient(cli_path=path, env=env, entra=ENTRA)
    with pytest.raises(EntraNotSupportedError, match="unknown field `entra`"):
        client.start()
    assert client.state.value == "error"
    assert client.stop() == []
    with CopilotClient(cli_path=path, env=env) as plain:  # the same CLI without entra= starts
        assert plain.server_version == DEFAULT_CLI_VERSION


def test_the_oldest_cli_ignores_entra_with_a_warning(copilot_home, model, caplog):
    caplog.set_level(logging.WARNING, logger="copilot_sync.client")
    path, env = _installed(OLDEST_SUPPORTED_CLI_VERSION, copilot_home)
    model.add_reply("Hello from the scripted model.")
    with CopilotClient(cli_path=path, env=env, entra=ENTRA) as client:
        assert client.server_version == OLDEST_SUPPORTED_CLI_VERSION
        with client.create_session(model=model.model, provider=model.provider()) as session:
            reply = session.send_and_wait("Hi", timeout=TIMEOUT)
        assert reply.data.content == "Hello from the scripted model."
    assert f"Copilot CLI {OLDEST_SUPPORTED_CLI_VERSION} accepted entra=" in caplog.text
