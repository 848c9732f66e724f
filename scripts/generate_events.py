#!/usr/bin/env python3
"""Generate ``src/copilot_sync/generated/session_events.py`` from the CLI's event schema.

Usage::

    python scripts/generate_events.py [--schema PATH] [--output PATH] [--check]

The schema is ``session-events.schema.json`` from the ``@github/copilot-<platform>``
npm package. Without ``--schema`` it is looked up in the copilot-sync CLI install cache
(``$COPILOT_SYNC_CLI_HOME`` if set, else ``${XDG_CACHE_HOME:-~/.cache}/copilot-sync/cli/<the default CLI version>``).

The output is deterministic: the same schema always gives a byte-identical file. It
holds declarations only: ``SessionEventType``; one slotted class per object type (not
``@dataclass``: 300 dataclasses cost ~130 ms to import, these ~5 ms); one class per
discriminated union, whose variants subclass it; a field-less subclass named after the
event for payload types that several events share (``SessionContextChangedData`` is a
``WorkingDirectoryContext``); and the ``EVENT_DATA_TYPES`` table. The parsing logic
lives in ``copilot_sync._records``, which reads each class's ``__slots__``, ``_WIRE``,
``_REQUIRED`` and annotations on first use. The annotations use a small fixed grammar
that the runtime understands::

    str | int | float | bool | datetime | Any | <ClassName>
    list[T] | dict[str, T] | T | None

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _default_cli_version() -> str:
    """The SDK's default CLI version (``copilot_sync._versions``), read without importing
    the package, so that the script runs from a bare checkout."""
    source = (
        Path(__file__).resolve().parent.parent / "src" / "copilot_sync" / "_versions.py"
    ).read_text("utf-8")
    match = re.search(r'^DEFAULT_CLI_VERSION = "([^"]+)"', source, re.M)
    if match is None:
        raise SystemExit("DEFAULT_CLI_VERSION not found in src/copilot_sync/_versions.py")
    return match.group(1)


CLI_VERSION = _default_cli_version()
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "src" / "copilot_sync" / "generated" / "session_events.py"

# Event types that CLI 1.0.81 and later send but that are not in their schema (PROTOCOL.md §6.2).
# Their payloads are untyped: they parse to ``RawEventData``.
EXTRA_EVENT_TYPES = (
    "model.turn_started",
    "model.turn_ended",
    "model.turn_failed",
    "model.turn_retry",
    "model.model_call_started",
    "model.model_call_success",
    "model.model_call_failure",
    "model.message",
    "model.response",
    "model.messages_snapshot",
    "model.tool_execution",
    "model.log",
)

# Names defined by the runtime base classes; schema fields with these names get a
# trailing underscore.
RESERVED_ATTRIBUTES = frozenset({"raw", "from_dict", "to_dict", "wire_names", "get", "mro"})
# Builtin shadowing rule: a class attribute named like a type the annotations use would
# shadow that type in its own class scope (``list: list[Any]`` makes every later
# ``list[...]`` annotation of the class refer to the attribute), so schema fields with
# these names get a trailing underscore too (``list`` -> ``list_``; the wire name stays
# ``list`` in ``_WIRE``, so parsing and ``to_dict`` are unchanged). Other builtin names
# (``type``, ``id``, ``format``) are kept: no annotation refers to them, and they are
# the schema's own names.
ANNOTATION_NAMES = frozenset({"str", "int", "float", "bool", "list", "dict", "datetime"})
# Names the generated module itself defines or imports.
RESERVED_CLASS_NAMES = frozenset(
    {
        "Any",
        "TYPE_CHECKING",
        "Enum",
        "datetime",
        "RawEventData",
        "SessionEventType",
        "EVENT_DATA_TYPES",
        "_Record",
        "_UnionRecord",
        "Literal",
        "TypeAlias",
        "Union",
        "EVENT_CLASSES",
        "SessionEventBase",
        "UnknownSessionEvent",
    }
)
LINE_WIDTH = 99


class SchemaError(Exception):
    """The schema has a shape this generator does not understand."""


# --------------------------------------------------------------------------- paths


def cli_home() -> Path:
    """The copilot-sync CLI install directory (the one holding ``node_modules``)."""
    explicit = os.environ.get("COPILOT_SYNC_CLI_HOME")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "copilot-sync" / "cli" / CLI_VERSION


def find_schema(file_name: str) -> Path | None:
    """``<file_name>`` of the pinned CLI: in its npm package (up to 1.0.83) or, for later
    versions, in its unpack cache (running the executable once to unpack it if needed);
    ``None`` if the CLI is not installed. ``COPILOT_SYNC_CLI_HOME`` names another install."""
    home = cli_home()
    try:
        from copilot_sync._install import CLIInstallError, find_installed_cli
    except ImportError:  # run without the package installed: look by hand below
        pass
    else:
        installed = find_installed_cli(CLI_VERSION, home)
        try:
            candidate = installed.find_schemas() / file_name if installed is not None else None
        except CLIInstallError:
            candidate = None
        if candidate is not None and candidate.is_file():
            return candidate
    for other in sorted((home / "node_modules" / "@github").glob(f"copilot-*/schemas/{file_name}")):
        if other.is_file():
            return other
    return None


def default_schema_path() -> Path | None:
    """``session-events.schema.json`` inside the CLI install cache, or ``None``."""
    return find_schema("session-events.schema.json")


# --------------------------------------------------------------------------- naming


def snake_case(name: str) -> str:
    """``toolCallId`` → ``tool_call_id``; ``_meta`` → ``meta``; keywords get a ``_``."""
    text = re.sub(r"[^0-9A-Za-z_]+", "_", name)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"_+", "_", text).strip("_").lower()
    if not text:
        text = "field"
    if text[0].isdigit():
        text = "f_" + text
    if keyword.iskeyword(text) or text in RESERVED_ATTRIBUTES or text in ANNOTATION_NAMES:
        text += "_"
    return text


def pascal_case(text: str) -> str:
    """``assistant.message_delta`` → ``AssistantMessageDelta``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


