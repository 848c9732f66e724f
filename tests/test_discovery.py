"""Finding the Copilot CLI (``_discovery``), installing it (``_install``) and ``__main__``.

Everything here is fast and offline (a fake ``npm`` builds the tree npm would) except the
one ``real_cli`` test at the end, which runs the real npm against the registry.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from copilot_sync import _install
from copilot_sync.__main__ import main
from copilot_sync._discovery import INSTALL_COMMAND, ResolvedCLI, resolve_cli
from copilot_sync._errors import CLINotFoundError, CopilotError
from copilot_sync._install import (
    PINNED_CLI_VERSION,
    CLIInstallError,
    InstalledCLI,
    cli_home,
    find_installed_cli,
    install_cli,
    platform_package_name,
    platform_package_names,
)

needs_posix = pytest.mark.skipif(
    os.name == "nt", reason="fake executables are shell/python scripts"
)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def make_executable(path: Path, body: str = "echo fake copilot\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def build_tree(prefix: Path, version: str = PINNED_CLI_VERSION, *, executable: bool = True) -> Path:
    """Lay out what ``npm install --prefix <prefix> @github/copilot@<version>`` leaves."""
    github = prefix / "node_modules" / "@github"
    (github / "copilot").mkdir(parents=True, exist_ok=True)
    (github / "copilot" / "package.json").write_text(
        json.dumps({"name": "@github/copilot", "version": version})
    )
    package = platform_package_name()
    package_dir = prefix / "node_modules" / package
    (package_dir / "schemas").mkdir(parents=True, exist_ok=True)
    (package_dir / "schemas" / "api.schema.json").write_text("{}")
    short = package.split("/")[1]
    (package_dir / "package.json").write_text(
        json.dumps({"name": package, "version": version, "bin": {short: "copilot"}})
    )
    if executable:
        make_executable(package_dir / "copilot", f'echo "GitHub Copilot CLI {version}."\n')
    return package_dir / "copilot"


FAKE_NPM = textwrap.dedent(
    """\
    #!{python}
    # A stand-in for npm: logs its argv, then lays out what npm would (or fails, per FAKE_NPM_MODE).
    import json, os, sys
    args = sys.argv[1:]
    with open(os.environ["FAKE_NPM_LOG"], "a") as log:
        log.write(json.dumps(args) + "\\n")
    mode = os.environ.get("FAKE_NPM_MODE", "ok")
    prefix = args[args.index("--prefix") + 1]
    version = args[-1].rsplit("@", 1)[1]
    package = os.environ["FAKE_NPM_PACKAGE"]
    if mode == "nothing":
        sys.exit(0)
    github = os.path.join(prefix, "node_modules", "@github")
    os.makedirs(os.path.join(github, "copilot"), exist_ok=True)
    with open(os.path.join(github, "copilot", "package.json"), "w") as f:
        json.dump({{"name": "@github/copilot", "version": version}}, f)
    package_dir = os.path.join(prefix, "node_modules", package)
    os.makedirs(os.path.join(package_dir, "schemas"), exist_ok=True)
    with open(os.path.join(package_dir, "schemas", "api.schema.json"), "w") as f:
        f.write("{{}}")
    with open(os.path.join(package_dir, "package.json"), "w") as f:
        json.dump({{"name": package, "version": version, "bin": {{package.split("/")[1]: "copilot"}}}}, f)
    if mode != "noexec":
        exe = os.path.join(package_dir, "copilot")
        with open(exe, "w") as f:
            f.write("#!/bin/sh\\necho 'GitHub Copilot CLI " + version + ".'\\n")
        os.chmod(exe, 0o755)
    if mode == "fail":  # the complete-looking tree written above must not survive
        sys.stderr.write("npm error code E404\\nnpm error 404 Not Found - @github/copilot@" + version + "\\n")
        sys.exit(1)
    print("added 3 packages in 1s")
    """
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No COPILOT_CLI_PATH, and an empty private CLI home; returns that home."""
    monkeypatch.delenv("COPILOT_CLI_PATH", raising=False)
    home = tmp_path / "cli-home"
    monkeypatch.setenv("COPILOT_SYNC_CLI_HOME", str(home))
    return home


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``npm`` first on PATH; returns its call log (one JSON argv per line)."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(0o755)
    monkeypatch.setenv("FAKE_NPM_PACKAGE", platform_package_name())
    log = tmp_path / "npm-calls.log"
    log.touch()
    monkeypatch.setenv("FAKE_NPM_LOG", str(log))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return log


