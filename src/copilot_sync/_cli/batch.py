"""``copilot-sync batch`` and ``copilot-sync batch-summary``: run a JSONL file of prompts
through :mod:`copilot_sync.batch`, and summarise a results file.

Command-line code: this module prints.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from .options import add_connection_options, positive_seconds, provider_from_args, setup_logging
from .status import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, error

__all__ = ["cmd_batch", "cmd_batch_summary", "read_items", "register_batch", "register_batch_summary"]  # fmt: skip

PROG = "copilot-sync batch"


def _count(low: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value

    return parse


def register_batch(
    subparsers: Any,
) -> None:
    """Add ``batch`` to ``subparsers`` (what ``add_subparsers()`` returned)."""
    parser = subparsers.add_parser(
        "batch",
        help="run every prompt of a JSONL file; resumable (docs/BATCH.md)",
        description=(
            "Run one session per input line and append one result record per item to --out "
            "(JSONL). Each input line is a JSON string (the prompt; its id is its 0-based line "
            "number among the items) or an object with 'prompt' and optional 'id' and per-item "
            "options. Running again with the same --out runs only the items without a record. "
            "Exit status: 0 every item ok, 1 some item failed, 2 usage error, 130 interrupted."
        ),
    )
    parser.add_argument("input", metavar="PROMPTS.jsonl", help="the items, one JSON value a line")
    parser.add_argument("--out", "-o", required=True, metavar="RESULTS.jsonl", help="the results file (appended to)")  # fmt: skip
    parser.add_argument(
        "--workers", type=_count(1), default=4, help="sessions at once (default: 4)"
    )
    parser.add_argument("--sessions-per-cli", type=_count(1), default=4, metavar="N", help="sessions sharing one CLI process (default: 4)")  # fmt: skip
    parser.add_argument("--retries", type=_count(0), default=3, metavar="N", help="further attempts for a retryable failure (default: 3)")  # fmt: skip
    parser.add_argument("--idle-timeout", type=positive_seconds, default=None, metavar="SECONDS", help="fail an item once its session is silent that long")  # fmt: skip
    parser.add_argument("--rerun-errors", action="store_true", help="also run items whose last record is an error")  # fmt: skip
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", default=None, help="run on this Dask scheduler, e.g. tcp://127.0.0.1:8786 (needs copilot-sync[dask])")  # fmt: skip
    where.add_argument("--processes", action="store_true", help="run in --workers worker processes instead of threads")  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")  # fmt: skip
    add_connection_options(parser, timeout_help="time allowed for each item (default: 300)")
    parser.set_defaults(handler=cmd_batch)


def register_batch_summary(
    subparsers: Any,
) -> None:
    """Add ``batch-summary`` (alias ``summary``) to ``subparsers``."""
    parser = subparsers.add_parser(
        "batch-summary",
        aliases=["summary"],
        help="summarise a batch results file",
        description="Print counts by status, p50/p95 durations, tokens and cost of a results file.",
    )
    parser.add_argument("results", metavar="RESULTS.jsonl")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=cmd_batch_summary)


def read_items(path: str) -> list[Any]:
    """The items of a prompts file: every non-blank line, a JSON string or object."""
    items: list[Any] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise UsageError(f"{path} line {number} is not JSON: {exc}") from None
            if not isinstance(value, (str, dict)):
                raise UsageError(f"{path} line {number}: expected a JSON string or object")
            items.append(value)
    return items


def cmd_batch(args: argparse.Namespace) -> int:
    """Run the batch; print its summary."""
    setup_logging(args.verbose)
    from ..batch import run_batch

    try:
        provider = provider_from_args(args)
        items = read_items(args.input)
    except (UsageError, OSError) as exc:
        error(f"error: {exc}", prog=PROG)
        return EXIT_USAGE
    session: dict[str, Any] = {"timeout": args.timeout or 300.0}
    for name, value in (("model", args.model), ("provider", provider), ("idle_timeout", args.idle_timeout)):  # fmt: skip
        if value is not None:
            session[name] = value
    if args.allow_all_tools:
        from .._requests.permissions import PermissionHandler

        session["on_permission_request"] = PermissionHandler.approve_all
    client_options: dict[str, Any] = {}
    if args.cli_path is not None:
        client_options["cli_path"] = args.cli_path
    dask_client: Any = None
    executor: Any = "processes" if args.processes else None
    if args.scheduler is not None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            error("error: --scheduler needs Dask: pip install 'copilot-sync[dask]'", prog=PROG)
            return EXIT_USAGE
        dask_client = distributed.Client(args.scheduler)
        executor = dask_client.get_executor()
    try:
        summary = run_batch(
            items,
            output=args.out,
            workers=args.workers,
            sessions_per_cli=args.sessions_per_cli,
            executor=executor,
            retries=args.retries,
            rerun_errors=args.rerun_errors,
            progress=False if args.no_progress else None,
            client_options=client_options,
            **session,
        )
    except (ValueError, TypeError) as exc:
        error(f"error: {exc}", prog=PROG)
        return EXIT_USAGE
    except KeyboardInterrupt:
        error(f"interrupted; the records written so far are in {args.out}; run again to finish", prog=PROG)  # fmt: skip
        return EXIT_INTERRUPTED
    finally:
        if dask_client is not None:
            dask_client.close()
    print(summary, flush=True)
    return EXIT_OK if summary.counts.get("ok", 0) == len(items) else EXIT_FAILED


def cmd_batch_summary(args: argparse.Namespace) -> int:
    """Print the summary of a results file."""
    from ..batch import BatchSummary

    if not os.path.exists(args.results):
        error(f"error: no such file: {args.results}", prog="copilot-sync batch-summary")
        return EXIT_USAGE
    summary = BatchSummary.from_file(args.results)
    if args.json:
        json.dump({**vars(summary), "total": summary.total}, sys.stdout, indent=2)
        print()
    else:
        print(summary)
    return EXIT_OK
