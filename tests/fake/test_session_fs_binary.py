"""Binary session filesystem requests of CLI 1.0.92 and later (``sessionFs.readFileBytes`` /
``writeFileBytes``, base64 on the wire), sent only to a provider that declared
``capabilities.binary`` (docs/CLI_VERSIONS.md): through the fake CLI, over real pipes."""

from __future__ import annotations

import base64

import pytest

from copilot_sync import CopilotClient, LocalSessionFs, SessionFsConfig, SessionFsHandler
from copilot_sync.testing import FakeCLI, Scenario

from .test_session_fs import fs_request

pytestmark = pytest.mark.timeout(60)

BINARY = SessionFsConfig(initial_cwd="/work", session_state_path="/session-state", binary=True)
PNG = bytes(range(256)) + b"\x89PNG\r\n\x1a\n\xff\xfe\x00"  # not UTF-8, every byte value


def test_binary_is_declared_to_the_cli():
    with FakeCLI(Scenario()) as fake, CopilotClient(cli_path=fake.cli_path, session_fs=BINARY):
        provider = fake.wait_for_request("sessionFs.setProvider")["params"]
    assert provider["capabilities"] == {"binary": True}
    both = SessionFsConfig("/w", "/s", sqlite=True, binary=True).to_wire()
    assert both["capabilities"] == {"sqlite": True, "binary": True}
    assert "capabilities" not in SessionFsConfig("/w", "/s").to_wire()


def test_binary_option_is_checked():
    with pytest.raises(TypeError, match="binary must be True or False"):
        SessionFsConfig("/w", "/s", binary="yes")  # type: ignore[arg-type]
    assert SessionFsConfig.of(
        {"initial_cwd": "/w", "session_state_path": "/s", "binary": True}
    ).binary


def test_bytes_round_trip_through_local_session_fs(tmp_path):
    with (
        FakeCLI(Scenario()) as fake,
        CopilotClient(cli_path=fake.cli_path, session_fs=BINARY) as client,
    ):
        session = client.create_session(
            create_session_fs_handler=LocalSessionFs.per_session(tmp_path)
        )
        encoded = base64.b64encode(PNG).decode("ascii")
        assert fs_request(fake, session, "mkdir", path="/work", recursive=True)["result"] is None
        written = fs_request(
            fake, session, "writeFileBytes", path="/work/image.png", content=encoded, mode=0o600
        )
        assert written["result"] is None
        read = fs_request(fake, session, "readFileBytes", path="/work/image.png")["result"]
        missing = fs_request(fake, session, "readFileBytes", path="/work/none.png")["result"]
        bad = fs_request(fake, session, "writeFileBytes", path="/work/x", content="not base64!")
    assert base64.b64decode(read["content"]) == PNG and "error" not in read
    local = list(tmp_path.rglob("image.png"))
    assert (
        len(local) == 1
        and local[0].read_bytes() == PNG
        and (local[0].stat().st_mode & 0o777) == 0o600
    )
    assert missing["content"] == "" and missing["error"]["code"] == "ENOENT"
    assert bad["error"]["code"] == -32602 and "base64" in bad["error"]["message"]


class _TextOnly(SessionFsHandler):
    """A handler that never learned bytes: the binary requests get an error result, not a hang."""

    def read_file(self, path: str) -> str:
        return "text"

    def write_file(self, path: str, content: str, mode: int | None = None) -> None:
        pass

    def append_file(self, path: str, content: str, mode: int | None = None) -> None:
        pass

    def exists(self, path: str) -> bool:
        return False

    def stat(self, path: str):  # type: ignore[no-untyped-def]
        raise FileNotFoundError(path)

    def mkdir(self, path: str, recursive: bool = False, mode: int | None = None) -> None:
        pass

    def readdir(self, path: str) -> list[str]:
        return []

    def readdir_with_types(self, path: str):  # type: ignore[no-untyped-def]
        return []

    def rm(self, path: str, recursive: bool = False, force: bool = False) -> None:
        pass

    def rename(self, src: str, dest: str) -> None:
        pass


def test_a_handler_without_bytes_answers_with_an_error_result():
    with (
        FakeCLI(Scenario()) as fake,
        CopilotClient(cli_path=fake.cli_path, session_fs=BINARY) as client,
    ):
        session = client.create_session(create_session_fs_handler=lambda s: _TextOnly())
        read = fs_request(fake, session, "readFileBytes", path="/work/a.png")["result"]
        write = fs_request(fake, session, "writeFileBytes", path="/work/a.png", content="AAEC")[
            "result"
        ]
    assert read["content"] == "" and read["error"]["code"] == "UNKNOWN"
    assert "not supported" in read["error"]["message"]
    assert write["code"] == "UNKNOWN" and "not supported" in write["message"]
