"""What a request handler may use: the small session-facing interfaces of this layer.

A handler module never imports ``CopilotSession`` or ``CopilotClient``. It gets a
:class:`RequestContext` (the session's handlers and the bookkeeping that answers the CLI
exactly once, implemented by :class:`~copilot_sync._requests.callbacks.SessionCallbacks`),
and that context reaches its session only through :class:`RequestSession`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..generated.rpc import SessionRpc
    from .commands import CommandDefinition
    from .session_fs_wire import SessionFsAdapter
    from .tools import Tool

__all__ = ["RequestContext", "RequestSession"]


class RequestSession(Protocol):
    """The session, as the request layer sees it."""

    @property
    def session_id(self) -> str: ...

    @property
    def owner(self) -> Any:
        """The session object itself: what re-entrancy checks key on (never call into it)."""

    @property
    def rpc(self) -> SessionRpc: ...

    def call(self, method: str, params: Any = None, *, timeout: float | None) -> Any:
        """A session-scoped RPC to the CLI (``sessionId`` added)."""
        ...

    def submit(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run ``fn(*args)`` on the client's worker pool; False if the client is stopping."""
        ...


class RequestContext(Protocol):
    """One session's handlers, and the answering machinery handler modules share."""

    session: RequestSession
    tools: dict[str, Tool]
    permission_handler: Callable[..., Any] | None
    user_input_handler: Callable[..., Any] | None
    elicitation_handler: Callable[..., Any] | None
    exit_plan_mode_handler: Callable[..., Any] | None
    auto_mode_switch_handler: Callable[..., Any] | None
    mcp_auth_handler: Callable[..., Any] | None
    skill_provider: Any | None
    canvas_handler: Any | None
    hooks: dict[str, Callable[..., Any]]
    commands: dict[str, CommandDefinition]
    transforms: dict[str, Callable[[str], Any]]
    session_fs: SessionFsAdapter | None
    denial_warned: bool

    @property
    def session_id(self) -> str: ...

    def take(self, request_id: str, kind: str) -> bool:
        """Event thread: True the first time ``request_id`` is seen (then answer it)."""
        ...

    def finish(self, request_id: str) -> None:
        """Never answer ``request_id`` (completed, or left to another client)."""

    def submit(self, kind: str | None, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the worker pool, as a ``kind`` handler of the session."""

    def send_answer(self, method: str, request_id: str, params: dict[str, Any]) -> None:
        """Worker: answer a broadcast request with a session RPC, at most once."""

    def call(self, method: str, params: Any = None, *, timeout: float | None) -> Any:
        """A session RPC to the CLI."""


#: A broadcast request reaction: ``(context, event raw dict, data, request id)``, on the event thread.
EventReaction = Callable[["RequestContext", Mapping[str, Any], dict[str, Any], str], None]
#: A direct request answer: ``(context, method, params) -> result``, on a worker thread.
RequestAnswer = Callable[["RequestContext", str, dict[str, Any]], Any]
