"""``CopilotClient(entra=EntraAuthConfig(...))``: the host application's Microsoft Entra app
registration, sent as ``entra`` in the ``connect`` handshake (``{"clientId": ...}``).

The official SDK sends it for the CLI's built-in Entra sign-in and token renewal (other
ways of signing in stay available). A CLI that does not support it either refuses the
handshake (CLI 1.0.102 validates ``connect`` and answers -32602 "unknown field `entra`"),
and then ``start()`` raises :class:`~copilot_sync.EntraNotSupportedError`, or accepts the
field and ignores it (CLI 1.0.81 does not validate ``connect``), and then one warning is
logged at start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import EntraNotSupportedError
from ._versions import parse_cli_version
from ._wire.connection import is_unhandled

if TYPE_CHECKING:
    from ._errors import JsonRpcError

__all__ = ["EntraAuthConfig", "check_entra", "entra_refusal", "warn_if_ignored"]

logger = logging.getLogger("copilot_sync.client")

_INVALID_PARAMS = -32602
#: The newest CLI known not to support ``entra`` (its ``connect`` schema has no such field).
_NEWEST_WITHOUT_ENTRA = (1, 0, 102)


@dataclass(frozen=True)
class EntraAuthConfig:
    """The host application's Microsoft Entra app registration, shared by the sessions of a
    client: ``CopilotClient(entra=EntraAuthConfig(client_id=...))``.

    It identifies the application asking for tokens, not the resource they are for. The
    CLI needs it for its built-in Entra sign-in and token renewal; other ways of signing
    in stay available. ``client_id`` must be a non-blank string (``ValueError`` otherwise,
    ``TypeError`` for a non-string); the CLI supplies no default application.
    """

    client_id: str
    """Application (client) id of the host's Microsoft Entra app registration."""

    def __post_init__(self) -> None:
        client_id: object = self.client_id
        if not isinstance(client_id, str):
            raise TypeError(
                f"EntraAuthConfig.client_id must be a str, not {type(client_id).__name__}"
            )
        if not client_id.strip():
            raise ValueError("EntraAuthConfig.client_id must be a non-blank string")

    def to_wire(self) -> dict[str, str]:
        """The ``entra`` of the ``connect`` params: ``{"clientId": ...}``."""
        return {"clientId": self.client_id}


def check_entra(value: object) -> EntraAuthConfig | None:
    """The client's ``entra`` option, checked: ``TypeError`` for anything but an
    :class:`EntraAuthConfig` (or ``None``)."""
    if value is None or isinstance(value, EntraAuthConfig):
        return value
    raise TypeError(f"entra must be an EntraAuthConfig, not {type(value).__name__}")


def entra_refusal(error: JsonRpcError) -> EntraNotSupportedError | None:
    """The error ``start()`` raises when the CLI answered ``connect`` (sent with ``entra``)
    with ``error`` because it does not support Entra configuration; ``None`` for any other error."""
    if is_unhandled(error):
        return EntraNotSupportedError(
            "This Copilot CLI does not support Entra client configuration: it has no `connect` "
            "handshake to send `entra` in. Use a newer CLI, or build the client without entra="
        )
    if error.code == _INVALID_PARAMS and "entra" in error.message:
        return EntraNotSupportedError(
            "This Copilot CLI does not support Entra client configuration: it refused `entra` "
            f"in the connect handshake ({error.message}). Use a CLI that supports it, or build "
            "the client without entra="
        )
    return None


def warn_if_ignored(cli_version: str | None) -> None:
    """Log a warning when a CLI too old to know ``entra`` accepted it anyway (it ignores it)."""
    parsed = parse_cli_version(cli_version)
    if parsed is not None and parsed <= _NEWEST_WITHOUT_ENTRA:
        logger.warning(
            "Copilot CLI %s accepted entra= but does not support Entra client configuration "
            "(CLI 1.0.102 and older do not; this one does not check the handshake): the "
            "CLI's Entra sign-in is not configured",
            cli_version,
        )
