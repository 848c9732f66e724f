"""Finding the Copilot CLI executable to spawn.

Looked up in this order (the official SDK's order, with our own installed copy in place
of its downloaded one):

1. the ``cli_path`` argument: an explicit request, so if it cannot be found the search
   stops there with :class:`CLINotFoundError` instead of quietly running another CLI;
2. ``COPILOT_CLI_PATH`` in the effective environment (``env`` if given, even an empty
   mapping, else ``os.environ``); also explicit, so also no falling through;
3. the copy installed by ``python -m copilot_sync install-cli`` (:mod:`._install`),
   which must run with its own ``XDG_CACHE_HOME`` (returned in :attr:`ResolvedCLI.env`);
4. ``copilot`` on ``PATH``.

A path that does not exist as a file is retried through :func:`shutil.which`, so
``cli_path="copilot"`` works. A path ending in ``.js`` is run with Node.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from ._errors import CLINotFoundError
from ._install import PINNED_CLI_VERSION, cli_home, find_installed

__all__ = ["INSTALL_COMMAND", "ResolvedCLI", "resolve_cli"]

logger = logging.getLogger("copilot_sync.discovery")

#: The command that installs the pinned CLI; every not-found message ends with it.
INSTALL_COMMAND = "python -m copilot_sync install-cli"


@dataclass
class ResolvedCLI:
    """A Copilot CLI executable to spawn.

    ``source`` says where it was found: ``"cli_path"``, ``"COPILOT_CLI_PATH"``,
    ``"installed"`` or ``"PATH"``. ``env`` holds environment variables the child must
    get on top of its usual environment (``XDG_CACHE_HOME`` for the installed copy).
    """

    path: str
    source: str
    env: dict[str, str] = field(default_factory=dict[str, str])

    @property
    def argv_prefix(self) -> list[str]:
        """The start of the command line: ``[path]``, or ``[node, path]`` for a ``.js`` file."""
        if self.path.lower().endswith(".js"):
            return [shutil.which("node") or "node", self.path]
        return [self.path]


def resolve_cli(
    cli_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> ResolvedCLI:
    """Find the Copilot CLI to run; raise :class:`CLINotFoundError` saying where it looked.

    ``env`` is the environment the CLI will be started with; ``COPILOT_CLI_PATH`` and
    ``PATH`` are read from it. ``None`` means ``os.environ``; an empty mapping is taken
    at its word (the host's ``COPILOT_CLI_PATH`` is then not used).
    """
    effective_env: Mapping[str, str] = os.environ if env is None else env
    search_path = effective_env.get("PATH")
    tried: list[str] = []

    if cli_path is not None:
        given = os.fspath(cli_path)
        found, why = _locate(given, search_path)
        if found is None:
            tried.append(f"cli_path argument {given!r}: {why}")
            raise _not_found(
                tried,
                f"The Copilot CLI given as cli_path={given!r} was not found",
                "Pass the path of an existing executable, or omit cli_path after running",
            )
        return _found(found, "cli_path")

    env_value = effective_env.get("COPILOT_CLI_PATH")
    if env_value:
        found, why = _locate(env_value, search_path)
        if found is None:
            tried.append(f"COPILOT_CLI_PATH={env_value!r}: {why}")
            raise _not_found(
                tried,
                f"The Copilot CLI named by COPILOT_CLI_PATH={env_value!r} was not found",
                "Fix or unset COPILOT_CLI_PATH; to use the pinned CLI instead, unset it and run",
            )
        return _found(found, "COPILOT_CLI_PATH")
    tried.append("COPILOT_CLI_PATH: not set")

    installed, why = find_installed(PINNED_CLI_VERSION, None)
    if installed is not None:
        return _found(str(installed.executable), "installed", dict(installed.env))
    tried.append(f"installed copy ({cli_home(PINNED_CLI_VERSION)}): {why}")

    on_path = shutil.which("copilot", path=search_path)
    if on_path:
        return _found(os.path.abspath(on_path), "PATH")
    shown_path = search_path if search_path is not None else os.environ.get("PATH", os.defpath)
    tried.append(f"PATH: no 'copilot' in {shown_path!r}")

    raise _not_found(tried, "The Copilot CLI was not found", "Install the pinned version with")


def _locate(candidate: str, search_path: str | None) -> tuple[str | None, str]:
    """An absolute path for ``candidate`` (a path, else a name looked up on PATH), or why not."""
    expanded = os.path.expanduser(candidate)
    if os.path.isfile(expanded):
        absolute = os.path.abspath(expanded)
        if absolute.lower().endswith(".js") or os.access(absolute, os.X_OK):
            return absolute, ""
        return None, f"{absolute} exists but is not executable"
    reason = "is a directory" if os.path.isdir(expanded) else "does not exist"
    found = shutil.which(candidate, path=search_path)
    if found:
        return os.path.abspath(found), ""
    return None, f"{reason}, and no executable of that name is on PATH"


def _found(path: str, source: str, env: dict[str, str] | None = None) -> ResolvedCLI:
    resolved = ResolvedCLI(path=path, source=source, env=env or {})
    logger.debug("using Copilot CLI %s (from %s)", path, source)
    return resolved


def _not_found(tried: list[str], headline: str, remedy: str) -> CLINotFoundError:
    lines = [f"{headline}. Looked at:"]
    lines += [f"  - {entry}" for entry in tried]
    lines.append(f"{remedy}: {INSTALL_COMMAND}")
    return CLINotFoundError("\n".join(lines), tried=tried)
