"""Slash commands a session registers: ``/deploy prod`` typed in a UI, or invoked through
``session.commands.invoke``, runs the handler here."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._fields import is_mapping
from .._logging import redact
from .arity import check_arity
from .failures import escaped_text

if TYPE_CHECKING:
    from .protocol import RequestContext

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
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"every command needs a non-empty string name; got {self.name!r}")
        if self.name.startswith("/") or any(ch.isspace() for ch in self.name):
            raise ValueError(
                f"a command name is one word without the leading '/'; got {self.name!r}"
            )
        check_arity(
            self.handler, 1, f"the handler of command {self.name!r} (it receives a CommandContext)"
        )

    def to_wire(self) -> dict[str, Any]:
        """The command as the CLI's ``session.create`` expects it: name and description."""
        return {"name": self.name, "description": self.description or ""}


def as_command(value: Any) -> CommandDefinition:
    """A :class:`CommandDefinition` from one, a dict of its fields, or an object with them."""
    if isinstance(value, CommandDefinition):
        return value
    if is_mapping(value):
        return CommandDefinition(value.get("name"), value.get("handler"), value.get("description"))  # type: ignore[arg-type]
    if not hasattr(value, "name"):
        raise TypeError(f"commands must be CommandDefinition objects or dicts, not {value!r}")
    handler: Any = getattr(value, "handler", None)  # checked by CommandDefinition
    return CommandDefinition(value.name, handler, getattr(value, "description", None))


# ---------------------------------------------------------------------------- command.execute

_session_logger = logging.getLogger("copilot_sync.session")


def on_execute(
    context: RequestContext, raw: Mapping[str, Any], data: dict[str, Any], request_id: str
) -> None:
    """Event thread: a slash command of this session ran; always answered."""
    if context.take(request_id, "command.execute"):
        # Not a handler of the running turn: a command runs beside turns (observed:
        # the CLI runs a turn while a command waits), so it may block on one.
        context.submit(None, answer, context, data)


def answer(context: RequestContext, data: dict[str, Any]) -> None:
    """Worker: run the command and answer with ``session.commands.handlePendingCommand``."""
    name = str(data.get("commandName") or "")
    command = context.commands.get(name)
    params: dict[str, Any] = {}
    if command is None:
        params["error"] = f"Unknown command: {name}"
    else:
        command_context = CommandContext(
            session_id=context.session_id,
            command=str(data.get("command") or f"/{name}"),
            command_name=name,
            args=str(data.get("args") or ""),
        )
        try:
            command.handler(command_context)
        except Exception as exc:
            _session_logger.warning(
                "session %s: command /%s raised", context.session_id, name, exc_info=True
            )
            params["error"] = redact(str(exc)) or type(exc).__name__
        except BaseException as exc:  # SystemExit...: still answered
            _session_logger.exception(
                "session %s: command /%s raised %s", context.session_id, name, type(exc).__name__
            )
            params["error"] = escaped_text(exc)
    context.send_answer("session.commands.handlePendingCommand", data["requestId"], params)
