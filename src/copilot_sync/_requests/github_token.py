"""``gitHubToken.getToken``: the CLI asks for a GitHub token for a session created with
``github_token_provider=`` (one CLI process serving many users, each under their own
identity).

The request is client-global: it names an opaque *registration id* that the SDK made up
and sent with ``session.create``/``session.resume`` (``gitHubTokenProviderRegistrationId``),
and usually the session id. :class:`TokenProviders` keeps those registrations;
:meth:`TokenProviders.answer` runs the provider on a worker thread.

The provider is called as ``provider({"host": ..., "session_id": ..., "reason": ...})``
(``reason``: ``"initial"`` at session start, ``"refresh"`` when less than an hour of the
last token's life is left) and returns ``{"access_token": str, "expires_in": seconds}``
(``expires_in`` above 3600, the CLI's refresh threshold; ``token_type`` optional; camelCase
works too), or ``None`` / ``{"kind": "cancelled"}`` to refuse. Tokens are registered as
secrets, so the SDK's logs never show them; errors never quote the provider's result.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Callable

from .._errors import JsonRpcError
from .._logging import register_secret
from .._wire.connection import INTERNAL_ERROR
from .._wire.reentrancy import handler_scope

__all__ = ["METHOD", "MIN_EXPIRES_IN", "TokenProviders", "token_result"]

logger = logging.getLogger("copilot_sync.client")

METHOD = "gitHubToken.getToken"
#: The CLI refreshes a token once an hour or less of its life is left, so a token must
#: live longer than that (its schema: ``expiresIn`` >= 3601).
MIN_EXPIRES_IN = 3601


class _Registration:
    __slots__ = ("provider", "session_id", "owner")

    def __init__(self, provider: Callable[..., Any], session_id: str, owner: Any) -> None:
        self.provider = provider
        self.session_id = session_id
        self.owner = owner  # the CopilotSession, for re-entrancy checks


class TokenProviders:
    """The client's ``github_token_provider`` registrations, by registration id. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, _Registration] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)

    def __repr__(self) -> str:
        return f"<TokenProviders registrations={len(self)}>"

    def register(self, provider: Callable[..., Any], session_id: str, owner: Any) -> str:
        """A new opaque registration id for ``provider`` (the wire's ``gitHubTokenProviderRegistrationId``)."""
        registration_id = uuid.uuid4().hex
        with self._lock:
            self._by_id[registration_id] = _Registration(provider, session_id, owner)
        return registration_id

    def unregister(self, registration_id: str | None) -> None:
        if registration_id is not None:
            with self._lock:
                self._by_id.pop(registration_id, None)

    def forget_owner(self, owner: Any) -> None:
        """Drop every registration of one session object (it closed, or was taken over)."""
        with self._lock:
            for key in [key for key, item in self._by_id.items() if item.owner is owner]:
                del self._by_id[key]

    def clear(self) -> None:
        with self._lock:
            self._by_id.clear()

    def answer(self, params: Any) -> dict[str, Any]:
        """Worker thread: the answer to one ``gitHubToken.getToken``. An unknown
        registration, or a provider that raises or returns junk, is an error answer."""
        if not isinstance(params, dict) or not isinstance(params.get("registrationId"), str):
            raise JsonRpcError(INTERNAL_ERROR, f"{METHOD} needs a registrationId")
        with self._lock:
            registration = self._by_id.get(params["registrationId"])
        if registration is None:
            raise JsonRpcError(INTERNAL_ERROR, "no GitHub token provider is registered under that id")
        session_id = params.get("sessionId") or registration.session_id
        args = {"host": params.get("host"), "session_id": session_id, "reason": params.get("reason")}
        with handler_scope(registration.owner, "GitHub token provider"):
            try:
                value = registration.provider(args)
            except Exception as exc:
                logger.error("session %s: github_token_provider raised %s", session_id, type(exc).__name__,
                             exc_info=True)
                raise JsonRpcError(INTERNAL_ERROR, f"the GitHub token provider raised {type(exc).__name__}") from None
        try:
            return token_result(value)
        except (TypeError, ValueError) as exc:
            logger.error("session %s: github_token_provider: %s", session_id, exc)
            raise JsonRpcError(INTERNAL_ERROR, str(exc)) from None


def token_result(value: Any) -> dict[str, Any]:
    """The wire ``GitHubTokenAcquireResult`` for what a provider returned; ``TypeError`` or
    ``ValueError`` (never quoting the value) for anything else."""
    if value is None:
        return {"kind": "cancelled"}
    if not isinstance(value, Mapping):
        raise TypeError(f"github_token_provider must return a dict or None, not {type(value).__name__}")
    if value.get("kind") == "cancelled":
        return {"kind": "cancelled"}
    token = value.get("access_token", value.get("accessToken"))
    if value.get("kind") not in (None, "token") or not isinstance(token, str) or not token:
        raise TypeError("github_token_provider must return {'access_token': str, 'expires_in': int} or None")
    register_secret(token)
    expires = value.get("expires_in", value.get("expiresIn"))
    if isinstance(expires, bool) or not isinstance(expires, int) or expires < MIN_EXPIRES_IN:
        raise ValueError(
            f"github_token_provider must give 'expires_in' as whole seconds of life left, at least {MIN_EXPIRES_IN} "
            "(the CLI refreshes a token with an hour or less left)"
        )
    result: dict[str, Any] = {"kind": "token", "accessToken": token, "expiresIn": expires}
    token_type = value.get("token_type", value.get("tokenType"))
    if token_type is not None:
        if not isinstance(token_type, str):
            raise TypeError("token_type must be a string")
        result["tokenType"] = token_type
    return result
