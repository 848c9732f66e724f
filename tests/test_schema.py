"""Tests for copilot_sync._schema: schema inference, argument conversion and validation."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import pickle
import sys
import textwrap
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, List, Literal, Optional, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import NotRequired, Required, TypedDict

from copilot_sync._schema import (
    ArgumentError,
    ToolSignature,
    inspect_tool_function,
    schema_for_type,
    validate_against_schema,
)


class Inv:
    """Stand-in for the SDK's ToolInvocation."""


class SubInv(Inv):
    pass


INV = Inv()


def sig_of(fn: Callable[..., Any], **kw: Any) -> ToolSignature:
    return inspect_tool_function(fn, invocation_type=Inv, **kw)


def call(fn: Callable[..., Any], arguments: object, invocation: object = INV) -> Any:
    args, kwargs = sig_of(fn).bind(arguments, invocation)
    return fn(*args, **kwargs)


def error_of(fn: Callable[..., Any], arguments: object) -> ArgumentError:
    with pytest.raises(ArgumentError) as info:
        sig_of(fn).bind(arguments, INV)
    return info.value


def one_param(tp: Any) -> Callable[..., Any]:
    """A tool ``f(x: tp, pad: int = 0)`` that returns ``x`` (the annotation set at runtime).

    ``pad`` keeps a lone dict/dataclass parameter from being read as the whole arguments object.
    """

    def f(x, pad=0):  # type: ignore[no-untyped-def]
        return x

    f.__annotations__ = {"x": tp, "pad": int}
    return f


def walk(schema: Any) -> typing.Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from walk(value)


# --------------------------------------------------------------------------------------------
# Types used below (module level so that string annotations resolve)


class Units(enum.Enum):
    C = "C"
    F = "F"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Stop:
    """A stop on a trip.

    Attributes:
        name: Name of the place.
        minutes: How long to stay,
            in minutes.
    """

    name: str
    minutes: int = 0


@dataclasses.dataclass
class Trip:
    stops: list[Stop]
    title: Annotated[str, "Trip title"] = "trip"
    tags: list[str] = dataclasses.field(default_factory=list)
    note: str = dataclasses.field(default="", metadata={"description": "Free text"})
    computed: int = dataclasses.field(default=0, init=False)


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float


class Movie(TypedDict, total=False):
    title: Required[str]
    year: int
    rating: NotRequired[Annotated[float, "Out of 10"]]


class Book(TypedDict):
    """A book.

    Args:
        title: The title.
    """

    title: str
    pages: NotRequired[int]


@dataclasses.dataclass
class TreeNode:
    value: int
    children: list[TreeNode] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Positive:
    n: int

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError("n must be positive")


# --------------------------------------------------------------------------------------------
# Each supported type: schema, conversion, a rejected value with its path

U = uuid.UUID("12345678-1234-5678-1234-567812345678")

