"""What the CLI is told when a user handler fails in a way the SDK contains."""

from __future__ import annotations

from .._logging import redact

__all__ = ["escaped_text"]


def escaped_text(exc: BaseException) -> str:
    """What the CLI is told about a ``BaseException`` that escaped a handler."""
    text = redact(str(exc))
    name = type(exc).__name__
    return f"{name}: {text}" if text and text != name else name
