"""Validation of JSON values against a user-supplied JSON Schema (a common subset), for
tools that declare their schema by hand: ``define_tool(..., parameters={...})``."""

from __future__ import annotations

import math
import re
from typing import Any, cast

from .._fields import is_array, is_object
from .argument_error import ArgumentError, canonical, got, key_path, kind_of, short

__all__ = ["validate_against_schema"]

# --------------------------------------------------------------------------------------------
# Validation against a user-supplied JSON Schema

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
    "array": "an array",
    "object": "an object",
}


def _is_json_type(value: object, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if json_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "null":
        return value is None
    if json_type == "array":
        return isinstance(value, (list, tuple))
    if json_type == "object":
        return is_object(value)
    return True  # unknown type names are ignored


_PATTERNS: dict[str, re.Pattern[str] | None] = {}


def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return _PATTERNS[text]
    except KeyError:
        try:
            compiled: re.Pattern[str] | None = re.compile(text)
        except re.error:
            compiled = None
        if len(_PATTERNS) < 1000:
            _PATTERNS[text] = compiled
        return compiled


def _num(x: object) -> str:
    return short(x)


def _plural(n: object, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


class _Validator:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.active: set[tuple[int, int]] = set()

    def resolve(self, ref: str) -> Any:
        if ref == "#":
            return self.root
        if not ref.startswith("#/"):
            return None
        node = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if is_object(node) and part in node:
                node = node[part]
            elif is_array(node) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node

    def deref(self, schema: Any) -> Any:
        for _ in range(32):
            if is_object(schema) and isinstance(schema.get("$ref"), str) and len(schema) == 1:
                target = self.resolve(schema["$ref"])
                if target is None:
                    return schema
                schema = target
            else:
                break
        return schema

    def type_matches(self, schema: Any, value: Any) -> bool:
        schema = self.deref(schema)
        if not is_object(schema):
            return schema is not False
        t = schema.get("type")
        if isinstance(t, str):
            return _is_json_type(value, t)
        if is_array(t):
            return any(_is_json_type(value, x) for x in t if isinstance(x, str))
        if "enum" in schema and is_array(schema["enum"]):
            return any(kind_of(e) == kind_of(value) for e in schema["enum"])
        if "const" in schema:
            return kind_of(schema["const"]) == kind_of(value)
        return True

    def describe(self, schema: Any) -> str:
        schema = self.deref(schema)
        if not is_object(schema):
            return "any value"
        t = schema.get("type")
        if isinstance(t, str):
            return _TYPE_WORDS.get(t, t)
        if is_array(t):
            return " or ".join(_TYPE_WORDS.get(x, str(x)) for x in t)
        if is_array(schema.get("enum")):
            return "one of " + ", ".join(short(v) for v in schema["enum"][:20])
        if "const" in schema:
            return short(schema["const"])
        return "a matching value"

    def check(self, schema: Any, value: Any, path: str, errs: list[tuple[str, str]]) -> None:
        if schema is True or schema is None:
            return
        if schema is False:
            errs.append((path, "no value is allowed here"))
            return
        if not is_object(schema):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self.resolve(ref)
            if target is not None:
                key = (id(target), id(value))
                if key not in self.active:
                    self.active.add(key)
                    try:
                        self.check(target, value, path, errs)
                    finally:
                        self.active.discard(key)
        t = schema.get("type")
        if t is not None:
            allowed = (
                [t]
                if isinstance(t, str)
                else [x for x in t if isinstance(x, str)]
                if is_array(t)
                else []
            )
            if allowed and not any(_is_json_type(value, x) for x in allowed):
                words = " or ".join(_TYPE_WORDS.get(x, x) for x in allowed)
                errs.append((path, f"expected {words}, got {got(value)}"))
                return
        if "enum" in schema and is_array(schema["enum"]):
            canon = canonical(value)
            if not any(canonical(e) == canon for e in schema["enum"]):
                shown = ", ".join(short(v) for v in schema["enum"][:20])
                errs.append((path, f"must be one of {shown}; got {short(value)}"))
        if "const" in schema and canonical(schema["const"]) != canonical(value):
            errs.append((path, f"must be {short(schema['const'])}; got {short(value)}"))

        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.check_number(schema, value, path, errs)
        elif isinstance(value, str):
            self.check_string(schema, value, path, errs)
        elif isinstance(value, (list, tuple)):
            self.check_array(schema, cast("list[Any] | tuple[Any, ...]", value), path, errs)
        elif is_object(value):
            self.check_object(schema, value, path, errs)

        any_of = schema.get("anyOf")
        if is_array(any_of) and any_of:
            self.check_alternatives(any_of, value, path, errs, exactly_one=False)
        one_of = schema.get("oneOf")
        if is_array(one_of) and one_of:
            self.check_alternatives(one_of, value, path, errs, exactly_one=True)
        all_of = schema.get("allOf")
        if is_array(all_of):
            for sub in all_of:
                self.check(sub, value, path, errs)
        if "not" in schema:
            tmp: list[tuple[str, str]] = []
            self.check(schema["not"], value, path, tmp)
            if not tmp:
                errs.append((path, "must not match the excluded schema"))

    def check_alternatives(
        self,
        subs: list[Any],
        value: Any,
        path: str,
        errs: list[tuple[str, str]],
        *,
        exactly_one: bool,
    ) -> None:
        failures: list[tuple[Any, list[tuple[str, str]]]] = []
        matched = 0
        for sub in subs:
            tmp: list[tuple[str, str]] = []
            self.check(sub, value, path, tmp)
            if tmp:
                failures.append((sub, tmp))
            else:
                matched += 1
                if not exactly_one:
                    return
        if matched == 1 or (matched and not exactly_one):
            return
        if matched > 1:
            errs.append((path, "matches more than one of the allowed schemas"))
            return
        candidates = [tmp for sub, tmp in failures if self.type_matches(sub, value)]
        if len(candidates) == 1:
            errs.extend(candidates[0])
        else:
            words = " or ".join(dict.fromkeys(self.describe(sub) for sub in subs))
            errs.append((path, f"expected {words}, got {got(value)}"))

    def check_number(
        self, s: dict[str, Any], v: float, path: str, errs: list[tuple[str, str]]
    ) -> None:
        def num(key: str) -> float | None:
            x = s.get(key)
            return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None

        lo, hi = num("minimum"), num("maximum")
        ex_lo, ex_hi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
        if lo is not None:
            if ex_lo is True:  # draft 4
                if not v > lo:
                    errs.append((path, f"must be > {_num(lo)}; got {_num(v)}"))
            elif not v >= lo:
                errs.append((path, f"must be >= {_num(lo)}; got {_num(v)}"))
        if hi is not None:
            if ex_hi is True:
                if not v < hi:
                    errs.append((path, f"must be < {_num(hi)}; got {_num(v)}"))
            elif not v <= hi:
                errs.append((path, f"must be <= {_num(hi)}; got {_num(v)}"))
        if (x := num("exclusiveMinimum")) is not None and not v > x:
            errs.append((path, f"must be > {_num(x)}; got {_num(v)}"))
        if (x := num("exclusiveMaximum")) is not None and not v < x:
            errs.append((path, f"must be < {_num(x)}; got {_num(v)}"))
        if (x := num("multipleOf")) is not None and x > 0:
            q = v / x
            if not (math.isfinite(q) and abs(q - round(q)) < 1e-9):
                errs.append((path, f"must be a multiple of {_num(x)}; got {_num(v)}"))

    def check_string(
        self, s: dict[str, Any], v: str, path: str, errs: list[tuple[str, str]]
    ) -> None:
        lo, hi = s.get("minLength"), s.get("maxLength")
        if isinstance(lo, int) and len(v) < lo:
            errs.append((path, f"must be at least {_plural(lo, 'character')} long"))
        if isinstance(hi, int) and len(v) > hi:
            errs.append((path, f"must be at most {_plural(hi, 'character')} long"))
        pattern = s.get("pattern")
        if isinstance(pattern, str):
            compiled = _pattern(pattern)
            if compiled is not None and not compiled.search(v):
                errs.append((path, f"does not match the pattern {pattern!r}: {short(v)}"))

    def check_array(
        self,
        s: dict[str, Any],
        v: list[Any] | tuple[Any, ...],
        path: str,
        errs: list[tuple[str, str]],
    ) -> None:
        lo, hi = s.get("minItems"), s.get("maxItems")
        if isinstance(lo, int) and len(v) < lo:
            errs.append((path, f"must have at least {_plural(lo, 'item')}, got {len(v)}"))
        if isinstance(hi, int) and len(v) > hi:
            errs.append((path, f"must have at most {_plural(hi, 'item')}, got {len(v)}"))
        prefix = s.get("prefixItems")
        items = s.get("items")
        if is_array(items):  # draft 4-7 tuple form
            prefix, items = items, s.get("additionalItems")
        start = 0
        if is_array(prefix):
            for i, (sub, item) in enumerate(zip(prefix, v, strict=False)):
                self.check(sub, item, f"{path}[{i}]", errs)
            start = len(prefix)
        if items is not None and items is not True:
            for i in range(start, len(v)):
                self.check(items, v[i], f"{path}[{i}]", errs)
        if s.get("uniqueItems") is True:
            seen: dict[Any, int] = {}
            for i, item in enumerate(v):
                key = canonical(item)
                if key in seen:
                    errs.append(
                        (f"{path}[{i}]", f"duplicate of item {seen[key]}; items must be unique")
                    )
                else:
                    seen[key] = i

    def check_object(
        self, s: dict[str, Any], v: dict[str, Any], path: str, errs: list[tuple[str, str]]
    ) -> None:
        required = s.get("required")
        if is_array(required):
            for key in required:
                if isinstance(key, str) and key not in v:
                    if path:
                        errs.append((key_path(path, key), "missing required field"))
                    else:
                        errs.append(("", f"missing required argument {key!r}"))
        props = s.get("properties")
        props = props if is_object(props) else {}
        patterns = s.get("patternProperties")
        patterns = patterns if is_object(patterns) else {}
        additional = s.get("additionalProperties", True)
        for key, item in v.items():
            matched = False
            if key in props:
                matched = True
                self.check(props[key], item, key_path(path, key), errs)
            for pat, sub in patterns.items():
                compiled = _pattern(pat)
                if compiled is not None and compiled.search(key):
                    matched = True
                    self.check(sub, item, key_path(path, key), errs)
            if matched or additional is True:
                continue
            if additional is False:
                if path:
                    errs.append((key_path(path, key), "unexpected field"))
                else:
                    errs.append(("", f"unexpected argument {key!r}"))
            else:
                self.check(additional, item, key_path(path, key), errs)
        lo, hi = s.get("minProperties"), s.get("maxProperties")
        if isinstance(lo, int) and len(v) < lo:
            errs.append((path, f"must have at least {_plural(lo, 'property', 'properties')}"))
        if isinstance(hi, int) and len(v) > hi:
            errs.append((path, f"must have at most {_plural(hi, 'property', 'properties')}"))


def validate_against_schema(schema: dict[str, Any], value: object) -> None:
    """Validate a JSON value against a user-supplied JSON Schema; raise :class:`ArgumentError`.

    Supported: type (also a list), properties, required, additionalProperties, patternProperties,
    items, prefixItems, enum, const, anyOf, oneOf, allOf, not, minimum, maximum,
    exclusiveMinimum/Maximum, multipleOf, minLength, maxLength, pattern, minItems, maxItems,
    uniqueItems, min/maxProperties and ``$ref`` to ``#/$defs/...``/``#/definitions/...``.
    Unknown keywords (format...) are ignored.
    """
    errs: list[tuple[str, str]] = []
    _Validator(schema).check(schema, value, "", errs)
    if errs:
        raise ArgumentError(errs)
