"""The exceptions copilot-sync raises, documented as one tree.

::

    CopilotError                      base of everything raised on purpose
    ├── CLINotFoundError              no Copilot CLI executable could be found
    ├── CLIInstallError               ``install-cli`` (npm) could not install the CLI
    ├── ConnectionLostError           the connection to the CLI ended; every waiter gets one
    │   ├── ProcessExitedError        ... because the CLI exited or the socket closed
    │   ├── ProtocolError             ... because the peer sent something unreadable
    │   │   └── FrameTooLargeError    ... a frame above ``max_frame_bytes`` (``size``, ``limit``)
    │   └── CLINotReadingError        ... because the CLI stopped reading and a frame was cut off
    ├── JsonRpcError                  the CLI answered a request with an error (code, message, data)
    │   └── UnsupportedMethodError    ... "method not found": this CLI version lacks the method
    │                                 (also a CapabilityError)
    ├── ProtocolVersionError          the CLI speaks a protocol version this SDK does not
    ├── SessionError                  the session reported ``session.error`` while a caller waited
    │   ├── AuthenticationError       ... because nobody is signed in (the message says how to fix it)
    │   ├── StructuredOutputError     a ``response_format=`` reply that is not JSON of the asked shape
    │   └── NoReplyError              ``send_and_wait``'s turn ended without an assistant message
    ├── SessionClosedError            the session was disconnected while a caller used or waited on it
    ├── ClientStateError              the client is not in a state that allows the call (not started, forked...)
    ├── ReentrancyError               a blocking call from a handler where it can never complete
    │                                 (also a RuntimeError)
    ├── CapabilityError               the host does not offer what the call needs (e.g. UI elicitation)
    │   └── EntraNotSupportedError    ... the CLI refused ``CopilotClient(entra=...)`` at start
    └── CopilotTimeoutError           a blocking call ran out of time (also a ``TimeoutError``)

Arguments the caller got wrong raise the built-in ``TypeError``/``ValueError`` at the call.

Secrets: every registered secret (the GitHub token, the connection token) and anything
shaped like a GitHub token is replaced by ``[REDACTED]`` in each error's message and in
the data it carries (``JsonRpcError.data``, ``SessionError.event``), so neither ``str()``,
``repr()`` nor a logged traceback can show one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ._logging import redact, redact_value

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._events import SessionEvent

__all__ = [
    "AuthenticationError",
    "CLIInstallError",
    "CLINotFoundError",
    "CLINotReadingError",
    "CapabilityError",
    "ClientStateError",
    "ConnectionLostError",
    "CopilotError",
    "CopilotTimeoutError",
    "EntraNotSupportedError",
    "FrameTooLargeError",
    "JsonRpcError",
    "NoReplyError",
    "ProcessExitedError",
    "ProtocolError",
    "ProtocolVersionError",
    "ReentrancyError",
    "SessionClosedError",
    "SessionError",
    "StructuredOutputError",
    "UnsupportedMethodError",
    "session_error_from",
]


class CopilotError(Exception):
    """Base class of every error copilot-sync raises on purpose.

    Its message never contains a registered secret (see the module docstring).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


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
        self.stderr: str = redact(stderr)


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
        self.stderr: str = redact(stderr)


class ProtocolError(ConnectionLostError):
    """The peer sent bytes that cannot be read as a frame; the connection was closed."""


class FrameTooLargeError(ProtocolError):
    """The CLI announced a frame above the client's ``max_frame_bytes``; nothing of it was
    read and the connection was closed. ``size`` is the announced length (``None`` when it
    has too many digits to be a size at all) and ``limit`` the maximum in force: raise
    ``CopilotClient(max_frame_bytes=...)`` if such frames are expected."""

    def __init__(self, message: str, *, size: int | None = None, limit: int | None = None) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class CLINotReadingError(ConnectionLostError):
    """The CLI stopped reading its input while a frame was being written, and the caller's
    deadline cut the frame off: the byte stream cannot be used any more, so the connection
    was closed. (A write that could not start at all is a :class:`CopilotTimeoutError`
    and leaves the connection usable.)"""


class JsonRpcError(CopilotError):
    """The CLI answered a request with a JSON-RPC error object."""

    def __init__(
        self, code: int, message: str, data: Any = None, *, method: str | None = None
    ) -> None:
        where = f" ({method})" if method else ""
        super().__init__(f"JSON-RPC error {code}{where}: {message}")
        self.code = code
        self.message: str = redact(message)  # the peer may quote a token back
        self.data: Any = redact_value(data)
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
        super().__init__(message)
        if event is not None:
            event = _redacted_event(event)
        self.event = event
        raw = _event_data(event)
        self.error_type: str | None = raw.get("errorType")
        text: Any = raw.get("message", message)
        self.message: str | Any = redact(text) if isinstance(text, str) else text


class AuthenticationError(SessionError):
    """The turn failed because the CLI has no GitHub credentials (nobody is signed in).

    Fix it one of three ways: sign in once with the CLI itself (``copilot``, then
    ``/login``), pass ``github_token=`` to :class:`CopilotClient` (or set
    ``COPILOT_GITHUB_TOKEN``, ``GH_TOKEN`` or ``GITHUB_TOKEN``), or give the session a
    BYOK ``provider=`` (an OpenAI-compatible endpoint), which needs no GitHub account.
    """


