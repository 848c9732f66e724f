"""Starting the client and opening the session for ``run`` and ``chat``, failures mapped to exit statuses."""

from __future__ import annotations

import argparse
from typing import Any

from .._errors import CLINotFoundError, CopilotError, CopilotTimeoutError
from .options import Deadline
from .permission_prompt import PermissionPolicy
from .status import EXIT_CLI_UNAVAILABLE, EXIT_FAILED, EXIT_TIMEOUT

__all__ = ["StartFailure", "open_session", "start_client"]


# ---------------------------------------------------------------------------
# starting the client and the session
# ---------------------------------------------------------------------------


class StartFailure(Exception):
    """The client or the session could not be started; ``status`` is the exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def start_client(cli_path: str | None, deadline: Deadline, *, start_timeout: float = 60.0) -> Any:
    """A started :class:`CopilotClient`, or :class:`StartFailure` (3, or 124 when ``deadline`` ran out)."""
    from .._client import CopilotClient

    client = CopilotClient(cli_path=cli_path, start_timeout=deadline.cap(start_timeout))
    try:
        client.start()
    except CLINotFoundError as exc:
        raise StartFailure(
            EXIT_CLI_UNAVAILABLE, f"{exc}\n(`copilot-sync doctor` checks the whole set-up)"
        ) from None
    except CopilotTimeoutError as exc:
        if deadline.expired:
            raise StartFailure(
                EXIT_TIMEOUT,
                f"timed out after {deadline.seconds:g}s while starting the Copilot CLI",
            ) from None
        raise StartFailure(EXIT_CLI_UNAVAILABLE, f"the Copilot CLI did not start: {exc}") from None
    except (CopilotError, OSError) as exc:
        detail = str(exc)
        stderr = getattr(exc, "stderr", "")
        if stderr and stderr not in detail:
            detail += f"\nthe CLI's stderr:\n{stderr}"
        raise StartFailure(
            EXIT_CLI_UNAVAILABLE,
            f"the Copilot CLI could not be started: {detail}\n(`copilot-sync doctor` checks the whole set-up)",
        ) from None
    return client


def open_session(
    client: Any,
    args: argparse.Namespace,
    provider: dict[str, Any] | None,
    policy: PermissionPolicy,
    deadline: Deadline,
) -> Any:
    """Create the streaming session, or raise :class:`StartFailure` (1, or 124)."""
    options: dict[str, Any] = {"streaming": True, "on_permission_request": policy}
    if args.model is not None:
        options["model"] = args.model
    if provider is not None:
        options["provider"] = provider
    try:
        return client.create_session(timeout=deadline.cap(120.0), **options)
    except CopilotTimeoutError:
        raise StartFailure(
            EXIT_TIMEOUT, f"timed out after {deadline.seconds:g}s while creating the session"
        ) from None
    except CLINotFoundError as exc:  # pragma: no cover - the client is already started
        raise StartFailure(EXIT_CLI_UNAVAILABLE, str(exc)) from None
    except CopilotError as exc:
        raise StartFailure(EXIT_FAILED, f"the session could not be created: {exc}") from None