def member_name(event_type: str) -> str:
    """``assistant.message`` → ``ASSISTANT_MESSAGE``."""
    return re.sub(r"[^0-9A-Za-z]+", "_", event_type).strip("_").upper()


# --------------------------------------------------------------------------- model


@dataclass
class FieldSpec:
    attr: str
    wire: str
    annotation: str  # without "| None"
    required: bool
    nullable: bool
    notes: list[str] = field(default_factory=list)


@dataclass
class ClassSpec:
    name: str
    description: str
    fields: list[FieldSpec] = field(default_factory=list)
    base: str | None = None  # the union this is a variant of, or the class this aliases
    alias: bool = False  # a field-less subclass naming a shared payload after its event
    event_types: list[str] = field(default_factory=list)
    schema_name: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class UnionSpec:
    name: str
    description: str
    discriminator: str
    variants: dict[str, str]  # discriminator value -> class name
    event_types: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Event:
    type: str
    data_def: str
    always_ephemeral: bool
    description: str


def _ref_name(ref: str) -> str:
    prefix = "#/definitions/"
    if not ref.startswith(prefix):
        raise SchemaError(f"unsupported $ref {ref!r}")
    return ref[len(prefix) :]


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _sentence(text: str | None) -> str:
    text = _clean(text)
    if text and text[-1] not in ".!?:":
        text += "."
    return text


def _notes_for(schema: dict[str, Any]) -> list[str]:
    notes = []
    description = schema.get("description") or ""
    if schema.get("deprecated") and "deprecated" not in description.lower():
        notes.append("Deprecated.")
    if schema.get("stability") == "experimental" and "experimental" not in description.lower():
        notes.append("Experimental.")
    if schema.get("visibility") == "internal":
        notes.append("Internal.")
    return notes


