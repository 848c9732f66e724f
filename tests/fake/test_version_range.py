"""The supported CLI range: version parsing, the client's warning outside the range, and
``doctor``'s verdict, against fake CLIs that announce chosen versions."""

from __future__ import annotations

import logging

import pytest

from copilot_sync._cli.doctor import run_checks
from copilot_sync._versions import (
    DEFAULT_CLI_VERSION,
    OLDEST_SUPPORTED_CLI_VERSION,
    cli_at_least,
    cli_version_fit,
    describe_supported_range,
    parse_cli_version,
)
from copilot_sync.testing import FakeCLI, Scenario

from .conftest import running

RANGE_LOGGER = "copilot_sync.client"


def test_parse_cli_version_is_tolerant():
    assert parse_cli_version("1.0.102") == (1, 0, 102)
    assert parse_cli_version("v1.0.81") == (1, 0, 81)
    assert parse_cli_version("1.0.81-fake") == (1, 0, 81)
    assert parse_cli_version("2.1") == (2, 1, 0)
    for bad in (None, "", "fake", "1", 1.0, b"1.0.81"):
        assert parse_cli_version(bad) is None


def test_the_range_is_ordered_and_described():
    oldest, newest = (
        parse_cli_version(OLDEST_SUPPORTED_CLI_VERSION),
        parse_cli_version(DEFAULT_CLI_VERSION),
    )
    assert oldest is not None and newest is not None and oldest <= newest
    assert describe_supported_range() == f"{OLDEST_SUPPORTED_CLI_VERSION} to {DEFAULT_CLI_VERSION}"
    assert cli_version_fit(OLDEST_SUPPORTED_CLI_VERSION) == "supported"
    assert cli_version_fit(DEFAULT_CLI_VERSION) == "supported"
    assert cli_version_fit("1.0.80") == "older"
    assert cli_version_fit("0.9.999") == "older"
    assert cli_version_fit(f"{newest[0]}.{newest[1]}.{newest[2] + 1}") == "newer"
    assert cli_version_fit("2.0.0") == "newer"
    assert cli_version_fit("not a version") == "unknown" and cli_version_fit(None) == "unknown"
    assert cli_at_least("1.0.92", "1.0.92") and cli_at_least("1.0.102", "1.0.92")
    assert not cli_at_least("1.0.89", "1.0.92") and not cli_at_least(None, "1.0.0")


@pytest.mark.parametrize(
    ("version", "words"),
    [
        ("1.0.50", "older than this SDK supports"),
        ("9.0.0", "newer than this SDK has been tested with"),
    ],
)
def test_the_client_warns_once_outside_the_range(caplog, version, words):
    caplog.set_level(logging.WARNING, logger=RANGE_LOGGER)
    with running(version=version) as (_fake, client):
        assert client.server_version == version
        client.ping(timeout=10)  # more traffic: still one warning
    warnings = [r for r in caplog.records if r.name == RANGE_LOGGER and words in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    message = warnings[0].getMessage()
    assert words in message and version in message and describe_supported_range() in message
    assert "install-cli" in message


@pytest.mark.parametrize(
    "version", [OLDEST_SUPPORTED_CLI_VERSION, DEFAULT_CLI_VERSION, "1.0.81-fake", "weird"]
)
def test_no_warning_inside_the_range_or_for_an_unknown_version(caplog, version):
    caplog.set_level(logging.WARNING, logger=RANGE_LOGGER)
    with running(version=version) as (_fake, client):
        assert client.server_version == version
    assert not [r for r in caplog.records if describe_supported_range() in r.getMessage()]


@pytest.mark.parametrize(
    ("version", "status", "words"),
    [
        (OLDEST_SUPPORTED_CLI_VERSION, "ok", "is in the supported range"),
        (DEFAULT_CLI_VERSION, "ok", "is in the supported range"),
        ("1.0.50", "warn", "is older than the supported range"),
        ("9.0.0", "warn", "is newer than the supported range"),
    ],
)
def test_doctor_reports_the_version_against_the_range(version, status, words):
    with FakeCLI(Scenario(version=version)) as fake:
        report = run_checks(fake.cli_path, start_timeout=20)
    (check,) = [c for c in report.checks if c.name == "cli-version"]
    assert check.status == status
    assert (
        words in check.message
        and version in check.message
        and describe_supported_range() in check.message
    )
    assert report.info["cli"]["version_fit"] == (
        "supported" if status == "ok" else words.split()[1]
    )
    assert report.info["sdk"]["supported_cli_range"] == {
        "oldest": OLDEST_SUPPORTED_CLI_VERSION,
        "newest_tested": DEFAULT_CLI_VERSION,
    }
