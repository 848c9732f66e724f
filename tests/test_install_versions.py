"""CLI versions in the installer: dist-tags resolved through npm, and schemas found where
each CLI version keeps them (in the package up to 1.0.83, in the unpack cache later)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from copilot_sync import CLIInstallError
from copilot_sync._install import InstalledCLI, resolve_cli_version


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.mark.parametrize("version", ["1.0.81", "1.0.102", "1.0.84-4", " 1.0.92 "])
def test_a_concrete_version_is_used_as_given_without_npm(version):
    assert resolve_cli_version(version, npm="/nonexistent/npm") == version.strip()


def test_a_dist_tag_is_resolved_through_npm(tmp_path):
    log = tmp_path / "argv"
    npm = _script(tmp_path / "npm", f'echo "$@" > {log}\necho \'"1.0.102"\'\n')
    assert resolve_cli_version("latest", npm=npm) == "1.0.102"
    assert log.read_text().split() == ["view", "@github/copilot@latest", "version", "--json"]


def test_a_range_takes_the_newest_match(tmp_path):
    npm = _script(tmp_path / "npm", 'echo \'["1.0.88", "1.0.89"]\'\n')
    assert resolve_cli_version("1.0.8x", npm=npm) == "1.0.89"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("echo 'npm error code E404' >&2\nexit 1\n", "E404"),
        ("echo '\"not a version\"'\n", "does not know"),
        ("echo ''\n", "does not know"),
    ],
)
def test_an_unknown_tag_is_a_clear_install_error(tmp_path, body, match):
    npm = _script(tmp_path / "npm", body)
    with pytest.raises(CLIInstallError, match=match):
        resolve_cli_version("no-such-tag", npm=npm)


@pytest.mark.parametrize("bad", ["", "   ", None, 1.0])
def test_a_version_must_be_a_string(bad):
    with pytest.raises(ValueError, match="version"):
        resolve_cli_version(bad)  # type: ignore[arg-type]


def _install(tmp_path: Path, version: str, executable_body: str = "exit 0\n") -> InstalledCLI:
    package = tmp_path / "home" / "node_modules" / "@github" / "copilot-linux-x64"
    package.mkdir(parents=True)
    exe = _script(package / "copilot", executable_body)
    return InstalledCLI(
        executable=exe,
        version=version,
        home=tmp_path / "home",
        xdg_cache_home=tmp_path / "home" / "xdg-cache",
        schemas_dir=package / "schemas",
    )


def _write_schemas(directory: Path) -> None:
    directory.mkdir(parents=True)
    for name in ("api.schema.json", "session-events.schema.json"):
        (directory / name).write_text(json.dumps({"title": name}))


def test_schemas_shipped_in_the_package_come_first(tmp_path):
    installed = _install(tmp_path, "1.0.81", "echo ran > ran\nexit 0\n")
    _write_schemas(installed.schemas_dir)
    assert installed.find_schemas() == installed.schemas_dir


def test_schemas_already_unpacked_are_found_without_running_the_cli(tmp_path):
    installed = _install(tmp_path, "1.0.102", f"touch {tmp_path / 'ran'}\n")
    unpacked = installed.xdg_cache_home / "copilot" / "pkg" / "linux-x64" / "1.0.102" / "schemas"
    _write_schemas(unpacked)
    assert installed.find_schemas() == unpacked
    assert not (tmp_path / "ran").exists()


def test_missing_schemas_are_unpacked_by_one_run_with_private_homes(tmp_path):
    record = tmp_path / "run"
    body = (
        f'echo "$@|$XDG_CACHE_HOME|$COPILOT_HOME" > {record}\n'
        'dir="$XDG_CACHE_HOME/copilot/pkg/linux-x64/1.0.102/schemas"\n'
        'mkdir -p "$dir" && echo "{}" > "$dir/api.schema.json" && echo "{}" > "$dir/session-events.schema.json"\n'
    )
    installed = _install(tmp_path, "1.0.102", body)
    found = installed.find_schemas()
    assert (
        found == installed.xdg_cache_home / "copilot" / "pkg" / "linux-x64" / "1.0.102" / "schemas"
    )
    argv, xdg, copilot_home = record.read_text().strip().split("|")
    assert argv.split() == ["--version", "--no-auto-update"]
    assert xdg == str(installed.xdg_cache_home)
    assert (
        copilot_home
        and copilot_home != os.environ.get("COPILOT_HOME")
        and not Path(copilot_home).exists()
    )


def test_schemas_that_cannot_be_found_say_where_they_were_looked_for(tmp_path):
    installed = _install(tmp_path, "1.0.102")
    with pytest.raises(CLIInstallError, match="neither in its package"):
        installed.find_schemas()
    with pytest.raises(CLIInstallError, match="run it once"):
        installed.find_schemas(unpack=False)


def test_install_cli_command_resolves_a_tag_first(tmp_path):
    """`install-cli --version <tag>` asks npm which version the tag is before anything else."""
    import subprocess
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "npm-calls"
    _script(bin_dir / "npm", f'echo "$@" >> {log}\necho "npm error code E404" >&2\nexit 1\n')
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "copilot_sync",
            "install-cli",
            "--version",
            "nightly",
            "--home",
            str(tmp_path / "home"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "@github/copilot@nightly" in done.stderr and "E404" in done.stderr
    assert log.read_text().split() == ["view", "@github/copilot@nightly", "version", "--json"]
    assert not (tmp_path / "home").exists()