class Generator:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, dict[str, Any]] = schema.get("definitions") or {}
        self.events: list[Event] = []
        self.envelope_defs: set[str] = set()
        self.class_names: dict[str, str] = {}  # definition name -> Python class name
        self.classes: dict[str, ClassSpec] = {}  # Python class name -> spec
        self.unions: dict[str, UnionSpec] = {}  # Python class name -> spec
        self.annotations: dict[str, str] = {}  # definition name -> annotation (non-class defs)
        self.built: set[str] = set()
        self.references: dict[str, int] = {}  # definition name -> number of $refs to it
        self.event_classes: dict[str, str] = {}  # event type -> payload class name

    # ------------------------------------------------------------- analysis

    def run(self) -> str:
        if "SessionEvent" not in self.defs:
            raise SchemaError("no SessionEvent definition")
        self._collect_events()
        self._name_definitions()
        for def_name in self.defs:
            if def_name == "SessionEvent" or def_name in self.envelope_defs:
                continue
            self._build_definition(def_name)
        taken = (
            set(self.defs) | set(self.classes) | set(self.unions) | set(self.class_names.values())
        )
        for event in self.events:
            target = self.class_names.get(event.data_def, "")
            if target in self.classes:
                # A payload type shared with other events or fields (``McpListChangedData``,
                # ``WorkingDirectoryContext``) gets a field-less subclass named after the
                # event, so every event's payload class is ``<EventType>Data``.
                derived = pascal_case(event.type) + "Data"
                if derived.lower() != target.lower() and derived not in taken:
                    taken.add(derived)
                    self.classes[derived] = ClassSpec(
                        name=derived,
                        description=f"The payload of ``{event.type}``: a ``{target}``.",
                        base=target,
                        alias=True,
                        event_types=[event.type],
                    )
                    self.event_classes[event.type] = derived
                    continue
                self.classes[target].event_types.append(event.type)
            elif target in self.unions:
                self.unions[target].event_types.append(event.type)
            else:
                raise SchemaError(
                    f"event {event.type!r}: data {event.data_def!r} is not an object type"
                )
            self.event_classes[event.type] = target
        self._name_event_classes()
        return self._render()

    def _name_event_classes(self) -> None:
        """``assistant.message`` → ``AssistantMessageEvent`` (the schema's own name for the
        envelope), for every event type including the extra ``model.*`` ones."""
        self.envelope_classes: dict[str, str] = {}
        taken = set(self.classes) | set(self.unions) | RESERVED_CLASS_NAMES
        for event_type in [event.type for event in self.events] + list(EXTRA_EVENT_TYPES):
            name = pascal_case(event_type) + "Event"
            if name in taken:
                raise SchemaError(f"event class name {name!r} ({event_type!r}) is taken")
            taken.add(name)
            self.envelope_classes[event_type] = name

    def _collect_events(self) -> None:
        seen: set[str] = set()
        for alternative in self.defs["SessionEvent"].get("anyOf") or []:
            def_name = _ref_name(alternative["$ref"])
            envelope = self.defs[def_name]
            props = envelope.get("properties") or {}
            event_type = (props.get("type") or {}).get("const")
            data = props.get("data") or {}
            if not isinstance(event_type, str) or "$ref" not in data:
                raise SchemaError(f"{def_name}: no const type or no data $ref")
            if event_type in seen:
                raise SchemaError(f"duplicate event type {event_type!r}")
            seen.add(event_type)
            self.envelope_defs.add(def_name)
            self.events.append(
                Event(
                    type=event_type,
                    data_def=_ref_name(data["$ref"]),
                    always_ephemeral=(props.get("ephemeral") or {}).get("const") is True,
                    description=_clean(data.get("description")),
                )
            )
        for extra in EXTRA_EVENT_TYPES:
            if extra in seen:
                raise SchemaError(f"{extra!r} is now in the schema; drop it from EXTRA_EVENT_TYPES")

    def _name_definitions(self) -> None:
        """Event payloads used by one event only are named after the event type
        (``session.start`` → ``SessionStartData``), like the official SDK does; every
        other definition keeps its schema name."""
        references = self.references

        def count(node: Any) -> None:
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    name = _ref_name(ref)
                    references[name] = references.get(name, 0) + 1
                for value in node.values():
                    count(value)
            elif isinstance(node, list):
                for value in node:
                    count(value)

        for def_name, definition in self.defs.items():
            if def_name != "SessionEvent":
                count(definition)
        taken = set(self.defs)
        for def_name in self.defs:
            self.class_names[def_name] = def_name
        for event in self.events:
            if references.get(event.data_def, 0) != 1:
                continue
            derived = pascal_case(event.type) + "Data"
            if derived.lower() == event.data_def.lower():
                continue  # same name, keep the schema's capitalisation (UIEphemeralQueryData)
            if derived in taken or derived in RESERVED_CLASS_NAMES:
                continue
            taken.add(derived)
            self.class_names[event.data_def] = derived
        for def_name, class_name in self.class_names.items():
            if def_name == "SessionEvent" or def_name in self.envelope_defs:
                continue  # rendered as the event classes and the SessionEvent union
            if class_name in RESERVED_CLASS_NAMES:
                raise SchemaError(f"definition {def_name!r} clashes with a generated name")

    def _build_definition(self, def_name: str) -> None:
        if def_name in self.built:
            return
        self.built.add(def_name)
        definition = self.defs[def_name]
        name = self.class_names[def_name]
        if "enum" in definition:
            self.annotations[def_name] = "str" if definition.get("type") == "string" else "Any"
        elif definition.get("x-opaque-json"):
            self.annotations[def_name] = "Any"
        elif "anyOf" in definition or "oneOf" in definition:
            alternatives = definition.get("anyOf") or definition.get("oneOf")
            union = self._discriminated(name, alternatives, definition)
            if union is None:
                objects = all(self._is_object(alt) for alt in alternatives)
                self.annotations[def_name] = "dict[str, Any]" if objects else "Any"
            else:
                self.unions[name] = union
        elif definition.get("type") == "object" or "properties" in definition:
            if "properties" in definition:
                self._build_class(name, definition, schema_name=def_name)
            else:
                self.annotations[def_name] = self._map_annotation(definition, name)
        else:
            simple = {k: v for k, v in definition.items() if k not in ("title", "description")}
            self.annotations[def_name], _ = self._annotation(simple, name, "value")

    def _is_object(self, schema: dict[str, Any]) -> bool:
        if "$ref" in schema:
            schema = self.defs[_ref_name(schema["$ref"])]
        return schema.get("type") == "object"

    def _const_of(self, prop: dict[str, Any]) -> str | None:
        if isinstance(prop.get("const"), str):
            return prop["const"]
        target = prop
        if "$ref" in prop:
            target = self.defs[_ref_name(prop["$ref"])]
        values = target.get("enum")
        if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str):
            return values[0]
        return None

    def _discriminated(
        self, name: str, alternatives: list[dict[str, Any]], definition: dict[str, Any]
    ) -> UnionSpec | None:
        """A union of object types that all carry one property with a distinct constant."""
        resolved: list[tuple[str | None, dict[str, Any]]] = []
        for alternative in alternatives:
            if "$ref" in alternative:
                ref = _ref_name(alternative["$ref"])
                resolved.append((ref, self.defs[ref]))
            else:
                resolved.append((None, alternative))
        if not resolved or not all(
            s.get("type") == "object" and "properties" in s for _, s in resolved
        ):
            return None
        candidates = set.intersection(*(set(s["properties"]) for _, s in resolved))
        for discriminator in sorted(candidates, key=lambda c: (c not in ("type", "kind"), c)):
            values = [self._const_of(s["properties"][discriminator]) for _, s in resolved]
            if all(v is not None for v in values) and len(set(values)) == len(values):
                break
        else:
            return None
        variants: dict[str, str] = {}
        base_stem, suffix = (name[:-4], "Data") if name.endswith("Data") else (name, "")
        for (ref, schema), value in zip(resolved, values, strict=True):
            assert value is not None
            if ref is not None:
                variant = self.class_names[ref]
            else:
                variant = f"{base_stem}{pascal_case(value)}{suffix}"
                if variant in self.defs or variant in self.classes:
                    raise SchemaError(f"inline variant name {variant!r} is taken")
                self._build_class(variant, schema, schema_name=None)
            variants[value] = variant
        return UnionSpec(
            name=name,
            description=_sentence(definition.get("description")),
            discriminator=discriminator,
            variants=variants,
            notes=_notes_for(definition),
        )

    def _build_class(self, name: str, schema: dict[str, Any], schema_name: str | None) -> None:
        if name in self.classes:
            raise SchemaError(f"class {name!r} defined twice")
        spec = ClassSpec(
            name=name,
            description=_sentence(schema.get("description")),
            schema_name=schema_name if schema_name != name else None,
            notes=_notes_for(schema),
        )
        self.classes[name] = spec  # register first: nested inline classes refer to it
        required = set(schema.get("required") or [])
        used: set[str] = set()
        fields_required: list[FieldSpec] = []
        fields_optional: list[FieldSpec] = []
        for wire, prop in (schema.get("properties") or {}).items():
            attr = self._attr_name(wire)
            while attr in used:
                attr += "_"
            used.add(attr)
            annotation, nullable = self._annotation(prop, name, wire)
            notes = []
            description = _sentence(prop.get("description"))
            if description:
                notes.append(description)
            notes.extend(_notes_for(prop))
            values = self._enum_values(prop)
            if values:
                notes.append("Open enum; known values: " + ", ".join(repr(v) for v in values) + ".")
            spec_field = FieldSpec(
                attr=attr,
                wire=wire,
                annotation=annotation,
                required=wire in required,
                nullable=nullable,
                notes=notes,
            )
            (fields_required if spec_field.required else fields_optional).append(spec_field)
        spec.fields = fields_required + fields_optional

    def _attr_name(self, wire: str) -> str:
        """The Python attribute name of a wire field."""
        return snake_case(wire)

    def _enum_values(self, prop: dict[str, Any]) -> list[str]:
        for alternative in [prop, *list(prop.get("anyOf") or [])]:
            if "enum" in alternative:
                return [str(v) for v in alternative["enum"]]
            if "$ref" in alternative:
                ref = _ref_name(alternative["$ref"])
                if "enum" in self.defs[ref]:
                    return [str(v) for v in self.defs[ref]["enum"]]
        return []

    def _map_annotation(self, schema: dict[str, Any], owner: str) -> str:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            value, _ = self._annotation(extra, owner, "value")
            return f"dict[str, {value}]"
        return "dict[str, Any]"

    def _annotation(self, schema: dict[str, Any], owner: str, wire: str) -> tuple[str, bool]:
        """(annotation without ``| None``, nullable) for a property schema."""
        if "$ref" in schema:
            ref = _ref_name(schema["$ref"])
            if ref not in self.defs:
                raise SchemaError(f"{owner}.{wire}: dangling $ref {ref!r}")
            return self._def_annotation(ref), False
        if schema.get("x-opaque-json"):
            return "Any", False
        for key in ("anyOf", "oneOf"):
            if key in schema:
                alternatives = schema[key]
                nullable = any(alt.get("type") == "null" for alt in alternatives)
                rest = [alt for alt in alternatives if alt.get("type") != "null"]
                if len(rest) == 1:
                    annotation, inner_nullable = self._annotation(rest[0], owner, wire)
                    return annotation, nullable or inner_nullable
                if rest and all(self._is_object(alt) for alt in rest):
                    return "dict[str, Any]", nullable
                return "Any", nullable
        kind = schema.get("type")
        nullable = False
        if isinstance(kind, list):
            nullable = "null" in kind
            rest = [k for k in kind if k != "null"]
            kind = rest[0] if len(rest) == 1 else None
        if kind == "string":
            return ("datetime" if schema.get("format") == "date-time" else "str"), nullable
        if kind == "integer":
            return "int", nullable
        if kind == "number":
            return "float", nullable
        if kind == "boolean":
            return "bool", nullable
        if kind == "null":
            return "Any", True
        if kind == "array":
            items = schema.get("items")
            if isinstance(items, dict):
                item, item_nullable = self._annotation(items, owner, wire)
                return f"list[{item}{' | None' if item_nullable else ''}]", nullable
            return "list[Any]", nullable
        if kind == "object":
            if "properties" in schema:
                inline = owner + pascal_case(wire)
                if inline in self.defs or inline in self.classes:
                    raise SchemaError(f"inline class name {inline!r} is taken")
                self._build_class(inline, schema, schema_name=None)
                return inline, nullable
            return self._map_annotation(schema, owner), nullable
        return "Any", nullable

    def _def_annotation(self, def_name: str) -> str:
        if def_name in self.envelope_defs or def_name == "SessionEvent":
            return "dict[str, Any]"
        self._build_definition(def_name)
        if def_name in self.annotations:
            return self.annotations[def_name]
        return self.class_names[def_name]

    # ------------------------------------------------------------- rendering

    def _render(self) -> str:
        out: list[str] = []
        w = out.append
        w(
            "# Generated by scripts/generate_events.py from session-events.schema.json "
            f"(@github/copilot {CLI_VERSION}). Do not edit."
        )
        w('"""Session events: one class per event type, and their typed payloads.')
        w("")
        w("One class per object type of the CLI's event schema. Attributes are snake_case;")
        w("``_WIRE`` holds the wire (camelCase) names in the same order as ``__slots__``, and")
        w("``wire_names()`` maps one to the other. Parsing (``from_dict``) never raises: unknown")
        w(
            "fields are ignored (but kept in ``raw``), missing ones become ``None``, and wrongly typed"
        )
        w("values are kept as received. Enums are open and stay plain ``str``. Parsing logic: see")
        w("``copilot_sync._records``.")
        w("")
        w("``SessionEvent`` is the union of the event classes (``AssistantMessageEvent``...,")
        w("``UnknownSessionEvent``): their ``type`` is a ``Literal``, so checking")
        w('``event.type == "assistant.message"`` narrows ``event.data`` to the payload class.')
        w("``EVENT_CLASSES`` maps each type string to its event class (``parse_event`` uses it).")
        w('"""')
        w("")
        w("# The record bases are the package's private runtime; this module is part of that")
        w("# package, so reaching them is not private usage.")
        w("# pyright: reportPrivateUsage=false")
        w("from __future__ import annotations")
        w("")
        w("from enum import Enum")
        w("from typing import TYPE_CHECKING, Literal, Union")
        w("")
        w("from .._events import SessionEventBase, UnknownSessionEvent")
        w("from .._records import RawEventData, _Record, _UnionRecord")
        w("")
        w("if TYPE_CHECKING:")
        w("    from datetime import datetime")
        w("    from typing import Any, TypeAlias")
        w("")
        names = ["EVENT_CLASSES", "EVENT_DATA_TYPES", "RawEventData", "SessionEvent"]
        names += ["SessionEventBase", "SessionEventType", "UnknownSessionEvent"]
        names += sorted(set(self.classes) | set(self.unions) | set(self.envelope_classes.values()))
        w("__all__ = [")
        for name in names:
            w(f'    "{name}",')
        w("]")
        w("")
        w("")
        self._render_enum(w)
        emitted: set[str] = set()
        for name in sorted(set(self.classes) | set(self.unions)):
            self._render_class_once(name, w, emitted)
        w("")
        w("# Event type -> payload class. The types sent by the CLI but missing from the schema")
        w("# map to RawEventData.")
        w("EVENT_DATA_TYPES: dict[str, type] = {")
        for event in self.events:
            w(f'    "{event.type}": {self.event_classes[event.type]},')
        for extra in EXTRA_EVENT_TYPES:
            w(f'    "{extra}": RawEventData,')
        w("}")
        self._render_event_classes(w)
        return "\n".join(out) + "\n"

    def _render_event_classes(self, w: Any) -> None:
        """One class per event type, the ``SessionEvent`` union, and ``EVENT_CLASSES``."""
        w("")
        w("")
        w("# --------------------------------------------------------------------------- events")
        for event_type, name in self.envelope_classes.items():
            payload = self.event_classes.get(event_type, "RawEventData")
            base = f"SessionEventBase[Literal[{json.dumps(event_type)}], {payload}]"
            w("")
            w("")
            if len(f"class {name}({base}):") <= LINE_WIDTH:
                w(f"class {name}({base}):")
            else:
                w(f"class {name}(")
                w(f"    {base},")
                w("):")
            how = "untyped: not in the schema" if payload == "RawEventData" else "typed"
            self._docstring(
                w,
                [
                    f"A ``{event_type}`` event: ``type`` is ``{json.dumps(event_type)}``,"
                    f" ``data`` a :class:`{payload}` ({how})."
                ],
            )
            w("")
            w("    __slots__ = ()")
        w("")
        w("")
        w('#: Every session event: narrow it with ``event.type == "..."`` or ``isinstance``.')
        w("SessionEvent: TypeAlias = Union[")
        for name in self.envelope_classes.values():
            w(f"    {name},")
        w("    UnknownSessionEvent,")
        w("]")
        w("")
        w("# Event type -> event class; types not in this table parse to UnknownSessionEvent.")
        w("EVENT_CLASSES: dict[str, type[SessionEventBase[Any, Any]]] = {")
        for event_type, name in self.envelope_classes.items():
            w(f'    "{event_type}": {name},')
        w("}")

    def _render_enum(self, w: Any) -> None:
        members: dict[str, str] = {}
        w("class SessionEventType(str, Enum):")
        w('    """The ``type`` of a session event. Compares equal to the wire string.')
        w("")
        w("    Unknown strings map to ``UNKNOWN`` (``SessionEventType('x.y') is UNKNOWN``).")
        w('    """')
        w("")
        for event in self.events:
            member = member_name(event.type)
            if member in members:
                raise SchemaError(
                    f"{event.type!r} and {members[member]!r} give the same member name"
                )
            members[member] = event.type
            suffix = "  # always ephemeral" if event.always_ephemeral else ""
            w(f'    {member} = "{event.type}"{suffix}')
        w(
            "    # Sent by CLI 1.0.81 and later but not in the schema (always ephemeral); data is RawEventData."
        )
        for extra in EXTRA_EVENT_TYPES:
            member = member_name(extra)
            if member in members:
                raise SchemaError(f"{extra!r} and {members[member]!r} give the same member name")
            members[member] = extra
            w(f'    {member} = "{extra}"')
        w('    UNKNOWN = "unknown"')
        w("")
        w("    @classmethod")
        w("    def _missing_(cls, value: object) -> SessionEventType:")
        w("        return cls.UNKNOWN")
        w("")
        w("    def __str__(self) -> str:")
        w("        return str.__str__(self)")
        w("")
        w("")

    def _render_class_once(self, name: str, w: Any, emitted: set[str]) -> None:
        if name in emitted:
            return
        spec = self.classes.get(name)
        if spec is not None and spec.base is None:
            for union in self.unions.values():
                if name in union.variants.values():
                    spec.base = union.name
        if spec is not None and spec.base is not None:
            self._render_class_once(spec.base, w, emitted)
        emitted.add(name)
        if spec is not None:
            self._render_class(spec, w)
        else:
            self._render_union(self.unions[name], w)

    def _docstring(self, w: Any, paragraphs: list[str]) -> None:
        lines: list[str] = []
        for index, paragraph in enumerate(p for p in paragraphs if p):
            if index:
                lines.append("")
            lines.extend(
                textwrap.wrap(
                    paragraph, LINE_WIDTH - 4, break_long_words=False, break_on_hyphens=False
                )
            )
        if not lines:
            lines = ["(No description in the schema.)"]
        text = "\n".join(lines).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        if text.endswith('"'):
            text += " "
        body = text.split("\n")
        if len(body) == 1:
            w(f'    """{body[0]}"""')
            return
        w(f'    """{body[0]}')
        for line in body[1:]:
            w(f"    {line}" if line else "")
        w('    """')

    def _tuple(self, w: Any, name: str, values: list[str]) -> None:
        items = [json.dumps(v) for v in values]
        one_line = f"    {name} = ({', '.join(items)}{',' if len(items) == 1 else ''})"
        if len(one_line) <= LINE_WIDTH:
            w(one_line)
            return
        w(f"    {name} = (")
        line = ""
        for item in items:
            if line and len(line) + len(item) + 2 > LINE_WIDTH - 8:
                w(f"        {line}")
                line = ""
            line = f"{line} {item}," if line else f"{item},"
        w(f"        {line}")
        w("    )")

    def _render_class(self, spec: ClassSpec, w: Any) -> None:
        base = spec.base or "_Record"
        w(f"class {spec.name}({base}):")
        if spec.alias:
            self._docstring(w, [spec.description])
            w("")
            w("    __slots__ = ()")
            w("")
            w("")
            return
        paragraphs = [spec.description]
        extra = []
        if spec.event_types:
            extra.append("Payload of " + ", ".join(f"``{t}``" for t in spec.event_types) + ".")
        union = self.unions.get(spec.base or "")
        if union is not None:
            value = next(v for v, name in union.variants.items() if name == spec.name)
            extra.append(
                f"The ``{union.discriminator}: {json.dumps(value)}`` variant of ``{union.name}``."
            )
        if spec.schema_name:
            extra.append(f"Schema: ``{spec.schema_name}``.")
        extra.extend(spec.notes)
        paragraphs.append(" ".join(extra))
        if not spec.description:
            paragraphs = paragraphs[1:]
        self._docstring(w, paragraphs)
        w("")
        self._tuple(w, "__slots__", [f.attr for f in spec.fields])
        self._tuple(w, "_WIRE", [f.wire for f in spec.fields])
        required = sum(1 for f in spec.fields if f.required)
        if required:
            w(f"    _REQUIRED = {required}")
        if spec.fields:
            w("")
        for spec_field in spec.fields:
            comment = " ".join(spec_field.notes)
            for line in textwrap.wrap(
                comment, LINE_WIDTH - 7, break_long_words=False, break_on_hyphens=False
            ):
                w(f"    #: {line}")
            annotation = spec_field.annotation
            if (spec_field.nullable or not spec_field.required) and annotation != "Any":
                annotation += " | None"
            w(f"    {spec_field.attr}: {annotation}")
        w("")
        w("")

    def _render_union(self, spec: UnionSpec, w: Any) -> None:
        w(f"class {spec.name}(_UnionRecord):")
        extra = []
        if spec.event_types:
            extra.append("Payload of " + ", ".join(f"``{t}``" for t in spec.event_types) + ".")
        extra.append(
            f"A union discriminated by ``{spec.discriminator}``: ``from_dict`` returns the matching"
            f" subclass, or a bare ``{spec.name}`` (fields readable through ``raw``) for an unknown"
            f" ``{spec.discriminator}``."
        )
        extra.extend(spec.notes)
        self._docstring(w, [spec.description, " ".join(extra)])
        w("")
        w("    __slots__ = ()")
        w(f'    _DISCRIMINATOR = "{spec.discriminator}"')
        w("    _VARIANTS = {")
        for value, variant in spec.variants.items():
            w(f"        {json.dumps(value)}: {json.dumps(variant)},")
        w("    }")
        w("")
        w("")


