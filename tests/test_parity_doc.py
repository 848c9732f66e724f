"""docs/PARITY.md (written by scripts/parity.py) agrees with copilot_sync's current signatures.

Only our side is checked here, so the official SDK is not needed: what the doc marks present
is really accepted (under the name and wire field it gives), nothing it marks planned or
absent is accepted, and everything we accept is in the doc. Adding an option or a public
method therefore means regenerating the doc (`scripts/parity.py`, see its docstring).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "PARITY.md"
STATUSES = {"present", "planned", "absent"}


def _load_script():
    spec = importlib.util.spec_from_file_location("parity_script", ROOT / "scripts" / "parity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


OURS = _load_script().our_surface()


def _tables(text: str) -> dict[tuple[str, str], list[list[str]]]:
    """(section, "main" or "only") -> rows of cells, the header and rule left out."""
    tables: dict[tuple[str, str], list[list[str]]] = {}
    section, part = "", "main"
    for line in text.splitlines():
        if line.startswith("## "):
            section, part = line[3:].strip(), "main"
        elif line.startswith("### Only in copilot_sync"):
            part = "only"
        elif line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows = tables.setdefault((section, part), [])
            rows.append(cells)
    return {key: rows[2:] for key, rows in tables.items()}  # drop header and |---|


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


TABLES = _tables(DOC.read_text(encoding="utf-8"))
MEMBER_SECTIONS = {
    "CopilotClient(...) options": "client",
    "CopilotClient methods and properties": "client_members",
    "CopilotSession methods and properties": "session_members",
}


def test_the_doc_has_every_section():
    assert {section for section, _ in TABLES} == {"Session options", *MEMBER_SECTIONS}
    for key, rows in TABLES.items():
        assert rows or key[1] == "only", key


def test_session_options_marked_present_are_accepted_under_that_wire_field():
    create, resume, wire = set(OURS["create"]), set(OURS["resume"]), OURS["wire"]
    for official, in_create, in_resume, ours, status, wire_cell, _schema, _note in TABLES[
        ("Session options", "main")
    ]:
        assert status in STATUSES, official
        (name,) = _names(official)
        if status != "present":
            assert ours == "—" and name not in create | resume, (
                f"{name} is marked {status} but is accepted"
            )
            continue
        (ours_name,) = _names(ours)
        if in_create == "✓":
            assert ours_name in create, (
                f"{ours_name} is marked present for create_session but is refused"
            )
        if in_resume == "✓":
            assert ours_name in resume, (
                f"{ours_name} is marked present for resume_session but is refused"
            )
        expected_wire = f"`{wire[ours_name]}`" if ours_name in wire else "—"
        assert wire_cell == expected_wire, (
            f"{ours_name}: the doc says {wire_cell}, copilot_sync sends {expected_wire}"
        )


def test_every_accepted_session_option_is_in_the_doc():
    listed = {"create": set(), "resume": set()}
    for _official, in_create, in_resume, ours, status, *_ in TABLES[("Session options", "main")]:
        if status == "present":
            listed["create"] |= set(_names(ours)) if in_create == "✓" else set()
            listed["resume"] |= set(_names(ours)) if in_resume == "✓" else set()
    for ours, in_create, in_resume, _note in TABLES[("Session options", "only")]:
        (name,) = _names(ours)
        if in_create == "✓":
            assert name in OURS["create"], f"{name} is listed for create_session but is refused"
            listed["create"].add(name)
        if in_resume == "✓":
            assert name in OURS["resume"], f"{name} is listed for resume_session but is refused"
            listed["resume"].add(name)
    for method in ("create", "resume"):
        missing = set(OURS[method]) - listed[method]
        assert not missing, (
            f"{method}_session takes {sorted(missing)}, not in docs/PARITY.md: regenerate it"
        )


@pytest.mark.parametrize("section", sorted(MEMBER_SECTIONS))
def test_client_and_session_names_agree_with_the_doc(section):
    ours = set(OURS[MEMBER_SECTIONS[section]])
    listed: set[str] = set()
    for official, names, status, _note in TABLES[(section, "main")]:
        assert status in STATUSES, official
        (name,) = _names(official)
        if status == "present":
            missing = set(_names(names)) - ours
            assert _names(names) and not missing, (
                f"{section}: {name} is marked present, but {missing} is missing"
            )
            listed |= set(_names(names))
        else:
            assert names == "—" and name not in ours, (
                f"{section}: {name} is marked {status} but copilot_sync has it"
            )
    for only, _note in TABLES.get((section, "only"), []):
        (name,) = _names(only)
        assert name in ours, (
            f"{section}: {name} is listed as ours but copilot_sync has no such name"
        )
        listed.add(name)
    assert ours - listed == set(), (
        f"{section}: {sorted(ours - listed)} not in docs/PARITY.md: regenerate it"
    )
