"""Binary files through a custom session filesystem provider, on the real CLI (1.0.92 and
later read binary files with ``sessionFs.readFileBytes`` when the provider declares
``binary``). Observed on 1.0.102: the ``view`` tool reads an image through the provider
and hands its exact bytes on (``binaryResultsForLlm``); no flow of the CLI writes binary
files yet, so ``writeFileBytes`` is covered by the fake-CLI tests
(``tests/fake/test_session_fs_binary.py``)."""

from __future__ import annotations

import base64
import os
import random
import struct
import threading
import zlib
from pathlib import Path

from copilot_sync import CopilotClient, LocalSessionFs, PermissionHandler, SessionFsConfig
from copilot_sync._versions import cli_at_least

TIMEOUT = 60
CWD = "/project"


def _png(size: int = 32) -> bytes:
    """A valid PNG of random pixels: its compressed data holds (nearly) every byte value."""
    rng = random.Random(7)
    rows = b"".join(
        b"\x00" + bytes(rng.randrange(256) for _ in range(size * 3)) for _ in range(size)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class ImageStore(LocalSessionFs):
    """A custom provider: a LocalSessionFs that records its binary reads."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.binary_reads: list[str] = []
        self.lock = threading.Lock()

    def read_file_bytes(self, path: str) -> bytes:
        with self.lock:
            self.binary_reads.append(path)
        return super().read_file_bytes(path)


def test_a_binary_file_round_trips_through_a_custom_provider(cli_env, real_cli, model, tmp_path):
    image = _png()
    assert len(set(image)) > 200
    store = ImageStore(tmp_path / "store")
    local = Path(store.local_path(f"{CWD}/picture.png"))
    local.parent.mkdir(parents=True)
    local.write_bytes(image)

    config = SessionFsConfig(initial_cwd=CWD, session_state_path="/state", binary=True)
    model.add_tool_call("view", {"path": f"{CWD}/picture.png"}, call_id="call_view")
    model.add_reply("A noisy picture.")
    completions: list[dict] = []
    with CopilotClient(cli_path=real_cli.path, env=cli_env, session_fs=config) as client:
        assert cli_at_least(client.server_version, "1.0.92"), "the default CLI reads binary files"
        session = client.create_session(
            model=model.model,
            provider=model.provider(),
            create_session_fs_handler=lambda s: store,
            on_permission_request=PermissionHandler.approve_all,
        )
        session.on("tool.execution_complete", lambda event: completions.append(event.raw["data"]))
        reply = session.send_and_wait("What is in picture.png?", timeout=TIMEOUT)
        session.disconnect()

    assert reply.data.content == "A noisy picture."
    assert store.binary_reads == [f"{CWD}/picture.png"]
    (done,) = [c for c in completions if c.get("toolCallId") == "call_view"]
    assert done["success"] is True
    (binary,) = done["result"]["binaryResultsForLlm"]
    assert binary["mimeType"] == "image/png"
    assert (
        base64.b64decode(binary["data"]) == image
    )  # the exact bytes, through the provider and the CLI
    assert not os.path.exists(f"{CWD}/picture.png")  # never on the CLI's own disk
