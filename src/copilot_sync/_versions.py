"""Copilot CLI versions: the default one, the supported range, and how to compare them.

One place says which CLI this SDK installs by default (the newest it is tested with) and
the oldest it still supports. The test command runs the whole suite on the default and a
smoke set on the oldest (``tests/real/test_smoke_versions.py``); ``docs/CLI_VERSIONS.md``
records what changed between them.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "DEFAULT_CLI_VERSION",
    "OLDEST_SUPPORTED_CLI_VERSION",
    "CLIVersionFit",
    "cli_at_least",
    "cli_version_fit",
    "describe_supported_range",
    "parse_cli_version",
]

#: The Copilot CLI version installed by default: the newest this SDK is tested with.
DEFAULT_CLI_VERSION = "1.0.102"

#: The oldest Copilot CLI version this SDK supports (smoke-tested on every test run).
OLDEST_SUPPORTED_CLI_VERSION = "1.0.81"

#: Where a CLI version lies against the supported range.
CLIVersionFit = Literal["supported", "older", "newer", "unknown"]

_LEADING_VERSION = re.compile(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_cli_version(version: object) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` of a version string such as ``"1.0.102"``,
    ``"v1.0.81"``, ``"1.0.81-fake"`` (a suffix is ignored) or ``"2.1"`` (patch 0);
    ``None`` if it does not start like a version."""
    if not isinstance(version, str):
        return None
    match = _LEADING_VERSION.match(version)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def cli_version_fit(version: object) -> CLIVersionFit:
    """``"supported"`` inside ``OLDEST_SUPPORTED_CLI_VERSION``..``DEFAULT_CLI_VERSION``,
    ``"older"``/``"newer"`` outside it, ``"unknown"`` if ``version`` is not a version."""
    parsed = parse_cli_version(version)
    if parsed is None:
        return "unknown"
    if parsed < _parsed(OLDEST_SUPPORTED_CLI_VERSION):
        return "older"
    if parsed > _parsed(DEFAULT_CLI_VERSION):
        return "newer"
    return "supported"


def describe_supported_range() -> str:
    """``"1.0.81 to 1.0.102"``: the supported range, for messages."""
    return f"{OLDEST_SUPPORTED_CLI_VERSION} to {DEFAULT_CLI_VERSION}"


def cli_at_least(version: object, minimum: str) -> bool:
    """Whether ``version`` is ``minimum`` or newer (``False`` if it is not a version)."""
    parsed = parse_cli_version(version)
    return parsed is not None and parsed >= _parsed(minimum)


def _parsed(version: str) -> tuple[int, int, int]:
    parsed = parse_cli_version(version)
    assert parsed is not None, version
    return parsed
