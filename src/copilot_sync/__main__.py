"""The ``copilot-sync`` command line (also ``python -m copilot_sync``).

Each subcommand is one ``_register_<name>(subparsers)`` function that adds its parser
and sets ``handler`` to a function ``(args) -> int`` (the exit status). To add one,
write both functions and list the register function in :data:`SUBCOMMANDS`.

Only the command-line modules print: this one and the ``_cli_*`` modules that hold the
bodies of ``run``, ``chat`` and ``doctor`` (this module stays the parser layer).
Exit statuses of ``run`` and ``chat`` are listed in :data:`EXIT_STATUSES` and in
docs/COMMAND_LINE.md.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence

from ._cli.batch import register_batch, register_batch_summary
from ._cli.status import EXIT_STATUSES
from ._errors import CLINotFoundError, CopilotError

__all__ = ["EXIT_STATUSES", "SUBCOMMANDS", "build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


# ---------------------------------------------------------------------------
# install-cli
# ---------------------------------------------------------------------------


def _register_install_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._install import PINNED_CLI_VERSION

    parser = subparsers.add_parser(
        "install-cli",
        help="install the pinned Copilot CLI with npm",
        description=(
            "Install the GitHub Copilot CLI (npm package @github/copilot) into a directory "
            "of its own, where copilot-sync finds it. Needs npm (Node.js)."
        ),
    )
    parser.add_argument(
        "--version",
        default=PINNED_CLI_VERSION,
        help=(
            f"CLI version to install (default: {PINNED_CLI_VERSION}, the one this SDK is tested with); "
            "an npm dist-tag such as 'latest' is resolved through npm"
        ),
    )
    parser.add_argument(
        "--force", action="store_true", help="reinstall even if it is already installed"
    )
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=None,
        help="install into DIR (default: $COPILOT_SYNC_CLI_HOME, else ~/.cache/copilot-sync/cli/<version>)",
    )
    parser.set_defaults(handler=_cmd_install_cli)


def _cmd_install_cli(args: argparse.Namespace) -> int:
    from ._install import cli_home, find_installed_cli, install_cli, resolve_cli_version

    try:
        args.version = resolve_cli_version(args.version)  # "latest" -> "1.0.102"
    except (CopilotError, ValueError) as exc:
        print(f"copilot-sync: install failed: {exc}", file=sys.stderr)
        return 1
    home = args.home if args.home is not None else cli_home(args.version)
    if not args.force and find_installed_cli(args.version, home) is not None:
        action = "already installed"
    else:
        print(
            f"Installing @github/copilot@{args.version} into {home} ...",
            file=sys.stderr,
            flush=True,
        )
        action = "installed"
    try:
        installed = install_cli(version=args.version, home=home, force=args.force)
    except CopilotError as exc:
        print(f"copilot-sync: install failed: {exc}", file=sys.stderr)
        return 1
    print(f"Copilot CLI {installed.version} {action}: {installed.executable}")
    print(f"XDG_CACHE_HOME for it: {installed.xdg_cache_home}")
    return 0


# ---------------------------------------------------------------------------
# where
# ---------------------------------------------------------------------------


def _register_where(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "where",
        help="show which Copilot CLI copilot-sync would run",
        description="Print the Copilot CLI executable copilot-sync would run, and where it was found.",
    )
    parser.add_argument(
        "--cli-path", default=None, help="resolve this path, as CopilotClient(cli_path=...) would"
    )
    parser.set_defaults(handler=_cmd_where)


def _cmd_where(args: argparse.Namespace) -> int:
    from ._discovery import resolve_cli

    try:
        resolved = resolve_cli(args.cli_path)
    except CLINotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(resolved.path)
    print(f"source: {resolved.source}")
    for name, value in sorted(resolved.env.items()):
        print(f"env: {name}={value}")
    return 0


# ---------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------


def _exit_status_epilog() -> str:
    lines = ["exit status:"]
    lines += [f"  {code:<4} {meaning}" for code, meaning in EXIT_STATUSES.items()]
    return "\n".join(lines)


def _wrap(text: str) -> str:
    """A description for RawDescriptionHelpFormatter (which keeps the epilog's table as is)."""
    return textwrap.fill(text, width=78)


_CHAT_EPILOG = """\
exit status:
  0    left with Ctrl-D, /exit or /quit
  1    the session could not be created, or the CLI was lost
  2    usage error (bad or missing arguments)
  3    the Copilot CLI could not be found or started
  130  Ctrl-C at the prompt (no turn running)
A turn that fails or times out is reported and the chat goes on."""


_RUN_EXAMPLES = """

examples:
  copilot-sync run "What is 2 + 2?"
  git diff | copilot-sync run - --timeout 120
  COPILOT_SYNC_API_KEY=... copilot-sync run --provider-url http://127.0.0.1:8000/v1 --model my-model "hi"
"""


def _register_run(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._cli.options import add_connection_options

    parser = subparsers.add_parser(
        "run",
        help="send one prompt and stream the reply to stdout",
        description=_wrap(
            "Start the Copilot CLI, send PROMPT in a new session and stream the reply to stdout. "
            "Each tool call is one line on stderr (\u2192 name {arguments}; a failed call adds "
            "\u2717 name failed: ...). Permission requests are asked on the terminal (y/n/a), "
            "denied when stdin is not a terminal, or all approved with --allow-all-tools."
        ),
        epilog=_exit_status_epilog() + _RUN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "prompt",
        nargs="+",
        metavar="PROMPT",
        help="the prompt (several words are joined); - reads it from stdin",
    )
    add_connection_options(
        parser,
        timeout_help="give up after this many seconds in all (start, session, reply): the turn is aborted, exit 124",
    )
    parser.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from ._cli.run import cmd_run

    return cmd_run(args)


# ---------------------------------------------------------------------------
# chat
# ---------------------------------------------------------------------------


def _register_chat(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._cli.options import add_connection_options

    parser = subparsers.add_parser(
        "chat",
        help="an interactive conversation in one session",
        description=_wrap(
            "Chat with Copilot in one session: type at the `you> ` prompt, the reply streams back. "
            "Ctrl-C during a reply aborts that turn and returns to the prompt (the conversation goes on); "
            "Ctrl-C at the prompt exits with status 130. Ctrl-D, /exit or /quit exit with 0."
        ),
        epilog=_CHAT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_connection_options(
        parser, timeout_help="abort a reply that takes longer than this (the chat goes on)"
    )
    parser.set_defaults(handler=_cmd_chat)


def _cmd_chat(args: argparse.Namespace) -> int:
    from ._cli.chat import cmd_chat

    return cmd_chat(args)


# ---------------------------------------------------------------------------
# doctor
# ---------------------------------------------------------------------------


def _register_doctor(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._cli.options import positive_seconds

    parser = subparsers.add_parser(
        "doctor",
        help="check the set-up: CLI found and starting, versions, authentication",
        description=_wrap(
            "Check that the Copilot CLI is found and starts, that its protocol version matches this SDK's, "
            "and whether it is authenticated; print one line per check (ok/warn/FAIL) and how to fix each problem."
        ),
        epilog="exit status:\n  0    the CLI is usable (warnings such as 'not authenticated' allowed: BYOK needs no account)\n"
        "  1    the CLI is missing, cannot start, or speaks another protocol version",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--cli-path",
        default=None,
        metavar="PATH",
        help="check this CLI, as CopilotClient(cli_path=...) would",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="time allowed for the CLI to start (default: 30)",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="log the SDK's (and the CLI's) messages to stderr",
    )
    parser.set_defaults(handler=_cmd_doctor)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from ._cli.doctor import cmd_doctor

    return cmd_doctor(args)


# ---------------------------------------------------------------------------
# the parser and main()
# ---------------------------------------------------------------------------

#: Functions that each add one subcommand; their order is the order in ``--help``.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _register_run,
    _register_chat,
    _register_doctor,
    _register_install_cli,
    _register_where,
    register_batch,
    register_batch_summary,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copilot-sync",
        description="Tools for copilot-sync, the synchronous Python SDK for the GitHub Copilot CLI.",
    )
    parser.add_argument("--version", action="version", version=f"copilot-sync {_sdk_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def _sdk_version() -> str:
    from ._version import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