def generate(schema: dict[str, Any]) -> str:
    """The generated module's source text for a parsed schema."""
    return Generator(schema).run()


def run_command_line(
    argv: list[str] | None,
    *,
    description: str,
    schema_name: str,
    find_schema: Callable[[], Path | None],
    default_output: Path,
    generate_text: Callable[[dict[str, Any]], str],
    prog: str,
) -> int:
    """The shared ``--schema/--output/--check`` command line of the generator scripts."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--schema", type=Path, help=f"{schema_name} (default: the CLI install cache)"
    )
    parser.add_argument(
        "--output", type=Path, default=default_output, help=f"default: {default_output}"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the output file is not up to date"
    )
    args = parser.parse_args(argv)
    schema_path = args.schema or find_schema()
    if schema_path is None:
        parser.error(
            f"no {schema_name} under {cli_home()}; install the CLI "
            "(python -m copilot_sync install-cli) or pass --schema"
        )
    try:
        with open(schema_path, encoding="utf-8") as handle:
            schema = json.load(handle)
        text = generate_text(schema)
    except (OSError, ValueError, KeyError, SchemaError) as exc:
        print(f"{prog}: {schema_path}: {exc}", file=sys.stderr)
        return 2
    data = text.encode("utf-8")
    if args.check:
        try:
            current = args.output.read_bytes()
        except OSError:
            current = b""
        if current != data:
            print(f"{prog}: {args.output} is out of date", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, args.output)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command_line(
        argv,
        description=__doc__.split("\n\n")[0],
        schema_name="session-events.schema.json",
        find_schema=default_schema_path,
        default_output=DEFAULT_OUTPUT,
        generate_text=generate,
        prog="generate_events",
    )


if __name__ == "__main__":
    sys.exit(main())
