"""JSON-RPC messages: error codes, encoding and decoding bodies, the records of calls
waiting for their answers, and the errors a write that missed its deadline becomes."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from .._errors import CLINotReadingError, CopilotTimeoutError
from .framing import FrameWriteTimeout

logger = logging.getLogger("copilot_sync.transport")

METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

# allow_nan=False: NaN and Infinity are not JSON, and the CLI's JSON.parse rejects them.
dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
raw_decode = json.JSONDecoder().raw_decode


def loads(body: bytes) -> Any:
    """``json.loads`` for a frame body, about twice as fast for the usual compact object:
    decode the UTF-8 first and let ``raw_decode`` skip ``loads``'s encoding sniffing and
    its regex pass over the end. Anything unusual falls back to ``json.loads``."""
    text = body.decode("utf-8")
    try:
        value, end = raw_decode(text)
    except ValueError:
        return json.loads(text)  # leading whitespace, or invalid: loads raises the usual error
    if end != len(text) and text[end:].strip():
        raise ValueError(f"extra data after the JSON value (at position {end})")
    return value


class Unsendable(Exception):
    """A message holds a value JSON cannot carry; the text says which kind."""


class NestedTooDeeply(Exception):
    """A frame from the peer is nested too deeply for the JSON parser."""


def encode(message: dict[str, Any], what: str) -> bytes:
    """The UTF-8 JSON of ``message``; ``Unsendable`` if JSON cannot carry it."""
    try:
        text = dumps(message)
    except (TypeError, ValueError, RecursionError) as exc:
        raise Unsendable(json_problem(exc)) from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    # A lone surrogate has no UTF-8 form, and the CLI's parser rejects even its JSON escape
    # ("lone leading surrogate in hex escape", -32700, with no id: the request would never be
    # answered). Through UTF-16: surrogate pairs become the character they encode, and every
    # lone surrogate becomes U+FFFD. Surrogates only occur inside JSON strings, so the JSON
    # text can be repaired as a whole.
    repaired = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    replaced = repaired.count("\ufffd") - text.count("\ufffd")
    logger.warning(
        "%s contains %d lone surrogate(s) (text that is not valid Unicode, such as a file name that is not "
        "UTF-8); sent as U+FFFD, the replacement character, since the CLI cannot read them",
        what,
        replaced,
    )
    return repaired.encode("utf-8")


def json_problem(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "a value is nested too deeply"
    text = str(exc)
    if "Out of range float" in text:
        return f"a float JSON cannot carry (NaN or Infinity): {text}"
    if "Circular reference" in text:
        return "a circular reference (a value contains itself)"
    return text


class Pending:
    """One request waiting for its response; the lock is released when it completes."""

    __slots__ = ("error", "lock", "method", "result")

    def __init__(self, method: str) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.method = method
        self.result: Any = None
        self.error: BaseException | None = None


class CallbackPending:
    """A request sent by ``request_async``. It looks like :class:`Pending` to the code
    that completes requests: that code sets ``result`` or ``error`` and then calls
    ``lock.release()``, which here calls the callback instead of waking a thread."""

    __slots__ = ("error", "lock", "method", "result")

    def __init__(self, method: str, callback: Callable[[Any, BaseException | None], None]) -> None:
        self.method = method
        self.result: Any = None
        self.error: BaseException | None = None
        self.lock = CallOnRelease(self, callback)


class CallOnRelease:
    __slots__ = ("_callback", "_pending")

    def __init__(
        self, pending: CallbackPending, callback: Callable[[Any, BaseException | None], None]
    ) -> None:
        self._pending = pending
        self._callback: Callable[[Any, BaseException | None], None] | None = callback

    def release(self) -> None:
        callback, self._callback = self._callback, None
        if callback is None:
            return
        pending = self._pending
        try:
            callback(pending.result, None if pending.error is None else fresh(pending.error))
        except Exception:  # the reader thread must survive a faulty callback
            logger.exception("callback for the answer to %s failed", pending.method)


def stopped_reading(exc: FrameWriteTimeout, what: str) -> CLINotReadingError:
    """The close error when a frame was cut short because the peer stopped reading."""
    return CLINotReadingError(
        f"the CLI stopped reading its input: {what} was cut off after {exc.sent:,} of {exc.total:,} bytes "
        "when its deadline passed, so the stream cannot be used any more; the connection is closed"
    )


def write_timeout_error(
    exc: FrameWriteTimeout, method: str, timeout: float | None
) -> CopilotTimeoutError:
    if exc.cut:
        return CopilotTimeoutError(
            f"Timeout after {timeout}s sending {method}: the CLI stopped reading its input "
            f"({exc.sent:,} of {exc.total:,} bytes written); the connection was closed"
        )
    return CopilotTimeoutError(
        f"Timeout after {timeout}s: {method} could not be sent because the CLI is not reading its input "
        "(nothing was sent; the connection is still usable)"
    )


def fresh(error: BaseException) -> BaseException:
    """A new exception of the same type and content, so each raiser gets its own traceback."""
    try:
        clone = type(error).__new__(type(error))
        clone.__dict__.update(error.__dict__)
        clone.args = error.args
        return clone
    except Exception:
        return error
