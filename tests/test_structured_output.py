"""Structured output without a CLI: the schema each kind of ``response_format=`` sends, and
how a reply is validated and converted (``copilot_sync._structured``)."""

from __future__ import annotations

import dataclasses
import enum
import json
import subprocess
import sys
from typing import Literal, Optional, TypedDict

import pytest

from copilot_sync import SessionError, StructuredOutputError
from copilot_sync._events import parse_event
from copilot_sync._schema import schema_for_type
from copilot_sync._structured import output_format

try:
    from typing import NotRequired
except ImportError:  # Python 3.10
    from typing_extensions import NotRequired


def message(content, **data):
    return parse_event(
        {
            "type": "assistant.message",
            "id": "e1",
            "data": {"messageId": "m1", "content": content, **data},
        }
    )


def convert(response_format, text):
    return output_format(response_format).convert_reply(message(text))


def failure(response_format, text) -> StructuredOutputError:
    with pytest.raises(StructuredOutputError) as caught:
        convert(response_format, text)
    return caught.value


@dataclasses.dataclass
class Point:
    """A point on the plane."""

    x: int
    y: int


@dataclasses.dataclass
class Shape:
    name: str
    corners: list[Point]
    label: str | None = None


class Movie(TypedDict):
    title: str
    year: int
    rating: NotRequired[float]


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Tree:
    value: int
    children: list[Tree]


# --------------------------------------------------------------------------- the schema sent


