"""Installing the pinned Copilot CLI with npm, and finding the installed copy.

The CLI ships as the npm package ``@github/copilot``; the real program is a native,
self-contained executable in a per-platform package (``@github/copilot-linux-x64``,
``@github/copilot-darwin-arm64``, ...) that runs without Node. We install it with
``npm install --prefix <home>`` into a directory of our own::

    <home>/node_modules/@github/copilot-<platform>/copilot        the executable
    <home>/node_modules/@github/copilot-<platform>/schemas/*.json  the protocol schemas (up to 1.0.83)
    <home>/xdg-cache/                                             its private XDG_CACHE_HOME
    <home>/xdg-cache/copilot/pkg/<platform>/<version>/schemas/    the schemas of later versions,
                                                                  unpacked by the executable's first run

Why a private ``XDG_CACHE_HOME``: the executable unpacks itself under
``$XDG_CACHE_HOME/copilot/`` and then runs the *newest* version it finds there, so
sharing the user's cache with another (newer) Copilot install would silently run that
one instead of the version we pinned.

An install is made in ``<home>.tmp-<pid>`` and renamed into place only once it is
verified, so an interrupted install never leaves a directory that looks complete.
"""

from __future__ import annotations

import functools
import glob
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import CLIInstallError
from ._fields import is_array, is_object
from ._versions import DEFAULT_CLI_VERSION

__all__ = [
    "PINNED_CLI_VERSION",
    "CLIInstallError",
    "InstalledCLI",
    "cli_home",
    "find_installed_cli",
    "install_cli",
    "platform_package_name",
    "platform_package_names",
    "resolve_cli_version",
]

logger = logging.getLogger("copilot_sync.install")

#: The Copilot CLI version installed by default: the newest this SDK is tested with
#: (the supported range is in :mod:`copilot_sync._versions`).
PINNED_CLI_VERSION = DEFAULT_CLI_VERSION

#: The npm package that pulls in the right platform package as an optional dependency.
NPM_PACKAGE = "@github/copilot"

#: Environment variable that overrides where the CLI is installed.
CLI_HOME_ENV = "COPILOT_SYNC_CLI_HOME"

_XDG_CACHE_DIRNAME = "xdg-cache"
_API_SCHEMA = "api.schema.json"
#: A concrete npm version (``1.0.102``, ``1.0.84-4``), as opposed to a dist-tag (``latest``).
_VERSION_PATTERN = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?")
_STDERR_TAIL_LINES = 25
_STDERR_TAIL_CHARS = 4000


