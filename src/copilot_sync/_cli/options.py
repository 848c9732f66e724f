"""Options shared by ``run`` and ``chat``: connection and provider flags, durations, the prompt, logging, the overall deadline."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from .status import API_KEY_ENV, PROVIDER_TYPES, WIRE_APIS, UsageError

__all__ = [
    "Deadline",
    "add_connection_options",
    "positive_seconds",
    "provider_from_args",
    "read_prompt",
    "setup_logging",
]


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
    parser.add_argument(
        "--model", "-m", default=None, help="the model to use (default: the CLI's default)"
    )
    parser.add_argument(
        "--timeout", type=positive_seconds, default=None, metavar="SECONDS", help=timeout_help
    )
    parser.add_argument(
        "--cli-path",
        default=None,
        metavar="PATH",
        help="the Copilot CLI to run (default: found as `copilot-sync where` shows)",
    )
    byok = parser.add_argument_group(
        "bring your own key (BYOK): use any model endpoint, no GitHub account"
    )
    byok.add_argument(
        "--provider-url",
        default=None,
        metavar="URL",
        help="base URL of the model provider, e.g. http://127.0.0.1:8000/v1",
    )
    byok.add_argument(
        "--provider-type",
        default="openai",
        choices=PROVIDER_TYPES,
        help="the provider's API (default: openai)",
    )
    byok.add_argument(
        "--wire-api",
        default=None,
        choices=WIRE_APIS,
        help="openai/azure API format (default: the CLI's, completions)",
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
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="log the SDK's (and the CLI's) messages to stderr",
    )


def provider_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
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
