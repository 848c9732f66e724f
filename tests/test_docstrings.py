"""Every public name, and every public member of a public class, has a docstring; and no
docstring cites a document that is not in the repository."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PUBLIC_MODULES = [
    "copilot_sync",
    "copilot_sync.testing",
    "copilot_sync.testing.actions",
    "copilot_sync.batch",
]


def _modules() -> list[Any]:
    found = []
    for name in PUBLIC_MODULES:
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            continue
    return found


def _own_doc(owner: type, name: str, value: Any) -> str | None:
    """The member's own docstring (not one inherited from ``object``/builtins)."""
    raw = inspect.getattr_static(owner, name)
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__
    if isinstance(raw, property):
        return raw.__doc__
    if inspect.isfunction(raw) or inspect.ismethoddescriptor(raw) or inspect.isdatadescriptor(raw):
        return raw.__doc__  # its own: the API reference shows no inherited docstring
    return None  # plain attributes (constants, enum members) are documented by their class


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    for name in sorted(vars(cls)):
        if name.startswith("_"):
            continue
        # members defined in the package itself, not inherited from builtins/typing
        value = getattr(cls, name, None)
        yield name, value


def public_objects() -> Iterator[tuple[str, Any, str | None]]:
    """(dotted name, object, docstring) for every public name and public class member."""
    for module in _modules():
        for name in module.__all__:
            obj = getattr(module, name)
            qual = f"{module.__name__}.{name}"
            if inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj):
                yield qual, obj, obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)
            if inspect.isclass(obj):
                if obj.__module__.startswith("copilot_sync.generated"):
                    continue  # generated classes are documented by their generator
                for member, value in _members(obj):
                    raw = inspect.getattr_static(obj, member)
                    if not (
                        isinstance(raw, (staticmethod, classmethod, property))
                        or inspect.isfunction(raw)
                    ):
                        continue
                    yield f"{qual}.{member}", value, _own_doc(obj, member, value)


def test_every_public_name_and_member_has_a_docstring() -> None:
    missing = [name for name, _obj, doc in public_objects() if not (doc and doc.strip())]
    assert not missing, f"{len(missing)} public names without a docstring:\n" + "\n".join(missing)


def test_no_docstring_cites_a_document_outside_the_repo() -> None:
    citing = [name for name, _obj, doc in public_objects() if doc and "PROTOCOL §" in doc]
    assert not citing, "docstrings citing PROTOCOL §N (not in the repo):\n" + "\n".join(citing)


def test_no_source_or_doc_cites_protocol_sections() -> None:
    """Module docstrings and comments too: ``PROTOCOL §N`` named a document that is not in
    the repository; explain in place or point to docs/ instead."""
    root = Path(__file__).resolve().parents[1]
    files = [*(root / "src" / "copilot_sync").rglob("*.py"), root / "README.md"]
    files += (root / "docs").rglob("*.md")
    citing = [
        str(path.relative_to(root))
        for path in files
        if "generated" not in path.parts and "PROTOCOL §" in path.read_text(encoding="utf-8")
    ]
    assert not citing, "files citing PROTOCOL §N:\n" + "\n".join(citing)