TYPE_CASES = [
    # (annotation, schema, good JSON, converted, bad JSON, error text)
    (str, {"type": "string"}, "hi", "hi", 3, "x: expected a string, got 3 (int)"),
    (int, {"type": "integer"}, 7, 7, True, "x: expected an integer, got true (bool)"),
    (int, {"type": "integer"}, 3.0, 3, 3.5, "x: expected an integer, got 3.5 (float)"),
    (float, {"type": "number"}, 2, 2.0, False, "x: expected a number, got false (bool)"),
    (float, {"type": "number"}, 2.5, 2.5, "2.5", "x: expected a number, got '2.5' (str)"),
    (bool, {"type": "boolean"}, True, True, 1, "x: expected a boolean, got 1 (int)"),
    (None, {"type": "null"}, None, None, 0, "x: expected null, got 0 (int)"),
    (type(None), {"type": "null"}, None, None, "", "x: expected null"),
    (
        Optional[int],
        {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        None,
        None,
        "a",
        "x: expected an integer or null, got 'a' (str)",
    ),
    (
        Union[int, str],
        {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        "a",
        "a",
        [],
        "x: expected an integer or a string, got [] (list)",
    ),
    (
        int | None,
        {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        4,
        4,
        {},
        "x: expected an integer or null",
    ),
    (
        list[int],
        {"type": "array", "items": {"type": "integer"}},
        [1, 2],
        [1, 2],
        [1, "2"],
        "x[1]: expected an integer, got '2' (str)",
    ),
    (
        List[str],
        {"type": "array", "items": {"type": "string"}},
        ["a"],
        ["a"],
        "a",
        "x: expected an array",
    ),
    (
        Sequence[bool],
        {"type": "array", "items": {"type": "boolean"}},
        [True],
        [True],
        [0],
        "x[0]: expected a boolean",
    ),
    (list, {"type": "array"}, [1, "a"], [1, "a"], {"a": 1}, "x: expected an array, got"),
    (
        tuple[int, str],
        {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "minItems": 2,
            "maxItems": 2,
        },
        [1, "a"],
        (1, "a"),
        [1, "a", 2],
        "x: expected an array of 2 items, got 3 items",
    ),
    (
        tuple[int, str],
        {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "minItems": 2,
            "maxItems": 2,
        },
        [1, "a"],
        (1, "a"),
        ["a", "a"],
        "x[0]: expected an integer",
    ),
    (
        tuple[float, ...],
        {"type": "array", "items": {"type": "number"}},
        [1, 2.5],
        (1.0, 2.5),
        [None],
        "x[0]: expected a number, got null",
    ),
    (tuple, {"type": "array"}, [1], (1,), 1, "x: expected an array"),
    (
        set[int],
        {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
        [1, 2, 2],
        {1, 2},
        [1, "a"],
        "x[1]: expected an integer",
    ),
    (
        frozenset[str],
        {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        ["a"],
        frozenset({"a"}),
        [1],
        "x[0]: expected a string",
    ),
    (set, {"type": "array", "uniqueItems": True}, [1, 1], {1}, [[1]], "x: items must be hashable"),
    (dict, {"type": "object"}, {"a": [1]}, {"a": [1]}, [], "x: expected an object, got [] (list)"),
    (
        dict[str, int],
        {"type": "object", "additionalProperties": {"type": "integer"}},
        {"a": 1},
        {"a": 1},
        {"alice": 1, "bob": "x"},
        "x.bob: expected an integer, got 'x' (str)",
    ),
    (
        Mapping[str, list[int]],
        {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}},
        {"a b": [1]},
        {"a b": [1]},
        {"a b": [1, None]},
        'x["a b"][1]: expected an integer, got null',
    ),
    (
        Literal["C", "F"],
        {"type": "string", "enum": ["C", "F"]},
        "F",
        "F",
        "K",
        "x: must be one of 'C', 'F'; got 'K'",
    ),
    (
        Literal[1, 2],
        {"type": "integer", "enum": [1, 2]},
        2,
        2,
        True,
        "x: must be one of 1, 2; got true",
    ),
    (
        Literal["a", 1, None],  # None inside the Literal is the case under test
        {"enum": ["a", 1, None]},
        None,
        None,
        "b",
        "x: must be one of 'a', 1, null",
    ),
    (
        Literal[Units.C],
        {"type": "string", "enum": ["C"]},
        "C",
        Units.C,
        "F",
        "x: must be one of 'C'; got 'F'",
    ),
    (
        Units,
        {"type": "string", "enum": ["C", "F"]},
        "F",
        Units.F,
        "K",
        "x: must be one of 'C', 'F'; got 'K'",
    ),
    (Units, {"type": "string", "enum": ["C", "F"]}, "C", Units.C, "F ", "x: must be one of"),
    (
        Level,
        {"type": "integer", "enum": [1, 2]},
        2,
        Level.HIGH,
        "HIGH",
        "x: must be one of 1, 2; got 'HIGH'",
    ),
    (Any, {}, {"any": [1]}, {"any": [1]}, None, None),
    (object, {}, 3, 3, None, None),
    (
        datetime,
        {"type": "string", "format": "date-time"},
        "2024-01-02T03:04:05+00:00",
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        "yesterday",
        "x: expected an ISO 8601 date-time string, got 'yesterday' (str)",
    ),
    (
        datetime,
        {"type": "string", "format": "date-time"},
        "2024-01",  # only dateutil's isoparse reads this
        datetime(2024, 1, 1),
        1704067200,
        "x: expected an ISO 8601 date-time string, got 1704067200 (int)",
    ),
    (
        date,
        {"type": "string", "format": "date"},
        "2024-02-29",
        date(2024, 2, 29),
        "2023-02-29",
        "x: expected an ISO 8601 date string",
    ),
    (
        time,
        {"type": "string", "format": "time"},
        "10:30",
        time(10, 30),
        "25:00",
        "x: expected an ISO 8601 time string",
    ),
    (
        uuid.UUID,
        {"type": "string", "format": "uuid"},
        str(U),
        U,
        "not-a-uuid",
        "x: expected a UUID string, got 'not-a-uuid' (str)",
    ),
    (
        Decimal,
        {"type": ["number", "string"]},
        "1.10",
        Decimal("1.10"),
        "abc",
        "x: expected a decimal number",
    ),
    (
        Decimal,
        {"type": ["number", "string"]},
        0.1,
        Decimal("0.1"),
        "NaN",
        "x: expected a decimal number",
    ),
    (
        Decimal,
        {"type": ["number", "string"]},
        5,
        Decimal(5),
        True,
        "x: expected a decimal number, got true",
    ),
    (
        Path,
        {"type": "string"},
        "/tmp/a.txt",
        Path("/tmp/a.txt"),
        5,
        "x: expected a path string, got 5 (int)",
    ),
    (
        Annotated[int, "How many", object()],
        {"type": "integer", "description": "How many"},
        1,
        1,
        "1",
        "x: expected an integer",
    ),
    (
        list[Annotated[str, "A name"]],
        {"type": "array", "items": {"type": "string", "description": "A name"}},
        ["a"],
        ["a"],
        [1],
        "x[0]: expected a string",
    ),
    (
        typing.NewType("UserId", int),
        {"type": "integer"},
        5,
        5,
        "5",
        "x: expected an integer",
    ),
]


@pytest.mark.parametrize(("tp", "schema", "good", "converted", "bad", "message"), TYPE_CASES)
def test_each_type_schema_conversion_and_rejection(
    tp: Any, schema: dict[str, Any], good: Any, converted: Any, bad: Any, message: str | None
) -> None:
    assert schema_for_type(tp) == schema
    fn = one_param(tp)
    sig = sig_of(fn)
    assert sig.parameters == {
        "type": "object",
        "properties": {"x": schema, "pad": {"type": "integer", "default": 0}},
        "required": ["x"],
    }
    result = call(fn, {"x": good})
    assert result == converted
    assert type(result) is type(converted)
    if message is not None:
        err = error_of(fn, {"x": bad})
        assert message in str(err)
        assert err.errors[0][0].startswith("x")
        assert "Traceback" not in str(err)


def test_schema_of_nested_dataclass_and_conversion() -> None:
    def plan(trip: Trip, inv: Inv, days: int = 1) -> Trip:
        return trip

    sig = sig_of(plan)
    trip_schema = sig.parameters["properties"]["trip"]
    assert trip_schema == {
        "type": "object",
        "properties": {
            "stops": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "A stop on a trip.",
                    "properties": {
                        "name": {"type": "string", "description": "Name of the place."},
                        "minutes": {
                            "type": "integer",
                            "description": "How long to stay, in minutes.",
                            "default": 0,
                        },
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
            },
            "title": {"type": "string", "description": "Trip title", "default": "trip"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"type": "string", "description": "Free text", "default": ""},
        },
        "required": ["stops"],
        "additionalProperties": False,
    }
    trip = call(plan, {"trip": {"stops": [{"name": "Oslo", "minutes": 30}, {"name": "Bergen"}]}})
    assert trip == Trip(stops=[Stop("Oslo", 30), Stop("Bergen")])
    assert isinstance(trip.stops[0], Stop)


def test_nested_errors_are_all_reported_with_paths() -> None:
    def plan(trip: Trip, city: str, units: Units = Units.C) -> None:
        pass

    err = error_of(
        plan,
        {
            "trip": {
                "stops": [{"name": "a"}, {"name": "b"}, {"minutes": "x", "extra": 1}],
                "title": 3,
            },
            "units": "K",
            "foo": 1,
        },
    )
    assert err.errors == [
        ("trip.stops[2].name", "missing required field"),
        ("trip.stops[2].minutes", "expected an integer, got 'x' (str)"),
        ("trip.stops[2].extra", "unexpected field"),
        ("trip.title", "expected a string, got 3 (int)"),
        ("", "missing required argument 'city'"),
        ("units", "must be one of 'C', 'F'; got 'K'"),
        ("", "unexpected argument 'foo'"),
    ]
    assert str(err).splitlines() == [
        "trip.stops[2].name: missing required field",
        "trip.stops[2].minutes: expected an integer, got 'x' (str)",
        "trip.stops[2].extra: unexpected field",
        "trip.title: expected a string, got 3 (int)",
        "missing required argument 'city'",
        "units: must be one of 'C', 'F'; got 'K'",
        "unexpected argument 'foo'",
    ]


def test_top_level_argument_shape() -> None:
    def f(city: str = "Oslo") -> str:
        return city

    assert call(f, None) == "Oslo"
    assert call(f, {}) == "Oslo"
    for bad, kind in (([1], "list"), ("x", "str"), (3, "int")):
        err = error_of(f, bad)
        assert str(err) == f"arguments must be a JSON object, got {kind}"
        assert err.errors == [("", f"arguments must be a JSON object, got {kind}")]


def test_argument_error_is_value_error_pickles_and_truncates() -> None:
    err = ArgumentError([("a", "bad"), ("", "missing required argument 'b'")])
    assert isinstance(err, ValueError)
    assert str(err) == "a: bad\nmissing required argument 'b'"
    again = pickle.loads(pickle.dumps(err))
    assert again.errors == err.errors and str(again) == str(err)
    assert ArgumentError("plain").errors == [("", "plain")]
    many = ArgumentError([(f"x[{i}]", "bad") for i in range(50)])
    assert len(str(many).splitlines()) == 21
    assert str(many).endswith("... and 30 more problems")
    assert len(many.errors) == 50


def test_union_reports_the_matching_member_errors() -> None:
    fn = one_param(Optional[list[int]])
    assert str(error_of(fn, {"x": [1, "a"]})) == "x[1]: expected an integer, got 'a' (str)"
    fn = one_param(Union[Stop, int])
    assert str(error_of(fn, {"x": {"name": 1}})) == "x.name: expected a string, got 1 (int)"
    # first member that validates wins
    assert call(one_param(Union[float, int]), {"x": 3}) == 3.0
    assert call(one_param(Union[int, float]), {"x": 3}) == 3
    assert call(one_param(Union[int, bool]), {"x": True}) is True


def test_dataclass_post_init_error_becomes_argument_error() -> None:
    def f(p: list[Positive]) -> None:
        pass

    assert (
        str(error_of(f, {"p": [{"n": 1}, {"n": -1}]})) == "p[1]: invalid value: n must be positive"
    )


def test_frozen_dataclass_in_a_set_and_tuple_of_dataclasses() -> None:
    def f(points: frozenset[Point], pair: tuple[Point, Point]) -> Any:
        return points, pair

    points, pair = call(
        f, {"points": [{"x": 1, "y": 2}], "pair": [{"x": 0, "y": 0}, {"x": 1.5, "y": 1}]}
    )
    assert points == frozenset({Point(1.0, 2.0)})
    assert pair == (Point(0.0, 0.0), Point(1.5, 1.0))


def test_set_of_unhashable_items_is_a_definition_error() -> None:
    with pytest.raises(TypeError, match=r"tool 'f'.*parameter 'x'.*set"):
        sig_of(one_param(set[Stop]))


# --------------------------------------------------------------------------------------------
# Defaults and descriptions


def test_defaults_go_into_the_schema_when_json() -> None:
    sentinel = object()

    def f(
        a: int,
        b: str = "x",
        c: Units = Units.F,
        d: tuple[int, int] = (1, 2),
        e: Any = sentinel,
        g: datetime = datetime(2024, 1, 1),
        h: int | None = None,
        i: int | None = None,  # type: ignore[assignment]
    ) -> Any:
        return a, b, c, d, e, g, h, i

    params = sig_of(f).parameters
    props = params["properties"]
    assert params["required"] == ["a"]
    assert list(props) == ["a", "b", "c", "d", "e", "g", "h", "i"]
    assert props["b"] == {"type": "string", "default": "x"}
    assert props["c"] == {"type": "string", "enum": ["C", "F"], "default": "F"}
    assert props["d"]["default"] == [1, 2]
    assert props["e"] == {}
    assert props["g"] == {"type": "string", "format": "date-time", "default": "2024-01-01T00:00:00"}
    assert props["h"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    # a None default also allows null (implicit Optional)
    assert props["i"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert call(f, {"a": 1, "i": None}) == (
        1,
        "x",
        Units.F,
        (1, 2),
        sentinel,
        datetime(2024, 1, 1),
        None,
        None,
    )
    _args, kwargs = sig_of(f).bind({"a": 1}, INV)
    assert kwargs == {"a": 1}  # missing optional arguments are left to the function's defaults
    json.dumps(params)


def test_descriptions_from_annotated_and_google_docstring() -> None:
    def get_weather(
        city: str,
        units: Annotated[Literal["C", "F"], "Temperature units"] = "C",
        days: int = 1,
        **kwargs: Any,
    ) -> str:
        """Get the weather
        for a city.

        Uses a made-up service.

        Args:
            city (str): The city name,
                for example "Oslo".
            units: Ignored because Annotated wins.
            days: Number of days.
            **kwargs: Extra options.

        Returns:
            The forecast.

        Raises:
            ValueError: never.
        """
        return city

    sig = sig_of(get_weather)
    assert sig.description == "Get the weather\nfor a city.\n\nUses a made-up service."
    props = sig.parameters["properties"]
    assert props["city"] == {"type": "string", "description": 'The city name, for example "Oslo".'}
    assert props["units"]["description"] == "Temperature units"
    assert props["days"] == {"type": "integer", "description": "Number of days.", "default": 1}


def test_descriptions_from_sphinx_docstring_and_no_docstring() -> None:
    def f(a: int, b: str) -> None:
        """Do it.

        :param a: The a
            value.
        :param str b: The b.
        :returns: nothing
        """

    sig = sig_of(f)
    assert sig.description == "Do it."
    assert sig.parameters["properties"]["a"]["description"] == "The a value."
    assert sig.parameters["properties"]["b"]["description"] == "The b."

    def g(a: int) -> None:
        pass

    assert sig_of(g).description is None

    def h() -> None:
        """Args:
        a: nothing
        """

    assert sig_of(h).description is None


def test_dataclass_without_docstring_has_no_description() -> None:
    schema = schema_for_type(Point)
    assert "description" not in schema
    assert schema == {
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x", "y"],
        "additionalProperties": False,
    }


def test_no_title_keys_and_json_serializable() -> None:
    def f(trip: Trip, movie: Movie, tree: TreeNode, when: date | None = None) -> None:
        pass

    params = sig_of(f).parameters
    assert all("title" not in s or isinstance(s.get("title"), dict) for s in walk(params))
    assert json.loads(json.dumps(params)) == params
    # deterministic
    assert json.dumps(sig_of(f).parameters) == json.dumps(params)


# --------------------------------------------------------------------------------------------
# Function shapes


def test_no_parameters_and_only_invocation() -> None:
    def none() -> str:
        return "ok"

    def only_inv(invocation: Inv) -> Inv:
        return invocation

    assert sig_of(none).parameters == {"type": "object", "properties": {}}
    assert sig_of(only_inv).parameters == {"type": "object", "properties": {}}
    assert call(none, None) == "ok"
    assert call(only_inv, {}) is INV
    assert str(error_of(none, {"a": 1})) == "unexpected argument 'a'"


def test_invocation_parameter_detection() -> None:
    def sub(x: int, inv: SubInv) -> Any:
        return x, inv

    def opt(x: int, *, inv: Inv | None = None) -> Any:
        return x, inv

    def annotated(inv: Annotated[Inv, "the call"], x: int) -> Any:
        return x, inv

    for fn in (sub, opt, annotated):
        sig = sig_of(fn)
        assert list(sig.parameters["properties"]) == ["x"], fn
        assert call(fn, {"x": 1}, invocation="INV") == (1, "INV")

    def two(a: Inv, b: Inv) -> None:
        pass

    with pytest.raises(TypeError, match="'a' and 'b'"):
        sig_of(two)

    def unannotated(x, invocation):  # type: ignore[no-untyped-def]
        return x, invocation

    assert sig_of(unannotated).parameters == {
        "type": "object",
        "properties": {"x": {}, "invocation": {}},
        "required": ["x", "invocation"],
    }


def test_positional_only_parameters_are_passed_positionally() -> None:
    def f(inv: Inv, a: int, b: str = "b", /, c: float = 0.0, *, d: bool = False) -> Any:
        return inv, a, b, c, d

    sig = sig_of(f)
    args, kwargs = sig.bind({"a": 1, "c": 2, "d": True}, "I")
    assert args == ("I", 1, "b")
    assert kwargs == {"c": 2.0, "d": True}
    assert f(*args, **kwargs) == ("I", 1, "b", 2.0, True)


def test_var_keyword_arguments() -> None:
    def loose(a: int, **kwargs) -> Any:  # type: ignore[no-untyped-def]
        return a, kwargs

    sig = sig_of(loose)
    assert sig.parameters == {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "required": ["a"],
        "additionalProperties": True,
    }
    assert call(loose, {"a": 1, "b": [1], "c": None}) == (1, {"b": [1], "c": None})

    def typed(inv: Inv, **scores: int) -> Any:
        return scores

    sig = sig_of(typed)
    assert sig.parameters == {
        "type": "object",
        "properties": {},
        "additionalProperties": {"type": "integer"},
    }
    assert call(typed, {"alice": 1, "bob": 2.0}) == {"alice": 1, "bob": 2}
    assert str(error_of(typed, {"alice": "x"})) == "alice: expected an integer, got 'x' (str)"


def test_var_positional_is_a_definition_error() -> None:
    def f(*names: str) -> None:
        pass

    with pytest.raises(TypeError, match=r"tool 'f'.*\*names"):
        sig_of(f)


def test_raw_dict_parameter_gets_the_raw_arguments() -> None:
    def a(args: dict) -> Any:  # type: ignore[type-arg]
        return args

    def b(inv: Inv, args: dict[str, Any]) -> Any:
        return args

    def c(args: Mapping[str, Any], inv: Inv) -> Any:
        return args

    for fn in (a, b, c):
        sig = sig_of(fn)
        assert sig.parameters is None
        raw = {"anything": [1, {"x": None}]}
        assert call(fn, raw) is raw
        assert call(fn, None) == {}
        assert str(error_of(fn, [1])) == "arguments must be a JSON object, got list"

    def typed(args: dict[str, int]) -> Any:
        return args

    # a typed dict is an ordinary property
    assert sig_of(typed).parameters["properties"]["args"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }


def test_methods_partials_and_callable_objects() -> None:
    class Tools:
        def lookup(self, key: str, inv: Inv) -> str:
            """Look a key up."""
            return key.upper()

        def __call__(self, n: int) -> int:
            """Double n."""
            return n * 2

    tools = Tools()
    assert call(tools.lookup, {"key": "a"}) == "A"
    assert sig_of(tools.lookup).description == "Look a key up."
    assert call(tools, {"n": 2}) == 4
    assert sig_of(tools).description == "Double n."

    def add(a: int, b: int) -> int:
        return a + b

    part = functools.partial(add, b=10)
    assert call(part, {"a": 1}) == 11


# --------------------------------------------------------------------------------------------
# Params-object style


def test_params_object_dataclass() -> None:
    def handler(params: Trip, invocation: Inv) -> Any:
        return params, invocation

    sig = sig_of(handler)
    assert sig.parameters == schema_for_type(Trip)
    assert sig.parameters["required"] == ["stops"]
    trip, inv = call(handler, {"stops": [{"name": "x"}], "title": "T"})
    assert trip == Trip(stops=[Stop("x")], title="T")
    assert inv is INV
    err = error_of(handler, {"stops": [{}], "nope": 1})
    assert str(err) == "stops[0].name: missing required field\nunexpected argument 'nope'"
    assert str(error_of(handler, {})) == "missing required argument 'stops'"


def test_params_object_typeddict_required_and_not_required() -> None:
    def movie(params: Movie) -> Any:
        return params

    sig = sig_of(movie)
    assert sig.parameters == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "year": {"type": "integer"},
            "rating": {"type": "number", "description": "Out of 10"},
        },
        "required": ["title"],
        "additionalProperties": False,
    }
    result = call(movie, {"title": "Alien", "rating": 8})
    assert result == {"title": "Alien", "rating": 8.0}
    assert type(result["rating"]) is float
    assert str(error_of(movie, {"year": 1979})) == "missing required argument 'title'"

    def book(inv: Inv, params: Book) -> Any:
        return params

    sig = sig_of(book)
    assert sig.parameters == {
        "type": "object",
        "description": "A book.",
        "properties": {
            "title": {"type": "string", "description": "The title."},
            "pages": {"type": "integer"},
        },
        "required": ["title"],
        "additionalProperties": False,
    }
    assert call(book, {"title": "x"}) == {"title": "x"}


def test_typeddict_as_a_nested_field() -> None:
    def f(movies: list[Movie]) -> Any:
        return movies

    assert call(f, {"movies": [{"title": "a", "year": 2000.0}]}) == [{"title": "a", "year": 2000}]
    assert str(error_of(f, {"movies": [{"title": "a", "x": 1}]})) == "movies[0].x: unexpected field"


class FakeValidationError(ValueError):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("validation failed")
        self._problems = problems

    def errors(self) -> list[dict[str, Any]]:
        return self._problems


class FakeModel:
    """Duck-typed like a pydantic v2 model."""

    def __init__(self, **data: Any) -> None:
        self.__dict__.update(data)

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        return {
            "title": "FakeModel",
            "type": "object",
            "properties": {
                "title": {"title": "Title", "type": "string"},
                "count": {"title": "Count", "type": "integer", "default": 1},
            },
            "required": ["title"],
        }

    @classmethod
    def model_validate(cls, data: Any) -> FakeModel:
        if not isinstance(data, dict):
            raise FakeValidationError([{"loc": (), "msg": "Input should be an object"}])
        if "title" not in data:
            raise FakeValidationError([{"loc": ("title",), "msg": "Field required"}])
        return cls(**data)


def test_params_object_pydantic_like_model() -> None:
    def handler(params: FakeModel, invocation: Inv) -> Any:
        return params

    sig = sig_of(handler)
    assert sig.parameters == {
        "type": "object",
        "properties": {"title": {"type": "string"}, "count": {"type": "integer", "default": 1}},
        "required": ["title"],
    }
    assert call(handler, {"title": "x"}).title == "x"
    err = error_of(handler, {})
    assert err.errors == [("title", "Field required")]

    def nested(items: list[FakeModel]) -> Any:
        return items

    assert (
        str(error_of(nested, {"items": [{"title": "a"}, {}]})) == "items[1].title: Field required"
    )


# --------------------------------------------------------------------------------------------
# Definition-time errors


class Opaque:
    pass


@pytest.mark.parametrize(
    ("annotation", "type_text"),
    [
        (Callable[[int], str], "Callable"),
        (Opaque, "Opaque"),
        (bytes, "bytes"),
        (dict[int, str], "dict[int, str]"),
        (list[Opaque], "Opaque"),
        (Optional[Callable[[], None]], "Callable"),
        (timedelta, "timedelta"),
    ],
)
def test_unsupported_annotations_raise_type_error(annotation: Any, type_text: str) -> None:
    def f(ok: int, bad):  # type: ignore[no-untyped-def]
        pass

    f.__annotations__ = {"ok": int, "bad": annotation}
    with pytest.raises(TypeError) as info:
        inspect_tool_function(f, invocation_type=Inv, name="my_tool")
    message = str(info.value)
    assert "tool 'my_tool'" in message
    assert "parameter 'bad'" in message
    assert type_text in message
    with pytest.raises(TypeError, match="cannot infer"):
        schema_for_type(annotation)


def test_unsupported_field_of_a_nested_dataclass_names_the_field() -> None:
    @dataclasses.dataclass
    class WithCallback:
        on_done: Callable[[], None]

    def f(x: int, job: list[WithCallback]) -> None:
        pass

    with pytest.raises(
        TypeError, match=r"tool 'f'.*parameter 'job'.*Callable.*WithCallback\.on_done"
    ):
        sig_of(f)


def test_unresolvable_forward_reference_names_the_parameter() -> None:
    def f(a: int, b: NoSuchType) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(TypeError, match=r"tool 'f'.*'NoSuchType'.*parameter 'b'"):
        sig_of(f)


def test_unresolvable_return_annotation_is_ignored() -> None:
    def f(a: int) -> NoSuchType:  # type: ignore[name-defined]  # noqa: F821
        return a

    assert sig_of(f).parameters["properties"] == {"a": {"type": "integer"}}


# --------------------------------------------------------------------------------------------
# from __future__ import annotations, local classes, recursion

FUTURE_SOURCE = textwrap.dedent(
    '''
    from __future__ import annotations

    import dataclasses
    from typing import Literal, Optional
    from typing_extensions import NotRequired, TypedDict

    class Inv:
        pass

    @dataclasses.dataclass
    class Item:
        name: str
        qty: int = 1

    class Opts(TypedDict):
        verbose: NotRequired[bool]
        level: int

    def order(items: list[Item], mode: Literal["fast", "slow"], inv: Inv, opts: Optional[Opts] = None):
        """Place an order.

        Args:
            items: What to order.
        """
        return items, mode, inv, opts

    def params_style(params: Item, invocation: Inv):
        return params
    '''
)


@pytest.fixture
def future_module() -> typing.Iterator[types.ModuleType]:
    module = types.ModuleType("copilot_sync_test_future_module")
    sys.modules[module.__name__] = module
    try:
        exec(compile(FUTURE_SOURCE, "<future>", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[module.__name__]


def test_future_annotations_function(future_module: types.ModuleType) -> None:
    m = future_module
    sig = inspect_tool_function(m.order, invocation_type=m.Inv)
    assert isinstance(m.order.__annotations__["items"], str)
    props = sig.parameters["properties"]
    assert list(props) == ["items", "mode", "opts"]
    assert props["items"]["description"] == "What to order."
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    # NotRequired is honoured even though the TypedDict was built from strings
    assert props["opts"]["anyOf"][0]["required"] == ["level"]
    inv = m.Inv()
    args, kwargs = sig.bind({"items": [{"name": "x"}], "mode": "fast", "opts": {"level": 1}}, inv)
    items, mode, got_inv, opts = m.order(*args, **kwargs)
    assert items == [m.Item("x", 1)] and mode == "fast" and got_inv is inv and opts == {"level": 1}

    sig = inspect_tool_function(m.params_style, invocation_type=m.Inv)
    assert sig.parameters["required"] == ["name"]
    args, kwargs = sig.bind({"name": "y", "qty": 2}, inv)
    assert m.params_style(*args, **kwargs) == m.Item("y", 2)


def test_future_annotations_with_classes_local_to_a_function() -> None:
    namespace: dict[str, Any] = {}
    source = textwrap.dedent(
        """
        from __future__ import annotations
        import dataclasses

        def make(inspect_tool_function, Inv):
            @dataclasses.dataclass
            class Local:
                n: int

            def tool(x: Local, y: list[Local]) -> int:
                return x.n + sum(i.n for i in y)

            return tool, inspect_tool_function(tool, invocation_type=Inv)
        """
    )
    exec(compile(source, "<local>", "exec"), namespace)
    tool, sig = namespace["make"](inspect_tool_function, Inv)
    assert sig.parameters["properties"]["x"]["properties"] == {"n": {"type": "integer"}}
    args, kwargs = sig.bind({"x": {"n": 1}, "y": [{"n": 2}, {"n": 3}]}, INV)
    assert tool(*args, **kwargs) == 6


def test_recursive_dataclass_uses_defs() -> None:
    schema = schema_for_type(TreeNode)
    assert schema["properties"]["children"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/TreeNode"},
    }
    assert schema["$defs"]["TreeNode"]["required"] == ["value"]

    def f(tree: TreeNode, forest: list[TreeNode]) -> Any:
        return tree, forest

    sig = sig_of(f)
    assert sig.parameters["properties"]["tree"] == {"$ref": "#/$defs/TreeNode"}
    assert "TreeNode" in sig.parameters["$defs"]
    value = {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}
    tree, forest = call(f, {"tree": value, "forest": [value]})
    assert tree == TreeNode(1, [TreeNode(2, [TreeNode(3)])])
    assert forest == [tree]
    validate_against_schema(sig.parameters, {"tree": value, "forest": []})
    bad = {
        "tree": {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]},
        "forest": [],
    }
    assert (
        str(error_of(f, bad))
        == "tree.children[0].children[0].value: expected an integer, got 'x' (str)"
    )
    with pytest.raises(ArgumentError, match=r"tree\.children\[0\]\.children\[0\]\.value"):
        validate_against_schema(sig.parameters, bad)


# --------------------------------------------------------------------------------------------
# validate_against_schema


def check(schema: dict[str, Any], value: Any) -> list[tuple[str, str]]:
    try:
        validate_against_schema(schema, value)
    except ArgumentError as exc:
        return exc.errors
    return []


def test_validate_object_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[A-Z]"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "units": {"enum": ["C", "F"]},
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": 2,
                "uniqueItems": True,
            },
            "nullable": {"type": ["string", "null"]},
        },
        "required": ["city"],
        "additionalProperties": False,
        "x-unknown-keyword": 1,
    }
    assert (
        check(schema, {"city": "Oslo", "days": 3.0, "units": "C", "tags": ["a"], "nullable": None})
        == []
    )
    assert check(
        schema, {"days": 0, "units": "K", "tags": ["a", "a", "b"], "nullable": 1, "zz": 1}
    ) == [
        ("", "missing required argument 'city'"),
        ("days", "must be >= 1; got 0"),
        ("units", "must be one of 'C', 'F'; got 'K'"),
        ("tags", "must have at most 2 items, got 3"),
        ("tags[1]", "duplicate of item 0; items must be unique"),
        ("nullable", "expected a string or null, got 1 (int)"),
        ("", "unexpected argument 'zz'"),
    ]
    assert check(schema, {"city": "o"}) == [
        ("city", "must be at least 2 characters long"),
        ("city", "does not match the pattern '^[A-Z]': 'o'"),
    ]
    assert check(schema, {"city": 5}) == [("city", "expected a string, got 5 (int)")]
    assert check(schema, {"city": "Oslo", "days": True}) == [
        ("days", "expected an integer, got true (bool)")
    ]
    assert check(schema, [1]) == [("", "expected an object, got [1] (list)")]


def test_validate_refs_combinators_and_numbers() -> None:
    schema = {
        "$defs": {
            "point": {
                "type": "array",
                "prefixItems": [{"type": "number"}, {"type": "number"}],
                "minItems": 2,
                "maxItems": 2,
            }
        },
        "definitions": {"name": {"type": "string", "const": "origin"}},
        "type": "object",
        "properties": {
            "where": {"anyOf": [{"$ref": "#/$defs/point"}, {"$ref": "#/definitions/name"}]},
            "one": {"oneOf": [{"type": "integer"}, {"type": "number", "multipleOf": 0.5}]},
            "ex": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
            "old": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
            "never": False,
            "anything": True,
        },
    }
    good = {"where": [1, 2.5], "one": 1.5, "ex": 5, "old": 1, "extra": {"a": 1}, "anything": [None]}
    assert check(schema, good) == []
    assert check(schema, {"where": "origin"}) == []
    assert check(schema, {"where": "elsewhere"}) == [("where", "must be 'origin'; got 'elsewhere'")]
    assert check(schema, {"where": [1, "x"]}) == [("where[1]", "expected a number, got 'x' (str)")]
    assert check(schema, {"where": None}) == [("where", "expected an array or a string, got null")]
    assert check(schema, {"one": 2}) == [("one", "matches more than one of the allowed schemas")]
    assert check(schema, {"ex": 0, "old": 0}) == [
        ("ex", "must be > 0; got 0"),
        ("old", "must be > 0; got 0"),
    ]
    assert check(schema, {"ex": 10}) == [("ex", "must be < 10; got 10")]
    assert check(schema, {"extra": {"a": "x"}}) == [
        ("extra.a", "expected an integer, got 'x' (str)")
    ]
    assert check(schema, {"never": 1}) == [("never", "no value is allowed here")]


def test_validate_circular_ref_does_not_loop() -> None:
    schema = {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}
    assert check(schema, {"x": 1}) == []
    tree = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
            }
        },
        "$ref": "#/$defs/node",
    }
    assert check(tree, {"kids": [{"kids": [{"kids": 3}]}]}) == [
        ("kids[0].kids[0].kids", "expected an array, got 3 (int)")
    ]


