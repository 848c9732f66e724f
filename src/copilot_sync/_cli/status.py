"""The command line's exit statuses, usage errors and its stderr (shared by every subcommand)."""

from __future__ import annotations

import sys
import threading

__all__ = [
    "ABORT_SETTLE",
    "API_KEY_ENV",
    "EXIT_CLI_UNAVAILABLE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_STATUSES",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "PROVIDER_TYPES",
    "WIRE_APIS",
    "UsageError",
    "configure_output",
    "error",
    "stderr_lock",
]


# ---------------------------------------------------------------------------
# exit statuses (documented in docs/COMMAND_LINE.md)
# ---------------------------------------------------------------------------

EXIT_OK = 0  #: the turn completed (doctor: the CLI is usable)
EXIT_FAILED = (
    1  #: the turn failed: session.error, aborted elsewhere, the CLI died, the session was refused
)
EXIT_USAGE = 2  #: bad command line (argparse's own status)
EXIT_CLI_UNAVAILABLE = 3  #: the Copilot CLI was not found, or could not be started
EXIT_TIMEOUT = 124  #: --timeout ran out (the turn is aborted first), as timeout(1) does
EXIT_INTERRUPTED = 130  #: Ctrl-C (the turn is aborted first): 128 + SIGINT, as shells do

EXIT_STATUSES: dict[int, str] = {
    EXIT_OK: "the turn completed",
    EXIT_FAILED: "the turn failed (session.error), or the session could not be created or was lost",
    EXIT_USAGE: "usage error (bad or missing arguments)",
    EXIT_CLI_UNAVAILABLE: "the Copilot CLI could not be found or started",
    EXIT_TIMEOUT: "timed out (--timeout); the turn was aborted",
    EXIT_INTERRUPTED: "interrupted by Ctrl-C; the turn was aborted",
}

#: Environment variable read for the BYOK API key when --api-key is not given.
API_KEY_ENV = "COPILOT_SYNC_API_KEY"

PROVIDER_TYPES = ("openai", "azure", "anthropic")
WIRE_APIS = ("completions", "responses")

#: Seconds to wait for the aborted turn's ``session.idle`` before going on.
ABORT_SETTLE = 3.0

stderr_lock = threading.RLock()


class UsageError(Exception):
    """The command line is wrong in a way argparse cannot see (exit status 2)."""


def error(message: str, *, prog: str = "copilot-sync") -> None:
    """One message on stderr, prefixed with the program name."""
    with stderr_lock:
        print(f"{prog}: {message}", file=sys.stderr, flush=True)


def configure_output() -> None:
    """Never die on a character the terminal's encoding lacks (the tool arrows, a model's emoji)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - detached or closed stream
                pass
