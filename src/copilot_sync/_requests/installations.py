"""``installations.confirm``: before installing an MCP server, a skill or a plugin for this
connection, the CLI asks the host for a person's explicit decision.

The client's ``installation_confirmation_handler`` gets an
:class:`InstallationConfirmationRequest` on a worker thread and returns ``"confirm"``,
``"decline"`` or ``"cancel"``. The SDK echoes the request's challenge and review
fingerprint back itself, so a handler can neither forget nor alter them (and neither is
ever logged). Without a handler, or when the handler raises or returns anything else, the
CLI gets an error and installs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

from .._errors import JsonRpcError
from .._fields import is_mapping
from .._wire.connection import INTERNAL_ERROR

__all__ = [
    "DECISIONS",
    "METHOD",
    "InstallationConfirmationHandler",
    "InstallationConfirmationRequest",
    "InstallationDecision",
    "answer",
]

METHOD = "installations.confirm"
DECISIONS = ("confirm", "decline", "cancel")
_INVALID_PARAMS = -32602

logger = logging.getLogger("copilot_sync.client")

InstallationDecision: TypeAlias = Literal["confirm", "decline", "cancel"]
"""What a person decided about one installation review."""


@dataclass(frozen=True)
class InstallationConfirmationRequest:
    """One installation the CLI wants a person to review before it happens.

    ``review`` is what to show: ``review["resource"]`` is ``"mcp"``, ``"skill"`` or
    ``"plugin"`` and ``review["review"]`` the exact change (names, sources, files and
    digests), with the CLI's camelCase keys. ``policy_session_id`` names the session the
    installation was planned in, when there is one. The challenge and fingerprint the SDK
    echoes back are kept out of ``repr``.
    """

    operation_id: str
    expires_at: str
    review: Mapping[str, Any]
    policy_session_id: str | None = None
    confirmation_id: str = field(default="", repr=False)
    review_fingerprint: str = field(default="", repr=False)

    @property
    def resource(self) -> str | None:
        """``"mcp"``, ``"skill"`` or ``"plugin"``: what would be installed."""
        kind = self.review.get("resource")
        return kind if isinstance(kind, str) else None


class InstallationConfirmationHandler(Protocol):
    """The client's ``installation_confirmation_handler``: asks a person about one
    installation and returns their decision, ``"confirm"``, ``"decline"`` or ``"cancel"``
    (:data:`InstallationDecision`). Runs on a worker thread; raising installs nothing."""

    def __call__(self, request: InstallationConfirmationRequest, /) -> InstallationDecision:
        """Decide about ``request``."""
        ...


def _request(params: Any) -> InstallationConfirmationRequest:
    if not is_mapping(params):
        raise JsonRpcError(_INVALID_PARAMS, "Invalid installation confirmation review")
    strings = ("confirmationId", "operationId", "expiresAt", "reviewFingerprint")
    if not all(isinstance(params.get(key), str) for key in strings) or not is_mapping(
        params.get("review")
    ):
        raise JsonRpcError(_INVALID_PARAMS, "Invalid installation confirmation review")
    policy = params.get("policySessionId")
    return InstallationConfirmationRequest(
        operation_id=params["operationId"],
        expires_at=params["expiresAt"],
        review=params["review"],
        policy_session_id=policy if isinstance(policy, str) else None,
        confirmation_id=params["confirmationId"],
        review_fingerprint=params["reviewFingerprint"],
    )


def answer(handler: InstallationConfirmationHandler | None, params: Any) -> dict[str, Any]:
    """The answer to one ``installations.confirm`` (worker thread)."""
    request = _request(params)
    if handler is None:
        raise JsonRpcError(
            INTERNAL_ERROR, "no installation_confirmation_handler is registered on this client"
        )
    try:
        decision: object = handler(request)
    except Exception:
        logger.exception("installation_confirmation_handler raised; the CLI installs nothing")
        raise JsonRpcError(INTERNAL_ERROR, "installation confirmation handler failed") from None
    if not isinstance(decision, str) or decision not in DECISIONS:
        logger.error(
            "installation_confirmation_handler must return one of %s; got %.80r",
            ", ".join(DECISIONS),
            decision,
        )
        raise JsonRpcError(INTERNAL_ERROR, "invalid installation confirmation decision")
    return {
        "confirmationId": request.confirmation_id,
        "reviewFingerprint": request.review_fingerprint,
        "decision": decision,
    }
