"""Structured output: ``send_and_wait(prompt, response_format=T)`` and ``send_async``.

``T`` is read once, when the call is made, into an :class:`OutputFormat`: a class or an
annotation (dataclass, TypedDict, Enum, ``Literal``, ``list[int]``, a pydantic v2 model
when pydantic is installed...) through the schema engine of ``define_tool``
(:mod:`._schema`, imported lazily), or a JSON Schema dict taken as it is. The schema
goes out as the ``session.send`` field ``responseFormat``
(``{"type": "json_schema", "jsonSchema": {"name", "schema", "strict"?}}``, CLI
api.schema.json), which CLI 1.0.102 hands to the model provider as an OpenAI
``response_format`` and CLI 1.0.81 ignores (observed). Either way the reply is plain
text: the turn's final ``assistant.message``, whose content the SDK parses as JSON,
validates and converts to ``T``; any failure is a :class:`StructuredOutputError`.

Provider rules (OpenAI): the root of the schema must be an object, so an annotation
whose schema is not one (``list[int]``, an Enum...) is sent wrapped as
``{"value": <schema>}`` and unwrapped from the reply (a bare value is accepted too).
``strict`` is sent, as ``true``, only for a schema that strict mode accepts (every
object closed, every property required, no keyword it refuses); otherwise it is left
to the provider's default. A JSON Schema dict is sent unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._errors import StructuredOutputError
from ._fields import is_array, is_mapping, is_object
from ._futures import TurnFuture

if TYPE_CHECKING:
    from ._events import SessionEvent
    from ._idle_timeout import IdleTimeout
    from ._session import CopilotSession
    from ._turn_queue import SessionTurns, Turn

__all__ = ["OutputFormat", "StructuredTurnFuture", "new_structured_future", "output_format"]

T = TypeVar("T")

#: The schema's name on the wire (as the official SDK sends it).
SCHEMA_NAME = "response"
#: The property a non-object schema is wrapped in.
WRAP_KEY = "value"
#: Keywords OpenAI's strict mode refuses: a schema with one is sent without ``strict``.
_NOT_STRICT = frozenset(
    {"default", "prefixItems", "uniqueItems", "patternProperties", "minProperties", "maxProperties",
     "oneOf", "allOf", "not", "if", "then", "else", "dependentSchemas", "dependentRequired"}
)  # fmt: skip
_FENCE = re.compile(r"\A```[A-Za-z0-9_-]*[ \t]*\n(.*)\n[ \t]*```\Z", re.DOTALL)


class OutputFormat:
    """What one ``response_format=`` argument became: the JSON Schema to send and the
    function that turns the reply's decoded JSON into the caller's value."""

    __slots__ = ("_convert", "schema", "strict", "target", "wrapped")

    def __init__(
        self,
        target: Any,
        schema: dict[str, Any],
        convert: Callable[[Any], Any],
        *,
        wrapped: bool = False,
    ) -> None:
        self.target: Any = target
        self.schema: dict[str, Any] = schema  # as sent (wrapped, if it is)
        self.wrapped: bool = wrapped
        self.strict: bool = _strict_compatible(schema)
        self._convert = convert

    def __repr__(self) -> str:
        return f"OutputFormat({_describe(self.target)}, schema={self.schema!r})"

    def wire(self) -> dict[str, Any]:
        """The ``responseFormat`` field of ``session.send``."""
        json_schema: dict[str, Any] = {"name": SCHEMA_NAME, "schema": self.schema}
        if self.strict:
            json_schema["strict"] = True
        return {"type": "json_schema", "jsonSchema": json_schema}

    def convert_reply(self, event: SessionEvent | None) -> Any:
        """The value of a turn's final ``assistant.message`` (what ``send_and_wait`` would
        return), or :class:`StructuredOutputError` saying why there is none."""
        data = event.raw.get("data") if event is not None else None
        text = data.get("content") if is_object(data) else None
        if not isinstance(text, str) or not text.strip():
            raise StructuredOutputError(
                "the turn ended without an assistant reply to parse as JSON",
                text=text or "",
                event=event,
            )
        value = _parse_json(text, event)
        if self.wrapped and is_object(value) and list(value) == [WRAP_KEY]:
            value = value[WRAP_KEY]
        try:
            return self._convert(value)
        except ValueError as exc:  # ArgumentError (from the schema engine) is a ValueError
            errors = [(_json_path(path), problem) for path, problem in _problems(exc)]
            first_path, first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise StructuredOutputError(
                f"the reply does not match {_describe(self.target)}: {first_path}: {first}{more}",
                text=text, event=event, errors=errors,
            ) from None  # fmt: skip
        except Exception as exc:  # a __post_init__ or a model validator that raised something else
            raise StructuredOutputError(
                f"the reply could not be converted to {_describe(self.target)}: {type(exc).__name__}: {exc}",
                text=text, event=event, errors=[("$", str(exc))],
            ) from exc  # fmt: skip


def output_format(response_format: Any) -> OutputFormat:
    """An :class:`OutputFormat` for a ``response_format=`` argument; ``TypeError`` (at the
    call, before anything is sent) for something no schema can be inferred for."""
    if isinstance(response_format, OutputFormat):
        return response_format
    from ._schema import validate_against_schema

    if is_mapping(response_format):
        schema = dict(response_format)
        _check_schema(schema)

        def validate(value: Any) -> Any:
            validate_against_schema(schema, value)
            return value

        return OutputFormat(response_format, schema, validate)
    if isinstance(response_format, (str, bytes, int, float)) or response_format is None:
        raise TypeError(
            "response_format must be a type (a dataclass, TypedDict, Enum, Literal[...], list[int], a pydantic "
            f"model...) or a JSON Schema dict, not {type(response_format).__name__}"
        )
    from ._schema import converter_for_type

    try:
        converter = converter_for_type(response_format)
    except TypeError as exc:
        raise TypeError(f"response_format: {exc}") from None
    schema = converter.schema
    if schema.get("type") == "object":
        return OutputFormat(response_format, schema, converter.convert)
    defs = schema.pop("$defs", None)
    wrapper: dict[str, Any] = {
        "type": "object",
        "properties": {WRAP_KEY: schema},
        "required": [WRAP_KEY],
        "additionalProperties": False,
    }
    if defs is not None:
        wrapper["$defs"] = defs
    return OutputFormat(response_format, wrapper, converter.convert, wrapped=True)


class StructuredTurnFuture(TurnFuture, Generic[T]):
    """The :class:`TurnFuture` of a ``send_async(..., response_format=T)`` turn: its
    ``result()`` is the reply converted to ``T``, and a reply that does not fit fails it
    with :class:`StructuredOutputError` (the conversion runs on the session's event
    thread as the turn ends, before the done callbacks). Everything else is
    :class:`TurnFuture`'s."""

    def __init__(self, session: CopilotSession, prompt: str, output: OutputFormat) -> None:
        super().__init__(session, prompt)
        self.output = output

    def bind(self, turn: Turn) -> None:
        """Tie the future to its turn in the session's queue (for ``cancel()``/``running()``)."""
        self._turn = turn

    def set_result(self, result: Any) -> None:
        """Convert the turn's reply event; complete with the value, or with the error."""
        try:
            value = self.output.convert_reply(result)
        except StructuredOutputError as error:
            super().set_exception(error)
            return
        super().set_result(value)

    def result(self, timeout: float | None = None) -> T:  # type: ignore[override]
        """The reply converted to ``T``; raises like :meth:`TurnFuture.result`, or
        :class:`StructuredOutputError`."""
        return cast(T, super().result(timeout))


