"""``CopilotClient(entra=EntraAuthConfig(...))`` on the wire of the fake CLI: checked when the
client is built, sent as ``entra`` in ``connect``, a CLI that refuses it (as CLI 1.0.102
does) or has no ``connect`` failing ``start()`` with ``EntraNotSupportedError``, and a CLI
too old to know it that accepts it anyway logging a warning."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from copilot_sync import CapabilityError, CopilotClient, JsonRpcError
from copilot_sync._entra import EntraAuthConfig
from copilot_sync._errors import EntraNotSupportedError
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import error

pytestmark = pytest.mark.timeout(60)

CLIENT_ID = "00000000-0000-0000-0000-0000000000e1"
#: What CLI 1.0.102 answers to a ``connect`` with ``entra`` (tests/real/test_entra_real.py).
REFUSAL = (
    "Invalid connect request: unknown field `entra`, expected one of "
    "`enableGitHubTelemetryForwarding`, `clientInfo`, `supportedTaskKinds`"
)


def test_the_config_is_checked_when_it_is_built():
    config = EntraAuthConfig(client_id=CLIENT_ID)
    assert config.to_wire() == {"clientId": CLIENT_ID}
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.client_id = "other"  # type: ignore[misc]
    for blank in ("", "   "):
        with pytest.raises(ValueError, match="non-blank"):
            EntraAuthConfig(client_id=blank)
    with pytest.raises(TypeError, match="must be a str, not int"):
        EntraAuthConfig(client_id=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("entra", [CLIENT_ID, {"client_id": CLIENT_ID}])
def test_the_client_takes_only_an_entra_auth_config(entra):
    with pytest.raises(TypeError, match="entra must be an EntraAuthConfig"):
        CopilotClient(entra=entra)


def test_entra_reaches_connect_and_only_when_given(caplog):
    caplog.set_level(logging.WARNING, logger="copilot_sync.client")
    with FakeCLI(Scenario(version="1.0.103")) as fake:
        with CopilotClient(cli_path=fake.cli_path, entra=EntraAuthConfig(CLIENT_ID)):
            pass
        with CopilotClient(cli_path=fake.cli_path):
            pass
        with_entra, without = fake.requests("connect")
    assert with_entra["params"]["entra"] == {"clientId": CLIENT_ID}
    assert "entra" not in without["params"]
    assert "Entra" not in caplog.text  # a CLI newer than 1.0.102 may know it: no warning


def test_a_cli_too_old_to_know_entra_that_accepts_it_gets_a_warning(caplog):
    caplog.set_level(logging.WARNING, logger="copilot_sync.client")
    with (
        FakeCLI(Scenario(version="1.0.81")) as fake,
        CopilotClient(cli_path=fake.cli_path, entra=EntraAuthConfig(CLIENT_ID)) as client,
    ):
        assert client.server_version == "1.0.81"
    assert "Copilot CLI 1.0.81 accepted entra= but does not support Entra" in caplog.text


def test_a_cli_that_refuses_entra_fails_start_with_a_typed_error():
    refuse = Rule(method="connect", actions=[error(-32602, REFUSAL)])
    with FakeCLI(Scenario(rules=[refuse])) as fake:
        client = CopilotClient(cli_path=fake.cli_path, entra=EntraAuthConfig(CLIENT_ID))
        with pytest.raises(EntraNotSupportedError) as info:
            client.start()
        assert isinstance(info.value, CapabilityError)
        assert "does not support Entra client configuration" in str(info.value)
        assert "unknown field `entra`" in str(info.value)
        assert isinstance(info.value.__cause__, JsonRpcError)
        assert client.state.value == "error"
        assert client.stop() == []

    other = Rule(method="connect", actions=[error(-32602, "Invalid connect request: token")])
    with FakeCLI(Scenario(rules=[other])) as fake:
        client = CopilotClient(cli_path=fake.cli_path, entra=EntraAuthConfig(CLIENT_ID))
        with pytest.raises(JsonRpcError) as rpc_info:  # not about entra: the usual error
            client.start()
        assert not isinstance(rpc_info.value, EntraNotSupportedError)
        client.stop()


def test_a_cli_without_connect_cannot_take_entra():
    with FakeCLI(Scenario(connect_unhandled=True)) as fake:
        client = CopilotClient(cli_path=fake.cli_path, entra=EntraAuthConfig(CLIENT_ID))
        with pytest.raises(EntraNotSupportedError, match="no `connect`"):
            client.start()
        client.stop()
        with CopilotClient(cli_path=fake.cli_path) as plain:  # without entra: ping instead
            assert plain.protocol_version == 3
        assert fake.requests("ping")