def test_validate_all_of_and_not() -> None:
    schema = {"allOf": [{"type": "integer"}, {"minimum": 3}], "not": {"const": 4}}
    assert check(schema, 5) == []
    assert check(schema, 2) == [("", "must be >= 3; got 2")]
    assert check(schema, 4) == [("", "must not match the excluded schema")]


def test_inferred_schemas_agree_with_validator() -> None:
    def f(trip: Trip, movie: Movie, when: datetime | None = None, level: Level = Level.LOW) -> None:
        pass

    params = sig_of(f).parameters
    good = {
        "trip": {"stops": [{"name": "a"}]},
        "movie": {"title": "t"},
        "when": "2024-01-01T00:00:00",
    }
    validate_against_schema(params, good)
    sig_of(f).bind(good, INV)
    bad = {"trip": {"stops": [{"name": 1}]}, "movie": {}, "level": 3}
    expected = [
        ("trip.stops[0].name", "expected a string, got 1 (int)"),
        ("movie.title", "missing required field"),
        ("level", "must be one of 1, 2; got 3"),
    ]
    assert check(params, bad) == expected
    assert error_of(f, bad).errors == expected


# --------------------------------------------------------------------------------------------
# Property-based: values generated to fit an inferred schema are accepted and round-trip


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Item:
    name: str
    price: float
    qty: int = 1
    color: Color | None = None


