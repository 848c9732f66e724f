"""The distributions: what `python -m build` makes, and what a user gets from them.

One sdist and one wheel are built (the wheel from the sdist, as `python -m build` does, so an
sdist missing a file fails here) from a copy of the source tree, so the repository is never
written to. Then:

- the wheel's metadata carries the PEP 639 license expression, the LICENSE file, the one
  version (`copilot_sync/_version.py`), the extras and `py.typed`;
- the sdist, unpacked, holds the tests and everything they read, and a sample of its own tests
  passes when run from the unpacked tree;
- the wheel installs and imports on every CPython from 3.10 to 3.13 found on this machine
  (the running one at least), each in a fresh virtualenv.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import copilot_sync

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
#: Tests that need nothing but the unpacked sdist and the package: fast, no CLI.
SDIST_SAMPLE = (
    "tests/test_framing.py",
    "tests/test_events.py",
    "tests/test_schema.py",
    "tests/test_architecture.py",
    "tests/test_fake_cli.py",
)
_SKIP_DIRS = {".git", ".venv", "build", "dist", "site", "__pycache__", ".pytest_cache"}

pytestmark = pytest.mark.timeout(600)


def _ignore(_directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIP_DIRS or n.endswith(".egg-info")}


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    pytest.importorskip("build", reason="the `build` package is in the test extra")
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_ignore)
    out = work / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    yield sdist, wheel


def _wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode())


def test_the_wheel_carries_license_version_extras_and_types(dists: tuple[Path, Path]) -> None:
    _, wheel = dists
    meta = _wheel_metadata(wheel)
    assert meta["Name"] == "copilot-sync"
    assert meta["Version"] == copilot_sync.__version__
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.10"
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"otel", "test"} <= extras
    urls = meta.get_all("Project-URL") or []
    assert any(url.startswith("Repository, ") for url in urls)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "copilot_sync/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith("tests/") for n in names), "tests belong in the sdist only"


def test_the_sdist_runs_its_own_tests(dists: tuple[Path, Path], tmp_path: Path) -> None:
    sdist, _ = dists
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (tree,) = tmp_path.iterdir()
    for needed in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "tests/conftest.py"):
        assert (tree / needed).is_file(), f"the sdist lacks {needed}"
    for folder in ("docs", "examples", "scripts"):
        assert any((tree / folder).iterdir()), f"the sdist lacks {folder}/"
    # Run the sample against the sdist's own source, not the repository's.
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *SDIST_SAMPLE],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import copilot_sync; print(copilot_sync.__file__)"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(probe.stdout.strip()).is_relative_to(tree)


def _interpreters() -> dict[str, str]:
    """The CPython of each supported minor version found here: on PATH, or under pyenv."""
    found: dict[str, str] = {}
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in SUPPORTED:
        candidates = [shutil.which(f"python{minor}")]
        candidates += sorted(str(p) for p in pyenv.glob(f"{minor}.*/bin/python{minor}"))
        for candidate in candidates:
            if candidate is None:
                continue
            check = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if check.returncode == 0 and check.stdout.strip() == minor:
                found[minor] = candidate
                break
    return found


def _install_and_import(python: str, wheel: Path, where: Path) -> str:
    venv = where / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    done = subprocess.run(
        [*pip, "install", str(wheel)], capture_output=True, text=True, timeout=400
    )
    assert done.returncode == 0, done.stderr[-3000:]
    probe = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sys, copilot_sync, copilot_sync.testing; "
            "from copilot_sync import CopilotClient, define_tool; "
            "print('%d.%d' % sys.version_info[:2], copilot_sync.__version__)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=where,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    version = subprocess.run(
        [str(venv / "bin" / "copilot-sync"), "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=where,
    )
    assert version.stdout.strip() == f"copilot-sync {copilot_sync.__version__}"
    return probe.stdout.strip()


def test_the_wheel_installs_and_imports_on_each_supported_python(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = dists
    pythons = _interpreters()
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert running in pythons or running not in SUPPORTED
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = {
            minor: pool.submit(_install_and_import, python, wheel, tmp_path / minor)
            for minor, python in pythons.items()
        }
        for minor, result in results.items():
            assert result.result() == f"{minor} {copilot_sync.__version__}"
    missing = sorted(set(SUPPORTED) - set(pythons))
    if missing:
        print(f"no interpreter found here for Python {', '.join(missing)}")
