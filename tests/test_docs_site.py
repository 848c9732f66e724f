"""The documentation site builds with ``mkdocs build --strict`` (no warnings: no broken
link, no missing page, no docstring mkdocstrings cannot read), and its API reference has an
entry for every public name."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = [
    "copilot_sync",
    "copilot_sync.testing",
    "copilot_sync.testing.actions",
    "copilot_sync.batch",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        importlib.import_module("mkdocs")
        importlib.import_module("mkdocstrings")
        importlib.import_module("material")
    except ImportError:
        pytest.skip(
            "mkdocs, mkdocs-material or mkdocstrings is not installed: pip install -e '.[docs]'"
        )
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, (
        f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    )
    return out


@pytest.mark.timeout(300)
def test_the_site_builds_strict(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "reference" / "index.html").is_file()


@pytest.mark.timeout(300)
def test_every_public_name_has_an_api_entry(site: Path) -> None:
    html = "\n".join(
        path.read_text(encoding="utf-8") for path in (site / "reference").rglob("*.html")
    )
    missing = []
    for module_name in PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in module.__all__:
            if f'id="{module_name}.{name}"' not in html:
                missing.append(f"{module_name}.{name}")
    assert not missing, "public names without an entry in docs/reference/:\n" + "\n".join(missing)


def test_the_nav_lists_every_page() -> None:
    """Every markdown file under docs/ is reachable from mkdocs.yml's nav."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    assert not [p for p in pages if p not in nav], "pages missing from the nav"