@dataclasses.dataclass
class Order:
    id: uuid.UUID
    items: list[Item]
    shipping: tuple[str, int]
    labels: frozenset[str]
    counts: dict[str, int]
    placed: datetime
    priority: Literal["low", "high"] = "low"
    gift: Item | None = None


json_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
items = st.builds(
    Item,
    name=st.text(max_size=8),
    price=json_floats,
    qty=st.integers(-(2**40), 2**40),
    color=st.none() | st.sampled_from(Color),
)
orders = st.builds(
    Order,
    id=st.uuids(),
    items=st.lists(items, max_size=3),
    shipping=st.tuples(st.text(max_size=5), st.integers()),
    labels=st.frozensets(st.text(max_size=4), max_size=3),
    counts=st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    placed=st.datetimes(timezones=st.none() | st.just(timezone.utc)),
    priority=st.sampled_from(["low", "high"]),
    gift=st.none() | items,
)


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(to_json(v) for v in value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (uuid.UUID,)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def place(order: Order, invocation: Inv) -> Order:
    return order


PLACE_SIG = sig_of(place)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders)
def test_generated_values_are_accepted_and_round_trip(order: Order) -> None:
    arguments = json.loads(json.dumps(to_json(order)))
    validate_against_schema(PLACE_SIG.parameters, arguments)  # type: ignore[arg-type]
    args, kwargs = PLACE_SIG.bind(arguments, INV)
    assert place(*args, **kwargs) == order


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | json_floats | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


