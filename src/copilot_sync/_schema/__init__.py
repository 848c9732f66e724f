"""The schema engine: JSON Schema inference from Python annotations (:mod:`.inference`),
validation and conversion of JSON values (:mod:`.conversion`, :mod:`.json_schema`), for
tools and structured output. Imported lazily (by ``define_tool`` and :mod:`.._structured`)."""

from __future__ import annotations

from .argument_error import ArgumentError
from .json_schema import validate_against_schema
from .tool_signature import (
    ToolSignature,
    TypeConverter,
    converter_for_type,
    docstring_description,
    inspect_tool_function,
    schema_for_type,
)

__all__ = [
    "ArgumentError",
    "ToolSignature",
    "TypeConverter",
    "converter_for_type",
    "docstring_description",
    "inspect_tool_function",
    "schema_for_type",
    "validate_against_schema",
]
