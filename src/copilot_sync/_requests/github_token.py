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
from collections.abc import Callable
from typing import Any

from .._errors import JsonRpcError
from .._fields import is_object
from .._wire.connection import INTERNAL_ERROR
from .._wire.reentrancy import handler_scope
from .token_answers import token_answer

__all__ = ["METHOD", "MIN_EXPIRES_IN", "TokenProviders", "token_result"]

logger = logging.getLogger("copilot_sync.client")

METHOD = "gitHubToken.getToken"
#: The CLI refreshes a token once an hour or less of its life is left, so a token must
#: live longer than that (its schema: ``expiresIn`` >= 3601).
MIN_EXPIRES_IN = 3601


class _Registration:
    __slots__ = ("owner", "provider", "session_id")

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
        if not is_object(params) or not isinstance(params.get("registrationId"), str):
            raise JsonRpcError(INTERNAL_ERROR, f"{METHOD} needs a registrationId")
        with self._lock:
            registration = self._by_id.get(params["registrationId"])
        if registration is None:
            raise JsonRpcError(
                INTERNAL_ERROR, "no GitHub token provider is registered under that id"
            )
        session_id = params.get("sessionId") or registration.session_id
        args = {
            "host": params.get("host"),
            "session_id": session_id,
            "reason": params.get("reason"),
        }
        with handler_scope(registration.owner, "GitHub token provider"):
            try:
                value = registration.provider(args)
            except Exception as exc:
                logger.error(
                    "session %s: github_token_provider raised %s",
                    session_id,
                    type(exc).__name__,
                    exc_info=True,
                )
                raise JsonRpcError(
                    INTERNAL_ERROR, f"the GitHub token provider raised {type(exc).__name__}"
                ) from None
        try:
            return token_result(value)
        except (TypeError, ValueError) as exc:
            logger.error("session %s: github_token_provider: %s", session_id, exc)
            raise JsonRpcError(INTERNAL_ERROR, str(exc)) from None


def token_result(value: Any) -> dict[str, Any]:
    """The wire ``GitHubTokenAcquireResult`` for what a provider returned; ``TypeError`` or
    ``ValueError`` (never quoting the value) for anything else. The CLI refreshes a token
    with an hour or less left, so ``expires_in`` is required and above that."""
    return token_answer(
        value, "github_token_provider", min_expires_in=MIN_EXPIRES_IN, expires_required=True
    )