class StructuredOutputError(SessionError):
    """A turn sent with ``response_format=`` did not end with a reply of that shape: the
    reply text is not JSON, does not match the schema, or the turn ended without text.

    ``text`` is the raw reply text (``""`` if there was none), ``event`` the
    ``assistant.message`` it came in (``None`` if the turn had none), ``errors`` the
    ``(path, problem)`` pairs found, each path a JSON path such as ``$.items[2].name``
    (``[]`` when the text could not be parsed); the message names the first one.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str = "",
        event: SessionEvent | None = None,
        errors: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message, event=event)
        self.text: str = redact(text)
        self.errors: list[tuple[str, str]] = [
            (path, redact(problem)) for path, problem in errors or ()
        ]


class NoReplyError(SessionError):
    """The turn ended without any ``assistant.message``, so ``send_and_wait`` (or the
    ``send_async`` future) has no reply to return.

    The turn itself ended normally: its ``session.idle`` arrived, with no
    ``session.error`` and no abort. It happens when the model answered only with tool
    calls and the permission handler rejected one without feedback, which ends the turn
    (``reason == "tool_rejected"``), or when the turn produced no message at all
    (``reason == "empty"``). ``event`` is the event that ended the turn (its
    ``session.idle``, or the ``abort`` a CLI sends after a bare reject) and ``events``
    the turn's last few top-level events, oldest first. ``stream()`` and
    ``send_and_collect()`` never raise it: they hand over what the turn had (``""`` for
    no text), and a ``response_format=`` call raises :class:`StructuredOutputError`
    instead.
    """

    def __init__(
        self,
        message: str,
        *,
        event: SessionEvent | None = None,
        reason: str = "empty",
        events: Sequence[SessionEvent] = (),
    ) -> None:
        super().__init__(message, event=event)
        self.reason = reason
        self.events: tuple[SessionEvent, ...] = tuple(_redacted_event(e) for e in events)


#: What CLI 1.0.81 says in ``session.error`` when it has no credentials (observed), and
#: what its auth status says.
_AUTH_MARKERS = (
    "no github oauth token",
    "not authenticated",
    "no authentication",
    "copilot hmac key",
)

_AUTH_FIX = (
    "Not signed in to GitHub Copilot. Fix: sign in once with the CLI (`copilot`, then /login), "
    "pass github_token=... to CopilotClient (or set COPILOT_GITHUB_TOKEN, GH_TOKEN or GITHUB_TOKEN), "
    "or give the session a BYOK provider={...} that needs no GitHub account."
)


def session_error_from(event: SessionEvent) -> SessionError:
    """The error a waiter raises for a ``session.error`` event (an :class:`AuthenticationError`
    when the CLI says it has no credentials)."""
    message: Any = _event_data(event).get("message")
    text = f"Session error: {message or 'unknown error'}"
    if isinstance(message, str) and any(marker in message.lower() for marker in _AUTH_MARKERS):
        return AuthenticationError(f"{_AUTH_FIX} (the CLI said: {message})", event=event)
    return SessionError(text, event=event)


def _event_data(event: SessionEvent | None) -> dict[str, Any]:
    """The event's wire ``data`` dict (``{}`` without an event, or if it is not a dict)."""
    data: object = event.raw.get("data") if event is not None else None
    return cast("dict[str, Any]", data) if isinstance(data, dict) else {}


def _redacted_event(event: SessionEvent) -> SessionEvent:
    """``event`` itself when it holds no secret, else a copy with every secret redacted."""
    raw = event.raw
    cleaned = redact_value(raw)
    if cleaned == raw:
        return event
    from ._events import parse_event

    return parse_event(cleaned)


class SessionClosedError(CopilotError):
    """The session was disconnected (locally or by its client stopping)."""


class ClientStateError(CopilotError):
    """The client cannot do this in its current state (for example, it is not started, or
    it was started in the parent of this forked process)."""


class ReentrancyError(CopilotError, RuntimeError):
    """A blocking call was made from a place where it can never complete: from inside a
    handler of the session it waits on (that session's turn waits for the handler), or
    from a handler that closes a ring of handlers waiting on each other's sessions.

    Raised at once, before anything is sent. The message says which call, where from, and
    what to use instead (usually ``send()`` or ``send_async()``). Also a ``RuntimeError``.
    """


class CapabilityError(CopilotError, RuntimeError):
    """The host (the CLI and the clients attached to the session) does not support this,
    e.g. ``session.ui.confirm()`` when no client can show a dialog. Also a ``RuntimeError``,
    as the official SDK raises."""


class EntraNotSupportedError(CapabilityError):
    """The CLI does not support ``CopilotClient(entra=...)``: it refused the ``entra`` of the
    ``connect`` handshake (CLI 1.0.102 answers "unknown field `entra`"), or it has no
    ``connect`` at all. Raised by ``start()``; the client is then in the ``error`` state.
    Use a CLI that supports Entra configuration, or build the client without ``entra``."""


class UnsupportedMethodError(JsonRpcError, CapabilityError):
    """The connected CLI does not have this method (it answered "method not found"): the
    feature is not supported by this CLI version. ``method`` names it and ``cli_version``
    is the version the CLI reported (``None`` if unknown). A :class:`JsonRpcError` (code
    -32601) and a :class:`CapabilityError`."""

    def __init__(self, method: str, cli_version: str | None, detail: str = "") -> None:
        super().__init__(-32601, detail or f"Method not found: {method}", method=method)
        version = cli_version or "unknown version"
        self.cli_version = cli_version
        self.args: tuple[Any, ...] = (
            f"{method} is not supported by this Copilot CLI ({version}); a newer CLI may have it "
            f"(`python -m copilot_sync doctor` shows the version). The CLI said: {self.message}",
        )


class CopilotTimeoutError(CopilotError, TimeoutError):
    """A blocking call did not complete within its timeout. Nothing was cancelled."""
