"""Parameter descriptions from docstrings (Google style, NumPy sections, Sphinx ``:param x:`` fields)."""

from __future__ import annotations

import dataclasses
import inspect
import re

__all__ = ["class_doc", "parse_docstring"]


# --------------------------------------------------------------------------------------------
# Docstrings (Google style, plus Sphinx ``:param x:`` fields)

_ARG_SECTIONS = {
    "args",
    "arguments",
    "parameters",
    "params",
    "keyword args",
    "keyword arguments",
    "other parameters",
    "attributes",
}
_SECTION_RE = re.compile(
    r"^(args|arguments|parameters|params|keyword args|keyword arguments|other parameters|attributes|"
    r"returns?|yields?|raises?)\s*:\s*$",
    re.IGNORECASE,
)
_ENTRY_RE = re.compile(r"^\*{0,2}([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_FIELD_RE = re.compile(
    r"^:(param|parameter|arg|argument|key|keyword|type|returns?|rtype|raises?|except|exception|ivar|var|cvar|vartype)\b"
)
_SPHINX_PARAM_RE = re.compile(
    r"^:(?:param|parameter|arg|argument|key|keyword|ivar|var|cvar)\s+(?:[^:]*\s)?\*{0,2}([A-Za-z_]\w*)\s*:\s*(.*)$"
)
_NUMPY_SECTIONS = {"parameters", "returns", "yields", "raises", "attributes", "other parameters"}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """(description, {parameter name: description}) from a docstring."""
    if not doc or not doc.strip():
        return None, {}
    lines = inspect.cleandoc(doc).splitlines()
    params: dict[str, str] = {}
    end = len(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        header = _SECTION_RE.match(stripped)
        if header:
            end = min(end, i)
            is_args = header.group(1).lower() in _ARG_SECTIONS
            header_indent = _indent(line)
            entry_indent: int | None = None
            current: str | None = None
            i += 1
            while i < len(lines):
                sub = lines[i]
                if not sub.strip():
                    i += 1
                    continue
                ind = _indent(sub)
                if ind <= header_indent:
                    break
                if entry_indent is None:
                    entry_indent = ind
                if ind <= entry_indent:
                    entry = _ENTRY_RE.match(sub.strip()) if is_args else None
                    current = entry.group(1) if entry else None
                    if entry:
                        params[current] = entry.group(2).strip()  # type: ignore[index]
                elif current is not None:
                    params[current] = f"{params[current]} {sub.strip()}".strip()
                i += 1
            continue
        if _SPHINX_FIELD_RE.match(stripped):
            end = min(end, i)
            param = _SPHINX_PARAM_RE.match(stripped)
            current = param.group(1) if param else None
            if param:
                params[param.group(1)] = param.group(2).strip()
            i += 1
            while i < len(lines) and lines[i].strip() and _indent(lines[i]) > _indent(line):
                if current is not None:
                    params[current] = f"{params[current]} {lines[i].strip()}".strip()
                i += 1
            continue
        if (
            stripped.lower() in _NUMPY_SECTIONS
            and i + 1 < len(lines)
            and set(lines[i + 1].strip()) == {"-"}
            and len(lines[i + 1].strip()) >= 3
        ):
            end = min(end, i)
            break
        i += 1
    description = "\n".join(lines[:end]).strip() or None
    return description, params


def class_doc(cls: type) -> str | None:
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str):
        return None
    if dataclasses.is_dataclass(cls) and "\n" not in doc and doc.startswith(cls.__name__ + "("):
        return None  # the signature dataclasses writes when there is no docstring
    return doc
