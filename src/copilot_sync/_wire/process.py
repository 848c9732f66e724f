"""The CLI child process: spawning, draining its output, stopping it, and reaping it at exit.

The child runs in its own session and process group, so a Ctrl-C typed in the terminal
reaches only Python (which then aborts the turn) and not the CLI. Every live child is
remembered in a weak set; an ``atexit`` hook kills those still running when the
interpreter exits, so no CLI process outlives it (a forked child skips the CLIs its parent
started: they are not its own).

Nothing here blocks on a pipe. In stdio mode the process owns the frame reader and writer
over its stdout and stdin (:meth:`CLIProcess.frames`): frames go to stdin's descriptor in
non-blocking mode (a stopped CLI cannot hold a writer past its deadline), closing stdin
never flushes, and each output pipe is closed by the thread that reads it (closing a
buffered pipe under a blocked reader waits for that read, which a stopped CLI, or a
grandchild that inherited the pipe, can make last forever). :meth:`CLIProcess.kill` is
therefore "kill now": SIGKILL, a bounded wait for the exit status, and nothing else.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import re
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from typing import IO

from .._errors import ProcessExitedError
from .._logging import redact
from .framing import DEFAULT_MAX_FRAME_BYTES, FrameReader
from .writer import FrameWriter, PipeSink

__all__ = ["CLIProcess"]

_PIPE_BUFFER = 1 << 16

logger = logging.getLogger("copilot_sync.client")
cli_logger = logging.getLogger("copilot_sync.cli")

_PORT_PATTERN = re.compile(rb"listening on port (\d+)", re.IGNORECASE)
_STDERR_TAIL_LINES = 40

_live: weakref.WeakSet[CLIProcess] = weakref.WeakSet()
_live_lock = threading.Lock()


class CLIProcess:
    """One spawned CLI. ``stdio=True`` keeps stdin/stdout as the JSON-RPC pipes."""

    def __init__(
        self, argv: Sequence[str], *, env: dict[str, str], cwd: str | None, stdio: bool
    ) -> None:
        self.argv = list(argv)
        self.stdio = stdio
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._port: int | None = None
        self._port_event = threading.Event()
        self._stdout_lines: collections.deque[str] = collections.deque(maxlen=10)
        self._frame_reader: FrameReader | None = None
        self._frame_writer: FrameWriter | None = None
        self._frames_lock = threading.Lock()
        logger.debug("starting CLI: %s (cwd=%s)", redact(" ".join(self.argv)), cwd)
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdio else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=_PIPE_BUFFER,  # the default 8 KiB costs a system call (and the GIL) per few events
            env=env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
        self.pid = self.popen.pid
        self.owner_pid = os.getpid()  # a forked child must never signal its parent's CLI
        with _live_lock:
            _live.add(self)
        short = str(self.pid)
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name=f"copilot-stderr-{short}", daemon=True
        )
        self._stderr_thread.start()
        self._stdout_thread: threading.Thread | None = None
        if not stdio:
            self._stdout_thread = threading.Thread(
                target=self._drain_stdout, name=f"copilot-stdout-{short}", daemon=True
            )
            self._stdout_thread.start()

    def __repr__(self) -> str:
        code = self.popen.poll()
        state = "running" if code is None else f"exited {code}"
        return f"<CLIProcess pid={self.pid} {state}>"

    # ------------------------------------------------------------ output

    @property
    def stdin(self) -> IO[bytes]:
        assert self.popen.stdin is not None
        return self.popen.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.popen.stdout is not None
        return self.popen.stdout

    def frames(
        self, *, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    ) -> tuple[FrameReader, FrameWriter]:
        """stdio mode: the frame reader over stdout and the frame writer over stdin.

        Created once and owned here, so that :meth:`close_stdin`, :meth:`kill` and
        :meth:`terminate` can close them without ever blocking (see the module docstring).
        """
        if not self.stdio:
            raise RuntimeError("frames() is for a CLI spawned in stdio mode")
        with self._frames_lock:
            if self._frame_reader is None or self._frame_writer is None:
                self._frame_reader = FrameReader(self.stdout, max_frame_bytes=max_frame_bytes)
                self._frame_writer = FrameWriter(PipeSink(self.stdin))
            return self._frame_reader, self._frame_writer

    def _drain_stderr(self) -> None:
        stream = self.popen.stderr
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                line = redact(raw.decode("utf-8", "replace").rstrip())
                self._stderr_tail.append(line)
                cli_logger.debug("%s", line)
        except (OSError, ValueError):
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def _drain_stdout(self) -> None:
        """TCP mode: find the port announcement, then keep draining so the pipe never fills."""
        stream = self.popen.stdout
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                if self._port is None:
                    match = _PORT_PATTERN.search(raw)
                    if match:
                        self._port = int(match.group(1))
                        self._port_event.set()
                text = redact(raw.decode("utf-8", "replace").rstrip())
                self._stdout_lines.append(text)
                cli_logger.debug("stdout: %s", text)
        except (OSError, ValueError):
            pass
        finally:
            self._port_event.set()
            try:  # this thread reads the pipe, so this thread closes it (see the module docstring)
                stream.close()
            except OSError:
                pass

    def stderr_tail(self, *, settle: float = 0.2) -> str:
        """The last lines of the CLI's stderr (waits briefly for the drain to finish after exit)."""
        if self.popen.poll() is not None and self._stderr_thread.is_alive():
            self._stderr_thread.join(settle)
        return "\n".join(self._stderr_tail)

    def wait_for_port(self, timeout: float) -> int:
        """Block until the CLI announces its TCP port; raise ProcessExitedError if it cannot."""
        deadline = time.monotonic() + timeout
        while not self._port_event.wait(min(0.25, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self.kill()
                raise ProcessExitedError(
                    f"the CLI did not announce its TCP port within {timeout:g}s" + self._context(),
                    exit_code=self.popen.poll(),
                    stderr=self.stderr_tail(),
                )
        if self._port is None:
            code = self.wait(1.0)
            raise ProcessExitedError(
                f"the CLI exited with code {code} before announcing its TCP port" + self._context(),
                exit_code=code,
                stderr=self.stderr_tail(),
            )
        return self._port

    def _context(self) -> str:
        parts: list[str] = []
        tail = self.stderr_tail()
        if tail:
            parts.append(f"\nstderr: {tail}")
        if self._stdout_lines:
            parts.append("\nstdout: " + "\n".join(self._stdout_lines))
        return "".join(parts)

    # ------------------------------------------------------------ lifecycle

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def exited_error(
        self, what: str = "CLI process exited", *, wait: float = 1.0
    ) -> ProcessExitedError:
        """A ProcessExitedError describing how the process ended (waits up to ``wait`` for it)."""
        code = self.wait(wait)
        tail = self.stderr_tail()
        if code is None:
            message = f"{what}: the CLI closed the connection (pid {self.pid} still running)"
        else:
            message = f"{what} with code {code}"
        if tail:
            message += f"\nstderr: {tail}"
        return ProcessExitedError(message, exit_code=code, stderr=tail)

    def close_stdin(self) -> None:
        """Close our end of the CLI's stdin (the CLI sees end of input); never blocks.

        A frame being written meanwhile stops within one wait slice; nothing is flushed."""
        if not self.stdio or self.popen.stdin is None:
            return
        writer = self._frame_writer
        if writer is not None:
            writer.close("the CLI's stdin was closed")
            return
        _close_unflushed(self.popen.stdin)

    def terminate(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, wait up to ``timeout``; then SIGKILL and wait up to ``min(timeout, 1 s)``.
        Returns the exit code (None if it never died). Never blocks on a pipe."""
        if self.popen.poll() is None:
            self._signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                logger.warning(
                    "CLI pid %d ignored SIGTERM for %.1fs; killing it", self.pid, timeout
                )
                self._signal(signal.SIGKILL)
                self.wait(min(timeout, 1.0))
        self._release()
        return self.popen.poll()

    def kill(self, timeout: float = 5.0) -> int | None:
        """Kill now: SIGKILL to the CLI's process group, then wait up to ``timeout`` for its exit
        status (a killed process, stopped or not, normally goes within milliseconds), then
        release the pipes without blocking. Returns the exit code (None if not reaped yet)."""
        if self.popen.poll() is None:
            self._signal(signal.SIGKILL)
            self.wait(timeout)
        self._release()
        return self.popen.poll()

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)  # the CLI leads its own group: take its children with it
        except (ProcessLookupError, PermissionError):
            try:
                self.popen.send_signal(sig)
            except ProcessLookupError:
                pass

    def _release(self) -> None:
        """Close our pipe ends without blocking: stdin unflushed (or through its frame writer,
        which lets a write in progress stop first); stdout by the thread that reads it."""
        self.close_stdin()
        if self.stdio and self.popen.stdout is not None:
            reader = self._frame_reader
            if reader is not None:
                reader.close()  # deferred to the reader thread if it is inside a read
            else:
                _close_unflushed(self.popen.stdout)  # nobody reads it: closing cannot wait
        # TCP mode: the stdout drain thread closes stdout when the pipe ends.
        with _live_lock:
            _live.discard(self)


def _close_unflushed(stream: IO[bytes]) -> None:
    """Close a pipe's file object without flushing it (a flush into a full pipe blocks)."""
    raw = getattr(stream, "raw", stream)
    try:
        raw.close()
    except (OSError, ValueError):
        pass


@atexit.register
def _reap_all() -> None:
    """Kill every CLI this interpreter started and that is still running."""
    with _live_lock:
        processes = list(_live)
    for process in processes:
        if process.owner_pid != os.getpid():  # inherited through fork(): the parent's CLI
            continue
        try:
            if process.popen.poll() is None:
                logger.debug("atexit: killing CLI pid %d that was never stopped", process.pid)
                process._signal(signal.SIGKILL)
                process.wait(2.0)
        except Exception:
            pass
