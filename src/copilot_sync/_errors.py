"""The exceptions copilot-sync raises, documented as one tree.

::

    CopilotError                      base of everything raised on purpose
    ├── CLINotFoundError              no Copilot CLI executable could be found
    ├── CLIInstallError               ``install-cli`` (npm) could not install the CLI
    ├── ConnectionLostError           the connection to the CLI ended; every waiter gets one
    │   ├── ProcessExitedError        ... because the CLI exited or the socket closed
    │   └── ProtocolError             ... because the peer sent something unreadable
    ├── JsonRpcError                  the CLI answered a request with an error (code, message, data)
    ├── ProtocolVersionError          the CLI speaks a protocol version this SDK does not
    ├── SessionError                  the session reported ``session.error`` while a caller waited
    ├── SessionClosedError            the session was disconnected while a caller used or waited on it
    ├── ClientStateError              the client is not in a state that allows the call (not started...)
    ├── CapabilityError               the host does not offer what the call needs (e.g. UI elicitation)
    └── CopilotTimeoutError           a blocking call ran out of time (also a ``TimeoutError``)

Arguments the caller got wrong raise the built-in ``TypeError``/``ValueError`` at the call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._logging import redact

if TYPE_CHECKING:
    from ._events import SessionEvent

__all__ = [
    "CapabilityError",
    "CLIInstallError",
    "CLINotFoundError",
    "ClientStateError",
    "ConnectionLostError",
    "CopilotError",
    "CopilotTimeoutError",
    "JsonRpcError",
    "ProcessExitedError",
    "ProtocolError",
    "ProtocolVersionError",
    "SessionClosedError",
    "SessionError",
]


class CopilotError(Exception):
    """Base class of every error copilot-sync raises on purpose."""


class CLINotFoundError(CopilotError):
    """No Copilot CLI executable was found.

    ``tried`` lists every place that was looked at, in order; the message ends with the
    one command that fixes it.
    """

    def __init__(self, message: str, *, tried: list[str] | None = None) -> None:
        super().__init__(message)
        self.tried: list[str] = list(tried or [])


class CLIInstallError(CopilotError):
    """Installing the Copilot CLI with npm failed.

    ``command`` is the npm command line that ran (``None`` when npm was not even found),
    ``exit_code`` its exit status and ``stderr`` the tail of what it wrote to stderr.
    """

    def __init__(
        self,
        message: str,
        *,
        command: list[str] | None = None,
        exit_code: int | None = None,
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.command = command
        self.exit_code = exit_code
        self.stderr = stderr


class ConnectionLostError(CopilotError):
    """The connection to the CLI ended; pending requests and waiters all fail with this."""


class ProcessExitedError(ConnectionLostError):
    """The CLI process exited, or the server closed the connection.

    ``exit_code`` is the process's exit status (negative for a signal, ``None`` when the
    CLI is not a child of this process or has not been reaped yet); ``stderr`` holds the
    last lines the CLI wrote to its standard error.
    """

    def __init__(self, message: str, *, exit_code: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr = stderr


class ProtocolError(ConnectionLostError):
    """The peer sent bytes that cannot be read as a frame; the connection was closed."""


class JsonRpcError(CopilotError):
    """The CLI answered a request with a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Any = None, *, method: str | None = None) -> None:
        where = f" ({method})" if method else ""
        super().__init__(f"JSON-RPC error {code}{where}: {message}")
        self.code = code
        self.message = message
        self.data = data
        self.method = method


class ProtocolVersionError(CopilotError):
    """The CLI reports a protocol version this SDK does not speak (it needs exactly 3)."""

    def __init__(self, message: str, *, server_version: int | None = None) -> None:
        super().__init__(message)
        self.server_version = server_version


class SessionError(CopilotError):
    """The session emitted ``session.error`` while a caller was waiting on it.

    ``event`` is the ``session.error`` :class:`SessionEvent`; ``error_type`` and
    ``message`` are copied from its data for convenience.
    """

    def __init__(self, message: str, *, event: SessionEvent | None = None) -> None:
        super().__init__(redact(message))
        self.event = event
        raw = event.raw.get("data") if event is not None else None
        raw = raw if isinstance(raw, dict) else {}
        self.error_type: str | None = raw.get("errorType")
        text = raw.get("message", message)
        self.message = redact(text) if isinstance(text, str) else text


class SessionClosedError(CopilotError):
    """The session was disconnected (locally or by its client stopping)."""


class ClientStateError(CopilotError):
    """The client cannot do this in its current state (for example, it is not started)."""


class CapabilityError(CopilotError, RuntimeError):
    """The host (the CLI and the clients attached to the session) does not support this,
    e.g. ``session.ui.confirm()`` when no client can show a dialog. Also a ``RuntimeError``,
    as the official SDK raises."""


class CopilotTimeoutError(CopilotError, TimeoutError):
    """A blocking call did not complete within its timeout. Nothing was cancelled."""
