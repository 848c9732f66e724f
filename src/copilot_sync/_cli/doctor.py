"""``copilot-sync doctor``: is the set-up usable? One check per line, and the fix for each problem.

Exit status: 0 when the CLI is usable (warnings, such as "not authenticated", do not
count: a BYOK provider needs no GitHub account), 1 when the CLI is missing or cannot start.

Command-line code: this module prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from .options import setup_logging
from .status import EXIT_FAILED, EXIT_OK, configure_output

__all__ = ["Check", "cmd_doctor", "run_checks"]

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
_MARKERS = {OK: "[ ok ]", WARN: "[warn]", FAIL: "[FAIL]", SKIP: "[skip]"}

INSTALL_FIX = "run `copilot-sync install-cli` (needs npm) to install the pinned Copilot CLI"
AUTH_FIX = (
    "set GITHUB_TOKEN (or GH_TOKEN / COPILOT_GITHUB_TOKEN) or run `copilot login`, "
    "or use a BYOK provider with --provider-url (no GitHub account needed)"
)


@dataclass
class Check:
    name: str
    status: str
    message: str
    fix: str | None = None
    details: list[str] = field(default_factory=list[str])


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list[Check])
    info: dict[str, Any] = field(default_factory=dict[str, Any])

    def add(
        self,
        name: str,
        status: str,
        message: str,
        fix: str | None = None,
        details: list[str] | None = None,
    ) -> Check:
        check = Check(name, status, message, fix, list(details or []))
        self.checks.append(check)
        return check

    @property
    def usable(self) -> bool:
        return not any(check.status == FAIL for check in self.checks)


def _sdk_version() -> str:
    from .._version import __version__

    return __version__


def _not_found_fix(cli_path: str | None) -> str:
    if cli_path is not None:
        return f"pass the path of an existing Copilot CLI to --cli-path, or leave --cli-path out and {INSTALL_FIX}"
    if os.environ.get("COPILOT_CLI_PATH"):
        return f"fix or unset COPILOT_CLI_PATH; or unset it and {INSTALL_FIX}"
    return INSTALL_FIX


def run_checks(cli_path: str | None, *, start_timeout: float = 30.0) -> Report:
    """Run every check (starting the CLI once); never raises for a problem it finds."""
    from .._client import SDK_PROTOCOL_VERSION, CopilotClient
    from .._discovery import resolve_cli
    from .._errors import (
        CLINotFoundError,
        CopilotError,
        CopilotTimeoutError,
        ProtocolVersionError,
    )
    from .._install import PINNED_CLI_VERSION
    from .._versions import OLDEST_SUPPORTED_CLI_VERSION, cli_version_fit, describe_supported_range

    report = Report()
    python = f"{platform.python_version()} ({sys.executable})"
    report.info["python"] = {"version": platform.python_version(), "executable": sys.executable}
    report.add("python", OK, f"Python {python}")  # the package does not install on older ones
    sdk = _sdk_version()
    report.info["sdk"] = {
        "version": sdk,
        "protocol_version": SDK_PROTOCOL_VERSION,
        "pinned_cli_version": PINNED_CLI_VERSION,
        "supported_cli_range": {
            "oldest": OLDEST_SUPPORTED_CLI_VERSION,
            "newest_tested": PINNED_CLI_VERSION,
        },
    }
    report.add(
        "copilot-sync",
        OK,
        f"copilot-sync {sdk} (protocol version {SDK_PROTOCOL_VERSION}; supports CLI {describe_supported_range()}, "
        f"installs {PINNED_CLI_VERSION} by default)",
    )

    # 1. found?
    try:
        resolved = resolve_cli(cli_path)
    except CLINotFoundError as exc:
        report.add(
            "cli-found",
            FAIL,
            "Copilot CLI not found",
            _not_found_fix(cli_path),
            [f"looked at {t}" for t in exc.tried],
        )
        report.info["cli"] = {"found": False, "tried": exc.tried}
        _skip_rest(report, "the CLI was not found")
        return report
    sources = {
        "cli_path": "--cli-path",
        "COPILOT_CLI_PATH": "$COPILOT_CLI_PATH",
        "installed": "the copy `copilot-sync install-cli` installed",
        "PATH": "$PATH",
    }
    details = [f"env: {name}={value}" for name, value in sorted(resolved.env.items())]
    report.add(
        "cli-found",
        OK,
        f"Copilot CLI found: {resolved.path} (from {sources.get(resolved.source, resolved.source)})",
        details=details,
    )
    cli_info: dict[str, Any] = {
        "found": True,
        "path": resolved.path,
        "source": resolved.source,
        "env": dict(resolved.env),
    }
    report.info["cli"] = cli_info

    # 2. starts, and speaks our protocol?
    client = CopilotClient(cli_path=cli_path, start_timeout=start_timeout)
    try:
        try:
            client.start()
        except ProtocolVersionError as exc:
            cli_info["protocol_version"] = exc.server_version
            report.add("cli-start", OK, "Copilot CLI started")
            report.add(
                "protocol",
                FAIL,
                f"protocol version: the CLI speaks {exc.server_version}, this SDK speaks {SDK_PROTOCOL_VERSION}",
                f"{INSTALL_FIX} (version {PINNED_CLI_VERSION})",
            )
            _skip_rest(report, "the protocol versions differ")
            return report
        except (CopilotError, OSError) as exc:
            stderr = getattr(exc, "stderr", "") or ""
            lines = [f"stderr: {line}" for line in stderr.strip().splitlines()[-5:]]
            why = (
                "did not answer in time"
                if isinstance(exc, CopilotTimeoutError)
                else "could not be started"
            )
            report.add(
                "cli-start",
                FAIL,
                f"Copilot CLI {why}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                f"check that {resolved.path} runs (`{resolved.path} --version`); {INSTALL_FIX}",
                lines,
            )
            _skip_rest(report, "the CLI did not start")
            return report
        version = client.server_version
        try:
            status = client.get_status(timeout=start_timeout)
            cli_info["status"] = status.to_dict()
        except CopilotError as exc:
            cli_info["status_error"] = str(exc)
        cli_info.update(version=version, protocol_version=client.protocol_version, pid=client.pid)
        report.add(
            "cli-start",
            OK,
            f"Copilot CLI started: version {version or 'unknown'}, protocol version {client.protocol_version}",
        )
        report.add(
            "protocol",
            OK,
            f"protocol version: the CLI speaks {client.protocol_version}, this SDK speaks {SDK_PROTOCOL_VERSION} (match)",
        )
        fit = cli_version_fit(version)
        cli_info["version_fit"] = fit
        if fit == "supported":
            report.add(
                "cli-version",
                OK,
                f"CLI version {version} is in the supported range {describe_supported_range()}",
            )
        elif fit == "newer":
            report.add(
                "cli-version",
                WARN,
                f"CLI version {version} is newer than the supported range {describe_supported_range()} "
                "(it should work, but it has not been tested)",
                f"to use the tested one: {INSTALL_FIX}, and unset COPILOT_CLI_PATH / leave out --cli-path",
            )
        else:
            report.add(
                "cli-version",
                WARN,
                f"CLI version {version or 'unknown'} is "
                + ("older than" if fit == "older" else "not in")
                + f" the supported range {describe_supported_range()}",
                f"{INSTALL_FIX}, and unset COPILOT_CLI_PATH / leave out --cli-path to use it",
            )

        # 3. authenticated?
        try:
            auth = client.get_auth_status(timeout=start_timeout)
        except CopilotError as exc:
            report.add(
                "auth",
                WARN,
                f"could not ask the CLI for its authentication status: {exc}",
                AUTH_FIX,
            )
        else:
            report.info["auth"] = auth.to_dict()
            if auth.is_authenticated:
                who = auth.login or "unknown user"
                how = f" via {auth.auth_type}" if auth.auth_type else ""
                host = f" on {auth.host}" if auth.host else ""
                report.add("auth", OK, f"authenticated as {who}{how}{host}")
            else:
                said = f" ({auth.status_message})" if auth.status_message else ""
                report.add("auth", WARN, f"not authenticated with GitHub{said}", AUTH_FIX)
    finally:
        client.stop(timeout=10.0)
    return report


def _skip_rest(report: Report, why: str) -> None:
    done = {check.name for check in report.checks}
    for name, what in (
        ("cli-start", "start the CLI"),
        ("protocol", "protocol version"),
        ("cli-version", "CLI version"),
        ("auth", "authentication"),
    ):
        if name not in done:
            report.add(name, SKIP, f"{what}: not checked ({why})")


def _print_text(report: Report) -> None:
    for check in report.checks:
        print(f"{_MARKERS[check.status]} {check.message}")
        for line in check.details:
            print(f"       {line}")
        if check.fix:
            print(f"       fix: {check.fix}")
    warnings = sum(check.status == WARN for check in report.checks)
    failures = sum(check.status == FAIL for check in report.checks)
    if report.usable:
        extra = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        print(f"The Copilot CLI is usable{extra}.")
    else:
        print(
            f"The Copilot CLI is not usable: {failures} problem{'s' if failures != 1 else ''} to fix."
        )


def cmd_doctor(args: argparse.Namespace) -> int:
    configure_output()
    setup_logging(args.verbose)
    report = run_checks(args.cli_path, start_timeout=args.timeout)
    status = EXIT_OK if report.usable else EXIT_FAILED
    if args.json:
        payload = {
            "usable": report.usable,
            "exit_status": status,
            "checks": [asdict(check) for check in report.checks],
            **report.info,
        }
        print(json.dumps(payload, indent=2))
    else:
        _print_text(report)
    sys.stdout.flush()
    return status