def npm_calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------
# cli_home and platform names
# ---------------------------------------------------------------------------


def test_cli_home_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COPILOT_SYNC_CLI_HOME", str(tmp_path / "mine"))
    assert cli_home() == tmp_path / "mine"
    assert cli_home("9.9.9") == tmp_path / "mine"


def test_cli_home_default_uses_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COPILOT_SYNC_CLI_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cli_home() == tmp_path / "copilot-sync" / "cli" / PINNED_CLI_VERSION
    assert cli_home("2.0.0") == tmp_path / "copilot-sync" / "cli" / "2.0.0"


def test_cli_home_default_without_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COPILOT_SYNC_CLI_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli_home() == tmp_path / ".cache" / "copilot-sync" / "cli" / PINNED_CLI_VERSION


@pytest.mark.parametrize(
    ("system", "machine", "musl", "expected"),
    [
        ("Linux", "x86_64", False, ["@github/copilot-linux-x64"]),
        ("Linux", "aarch64", False, ["@github/copilot-linux-arm64"]),
        ("Linux", "x86_64", True, ["@github/copilot-linuxmusl-x64", "@github/copilot-linux-x64"]),
        (
            "Linux",
            "arm64",
            True,
            ["@github/copilot-linuxmusl-arm64", "@github/copilot-linux-arm64"],
        ),
        ("Darwin", "x86_64", None, ["@github/copilot-darwin-x64"]),
        ("Darwin", "arm64", None, ["@github/copilot-darwin-arm64"]),
        ("Windows", "AMD64", None, ["@github/copilot-win32-x64"]),
        ("Windows", "ARM64", None, ["@github/copilot-win32-arm64"]),
        ("Linux", "riscv64", False, []),
        ("Plan9", "x86_64", None, []),
    ],
)
def test_platform_package_names(
    system: str, machine: str, musl: bool | None, expected: list[str]
) -> None:
    assert platform_package_names(system, machine, musl=musl) == expected


def test_platform_package_name_unsupported() -> None:
    with pytest.raises(CLIInstallError, match="not published"):
        platform_package_name("Linux", "s390x", musl=False)


def test_this_machine_has_a_platform_package() -> None:
    assert platform_package_name().startswith("@github/copilot-")


# ---------------------------------------------------------------------------
# resolve_cli
# ---------------------------------------------------------------------------


