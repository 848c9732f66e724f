"""What ``copilot-sync run`` and ``copilot-sync chat`` share: options, exit statuses,
starting the client, printing a turn as it streams, asking for permissions, and running
one turn with Ctrl-C and timeouts handled.

Command-line code: this module (like the other ``_cli_*`` modules) prints.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from .._errors import (
    ClientStateError,
    CLINotFoundError,
    ConnectionLostError,
    CopilotError,
    CopilotTimeoutError,
    SessionClosedError,
)
from .._requests.permissions import PermissionHandler, PermissionRequest, PermissionRequestResult

__all__ = [
    "API_KEY_ENV",
    "EXIT_CLI_UNAVAILABLE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_STATUSES",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "Deadline",
    "PermissionPolicy",
    "StartFailure",
    "TurnPrinter",
    "TurnResult",
    "UsageError",
    "add_connection_options",
    "configure_output",
    "error",
    "open_session",
    "provider_from_args",
    "read_prompt",
    "run_turn",
    "start_client",
]

# ---------------------------------------------------------------------------
# exit statuses (documented in docs/COMMAND_LINE.md)
# ---------------------------------------------------------------------------

EXIT_OK = 0  #: the turn completed (doctor: the CLI is usable)
EXIT_FAILED = 1  #: the turn failed: session.error, aborted elsewhere, the CLI died, the session was refused
EXIT_USAGE = 2  #: bad command line (argparse's own status)
EXIT_CLI_UNAVAILABLE = 3  #: the Copilot CLI was not found, or could not be started
EXIT_TIMEOUT = 124  #: --timeout ran out (the turn is aborted first), as timeout(1) does
EXIT_INTERRUPTED = 130  #: Ctrl-C (the turn is aborted first): 128 + SIGINT, as shells do

EXIT_STATUSES: dict[int, str] = {
    EXIT_OK: "the turn completed",
    EXIT_FAILED: "the turn failed (session.error), or the session could not be created or was lost",
    EXIT_USAGE: "usage error (bad or missing arguments)",
    EXIT_CLI_UNAVAILABLE: "the Copilot CLI could not be found or started",
    EXIT_TIMEOUT: "timed out (--timeout); the turn was aborted",
    EXIT_INTERRUPTED: "interrupted by Ctrl-C; the turn was aborted",
}

#: Environment variable read for the BYOK API key when --api-key is not given.
API_KEY_ENV = "COPILOT_SYNC_API_KEY"

PROVIDER_TYPES = ("openai", "azure", "anthropic")
WIRE_APIS = ("completions", "responses")

#: Seconds to wait for the aborted turn's ``session.idle`` before going on.
_ABORT_SETTLE = 3.0

_stderr_lock = threading.RLock()


class UsageError(Exception):
    """The command line is wrong in a way argparse cannot see (exit status 2)."""


def error(message: str, *, prog: str = "copilot-sync") -> None:
    """One message on stderr, prefixed with the program name."""
    with _stderr_lock:
        print(f"{prog}: {message}", file=sys.stderr, flush=True)


def configure_output() -> None:
    """Never die on a character the terminal's encoding lacks (the tool arrows, a model's emoji)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - detached or closed stream
                pass


# ---------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------