def simple(
    a: int,
    b: Optional[list[str]] = None,
    c: Literal["x", 1] = "x",
    d: dict[str, float] | None = None,
) -> None:
    pass


SIMPLE_SIG = sig_of(simple)


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {"a": json_values},
        optional={
            "b": json_values | st.lists(st.text(max_size=2)),
            "c": json_values,
            "d": json_values,
        },
    )
)
def test_converter_and_validator_agree(arguments: dict[str, Any]) -> None:
    validator_ok = not check(SIMPLE_SIG.parameters, arguments)  # type: ignore[arg-type]
    try:
        SIMPLE_SIG.bind(arguments, INV)
        converter_ok = True
    except ArgumentError:
        converter_ok = False
    assert validator_ok == converter_ok


# --------------------------------------------------------------------------------------------
# Odds and ends


@pytest.mark.parametrize(
    ("tp", "schema"),
    [
        (dict, {"type": "object"}),
        (set, {"type": "array", "uniqueItems": True}),
        (tuple, {"type": "array"}),
        (tuple[()], {"type": "array", "minItems": 0, "maxItems": 0}),
        (
            typing.FrozenSet[int],
            {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
        ),
        (typing.Mapping[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (typing.Iterable[str], {"type": "array", "items": {"type": "string"}}),
    ],
)
def test_typing_aliases(tp: Any, schema: dict[str, Any]) -> None:
    assert schema_for_type(tp) == schema


@pytest.mark.skipif(sys.version_info < (3, 12), reason="type statement needs Python 3.12")
def test_type_alias_statement() -> None:
    namespace: dict[str, Any] = {}
    exec("type Pair = tuple[int, int]\ntype Tree = list[Tree] | int", namespace)
    pair = namespace["Pair"]
    assert schema_for_type(list[pair]) == {
        "type": "array",
        "items": {
            "type": "array",
            "prefixItems": [{"type": "integer"}] * 2,
            "minItems": 2,
            "maxItems": 2,
        },
    }
    with pytest.raises(TypeError, match="recursive type alias"):
        schema_for_type(namespace["Tree"])


def test_dateutil_is_imported_only_when_needed() -> None:
    import subprocess

    code = textwrap.dedent(
        """
        import sys
        from datetime import datetime
        import copilot_sync._schema as m
        assert "dateutil" not in sys.modules
        class Inv: pass
        def f(when: datetime): return when
        sig = m.inspect_tool_function(f, invocation_type=Inv)
        sig.bind({"when": "2024-01-02T03:04:05"}, None)
        assert "dateutil" not in sys.modules
        sig.bind({"when": "2024-01"}, None)
        assert "dateutil" in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