@dataclass(frozen=True)
class InstalledCLI:
    """A verified install of the Copilot CLI made by :func:`install_cli`.

    Run ``executable`` with ``XDG_CACHE_HOME`` set to ``xdg_cache_home`` (see :attr:`env`).
    """

    executable: Path
    version: str
    home: Path
    xdg_cache_home: Path
    schemas_dir: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment variables the executable must run with."""
        return {"XDG_CACHE_HOME": str(self.xdg_cache_home)}

    def find_schemas(self, *, unpack: bool = True, timeout: float = 120.0) -> Path:
        """The directory holding this CLI's ``api.schema.json`` and ``session-events.schema.json``.

        Up to 1.0.83 the npm package ships them (:attr:`schemas_dir`). Later versions unpack
        them into ``<xdg_cache_home>/copilot/pkg/<platform>/<version>/schemas/`` on their
        first run; with ``unpack`` (the default) this runs ``copilot --version
        --no-auto-update`` once, with this install's own cache and a throw-away
        ``COPILOT_HOME``, if they are not there yet. Raises :class:`CLIInstallError` if
        they cannot be found.
        """
        found = self._schemas_on_disk()
        if found is not None:
            return found
        if unpack:
            self._unpack(timeout)
            found = self._schemas_on_disk()
            if found is not None:
                return found
        raise CLIInstallError(
            f"the schemas of Copilot CLI {self.version} are neither in its package ({self.schemas_dir}) nor "
            f"in its unpack cache ({self.xdg_cache_home / 'copilot' / 'pkg'})"
            + ("" if unpack else "; run it once (`copilot --version`) to unpack them")
        )

    def _schemas_on_disk(self) -> Path | None:
        if (self.schemas_dir / _API_SCHEMA).is_file():
            return self.schemas_dir
        pattern = str(
            self.xdg_cache_home / "copilot" / "pkg" / "*" / glob.escape(self.version) / "schemas"
        )
        for candidate in sorted(glob.glob(pattern)):
            if (Path(candidate) / _API_SCHEMA).is_file():
                return Path(candidate)
        return None

    def _unpack(self, timeout: float) -> None:
        """Run the executable once so that it unpacks itself (about a second)."""
        self.xdg_cache_home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="copilot-sync-home-") as copilot_home:
            env = dict(
                os.environ, XDG_CACHE_HOME=str(self.xdg_cache_home), COPILOT_HOME=copilot_home
            )
            command = [str(self.executable), "--version", "--no-auto-update"]
            logger.info("unpacking Copilot CLI %s: %s", self.version, " ".join(command))
            try:
                subprocess.run(
                    command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=timeout,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise CLIInstallError(
                    f"could not run {self.executable} to unpack its schemas: {exc}"
                ) from exc


# ---------------------------------------------------------------------------
# Where things live
# ---------------------------------------------------------------------------


def cli_home(version: str = PINNED_CLI_VERSION) -> Path:
    """The directory the CLI of ``version`` is installed into.

    ``$COPILOT_SYNC_CLI_HOME`` if set (used as is, whatever the version), else
    ``${XDG_CACHE_HOME:-~/.cache}/copilot-sync/cli/<version>``.
    """
    override = os.environ.get(CLI_HOME_ENV)
    if override:
        return Path(override).expanduser()
    return _user_cache_dir() / "copilot-sync" / "cli" / version


def _user_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says relative paths in these variables are invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"])
    return Path.home() / ".cache"


# ---------------------------------------------------------------------------
# Which platform package
# ---------------------------------------------------------------------------

_SYSTEMS = {"linux": "linux", "darwin": "darwin", "windows": "win32"}
_MACHINES = {
    "x86_64": "x64",
    "amd64": "x64",
    "x64": "x64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv8": "arm64",
    "armv8l": "arm64",
}


@functools.lru_cache(maxsize=1)
def _is_musl() -> bool:
    """True on a musl-based Linux (Alpine...), where the ``linuxmusl-*`` package applies."""
    if platform.system().lower() != "linux":
        return False
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        libc = None
    if libc and libc.lower().startswith("glibc"):
        return False
    if glob.glob("/lib/ld-musl-*") or glob.glob("/lib64/ld-musl-*"):
        return True
    try:
        out = subprocess.run(
            ["ldd", "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return "musl" in (out.stdout + out.stderr).lower()


def platform_package_names(
    system: str | None = None, machine: str | None = None, *, musl: bool | None = None
) -> list[str]:
    """The platform packages that can run here, best first (``[]`` if none can).

    On musl Linux that is ``linuxmusl-<arch>`` then ``linux-<arch>``, the order the
    CLI's own npm loader tries them in. The arguments default to this machine.
    """
    system_key = _SYSTEMS.get((system if system is not None else platform.system()).lower())
    arch = _MACHINES.get((machine if machine is not None else platform.machine()).lower())
    if system_key is None or arch is None:
        return []
    if system_key == "linux":
        if musl is None:
            musl = _is_musl()
        prefixes = ["linuxmusl", "linux"] if musl else ["linux"]
    else:
        prefixes = [system_key]
    return [f"{NPM_PACKAGE}-{prefix}-{arch}" for prefix in prefixes]


def platform_package_name(
    system: str | None = None, machine: str | None = None, *, musl: bool | None = None
) -> str:
    """The npm package holding the native executable for this machine.

    Raises :class:`CLIInstallError` on a platform the CLI is not published for.
    """
    names = platform_package_names(system, machine, musl=musl)
    if not names:
        raise CLIInstallError(
            f"The Copilot CLI is not published for this platform "
            f"({system or platform.system()} {machine or platform.machine()})."
        )
    return names[0]


# ---------------------------------------------------------------------------
# Finding an install
# ---------------------------------------------------------------------------


def _inspect(home: Path, version: str) -> tuple[InstalledCLI | None, str]:
    """Look for a complete install of ``version`` in ``home``; say why not if there is none."""
    if not home.is_dir():
        return None, "not installed (the directory does not exist)"
    packages = platform_package_names()
    if not packages:
        return (
            None,
            f"no Copilot CLI package is published for {platform.system()} {platform.machine()}",
        )
    reasons: list[str] = []
    for package in packages:
        package_dir = home / "node_modules" / Path(*package.split("/"))
        manifest_path = package_dir / "package.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            reasons.append(f"{package} is not installed in {home}")
            continue
        except (OSError, ValueError) as exc:
            reasons.append(f"{manifest_path} is unreadable ({exc})")
            continue
        if not is_object(manifest):
            reasons.append(f"{manifest_path} is not a JSON object")
            continue
        found_version = manifest.get("version")
        if found_version != version:
            reasons.append(f"{package} in {home} is version {found_version!r}, not {version!r}")
            continue
        executable = package_dir / _executable_name(manifest)
        if not executable.is_file():
            reasons.append(f"{executable} is missing")
            continue
        if not os.access(executable, os.X_OK):
            reasons.append(f"{executable} is not executable")
            continue
        installed = InstalledCLI(
            executable=executable,
            version=version,
            home=home,
            xdg_cache_home=home / _XDG_CACHE_DIRNAME,
            schemas_dir=package_dir / "schemas",
        )
        return installed, ""
    return None, "; ".join(reasons)


def _executable_name(manifest: dict[str, Any]) -> str:
    """The executable's file name, read from the package's ``bin`` (``copilot`` by default)."""
    bin_field = manifest.get("bin")
    if isinstance(bin_field, str) and bin_field:
        return bin_field
    if is_object(bin_field):
        for value in bin_field.values():
            if isinstance(value, str) and value and not value.endswith(".js"):
                return value
    return "copilot.exe" if os.name == "nt" else "copilot"


def find_installed(
    version: str, home: str | os.PathLike[str] | None
) -> tuple[InstalledCLI | None, str]:
    resolved_home = _absolute(home) if home is not None else _absolute(cli_home(version))
    installed, reason = _inspect(resolved_home, version)
    if installed is not None:
        try:
            installed.xdg_cache_home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a read-only install still runs; the CLI reports its own error
            logger.debug("cannot create %s: %s", installed.xdg_cache_home, exc)
    return installed, reason


def find_installed_cli(
    version: str = PINNED_CLI_VERSION, home: str | os.PathLike[str] | None = None
) -> InstalledCLI | None:
    """The complete install of ``version`` in ``home`` (default :func:`cli_home`), or ``None``."""
    installed, reason = find_installed(version, home)
    if installed is None:
        logger.debug("no installed Copilot CLI %s: %s", version, reason)
    return installed


# ---------------------------------------------------------------------------
# Installing
# ---------------------------------------------------------------------------


def resolve_cli_version(
    version: str, *, npm: str | os.PathLike[str] | None = None, timeout: float | None = 60
) -> str:
    """``version`` itself when it is a concrete version; a dist-tag such as ``"latest"`` is
    asked of npm (``npm view @github/copilot@<tag> version``). Raises :class:`CLIInstallError`
    when npm is missing or does not know the tag."""
    if not isinstance(version, str) or not version.strip():
        raise ValueError(
            f"version must be a non-empty string such as '1.0.102' or 'latest', not {version!r}"
        )
    version = version.strip()
    if _VERSION_PATTERN.fullmatch(version):
        return version
    npm_path = _find_npm(npm)
    command = [npm_path, "view", f"{NPM_PACKAGE}@{version}", "version", "--json"]
    env = dict(os.environ, npm_config_update_notifier="false")
    try:
        completed = subprocess.run(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CLIInstallError(
            f"could not ask npm which version {NPM_PACKAGE}@{version} is: {exc}", command=command
        ) from exc
    answer: object = None
    try:
        answer = json.loads(completed.stdout) if completed.stdout.strip() else None
    except ValueError:
        answer = None
    if is_array(answer) and answer:
        answer = answer[-1]  # a range matches several versions: take the newest
    if (
        completed.returncode != 0
        or not isinstance(answer, str)
        or not _VERSION_PATTERN.fullmatch(answer)
    ):
        raise CLIInstallError(
            f"npm does not know a version {NPM_PACKAGE}@{version}"
            + (f": {_tail(completed.stderr)}" if completed.stderr.strip() else ""),
            command=command,
            exit_code=completed.returncode,
            stderr=_tail(completed.stderr),
        )
    logger.info("%s@%s is version %s", NPM_PACKAGE, version, answer)
    return answer


def install_cli(
    *,
    version: str = PINNED_CLI_VERSION,
    home: str | os.PathLike[str] | None = None,
    npm: str | os.PathLike[str] | None = None,
    force: bool = False,
    timeout: float | None = 600,
) -> InstalledCLI:
    """Install ``@github/copilot@<version>`` with npm into ``home`` and return it.

    ``version`` may be a dist-tag such as ``"latest"``: npm resolves it first
    (:func:`resolve_cli_version`). Does nothing when that version is already installed
    there, unless ``force``. ``home`` defaults to :func:`cli_home`; ``npm`` to ``npm`` on
    ``PATH``. Raises :class:`CLIInstallError` if npm is missing, fails, times out, or
    installs no executable for this platform.
    """
    version = resolve_cli_version(version, npm=npm)
    target = _absolute(home) if home is not None else _absolute(cli_home(version))
    if not force:
        existing, _ = find_installed(version, target)
        if existing is not None:
            logger.info("Copilot CLI %s is already installed at %s", version, existing.executable)
            return existing

    npm_path = _find_npm(npm)
    packages = platform_package_names()
    if not packages:
        platform_package_name()  # raises the "not published for this platform" error

    _refuse_foreign_directory(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_work_dirs(target)
    staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _run_npm(npm_path, staging, version, timeout)
        staged, reason = _inspect(staging, version)
        if staged is None:
            raise CLIInstallError(
                f"npm installed {NPM_PACKAGE}@{version} but no usable Copilot CLI executable "
                f"for this platform ({', '.join(packages)}): {reason}"
            )
        (staging / _XDG_CACHE_DIRNAME).mkdir(exist_ok=True)
        if not force and _inspect(target, version)[0] is not None:
            logger.info("another process installed Copilot CLI %s at %s meanwhile", version, target)
        else:
            _move_into_place(staging, target, version)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    installed, reason = find_installed(version, target)
    if installed is None:  # pragma: no cover - someone removed it under our feet
        raise CLIInstallError(f"the Copilot CLI install at {target} vanished: {reason}")
    logger.info("installed Copilot CLI %s at %s", version, installed.executable)
    return installed


def _find_npm(npm: str | os.PathLike[str] | None) -> str:
    if npm is not None:
        candidate = os.fspath(npm)
        if os.path.isfile(candidate):
            return candidate
        found = shutil.which(candidate)
        if found:
            return found
        raise CLIInstallError(f"npm was not found at {candidate!r}.")
    found = shutil.which("npm")
    if not found:
        raise CLIInstallError(
            "npm was not found on PATH. Install Node.js (https://nodejs.org/, it includes npm) "
            "and run `python -m copilot_sync install-cli` again."
        )
    return found


def _run_npm(npm_path: str, prefix: Path, version: str, timeout: float | None) -> None:
    command = [
        npm_path,
        "install",
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--no-package-lock",
        "--prefix",
        str(prefix),
        f"{NPM_PACKAGE}@{version}",
    ]
    env = dict(os.environ)
    env["npm_config_update_notifier"] = "false"
    logger.info("running %s", " ".join(command))
    try:
        completed = subprocess.run(
            command,
            cwd=str(prefix),
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = _tail(_as_text(exc.stderr))
        raise CLIInstallError(
            f"npm install {NPM_PACKAGE}@{version} did not finish within {timeout} s."
            + (f"\nnpm stderr (last lines):\n{stderr}" if stderr else ""),
            command=command,
            stderr=stderr,
        ) from None
    except OSError as exc:
        raise CLIInstallError(f"could not run npm ({npm_path}): {exc}", command=command) from exc
    if completed.stdout:
        logger.debug("npm stdout:\n%s", completed.stdout.rstrip())
    if completed.returncode != 0:
        stderr = _tail(completed.stderr)
        raise CLIInstallError(
            f"npm install {NPM_PACKAGE}@{version} failed with exit code {completed.returncode}."
            + (f"\nnpm stderr (last lines):\n{stderr}" if stderr else ""),
            command=command,
            exit_code=completed.returncode,
            stderr=stderr,
        )
    if completed.stderr:
        logger.debug("npm stderr:\n%s", completed.stderr.rstrip())


def _move_into_place(staging: Path, target: Path, version: str) -> None:
    """Rename the verified ``staging`` directory to ``target``, replacing what was there."""
    displaced: Path | None = None
    if target.exists() or target.is_symlink():
        displaced = target.with_name(f"{target.name}.old-{os.getpid()}")
        shutil.rmtree(displaced, ignore_errors=True)
        os.replace(target, displaced)
    try:
        os.replace(staging, target)
    except OSError as exc:
        # Another process may have finished the same install between our two renames.
        if _inspect(target, version)[0] is not None:
            logger.info("another process installed Copilot CLI %s at %s first", version, target)
        else:
            if displaced is not None and not target.exists():
                os.replace(displaced, target)
                displaced = None
            raise CLIInstallError(f"could not move the new install into {target}: {exc}") from exc
    finally:
        if displaced is not None:
            shutil.rmtree(displaced, ignore_errors=True)


#: What an install directory may hold; anything else means it is not ours to replace.
_OWN_ENTRIES = frozenset(
    {"node_modules", _XDG_CACHE_DIRNAME, "package.json", "package-lock.json", ".package-lock.json"}
)


def _refuse_foreign_directory(target: Path) -> None:
    """Never replace (and so delete) a directory that holds anything but a CLI install.

    ``COPILOT_SYNC_CLI_HOME`` or ``home=`` could point at a directory full of the user's
    own files; an install replaces the whole directory, so it must be ours.
    """
    if not (target.exists() or target.is_symlink()):
        return
    if not target.is_dir() or target.is_symlink():
        raise CLIInstallError(f"refusing to install over {target}: it is not a directory")
    foreign = sorted(entry.name for entry in target.iterdir() if entry.name not in _OWN_ENTRIES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise CLIInstallError(
            f"refusing to install over {target}: it holds files that are not part of a "
            f"Copilot CLI install ({shown}). Choose an empty or new directory."
        )


def _remove_stale_work_dirs(target: Path) -> None:
    """Remove ``<home>.tmp-<pid>``/``.old-<pid>`` left behind by processes that died."""
    for suffix in (".tmp-", ".old-"):
        for leftover in target.parent.glob(f"{glob.escape(target.name)}{suffix}*"):
            pid_text = leftover.name[len(target.name) + len(suffix) :]
            if not pid_text.isdigit():
                continue
            pid = int(pid_text)
            if pid != os.getpid() and _pid_alive(pid):
                continue
            logger.info("removing leftover of an interrupted install: %s", leftover)
            shutil.rmtree(leftover, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there; stay conservative
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists but is not ours
        return True
    return True


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def _as_text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data


def _tail(text: str) -> str:
    lines = text.rstrip().splitlines()[-_STDERR_TAIL_LINES:]
    tail = "\n".join(lines)
    return tail[-_STDERR_TAIL_CHARS:]