def positive_seconds(text: str) -> float:
    """argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def add_connection_options(parser: argparse.ArgumentParser, *, timeout_help: str) -> None:
    """The options ``run`` and ``chat`` share: which CLI, which model, BYOK, permissions."""
    parser.add_argument("--model", "-m", default=None, help="the model to use (default: the CLI's default)")
    parser.add_argument("--timeout", type=positive_seconds, default=None, metavar="SECONDS", help=timeout_help)
    parser.add_argument(
        "--cli-path",
        default=None,
        metavar="PATH",
        help="the Copilot CLI to run (default: found as `copilot-sync where` shows)",
    )
    byok = parser.add_argument_group("bring your own key (BYOK): use any model endpoint, no GitHub account")
    byok.add_argument(
        "--provider-url",
        default=None,
        metavar="URL",
        help="base URL of the model provider, e.g. http://127.0.0.1:8000/v1",
    )
    byok.add_argument(
        "--provider-type", default="openai", choices=PROVIDER_TYPES, help="the provider's API (default: openai)"
    )
    byok.add_argument(
        "--wire-api", default=None, choices=WIRE_APIS, help="openai/azure API format (default: the CLI's, completions)"
    )
    byok.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help=f"the provider's API key (default: ${API_KEY_ENV}); prefer the variable",
    )
    parser.add_argument(
        "--allow-all-tools",
        action="store_true",
        help="approve every permission request (default: ask on the terminal; deny when stdin is not a terminal)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log the SDK's (and the CLI's) messages to stderr")


def provider_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The ``provider`` session option for the BYOK options, or ``None`` without ``--provider-url``."""
    environ = os.environ if environ is None else environ
    if args.provider_url is None:
        if args.api_key is not None:
            raise UsageError("--api-key needs --provider-url (the key is for a BYOK provider)")
        if args.wire_api is not None:
            raise UsageError("--wire-api needs --provider-url")
        return None
    if not args.provider_url.strip():
        raise UsageError("--provider-url is empty")
    provider: dict[str, Any] = {"type": args.provider_type, "base_url": args.provider_url}
    api_key = args.api_key if args.api_key is not None else environ.get(API_KEY_ENV)
    if api_key:
        from .._logging import register_secret

        register_secret(api_key)
        provider["api_key"] = api_key
    if args.wire_api is not None:
        provider["wire_api"] = args.wire_api
    return provider


def read_prompt(words: list[str], stdin: TextIO | None = None) -> str:
    """The prompt: the words joined by spaces, or all of stdin for ``-``."""
    if words == ["-"]:
        stream = sys.stdin if stdin is None else stdin
        if stream is None:
            raise UsageError("the prompt is '-' but there is no stdin")
        prompt = stream.read().strip()
        if not prompt:
            raise UsageError("the prompt read from stdin is empty")
        return prompt
    prompt = " ".join(words).strip()
    if not prompt:
        raise UsageError("the prompt is empty")
    return prompt


def setup_logging(verbose: bool) -> None:
    if not verbose:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    logger = logging.getLogger("copilot_sync")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


class Deadline:
    """An overall time limit (``None``: none)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        if self._end is None:
            return None
        return max(0.0, self._end - time.monotonic())

    def cap(self, limit: float) -> float:
        """``limit``, or less if the deadline comes first (never below 0.1 s)."""
        remaining = self.remaining()
        return limit if remaining is None else max(0.1, min(limit, remaining))

    @property
    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0.05


# ---------------------------------------------------------------------------
# starting the client and the session
# ---------------------------------------------------------------------------


class StartFailure(Exception):
    """The client or the session could not be started; ``status`` is the exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def start_client(cli_path: str | None, deadline: Deadline, *, start_timeout: float = 60.0) -> Any:
    """A started :class:`CopilotClient`, or :class:`StartFailure` (3, or 124 when ``deadline`` ran out)."""
    from .._client import CopilotClient

    client = CopilotClient(cli_path=cli_path, start_timeout=deadline.cap(start_timeout))
    try:
        client.start()
    except CLINotFoundError as exc:
        raise StartFailure(EXIT_CLI_UNAVAILABLE, f"{exc}\n(`copilot-sync doctor` checks the whole set-up)") from None
    except CopilotTimeoutError as exc:
        if deadline.expired:
            raise StartFailure(
                EXIT_TIMEOUT, f"timed out after {deadline.seconds:g}s while starting the Copilot CLI"
            ) from None
        raise StartFailure(EXIT_CLI_UNAVAILABLE, f"the Copilot CLI did not start: {exc}") from None
    except (CopilotError, OSError) as exc:
        detail = str(exc)
        stderr = getattr(exc, "stderr", "")
        if stderr and stderr not in detail:
            detail += f"\nthe CLI's stderr:\n{stderr}"
        raise StartFailure(
            EXIT_CLI_UNAVAILABLE,
            f"the Copilot CLI could not be started: {detail}\n(`copilot-sync doctor` checks the whole set-up)",
        ) from None
    return client