def test_a_dataclass_is_sent_with_the_define_tool_schema_and_strict():
    fmt = output_format(Point)
    assert fmt.schema == schema_for_type(Point)  # the same engine as define_tool
    assert fmt.wire() == {
        "type": "json_schema",
        "jsonSchema": {
            "name": "response",
            "schema": {
                "type": "object",
                "description": "A point on the plane.",
                "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                "required": ["x", "y"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    }


def test_a_schema_strict_mode_would_refuse_is_sent_without_strict():
    # label has a default: not required, so OpenAI's strict mode would refuse the schema
    assert "strict" not in output_format(Shape).wire()["jsonSchema"]
    assert "strict" not in output_format(Movie).wire()["jsonSchema"]  # rating is NotRequired
    assert "strict" not in output_format(dict[str, int]).wire()["jsonSchema"]  # open object
    assert "strict" not in output_format(tuple[int, str]).wire()["jsonSchema"]  # prefixItems
    assert output_format(Tree).wire()["jsonSchema"]["strict"] is True  # $defs are walked too


@pytest.mark.parametrize(
    "tp, inner",
    [
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (Color, {"type": "string", "enum": ["red", "green"]}),
        (Literal["yes", "no"], {"type": "string", "enum": ["yes", "no"]}),
        (int, {"type": "integer"}),
        (Optional[str], {"anyOf": [{"type": "string"}, {"type": "null"}]}),  # noqa: UP045  (the old spelling on purpose)
    ],
)
def test_a_non_object_schema_is_wrapped_in_an_object(tp, inner):
    fmt = output_format(tp)
    assert fmt.wrapped
    assert fmt.schema == {
        "type": "object",
        "properties": {"value": inner},
        "required": ["value"],
        "additionalProperties": False,
    }


def test_a_wrapped_recursive_type_keeps_its_defs_at_the_root():
    schema = output_format(list[Tree]).schema
    assert schema["properties"]["value"] == {"type": "array", "items": {"$ref": "#/$defs/Tree"}}
    assert set(schema["$defs"]) == {"Tree"}
    assert convert(
        list[Tree], '{"value": [{"value": 1, "children": [{"value": 2, "children": []}]}]}'
    ) == [Tree(1, [Tree(2, [])])]


def test_a_json_schema_dict_is_sent_unchanged():
    schema = {"type": "array", "items": {"type": "string"}}
    fmt = output_format(schema)
    assert fmt.schema == schema and not fmt.wrapped
    assert fmt.wire()["jsonSchema"] == {
        "name": "response",
        "schema": schema,
    }  # not an object: no strict


def test_what_cannot_be_a_response_format_raises_type_error():
    with pytest.raises(TypeError, match="unsupported type bytes"):
        output_format(bytes)
    with pytest.raises(TypeError, match="response_format must be a type"):
        output_format("json")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        output_format({"type": "object", "default": object()})


# --------------------------------------------------------------------------- conversion


def test_every_kind_of_response_format_is_converted():
    assert convert(Point, '{"x": 1, "y": 2}') == Point(1, 2)
    shape = convert(Shape, '{"name": "tri", "corners": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]}')
    assert shape == Shape("tri", [Point(0, 0), Point(1, 1)], None)
    movie = convert(Movie, '{"title": "Heat", "year": 1995}')
    assert movie == {"title": "Heat", "year": 1995} and type(movie) is dict
    assert convert(Color, '{"value": "green"}') is Color.GREEN
    assert convert(Literal["yes", "no"], '{"value": "no"}') == "no"
    assert convert(list[int], '{"value": [1, 2, 3]}') == [1, 2, 3]
    assert convert(tuple[int, str], '[1, "a"]') == (1, "a")
    assert convert(set[int], '{"value": [1, 2]}') == {1, 2}
    assert convert(float, '{"value": 2}') == 2.0
    assert convert(dict[str, int], '{"a": 1}') == {"a": 1}
    assert convert({"type": "object"}, '{"any": ["thing"]}') == {"any": ["thing"]}


def test_a_wrapped_type_also_takes_the_bare_value():
    # a CLI that ignores responseFormat (1.0.81): the model may answer the bare value
    assert convert(list[int], "[4, 5]") == [4, 5]
    assert convert(Color, '"red"') is Color.RED


def test_a_reply_in_one_fenced_code_block_is_parsed():
    assert convert(Point, '```json\n{"x": 3, "y": 4}\n```') == Point(3, 4)
    assert convert(Point, '  ```\n{"x": 3, "y": 4}\n```\n') == Point(3, 4)


def test_a_json_schema_dict_validates_the_reply():
    schema = {
        "type": "object",
        "properties": {
            "status": {"enum": ["ok", "failed"]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["status"],
        "additionalProperties": False,
    }
    assert convert(schema, '{"status": "ok", "tags": ["a"]}') == {"status": "ok", "tags": ["a"]}
    assert failure(schema, '{"status": "maybe"}').errors == [
        ("$.status", "must be one of 'ok', 'failed'; got 'maybe'")
    ]
    assert failure(schema, '{"status": "ok", "tags": ["a", 2]}').errors == [
        ("$.tags[1]", "expected a string, got 2 (int)")
    ]
    assert failure(schema, '{"tags": []}').errors == [("$.status", "missing required field")]
    assert failure(schema, '{"status": "ok", "extra": 1}').errors == [
        ("$.extra", "unexpected field")
    ]
    assert failure(schema, "[1]").errors == [("$", "expected an object, got [1] (list)")]


# --------------------------------------------------------------------------- failures


def test_a_mismatch_names_the_json_path_of_the_first_problem():
    error = failure(Shape, '{"name": "tri", "corners": [{"x": 0, "y": 0}, {"x": "one", "y": 1}]}')
    assert (
        str(error)
        == "the reply does not match Shape: $.corners[1].x: expected an integer, got 'one' (str)"
    )
    assert error.errors == [("$.corners[1].x", "expected an integer, got 'one' (str)")]
    assert isinstance(error, SessionError)
    assert error.event.raw_type == "assistant.message"
    assert error.text == '{"name": "tri", "corners": [{"x": 0, "y": 0}, {"x": "one", "y": 1}]}'


def test_missing_and_unexpected_fields_are_named_as_fields():
    error = failure(Point, '{"x": 1, "z": 3}')
    assert error.errors == [("$.y", "missing required field"), ("$.z", "unexpected field")]
    assert str(error) == "the reply does not match Point: $.y: missing required field (and 1 more)"


def test_a_wrong_enum_or_literal_value_is_named():
    assert failure(Color, '{"value": "blue"}').errors == [
        ("$", "must be one of 'red', 'green'; got 'blue'")
    ]
    assert "must be one of 'yes', 'no'" in str(failure(Literal["yes", "no"], '"maybe"'))


def test_a_reply_that_is_not_json_raises_with_the_raw_text():
    error = failure(Point, "Sure! The point is (1, 2).")
    assert str(error).startswith("the reply is not valid JSON (Expecting value at line 1 column 1)")
    assert error.text == "Sure! The point is (1, 2)."
    assert error.errors == []
    assert "not valid JSON" in str(failure(Point, '{"x": NaN, "y": 1}'))


def test_a_turn_without_text_raises():
    fmt = output_format(Point)
    with pytest.raises(StructuredOutputError, match="without an assistant reply") as caught:
        fmt.convert_reply(None)
    assert (caught.value.text, caught.value.event) == ("", None)
    with pytest.raises(StructuredOutputError, match="without an assistant reply") as caught:
        fmt.convert_reply(message("", toolRequests=[{"toolCallId": "t", "name": "x"}]))
    assert caught.value.event is not None


def test_an_error_raised_while_building_the_value_is_reported():
    @dataclasses.dataclass
    class Positive:
        n: int

        def __post_init__(self):
            if self.n <= 0:
                raise ValueError("n must be positive")

    assert failure(Positive, '{"n": -1}').errors == [("$", "invalid value: n must be positive")]


# --------------------------------------------------------------------------- pydantic (when installed)


def test_a_pydantic_model_is_converted_when_pydantic_is_installed():
    pydantic = pytest.importorskip("pydantic")

    class Address(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        city: str
        zip_code: str

    class Person(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        name: str
        age: int
        address: Address

    fmt = output_format(Person)
    assert fmt.schema["properties"]["address"] == {"$ref": "#/$defs/Address"}
    assert fmt.wire()["jsonSchema"]["strict"] is True
    person = convert(
        Person, '{"name": "Ada", "age": 36, "address": {"city": "London", "zip_code": "N1"}}'
    )
    assert isinstance(person, Person) and person.address.city == "London"
    error = failure(Person, '{"name": "Ada", "age": "old", "address": {"city": "London"}}')
    assert [path for path, _ in error.errors] == ["$.age", "$.address.zip_code"]


def test_structured_output_does_not_import_pydantic():
    code = (
        "import sys, dataclasses; import copilot_sync\n"
        "from copilot_sync._structured import output_format\n"
        "@dataclasses.dataclass\nclass P:\n    x: int\n"
        "output_format(P); output_format({'type': 'object'})\n"
        "print('pydantic' in sys.modules, 'copilot_sync._schema' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]


def test_the_schema_engine_loads_only_when_a_format_is_asked_for():
    code = "import sys, copilot_sync; print('copilot_sync._schema' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False"]


def test_the_wire_field_is_json():
    json.dumps(output_format(Shape).wire())