@needs_posix
def test_order_cli_path_wins(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = make_executable(tmp_path / "explicit" / "copilot")
    from_env = make_executable(tmp_path / "env" / "copilot")
    build_tree(clean_env)
    monkeypatch.setenv("COPILOT_CLI_PATH", str(from_env))
    resolved = resolve_cli(str(explicit))
    assert resolved == ResolvedCLI(str(explicit), "cli_path", {})
    assert resolved.argv_prefix == [str(explicit)]
    # a PathLike is accepted too
    assert resolve_cli(explicit).path == str(explicit)


@needs_posix
def test_order_env_var_before_installed(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = make_executable(tmp_path / "env" / "copilot")
    build_tree(clean_env)
    monkeypatch.setenv("COPILOT_CLI_PATH", str(from_env))
    resolved = resolve_cli()
    assert (resolved.path, resolved.source, resolved.env) == (str(from_env), "COPILOT_CLI_PATH", {})


@needs_posix
def test_order_installed_before_path(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = build_tree(clean_env)
    bin_dir = tmp_path / "bin"
    make_executable(bin_dir / "copilot")
    monkeypatch.setenv("PATH", str(bin_dir))
    resolved = resolve_cli()
    assert resolved.source == "installed"
    assert resolved.path == str(exe)
    assert resolved.env == {"XDG_CACHE_HOME": str(clean_env / "xdg-cache")}
    assert (clean_env / "xdg-cache").is_dir()


@needs_posix
def test_order_path_last(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    on_path = make_executable(bin_dir / "copilot")
    monkeypatch.setenv("PATH", str(bin_dir))
    resolved = resolve_cli()
    assert (resolved.path, resolved.source, resolved.env) == (str(on_path), "PATH", {})


@needs_posix
def test_env_argument_is_the_effective_environment(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = make_executable(tmp_path / "host" / "copilot")
    mine = make_executable(tmp_path / "mine" / "copilot")
    monkeypatch.setenv("COPILOT_CLI_PATH", str(host))
    resolved = resolve_cli(env={"COPILOT_CLI_PATH": str(mine)})
    assert (resolved.path, resolved.source) == (str(mine), "COPILOT_CLI_PATH")
    # PATH is read from the given env as well
    bin_dir = tmp_path / "bin"
    on_path = make_executable(bin_dir / "copilot")
    resolved = resolve_cli(env={"PATH": str(bin_dir)})
    assert (resolved.path, resolved.source) == (str(on_path), "PATH")


@needs_posix
def test_explicitly_empty_env_ignores_host_copilot_cli_path(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = make_executable(tmp_path / "host" / "copilot")
    monkeypatch.setenv("COPILOT_CLI_PATH", str(host))
    exe = build_tree(clean_env)
    resolved = resolve_cli(env={})
    assert resolved.source == "installed"
    assert resolved.path == str(exe)


def test_empty_env_var_counts_as_unset(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_CLI_PATH", "")
    exe = build_tree(clean_env)
    assert resolve_cli().path == str(exe)


@needs_posix
def test_cli_path_name_falls_back_to_which(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    tool = make_executable(bin_dir / "my-copilot")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-copilot").mkdir()  # a directory of that name in cwd is not an executable
    assert resolve_cli("my-copilot") == ResolvedCLI(str(tool), "cli_path", {})
    monkeypatch.setenv("COPILOT_CLI_PATH", "my-copilot")
    assert resolve_cli() == ResolvedCLI(str(tool), "COPILOT_CLI_PATH", {})


@needs_posix
def test_relative_cli_path_is_made_absolute(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_executable(tmp_path / "sub" / "copilot")
    monkeypatch.chdir(tmp_path)
    resolved = resolve_cli(os.path.join("sub", "copilot"))
    assert resolved.path == str(tmp_path / "sub" / "copilot")


def test_missing_cli_path_does_not_fall_through(clean_env: Path, tmp_path: Path) -> None:
    build_tree(clean_env)  # an installed copy exists, but the user asked for something else
    missing = str(tmp_path / "nope" / "copilot")
    with pytest.raises(CLINotFoundError) as info:
        resolve_cli(missing)
    message = str(info.value)
    assert missing in message
    assert message.rstrip().endswith(INSTALL_COMMAND)
    assert len(info.value.tried) == 1 and missing in info.value.tried[0]


def test_missing_env_var_path_does_not_fall_through(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_tree(clean_env)
    missing = str(tmp_path / "gone")
    monkeypatch.setenv("COPILOT_CLI_PATH", missing)
    with pytest.raises(CLINotFoundError) as info:
        resolve_cli()
    assert "COPILOT_CLI_PATH" in str(info.value) and missing in str(info.value)
    assert str(info.value).rstrip().endswith(INSTALL_COMMAND)


@needs_posix
def test_non_executable_file_is_rejected(clean_env: Path, tmp_path: Path) -> None:
    plain = tmp_path / "copilot"
    plain.write_text("not a program")
    plain.chmod(0o644)
    with pytest.raises(CLINotFoundError, match="not executable"):
        resolve_cli(str(plain))


def test_js_path_runs_with_node(clean_env: Path, tmp_path: Path) -> None:
    script = tmp_path / "index.js"
    script.write_text("console.log('hi')")
    resolved = resolve_cli(str(script))  # a .js file needs no execute bit
    assert resolved.source == "cli_path"
    prefix = resolved.argv_prefix
    assert len(prefix) == 2
    assert os.path.basename(prefix[0]).startswith("node")
    assert prefix[1] == str(script)
    assert ResolvedCLI("/x/copilot", "PATH").argv_prefix == ["/x/copilot"]


def test_not_found_lists_every_place(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    with pytest.raises(CLINotFoundError) as info:
        resolve_cli()
    error = info.value
    assert isinstance(error, CopilotError)
    assert [entry.split(" ")[0].rstrip(":") for entry in error.tried] == [
        "COPILOT_CLI_PATH",
        "installed",
        "PATH",
    ]
    assert "not set" in error.tried[0]
    assert str(clean_env) in error.tried[1] and "not installed" in error.tried[1]
    assert str(empty_bin) in error.tried[2]
    message = str(error)
    for entry in error.tried:
        assert entry in message
    assert message.splitlines()[-1].endswith(INSTALL_COMMAND)


def test_not_found_explains_a_wrong_installed_version(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_tree(clean_env, version="0.0.1")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CLINotFoundError) as info:
        resolve_cli()
    assert "'0.0.1'" in info.value.tried[1] and PINNED_CLI_VERSION in info.value.tried[1]


# ---------------------------------------------------------------------------
# find_installed_cli
# ---------------------------------------------------------------------------


def test_find_installed_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert find_installed_cli(home=home) is None
    exe = build_tree(home)
    found = find_installed_cli(home=home)
    assert found == InstalledCLI(
        executable=exe,
        version=PINNED_CLI_VERSION,
        home=home,
        xdg_cache_home=home / "xdg-cache",
        schemas_dir=exe.parent / "schemas",
    )
    assert found.env == {"XDG_CACHE_HOME": str(home / "xdg-cache")}
    assert find_installed_cli("9.9.9", home=home) is None


@needs_posix
def test_find_installed_cli_requires_execute_bit(tmp_path: Path) -> None:
    exe = build_tree(tmp_path)
    exe.chmod(0o644)
    assert find_installed_cli(home=tmp_path) is None


def test_find_installed_cli_uses_cli_home(clean_env: Path) -> None:
    build_tree(clean_env)
    found = find_installed_cli()
    assert found is not None and found.home == clean_env


# ---------------------------------------------------------------------------
# install_cli with a fake npm
# ---------------------------------------------------------------------------


@needs_posix
def test_install_runs_npm_and_verifies(fake_npm: Path, tmp_path: Path) -> None:
    home = tmp_path / "deep" / "home"
    installed = install_cli(home=home)
    assert installed.home == home
    assert installed.version == PINNED_CLI_VERSION
    assert installed.executable.is_file() and os.access(installed.executable, os.X_OK)
    assert installed.xdg_cache_home == home / "xdg-cache" and installed.xdg_cache_home.is_dir()
    assert (installed.schemas_dir / "api.schema.json").is_file()
    calls = npm_calls(fake_npm)
    assert len(calls) == 1
    args = calls[0]
    prefix = args[args.index("--prefix") + 1]
    assert prefix == f"{home}.tmp-{os.getpid()}"  # installed beside the target, then renamed
    assert args == [
        "install", "--no-save", "--no-audit", "--no-fund", "--no-package-lock",
        "--prefix", prefix, f"@github/copilot@{PINNED_CLI_VERSION}",
    ]  # fmt: skip
    assert not Path(prefix).exists()
    assert sorted(p.name for p in home.parent.iterdir()) == ["home"]


@needs_posix
def test_install_default_home_is_cli_home(fake_npm: Path, clean_env: Path) -> None:
    installed = install_cli()
    assert installed.home == clean_env
    assert resolve_cli().source == "installed"


@needs_posix
def test_install_is_idempotent(fake_npm: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = install_cli(home=home)
    marker = first.xdg_cache_home / "keep-me"
    marker.write_text("x")
    second = install_cli(home=home)
    assert second == first
    assert len(npm_calls(fake_npm)) == 1
    assert marker.exists()


@needs_posix
def test_install_force_reinstalls(fake_npm: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    install_cli(home=home)
    stray = home / "node_modules" / "stray.txt"
    stray.write_text("from the old install")
    again = install_cli(home=home, force=True)
    assert len(npm_calls(fake_npm)) == 2
    assert again.executable.is_file()
    assert not stray.exists()
    assert again.xdg_cache_home.is_dir()
    assert sorted(p.name for p in home.parent.iterdir() if p.name.startswith("home")) == ["home"]


@needs_posix
def test_install_replaces_a_wrong_version(fake_npm: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    build_tree(home, version="0.0.1")
    installed = install_cli(home=home)
    assert len(npm_calls(fake_npm)) == 1
    manifest = json.loads((installed.executable.parent / "package.json").read_text())
    assert manifest["version"] == PINNED_CLI_VERSION


@needs_posix
def test_install_other_version(fake_npm: Path, tmp_path: Path) -> None:
    installed = install_cli(version="1.2.3", home=tmp_path / "h")
    assert installed.version == "1.2.3"
    assert npm_calls(fake_npm)[0][-1] == "@github/copilot@1.2.3"


@needs_posix
def test_install_failure_reports_npm_stderr(
    fake_npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPM_MODE", "fail")
    home = tmp_path / "home"
    with pytest.raises(CLIInstallError) as info:
        install_cli(home=home)
    error = info.value
    assert isinstance(error, CopilotError)
    assert error.exit_code == 1
    assert "E404" in error.stderr and "E404" in str(error)
    assert "exit code 1" in str(error)
    assert error.command is not None and error.command[1] == "install"
    # npm had written a complete-looking tree before failing: none of it may survive
    assert not home.exists()
    assert list(tmp_path.glob("home*")) == []
    assert find_installed_cli(home=home) is None


@needs_posix
def test_install_without_executable_fails_cleanly(
    fake_npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPM_MODE", "noexec")
    home = tmp_path / "home"
    with pytest.raises(CLIInstallError, match="no usable Copilot CLI executable"):
        install_cli(home=home)
    assert list(tmp_path.glob("home*")) == []


@needs_posix
def test_install_where_npm_installs_nothing(
    fake_npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPM_MODE", "nothing")  # e.g. optional dependencies disabled
    with pytest.raises(CLIInstallError, match="not installed"):
        install_cli(home=tmp_path / "home")
    assert list(tmp_path.glob("home*")) == []


@needs_posix
def test_failed_force_keeps_the_old_install(
    fake_npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    first = install_cli(home=home)
    monkeypatch.setenv("FAKE_NPM_MODE", "fail")
    with pytest.raises(CLIInstallError):
        install_cli(home=home, force=True)
    assert find_installed_cli(home=home) == first


def test_install_without_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CLIInstallError, match="npm was not found") as info:
        install_cli(home=tmp_path / "home")
    assert "install-cli" in str(info.value)
    assert not (tmp_path / "home").exists()
    with pytest.raises(CLIInstallError, match="npm was not found"):
        install_cli(home=tmp_path / "home", npm=str(tmp_path / "no-such-npm"))


@needs_posix
def test_install_with_explicit_npm(
    fake_npm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    npm = shutil.which("npm")
    assert npm is not None
    monkeypatch.setenv("PATH", "/nonexistent")
    assert install_cli(home=tmp_path / "home", npm=npm).executable.is_file()


@needs_posix
def test_install_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = make_executable(tmp_path / "bin" / "npm", "echo working >&2\nexec sleep 30\n")
    with pytest.raises(CLIInstallError, match="did not finish"):
        install_cli(home=tmp_path / "home", npm=str(slow), timeout=0.5)
    assert list(tmp_path.glob("home*")) == []


def test_interrupted_install_leaves_nothing_that_looks_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """npm wrote everything, then the install was interrupted before the rename."""
    home = tmp_path / "home"

    def npm_then_interrupt(
        npm_path: str, prefix: Path, version: str, timeout: float | None
    ) -> None:
        build_tree(prefix, version)
        raise KeyboardInterrupt

    monkeypatch.setattr(_install, "_run_npm", npm_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        install_cli(home=home, npm=sys.executable)
    assert find_installed_cli(home=home) is None
    assert list(tmp_path.glob("home*")) == []


@needs_posix
def test_leftovers_of_a_crashed_install_are_ignored_then_removed(
    fake_npm: Path, tmp_path: Path
) -> None:
    """A process killed mid-install leaves ``<home>.tmp-<pid>``; it never counts as installed."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    home = tmp_path / "home"
    leftover = tmp_path / f"home.tmp-{dead.pid}"
    build_tree(leftover)
    alive_leftover = tmp_path / f"home.tmp-{os.getppid()}"  # belongs to a live process: keep
    alive_leftover.mkdir()
    assert find_installed_cli(home=home) is None
    install_cli(home=home)
    assert not leftover.exists()
    assert alive_leftover.exists()
    assert find_installed_cli(home=home) is not None


def test_install_refuses_to_replace_a_foreign_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "my-project"
    home.mkdir()
    (home / "important.txt").write_text("user data")
    monkeypatch.setattr(_install, "_run_npm", lambda *a: pytest.fail("npm must not run"))
    with pytest.raises(CLIInstallError, match="refusing"):
        install_cli(home=home, npm=sys.executable, force=True)
    assert (home / "important.txt").read_text() == "user data"


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------


@needs_posix
def test_main_install_cli(
    fake_npm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert main(["install-cli", "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert PINNED_CLI_VERSION in out and str(home) in out and "installed" in out
    assert main(["install-cli", "--home", str(home)]) == 0
    assert "already installed" in capsys.readouterr().out
    assert len(npm_calls(fake_npm)) == 1
    assert main(["install-cli", "--home", str(home), "--force", "--version", "1.0.82"]) == 0
    assert "1.0.82" in capsys.readouterr().out
    assert npm_calls(fake_npm)[-1][-1] == "@github/copilot@1.0.82"


@needs_posix
def test_main_install_cli_failure(
    fake_npm: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAKE_NPM_MODE", "fail")
    assert main(["install-cli", "--home", str(tmp_path / "home")]) == 1
    captured = capsys.readouterr()
    assert "E404" in captured.err
    assert captured.out == ""


@needs_posix
def test_main_where(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exe = build_tree(clean_env)
    assert main(["where"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(exe)
    assert "source: installed" in lines
    assert f"env: XDG_CACHE_HOME={clean_env / 'xdg-cache'}" in lines


def test_main_where_not_found(
    clean_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["where"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert INSTALL_COMMAND in captured.err


def test_main_without_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "install-cli" in capsys.readouterr().err


def test_python_dash_m_entry_point(clean_env: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "copilot_sync", "where"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert INSTALL_COMMAND in proc.stderr


# ---------------------------------------------------------------------------
# the real thing
# ---------------------------------------------------------------------------


@pytest.mark.real_cli
@pytest.mark.timeout(300)
def test_real_install_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    home = tmp_path / "real-home"
    installed = install_cli(home=home, timeout=280)
    assert installed.version == PINNED_CLI_VERSION
    assert install_cli(home=home) == installed  # idempotent: no second npm run needed

    env = dict(os.environ, **installed.env)
    proc = subprocess.run(
        [str(installed.executable), "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert PINNED_CLI_VERSION in proc.stdout
    # it unpacked itself into its private cache, not the user's, schemas included
    assert (installed.xdg_cache_home / "copilot").is_dir()
    assert (installed.find_schemas(unpack=False) / "api.schema.json").is_file()

    monkeypatch.delenv("COPILOT_CLI_PATH", raising=False)
    monkeypatch.setenv("COPILOT_SYNC_CLI_HOME", str(home))
    resolved = resolve_cli()
    assert (resolved.path, resolved.source) == (str(installed.executable), "installed")
    assert resolved.env == {"XDG_CACHE_HOME": str(installed.xdg_cache_home)}
