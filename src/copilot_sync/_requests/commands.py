"""Slash commands a session registers: ``/deploy prod`` typed in a UI, or invoked through
``session.commands.invoke``, runs the handler here (PROTOCOL §5.4)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Callable, Optional

__all__ = ["CommandContext", "CommandDefinition", "CommandHandler", "as_command"]


@dataclasses.dataclass(frozen=True)
class CommandContext:
    """What a command handler is told about one execution."""

    session_id: str
    #: The full command text, e.g. ``"/deploy production"``.
    command: str
    #: The name without the leading ``/``.
    command_name: str
    #: The raw text after the name.
    args: str


CommandHandler = Callable[[CommandContext], Any]


@dataclasses.dataclass
class CommandDefinition:
    """A slash command: ``CommandDefinition("deploy", handler, description="Deploy the app")``.

    The handler runs on a worker thread. Returning normally reports success; raising
    reports the exception's message as the command's error.
    """

    name: str
    handler: CommandHandler
    description: Optional[str] = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"every command needs a non-empty string name; got {self.name!r}")
        if self.name.startswith("/") or any(ch.isspace() for ch in self.name):
            raise ValueError(f"a command name is one word without the leading '/'; got {self.name!r}")
        from .._session_config import check_arity

        check_arity(self.handler, 1, f"the handler of command {self.name!r} (it receives a CommandContext)")

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description or ""}


def as_command(value: Any) -> CommandDefinition:
    """A :class:`CommandDefinition` from one, a dict of its fields, or an object with them."""
    if isinstance(value, CommandDefinition):
        return value
    if isinstance(value, Mapping):
        return CommandDefinition(value.get("name"), value.get("handler"), value.get("description"))  # type: ignore[arg-type]
    if not hasattr(value, "name"):
        raise TypeError(f"commands must be CommandDefinition objects or dicts, not {value!r}")
    return CommandDefinition(value.name, getattr(value, "handler", None), getattr(value, "description", None))
