"""The token a host hands the CLI, as a handler returned it: ``{"access_token": str,
"expires_in": seconds, "token_type": str}`` (camelCase works too), ``None`` or
``{"kind": "cancelled"}``. Shared by ``github_token_provider`` and ``on_mcp_auth_request``.
Every token is registered as a secret; no error message quotes the value."""

from __future__ import annotations

from typing import Any

from .._fields import is_mapping
from .._logging import register_secret

__all__ = ["CANCELLED", "token_answer"]

CANCELLED = {"kind": "cancelled"}


def token_answer(
    value: Any, who: str, *, min_expires_in: int = 1, expires_required: bool = False
) -> dict[str, Any]:
    """The wire answer (``kind`` ``token`` or ``cancelled``) for what handler ``who``
    returned; ``TypeError``/``ValueError`` for anything else."""
    if value is None:
        return dict(CANCELLED)
    if not is_mapping(value):
        raise TypeError(f"{who} must return a dict or None, not {type(value).__name__}")
    kind = value.get("kind")
    if kind == "cancelled":
        return dict(CANCELLED)
    token = value.get("access_token", value.get("accessToken"))
    if kind not in (None, "token") or not isinstance(token, str) or not token:
        raise TypeError(
            f"{who} must return {{'access_token': str, 'expires_in': int}}, {{'kind': 'cancelled'}} or None"
        )
    register_secret(token)
    result: dict[str, Any] = {"kind": "token", "accessToken": token}
    expires = value.get("expires_in", value.get("expiresIn"))
    if expires is not None or expires_required:
        if isinstance(expires, bool) or not isinstance(expires, int) or expires < min_expires_in:
            raise ValueError(
                f"{who} must give 'expires_in' as whole seconds of life left, at least {min_expires_in}"
            )
        result["expiresIn"] = expires
    token_type = value.get("token_type", value.get("tokenType"))
    if token_type is not None:
        if not isinstance(token_type, str):
            raise TypeError("token_type must be a string")
        result["tokenType"] = token_type
    return result
