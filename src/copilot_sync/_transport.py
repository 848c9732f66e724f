"""Byte transports under the JSON-RPC connection: a child's stdio pipes, or a TCP socket."""

from __future__ import annotations

import logging
import socket
from typing import Any

from ._errors import ConnectionLostError, ProcessExitedError
from ._framing import FrameReader, FrameWriter
from ._process import CLIProcess

__all__ = ["StdioTransport", "SocketTransport", "parse_cli_url"]

logger = logging.getLogger("copilot_sync.transport")

_READ_BUFFER = 1 << 16


def parse_cli_url(url: str) -> tuple[str, int]:
    """``"host:port"``, ``"port"`` or ``"http://host:port"`` → ``(host, port)`` (PROTOCOL §1.4)."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"cli_url must be a non-empty string like 'localhost:3000', not {url!r}")
    text = url.strip()
    for prefix in ("http://", "https://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    text = text.rstrip("/")
    if text.isdigit():
        host, port_text = "localhost", text
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not port_text.isdigit():
            raise ValueError(f"cli_url {url!r} must look like 'host:port', 'port' or 'http://host:port'")
        host = host.strip("[]") or "localhost"
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"cli_url {url!r}: port must be between 1 and 65535")
    return host, port


class StdioTransport:
    """Frames over the child's stdin/stdout pipes."""

    def __init__(self, process: CLIProcess) -> None:
        self.process = process
        self.reader = FrameReader(process.stdout)
        self.writer = FrameWriter(process.stdin)

    def describe_end(self, exc: BaseException | None) -> ConnectionLostError:
        return self.process.exited_error()

    def close(self) -> None:
        self.process.close_stdin()

    def __repr__(self) -> str:
        return f"<StdioTransport {self.process!r}>"


class _SocketWriter:
    __slots__ = ("_sock",)

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def write(self, data: bytes) -> None:
        self._sock.sendall(data)

    def flush(self) -> None:
        pass


class SocketTransport:
    """Frames over a TCP connection, to a spawned CLI or to a server someone else runs."""

    def __init__(self, host: str, port: int, *, process: CLIProcess | None = None, connect_timeout: float = 10.0) -> None:
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
        sock.settimeout(None)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.sock = sock
        self._file: Any = sock.makefile("rb", buffering=_READ_BUFFER)
        self.reader = FrameReader(self._file)
        self.writer = FrameWriter(_SocketWriter(sock))

    def describe_end(self, exc: BaseException | None) -> ConnectionLostError:
        if self.process is not None:
            return self.process.exited_error()
        detail = f": {exc}" if exc else ""
        return ProcessExitedError(f"the Copilot CLI server at {self.host}:{self.port} closed the connection{detail}")

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        for closeable in (self._file, self.sock):  # the file holds a reference to the socket
            try:
                closeable.close()
            except OSError:
                pass

    def __repr__(self) -> str:
        return f"<SocketTransport {self.host}:{self.port}>"