def open_session(
    client: Any, args: argparse.Namespace, provider: dict[str, Any] | None, policy: PermissionPolicy, deadline: Deadline
) -> Any:
    """Create the streaming session, or raise :class:`StartFailure` (1, or 124)."""
    options: dict[str, Any] = {"streaming": True, "on_permission_request": policy}
    if args.model is not None:
        options["model"] = args.model
    if provider is not None:
        options["provider"] = provider
    try:
        return client.create_session(timeout=deadline.cap(120.0), **options)
    except CopilotTimeoutError:
        raise StartFailure(EXIT_TIMEOUT, f"timed out after {deadline.seconds:g}s while creating the session") from None
    except CLINotFoundError as exc:  # pragma: no cover - the client is already started
        raise StartFailure(EXIT_CLI_UNAVAILABLE, str(exc)) from None
    except CopilotError as exc:
        raise StartFailure(EXIT_FAILED, f"the session could not be created: {exc}") from None


# ---------------------------------------------------------------------------
# printing a turn
# ---------------------------------------------------------------------------

_ARGS_LIMIT = 160


def _one_line(text: str, limit: int = _ARGS_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_arguments(arguments: Any) -> str:
    """A tool call's arguments as one short line of JSON."""
    if arguments is None or arguments == {}:
        return ""
    if isinstance(arguments, str):
        return _one_line(arguments)
    try:
        text = json.dumps(arguments, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(arguments)
    return text if len(text) <= _ARGS_LIMIT else text[: _ARGS_LIMIT - 1] + "…"


class TurnPrinter:
    """Prints a turn's events: the assistant's text on ``out`` as it streams, and one
    line per tool call on ``err`` (``→ name {args}``), plus ``✗ name failed: ...`` when a
    call fails. Events of sub-agents print their tool lines only."""

    def __init__(
        self, out: TextIO | None = None, err: TextIO | None = None, *, refused: set[str] | None = None
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.refused = refused if refused is not None else set()  # tool calls whose refusal was already shown
        self._streamed: set[str] = set()
        self._tools: dict[str, str] = {}
        self._mid_line = False  # ``out`` is not at the start of a line
        self.text = ""  # everything the turn printed on ``out``

    def start_turn(self) -> None:
        self._streamed.clear()
        self._tools.clear()
        self._mid_line = False
        self.text = ""

    def finish_turn(self) -> None:
        """End the output with a newline if the reply did not."""
        if self._mid_line:
            self._write("\n")

    def _write(self, text: str) -> None:
        if not text:
            return
        self.out.write(text)
        self.out.flush()
        self.text += text
        self._mid_line = not text.endswith("\n")

    def tool_line(self, text: str) -> None:
        with _stderr_lock:
            self.err.write(text + "\n")
            self.err.flush()

    def handle(self, event: Any) -> None:
        raw_type = event.raw_type
        sub_agent = event.agent_id is not None
        if raw_type == "assistant.message_delta":
            if sub_agent or getattr(event.data, "parent_tool_call_id", None):
                return
            delta = getattr(event.data, "delta_content", None)
            if isinstance(delta, str) and delta:
                self._streamed.add(getattr(event.data, "message_id", None) or "")
                self._write(delta)
        elif raw_type == "assistant.message":
            if sub_agent or getattr(event.data, "parent_tool_call_id", None):
                return
            message_id = getattr(event.data, "message_id", None) or ""
            if message_id not in self._streamed:
                content = getattr(event.data, "content", None)
                if isinstance(content, str):
                    self._write(content)
            self.finish_turn()  # each message on lines of its own
        elif raw_type == "tool.execution_start":
            data = event.data
            name = getattr(data, "tool_name", None) or "tool"
            server = getattr(data, "mcp_server_name", None)
            if server:
                name = f"{server}/{getattr(data, 'mcp_tool_name', None) or name}"
            self._tools[getattr(data, "tool_call_id", None) or ""] = name
            self.finish_turn()
            arguments = format_arguments(getattr(data, "arguments", None))
            self.tool_line(f"→ {name} {arguments}".rstrip())
        elif raw_type == "tool.execution_complete":
            data = event.data
            tool_call_id = getattr(data, "tool_call_id", None) or ""
            if getattr(data, "success", True) is not False or tool_call_id in self.refused:
                return
            name = self._tools.get(tool_call_id, "tool")
            err = getattr(data, "error", None)
            message = getattr(err, "message", None) if err is not None else None
            self.tool_line(f"✗ {name} failed: {_one_line(message or 'no reason given')}")


# ---------------------------------------------------------------------------
# permissions
# ---------------------------------------------------------------------------


def describe_request(request: Any) -> str:
    """What a permission request asks for, in a few words."""

    def field(name: str) -> Any:
        try:
            return getattr(request, name)
        except AttributeError:
            return None

    kind = field("kind") or "unknown"
    if kind == "shell":
        what = f"run `{_one_line(str(field('full_command_text') or ''), 200)}`"
    elif kind == "write":
        what = f"write {field('file_name') or field('path') or 'a file'}"
    elif kind == "read":
        what = f"read {field('path') or field('file_name') or 'a file'}"
    elif kind == "url":
        what = f"fetch {field('url') or 'a URL'}"
    elif kind == "mcp":
        what = f"call MCP tool {field('server_name') or '?'}/{field('tool_name') or '?'}"
    elif kind == "custom-tool":
        what = f"call tool {field('tool_name') or '?'}"
    elif kind == "memory":
        what = f"remember {_one_line(str(field('fact') or field('subject') or 'something'), 120)}"
    else:
        what = f"{kind} ({field('tool_name') or field('intention') or 'no details'})"
    return what


_DENY_FEEDBACK = "Denied: no one is at a terminal to approve it, and --allow-all-tools was not given."


class PermissionPolicy:
    """The ``on_permission_request`` handler of ``run`` and ``chat``.

    ``mode`` is ``"allow"`` (``--allow-all-tools``), ``"ask"`` (stdin is a terminal: ask
    y/n/a on stderr) or ``"deny"`` (say so on stderr). Runs on a worker thread; a question
    still open when the turn is interrupted is answered "no" at once (:attr:`cancel`).
    """

    def __init__(self, mode: str, *, stdin_fd: int = 0, err: TextIO | None = None) -> None:
        if mode not in ("allow", "ask", "deny"):
            raise ValueError(f"unknown permission mode {mode!r}")
        self.mode = mode
        self.stdin_fd = stdin_fd
        self.err = err if err is not None else sys.stderr
        self.cancel = threading.Event()
        self._ask_lock = threading.Lock()  # one question at a time
        #: Tool calls refused here: their "failed" line would only repeat the refusal.
        self.refused: set[str] = set()

    @classmethod
    def from_args(cls, args: argparse.Namespace, stdin: TextIO | None = None) -> PermissionPolicy:
        if args.allow_all_tools:
            return cls("allow")
        stdin = sys.stdin if stdin is None else stdin
        try:
            interactive = stdin is not None and stdin.isatty()
        except (ValueError, OSError):
            interactive = False
        return cls("ask" if interactive else "deny")

    def _say(self, text: str, *, end: str = "\n") -> None:
        with _stderr_lock:
            self.err.write(text + end)
            self.err.flush()

    def __call__(self, request: PermissionRequest, invocation: Mapping[str, Any]) -> Any:
        if self.mode == "allow":
            return PermissionHandler.approve_all(request, invocation)
        what = describe_request(request)
        if self.mode == "deny":
            decision = PermissionRequestResult(kind="reject", feedback=_DENY_FEEDBACK)
            self._say(f"✗ permission denied: {what} (stdin is not a terminal; pass --allow-all-tools to allow)")
        else:
            with self._ask_lock:
                decision = self._ask(what)
        if decision.kind == "reject":
            tool_call_id = getattr(request, "tool_call_id", None)
            if isinstance(tool_call_id, str):
                self.refused.add(tool_call_id)
        return decision

    def _ask(self, what: str) -> PermissionRequestResult:
        if self.cancel.is_set():
            return PermissionRequestResult(kind="reject")
        self._say(f"? allow: {what}  [y]es / [n]o / [a]lways this session: ", end="")
        answer = self._read_answer()
        if answer is None:
            self._say("" if self.cancel.is_set() else "\n✗ permission denied (no answer)")
            return PermissionRequestResult(kind="reject")
        answer = answer.strip().lower()
        if answer in ("y", "yes"):
            return PermissionRequestResult(kind="approve-once")
        if answer in ("a", "always"):
            return PermissionRequestResult(kind="approve-for-session")
        self._say("✗ permission denied")
        return PermissionRequestResult(kind="reject")

    def settle(self, timeout: float = 1.0) -> None:
        """After :meth:`cancel`: wait until an open question has given up (it polls every 0.1 s)."""
        if self._ask_lock.acquire(timeout=timeout):
            self._ask_lock.release()

    def _read_answer(self) -> str | None:
        """One line from the terminal; ``None`` on end of file or when the turn is cancelled."""
        while not self.cancel.is_set():
            try:
                ready, _, _ = select.select([self.stdin_fd], [], [], 0.1)
            except (OSError, ValueError):
                return None
            if ready and not self.cancel.is_set():  # typed after the turn ended: not an answer
                try:
                    data = os.read(self.stdin_fd, 4096)
                except OSError:
                    return None
                return data.decode(errors="replace") if data else None
        return None


# ---------------------------------------------------------------------------
# one turn
# ---------------------------------------------------------------------------

COMPLETED, FAILED, TIMED_OUT, INTERRUPTED, LOST = "completed", "failed", "timed out", "interrupted", "lost"


@dataclass
class TurnResult:
    """How a turn ended: ``completed``, ``failed`` (session.error), ``timed out``,
    ``interrupted`` (Ctrl-C; the turn was aborted) or ``lost`` (the CLI or the session is gone)."""

    status: str
    error: BaseException | None = None

    @property
    def exit_status(self) -> int:
        return {
            COMPLETED: EXIT_OK,
            FAILED: EXIT_FAILED,
            TIMED_OUT: EXIT_TIMEOUT,
            INTERRUPTED: EXIT_INTERRUPTED,
            LOST: EXIT_FAILED,
        }[self.status]


class IdleWatch:
    """Knows when the session last went idle, to let an aborted turn settle."""

    def __init__(self, session: Any) -> None:
        self.event = threading.Event()
        session.on("session.idle", lambda _event: self.event.set())

    def clear(self) -> None:
        self.event.clear()

    def wait(self, timeout: float) -> bool:
        return self.event.wait(timeout)


def _abort(session: Any) -> None:
    try:
        session.abort(timeout=5.0)
    except CopilotError as exc:
        logging.getLogger("copilot_sync.cli").debug("abort failed: %s", exc)


def run_turn(
    session: Any,
    prompt: str,
    printer: TurnPrinter,
    policy: PermissionPolicy,
    *,
    timeout: float | None,
    idle: IdleWatch | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> TurnResult:
    """Send ``prompt``, print the reply as it streams, and say how the turn ended.

    Ctrl-C aborts the turn and returns ``interrupted`` (a second Ctrl-C while the abort
    settles propagates); a timeout aborts it too. The session stays usable either way.
    """
    printer.start_turn()
    policy.cancel.clear()
    if idle is not None:
        idle.clear()
    stream = None
    try:
        if timeout is not None and timeout <= 0:
            raise CopilotTimeoutError("no time left for the turn")
        stream = session.stream(prompt, timeout=timeout)
        for event in stream:  # Ctrl-C inside the iteration: the stream aborts the turn itself
            if on_event is not None:
                on_event(event)
            printer.handle(event)
    except KeyboardInterrupt:
        policy.cancel.set()
        policy.settle()
        printer.finish_turn()
        if stream is None or not stream.closed:  # interrupted outside the stream's own handling
            if stream is not None:
                stream.close()
            _abort(session)
        if idle is not None:
            idle.wait(_ABORT_SETTLE)
        return TurnResult(INTERRUPTED)
    except CopilotTimeoutError as exc:
        policy.cancel.set()
        policy.settle()
        printer.finish_turn()
        if stream is not None:
            stream.close()
        _abort(session)
        if idle is not None:
            idle.wait(_ABORT_SETTLE)
        return TurnResult(TIMED_OUT, exc)
    except (ConnectionLostError, SessionClosedError, ClientStateError) as exc:
        printer.finish_turn()
        return TurnResult(LOST, exc)
    except CopilotError as exc:  # SessionError (session.error), TurnAbortedError (aborted elsewhere), JsonRpcError
        printer.finish_turn()
        return TurnResult(FAILED, exc)
    printer.finish_turn()
    return TurnResult(COMPLETED)
