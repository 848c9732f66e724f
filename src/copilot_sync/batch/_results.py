"""The append-only JSONL results file: repair a cut-off last line, read what is done, append."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any, cast

__all__ = ["ResultsFile", "read_records"]

_log = logging.getLogger("copilot_sync.batch")


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every complete, valid record of a results file, in file order.

    A last line without its newline (a write cut off by a killed process) and lines that
    are not JSON objects are skipped (the latter with a warning).
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return
    lines = data.split(b"\n")
    for number, line in enumerate(lines[:-1], 1):  # lines[-1] is b"" or a cut-off line
        if not line.strip():
            continue
        try:
            record: Any = json.loads(line)
        except ValueError:
            _log.warning("%s line %d is not JSON; ignored", os.fspath(path), number)
            continue
        if isinstance(record, dict) and isinstance(cast(dict[str, Any], record).get("id"), str):
            yield cast(dict[str, Any], record)
        else:
            _log.warning("%s line %d is not a result record; ignored", os.fspath(path), number)


class ResultsFile:
    """The output file of a batch, owned by the coordinating process.

    Opening it cuts a partial last line off (so the file is valid JSONL again). Each
    :meth:`append` writes one whole line with one ``os.write``, then ``fsync`` s, under a
    lock: a record is either entirely in the file or not at all.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.repaired = self._repair()

    def _repair(self) -> int:
        """Cut a trailing partial line off; return how many bytes were removed."""
        try:
            with open(self.path, "rb+") as handle:
                data = handle.read()
                if not data or data.endswith(b"\n"):
                    return 0
                keep = data.rfind(b"\n") + 1
                handle.truncate(keep)
                handle.flush()
                os.fsync(handle.fileno())
        except FileNotFoundError:
            return 0
        _log.warning(
            "%s ended with a cut-off record (%d bytes); removed it", self.path, len(data) - keep
        )
        return len(data) - keep

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of every id in the file."""
        return {record["id"]: record for record in read_records(self.path)}

    def append(self, record: Mapping[str, Any]) -> None:
        """Write ``record`` as one line, flushed and fsynced, atomically with respect to threads."""
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            view = memoryview(line)
            while view:  # os.write on a regular file writes everything; loop for safety
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)

    def close(self) -> None:
        """Close the file descriptor (appending again reopens it)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
