"""``copilot-sync chat``: an interactive conversation in one session.

``you> `` reads a line; the reply streams to stdout (tool calls on stderr). Ctrl-C during a
reply aborts that turn and comes back to the prompt (the session and its history stay);
Ctrl-C at the prompt leaves with status 130; Ctrl-D, ``/exit`` and ``/quit`` with 0.

Command-line code: this module prints.
"""

from __future__ import annotations

import argparse
import sys

from .connect import StartFailure, open_session, start_client
from .options import Deadline, provider_from_args, setup_logging
from .permission_prompt import PermissionPolicy
from .printing import TurnPrinter
from .status import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    configure_output,
    error,
)
from .turn import FAILED, INTERRUPTED, LOST, TIMED_OUT, IdleWatch, run_turn

__all__ = ["ABORTED_MESSAGE", "PROMPT", "cmd_chat"]

PROG = "copilot-sync chat"
PROMPT = "you> "
ABORTED_MESSAGE = "(turn aborted; press Ctrl-C again to exit)"
EXIT_COMMANDS = ("/exit", "/quit")
HELP = "Type a message and press Enter. Ctrl-C aborts a reply (twice: exit). Ctrl-D, /exit or /quit leaves."


def _note(text: str) -> None:
    """A status line for the person at the terminal (stderr)."""
    print(text, file=sys.stderr, flush=True)


def _enable_line_editing() -> None:
    """Arrow keys and history at the prompt, when there is a terminal to edit on."""
    try:
        if sys.stdin.isatty() and sys.stdout.isatty():
            import readline  # noqa: F401  # pyright: ignore[reportUnusedImport]  (importing it is what makes input() use it)
    except (ImportError, ValueError, OSError):  # pragma: no cover - no readline on this platform
        pass


def cmd_chat(args: argparse.Namespace) -> int:
    configure_output()
    setup_logging(args.verbose)
    try:
        provider = provider_from_args(args)
    except UsageError as exc:
        error(f"error: {exc}", prog=PROG)
        return EXIT_USAGE
    policy = PermissionPolicy.from_args(args)
    client = None
    try:
        try:
            client = start_client(args.cli_path, Deadline(None))
            session = open_session(client, args, provider, policy, Deadline(None))
        except StartFailure as exc:
            error(str(exc), prog=PROG)
            return exc.status
        _enable_line_editing()
        model = f" with {args.model}" if args.model else ""
        _note(f"copilot-sync chat{model} (Copilot CLI {client.server_version or '?'}). {HELP}")
        return _loop(session, args, policy)
    except KeyboardInterrupt:  # while starting, or a second Ctrl-C while an abort settled
        _note("")
        return EXIT_INTERRUPTED
    finally:
        if client is not None:
            try:
                client.stop(timeout=10.0)
            except KeyboardInterrupt:
                client.force_stop()


def _loop(session: object, args: argparse.Namespace, policy: PermissionPolicy) -> int:
    printer = TurnPrinter(refused=policy.refused)
    idle = IdleWatch(session)
    while True:
        try:
            line = input(PROMPT)
        except EOFError:  # Ctrl-D
            _note("")
            return EXIT_OK
        except KeyboardInterrupt:  # Ctrl-C at the prompt, no turn running
            _note("")
            return EXIT_INTERRUPTED
        prompt = line.strip()
        if not prompt:
            continue
        if prompt in EXIT_COMMANDS:
            return EXIT_OK
        if prompt in ("/help", "/?"):
            _note(HELP)
            continue
        result = run_turn(session, prompt, printer, policy, timeout=args.timeout, idle=idle)
        if result.status == INTERRUPTED:
            _note(ABORTED_MESSAGE)
        elif result.status == TIMED_OUT:
            _note(f"(no reply within {args.timeout:g}s; turn aborted)")
        elif result.status == FAILED:
            _note(f"(the turn failed: {result.error})")
        elif result.status == LOST:
            error(f"lost the Copilot CLI: {result.error}", prog=PROG)
            return EXIT_FAILED
