"""Byte transports under the JSON-RPC connection: a child's stdio pipes, or a TCP socket.

Both give the connection a :class:`FrameReader` (``max_frame_bytes`` bounds what the peer
may send) and a :class:`FrameWriter` whose every write is bounded by its caller's deadline
(see :mod:`copilot_sync._wire.framing`). ``close()`` never blocks: it never flushes, never
waits for a write in progress (that writer stops within one wait slice and closes the
descriptor as it lets go), and leaves the read stream to the reader thread, which closes it
when its read returns (a socket's read returns at once after ``shutdown``).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from .._errors import ConnectionLostError, ProcessExitedError
from .framing import DEFAULT_MAX_FRAME_BYTES, FrameReader, check_max_frame_bytes
from .process import CLIProcess
from .writer import FrameWriter, SocketSink

__all__ = ["SocketTransport", "StdioTransport", "parse_cli_url"]

logger = logging.getLogger("copilot_sync.transport")

_READ_BUFFER = 1 << 16


def parse_cli_url(url: str) -> tuple[str, int]:
    """``"host:port"``, ``"port"`` or ``"http://host:port"`` → ``(host, port)``."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"cli_url must be a non-empty string like 'localhost:3000', not {url!r}")
    text = url.strip()
    for prefix in ("http://", "https://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    text = text.rstrip("/")
    if text.isdigit():
        host, port_text = "localhost", text
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not port_text.isdigit():
            raise ValueError(
                f"cli_url {url!r} must look like 'host:port', 'port' or 'http://host:port'"
            )
        host = host.strip("[]") or "localhost"
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"cli_url {url!r}: port must be between 1 and 65535")
    return host, port


class StdioTransport:
    """Frames over the child's stdin/stdout pipes (owned by the :class:`CLIProcess`)."""

    def __init__(
        self, process: CLIProcess, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    ) -> None:
        self.process = process
        self.reader, self.writer = process.frames(
            max_frame_bytes=check_max_frame_bytes(max_frame_bytes)
        )

    def describe_end(self, exc: BaseException | None) -> ConnectionLostError:
        return self.process.exited_error()

    def close(self) -> None:
        """Close stdin (the CLI sees end of input) and stdout; never blocks."""
        self.process.close_stdin()
        self.reader.close()

    def __repr__(self) -> str:
        return f"<StdioTransport {self.process!r}>"


class SocketTransport:
    """Frames over a TCP connection, to a spawned CLI or to a server someone else runs."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        process: CLIProcess | None = None,
        connect_timeout: float = 10.0,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        check_max_frame_bytes(max_frame_bytes)
        self.host = host
        self.port = port
        self.process = process
        try:
            sock = socket.create_connection((host, port), timeout=connect_timeout)
        except OSError as exc:
            raise ProcessExitedError(
                f"could not connect to the Copilot CLI server at {host}:{port}: {exc}",
                exit_code=process.returncode if process else None,
                stderr=process.stderr_tail() if process else "",
            ) from exc
        sock.settimeout(
            None
        )  # blocking, for the reader thread; writes use MSG_DONTWAIT (SocketSink)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.sock = sock
        self._file: Any = sock.makefile("rb", buffering=_READ_BUFFER)
        self.reader = FrameReader(self._file, max_frame_bytes=max_frame_bytes)
        self.writer = FrameWriter(SocketSink(sock))

    def describe_end(self, exc: BaseException | None) -> ConnectionLostError:
        if self.process is not None:
            return self.process.exited_error()
        detail = f": {exc}" if exc else ""
        return ProcessExitedError(
            f"the Copilot CLI server at {self.host}:{self.port} closed the connection{detail}"
        )

    def close(self) -> None:
        """Never blocks: ``shutdown`` wakes the reader thread (its read returns the end of
        the stream) and any writer (its next send fails); the writer closes the socket, the
        reader thread its file, and the descriptor goes with the last of them."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.writer.close("the connection to the CLI server was closed")
        self.reader.close()

    def __repr__(self) -> str:
        return f"<SocketTransport {self.host}:{self.port}>"
