"""``copilot-sync run "prompt"``: one turn, streamed to stdout; the exit status says how it ended.

Command-line code: this module prints.
"""

from __future__ import annotations

import argparse
import sys

from .connect import StartFailure, open_session, start_client
from .options import Deadline, provider_from_args, read_prompt, setup_logging
from .permission_prompt import PermissionPolicy
from .printing import TurnPrinter
from .status import EXIT_INTERRUPTED, EXIT_USAGE, UsageError, configure_output, error
from .turn import COMPLETED, INTERRUPTED, LOST, TIMED_OUT, IdleWatch, run_turn

__all__ = ["cmd_run"]

PROG = "copilot-sync run"


def cmd_run(args: argparse.Namespace) -> int:
    configure_output()
    setup_logging(args.verbose)
    try:
        provider = provider_from_args(args)
        prompt = read_prompt(args.prompt)
    except UsageError as exc:
        error(f"error: {exc}", prog=PROG)
        return EXIT_USAGE
    deadline = Deadline(args.timeout)
    policy = PermissionPolicy.from_args(args)
    client = None
    try:
        try:
            client = start_client(args.cli_path, deadline)
            session = open_session(client, args, provider, policy, deadline)
        except StartFailure as exc:
            error(str(exc), prog=PROG)
            return exc.status
        result = run_turn(
            session,
            prompt,
            TurnPrinter(refused=policy.refused),
            policy,
            timeout=deadline.remaining(),
            idle=IdleWatch(session),
        )
        if result.status == COMPLETED:
            return result.exit_status
        if result.status == INTERRUPTED:
            error("interrupted; the turn was aborted", prog=PROG)
        elif result.status == TIMED_OUT:
            error(f"timed out after {args.timeout:g}s; the turn was aborted", prog=PROG)
        elif result.status == LOST:
            error(f"lost the Copilot CLI during the turn: {result.error}", prog=PROG)
        else:
            error(f"the turn failed: {result.error}", prog=PROG)
        return result.exit_status
    except KeyboardInterrupt:  # while starting, or a second Ctrl-C while the abort settled
        error("interrupted", prog=PROG)
        return EXIT_INTERRUPTED
    finally:
        if client is not None:
            try:
                client.stop(timeout=10.0)
            except KeyboardInterrupt:
                client.force_stop()
        sys.stdout.flush()
