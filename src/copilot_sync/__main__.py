"""The ``copilot-sync`` command line (also ``python -m copilot_sync``).

Each subcommand is one ``_register_<name>(subparsers)`` function that adds its parser
and sets ``handler`` to a function ``(args) -> int`` (the exit status). To add one,
write both functions and list the register function in :data:`SUBCOMMANDS`.

This is the only module of the package that prints.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ._errors import CLINotFoundError, CopilotError

__all__ = ["main", "build_parser", "SUBCOMMANDS"]

Handler = Callable[[argparse.Namespace], int]


# ---------------------------------------------------------------------------
# install-cli
# ---------------------------------------------------------------------------


def _register_install_cli(subparsers: argparse._SubParsersAction) -> None:
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
        help=f"CLI version to install (default: {PINNED_CLI_VERSION}, the one this SDK is tested with)",
    )
    parser.add_argument("--force", action="store_true", help="reinstall even if it is already installed")
    parser.add_argument(
        "--home",
        metavar="DIR",
        default=None,
        help="install into DIR (default: $COPILOT_SYNC_CLI_HOME, else ~/.cache/copilot-sync/cli/<version>)",
    )
    parser.set_defaults(handler=_cmd_install_cli)


def _cmd_install_cli(args: argparse.Namespace) -> int:
    from ._install import cli_home, find_installed_cli, install_cli

    home = args.home if args.home is not None else cli_home(args.version)
    if not args.force and find_installed_cli(args.version, home) is not None:
        action = "already installed"
    else:
        print(f"Installing @github/copilot@{args.version} into {home} ...", file=sys.stderr, flush=True)
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


def _register_where(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "where",
        help="show which Copilot CLI copilot-sync would run",
        description="Print the Copilot CLI executable copilot-sync would run, and where it was found.",
    )
    parser.add_argument("--cli-path", default=None, help="resolve this path, as CopilotClient(cli_path=...) would")
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
# the parser and main()
# ---------------------------------------------------------------------------

#: Functions that each add one subcommand; their order is the order in ``--help``.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _register_install_cli,
    _register_where,
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
    try:
        from importlib.metadata import version

        return version("copilot-sync")
    except Exception:  # not installed as a distribution (running from a source tree)
        return "unknown"


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
