"""``CopilotClient(entra=...)`` on both ends of the supported CLI range, offline: CLI 1.0.102
checks the ``connect`` handshake and refuses the unknown ``entra`` field, so ``start()``
raises ``EntraNotSupportedError``; CLI 1.0.81 does not check it, accepts it and ignores it,
so the client starts (and sessions work) with one warning logged."""

from __future__ import annotations

import logging

import pytest

from copilot_sync import CopilotClient
from copilot_sync._entra import EntraAuthConfig
from copilot_sync._errors import EntraNotSupportedError
from copilot_sync._versions import DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION

from .conftest import installed_cli

pytestmark = pytest.mark.timeout(120)

TIMEOUT = 60
ENTRA = EntraAuthConfig(client_id="00000000-0000-0000-0000-0000000000e1")


def test_the_default_cli_refuses_entra_and_start_says_so(copilot_home):
    assert DEFAULT_CLI_VERSION == "1.0.102", "check what the new default CLI does with entra"
    path, env = installed_cli(DEFAULT_CLI_VERSION, copilot_home)
    client = CopilotClient(cli_path=path, env=env, entra=ENTRA)
    with pytest.raises(EntraNotSupportedError, match="unknown field `entra`"):
        client.start()
    assert client.state.value == "error"
    assert client.stop() == []
    with CopilotClient(cli_path=path, env=env) as plain:  # the same CLI without entra= starts
        assert plain.server_version == DEFAULT_CLI_VERSION


def test_the_oldest_cli_ignores_entra_with_a_warning(copilot_home, model, caplog):
    caplog.set_level(logging.WARNING, logger="copilot_sync.client")
    path, env = installed_cli(OLDEST_SUPPORTED_CLI_VERSION, copilot_home)
    model.add_reply("Hello from the scripted model.")
    with CopilotClient(cli_path=path, env=env, entra=ENTRA) as client:
        assert client.server_version == OLDEST_SUPPORTED_CLI_VERSION
        with client.create_session(model=model.model, provider=model.provider()) as session:
            reply = session.send_and_wait("Hi", timeout=TIMEOUT)
        assert reply.data.content == "Hello from the scripted model."
    assert f"Copilot CLI {OLDEST_SUPPORTED_CLI_VERSION} accepted entra=" in caplog.text
