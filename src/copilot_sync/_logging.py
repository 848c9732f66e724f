"""The ``copilot_sync`` logger tree: silent by default, opt-in file logging, no tokens.

Loggers: ``copilot_sync`` (root of the tree), ``copilot_sync.transport`` (frames),
``copilot_sync.client``, ``copilot_sync.session``, ``copilot_sync.workers``,
``copilot_sync.cli`` (the CLI's own standard error, at DEBUG).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any, cast

__all__ = ["LOGGER_NAME", "enable_file_logging", "redact", "register_secret"]

LOGGER_NAME = "copilot_sync"
package_logger = logging.getLogger(LOGGER_NAME)
package_logger.addHandler(logging.NullHandler())

_FORMAT = "%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"

# Secrets registered at run time (GitHub tokens, connection tokens) plus token shapes.
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_TOKEN_PATTERN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b")
REDACTED = "[REDACTED]"


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`redact` (and every log record) hides it."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)
    _filter_sdk_loggers()  # loggers of modules imported since


def redact(text: str) -> str:
    """Hide every registered secret and anything shaped like a GitHub token in ``text``."""
    if not text:
        return text
    for secret in tuple(_secrets):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _TOKEN_PATTERN.sub(REDACTED, text)


def redact_value(value: Any) -> Any:
    """``value`` with :func:`redact` applied to every string in it (dicts, lists, tuples);
    the same object when nothing needed redacting."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        mapping = cast("dict[Any, Any]", value)
        cleaned = {key: redact_value(item) for key, item in mapping.items()}
        return mapping if all(cleaned[k] is mapping[k] for k in mapping) else cleaned
    if isinstance(value, (list, tuple)):
        sequence = cast("list[Any] | tuple[Any, ...]", value)
        items = [redact_value(item) for item in sequence]
        if all(a is b for a, b in zip(items, sequence, strict=True)):
            return sequence
        return type(sequence)(items) if isinstance(sequence, tuple) else items
    return value


class _RedactingFilter(logging.Filter):
    """Rewrites each record's message, traceback and stack with secrets removed, before any
    handler formats it (the traceback is rendered once here, and handlers reuse that text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: let the handler report it as usual
            return True
        cleaned = redact(message)
        if cleaned is not message or record.args:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            try:
                record.exc_text = _traceback_formatter.formatException(record.exc_info)
            except Exception:
                pass
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_traceback_formatter = logging.Formatter()
_redacting_filter = _RedactingFilter()

#: Every logger of the tree carries the filter, so that records are redacted whatever handler the
#: application attaches (a logger's filters see only records logged on it, hence one per logger).
_KNOWN_LOGGERS = (
    "cli",
    "client",
    "discovery",
    "events",
    "install",
    "permissions",
    "session",
    "tools",
    "transport",
    "workers",
)


def _filter_sdk_loggers() -> None:
    """Put the redacting filter on the package logger and every ``copilot_sync.*`` logger so far."""
    names = [LOGGER_NAME, *(f"{LOGGER_NAME}.{name}" for name in _KNOWN_LOGGERS)]
    names += [n for n in list(logging.root.manager.loggerDict) if n.startswith(LOGGER_NAME + ".")]
    for name in names:
        sdk_logger = logging.getLogger(name)
        if _redacting_filter not in sdk_logger.filters:
            sdk_logger.addFilter(_redacting_filter)


def _install_filter(handler: logging.Handler) -> None:
    if _redacting_filter not in handler.filters:
        handler.addFilter(_redacting_filter)


def enable_file_logging(
    path: str | os.PathLike[str],
    *,
    level: int | str = "INFO",
    max_bytes: int = 10 * 1024 * 1024,
    backup_count: int = 5,
) -> logging.Handler:
    """Log the ``copilot_sync`` tree to a rotating file that several processes may share.

    The handler (a ``ConcurrentRotatingFileHandler``) is attached to the package logger
    only, never to the root logger. Each record carries its thread's name; secrets are
    redacted. The file is created readable and writable by its owner only. Returns the
    handler so that the caller can remove it again.
    """
    from concurrent_log_handler import ConcurrentRotatingFileHandler

    if isinstance(level, str):
        # getLevelNamesMapping() is 3.11+; getLevelName(str) -> int is its 3.10 spelling
        numeric = logging.getLevelName(level.upper())  # pyright: ignore[reportDeprecated]
        if not isinstance(numeric, int):
            raise ValueError(f"unknown log level {level!r}")
        level = numeric
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # Create the file (and the handler's lock file) owner-only before the handler opens them.
    for candidate in (path,):
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        os.chmod(candidate, 0o600)
    handler = ConcurrentRotatingFileHandler(
        path, mode="a", maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8", chmod=0o600
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level)
    _install_filter(handler)
    _filter_sdk_loggers()
    package_logger.addHandler(handler)
    if package_logger.level == logging.NOTSET or package_logger.level > level:
        package_logger.setLevel(level)
    return handler


def safe_repr(value: Any, limit: int = 200) -> str:
    """A short, redacted ``repr`` for log lines."""
    text = repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return redact(text)


_filter_sdk_loggers()