def new_structured_future(
    session: CopilotSession,
    turns: SessionTurns,
    prompt: str,
    payload: dict[str, Any],
    timeout: float | None,
    idle: IdleTimeout | None,
    output: OutputFormat,
) -> tuple[StructuredTurnFuture[Any], Turn]:
    """``send_async``'s structured future and its turn, bound to each other; the caller
    submits the turn."""
    future: StructuredTurnFuture[Any] = StructuredTurnFuture(session, prompt, output)
    turn = turns.new_turn(payload, future=future, timeout=timeout, idle=idle)
    future.bind(turn)
    return future, turn


# --------------------------------------------------------------------------- helpers


def _parse_json(text: str, event: SessionEvent | None) -> Any:
    """The reply's JSON; a reply that is one fenced code block (```json ... ```) counts too."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced is not None:
        stripped = fenced.group(1).strip()
    try:
        return json.loads(stripped, parse_constant=_no_constant)
    except ValueError as exc:
        where = (
            f" ({exc.msg} at line {exc.lineno} column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        excerpt = stripped if len(stripped) <= 60 else stripped[:57] + "..."
        raise StructuredOutputError(
            f"the reply is not valid JSON{where}: {excerpt!r}", text=text, event=event
        ) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _problems(exc: ValueError) -> list[tuple[str, str]]:
    """``(path, problem)`` pairs of an ArgumentError (top-level wording made about fields)."""
    errors = getattr(exc, "errors", None)
    pairs = [(p, m) for p, m in errors] if is_array(errors) and errors else [("", str(exc))]
    out: list[tuple[str, str]] = []
    for path, problem in pairs:
        missing = re.fullmatch(r"missing required argument '(.*)'", problem)
        unexpected = re.fullmatch(r"unexpected argument '(.*)'", problem)
        if not path and missing:
            path, problem = _key(missing.group(1)), "missing required field"
        elif not path and unexpected:
            path, problem = _key(unexpected.group(1)), "unexpected field"
        elif problem.startswith("invalid arguments: "):
            problem = "invalid value: " + problem[len("invalid arguments: ") :]
        out.append((path, problem))
    return out


def _key(key: str) -> str:
    return key if key.isidentifier() else f"[{json.dumps(key, ensure_ascii=False)}]"


def _json_path(path: str) -> str:
    """The schema engine's ``a.b[0]`` as ``$.a.b[0]``."""
    if not path:
        return "$"
    return "$" + path if path.startswith("[") else "$." + path


def _describe(target: Any) -> str:
    if is_mapping(target):
        return "the JSON schema"
    name = getattr(target, "__qualname__", None)
    return name if isinstance(name, str) and isinstance(target, type) else repr(target)


def _check_schema(schema: dict[str, Any]) -> None:
    try:
        json.dumps(schema, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"response_format: a JSON Schema dict must be JSON-serialisable: {exc}"
        ) from None


def _strict_compatible(schema: Any) -> bool:
    """Whether OpenAI's strict mode accepts ``schema``: an object at the root, every object
    closed with all its properties required, none of the keywords it refuses."""
    if not is_object(schema) or schema.get("type") != "object":
        return False
    return _strict_node(schema)


def _strict_node(node: Any) -> bool:
    if is_array(node):
        return all(_strict_node(item) for item in node)
    if not is_object(node):
        return True
    if _NOT_STRICT & node.keys():
        return False
    types = node.get("type")
    if types == "object" or (is_array(types) and "object" in types):
        properties = node.get("properties")
        properties = properties if is_object(properties) else {}
        if node.get("additionalProperties") is not False or set(node.get("required") or ()) != set(
            properties
        ):
            return False
    for key, value in node.items():
        if key in ("properties", "$defs", "definitions"):
            if not (is_object(value) and all(_strict_node(sub) for sub in value.values())):
                return False
        elif key in ("items", "anyOf", "additionalProperties") and not _strict_node(value):
            return False
    return True
