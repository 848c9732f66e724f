"""The session filesystem without a CLI: LocalSessionFs (every operation, modes, text,
confinement to its root, SQLite) and the adapter that turns handler results and
exceptions into the wire results of CLI 1.0.81."""

from __future__ import annotations

import base64
import datetime as dt
import errno
import os
import sqlite3
import stat
import sys
from typing import Any

import pytest

from copilot_sync import (
    JsonRpcError,
    LocalSessionFs,
    SessionFsConfig,
    SessionFsEntry,
    SessionFsHandler,
    SessionFsSqliteError,
    SessionFsSqliteResult,
    SessionFsStat,
)
from copilot_sync._requests.session_fs import check_session_fs_option
from copilot_sync._requests.session_fs_wire import SessionFsAdapter, session_fs_adapter

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and symlinks")


@pytest.fixture
def fs(tmp_path):
    return LocalSessionFs(tmp_path / "root")


@pytest.fixture
def root(fs):
    return fs.root


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield 0o022
    os.umask(old)


def local(fs, *parts):
    return os.path.join(fs.root, *parts)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ============================================================================ LocalSessionFs: files


def test_the_root_is_created_and_cli_paths_map_under_it(tmp_path):
    fs = LocalSessionFs(tmp_path / "a" / "b")
    assert os.path.isdir(tmp_path / "a" / "b")
    assert fs.local_path("/session-state/workspace.yaml") == str(
        tmp_path / "a" / "b" / "session-state" / "workspace.yaml"
    )
    assert fs.local_path("relative/x") == fs.local_path("/relative/x")
    assert fs.local_path("/a/./b//c/") == fs.local_path("/a/b/c")
    assert fs.local_path("/") == fs.root


def test_write_read_and_append_round_trip_text_exactly(fs):
    fs.mkdir("/s", recursive=True)
    text = "héllo ✓ 日本語 🎉\r\nline two\n\x00 nul and tab\t"
    fs.write_file("/s/a.txt", text)
    assert fs.read_file("/s/a.txt") == text
    with open(local(fs, "s", "a.txt"), "rb") as handle:
        assert handle.read() == text.encode("utf-8")  # no newline translation
    fs.append_file("/s/a.txt", "+more")
    fs.append_file("/s/new.jsonl", '{"a":1}\n')
    fs.append_file("/s/new.jsonl", '{"b":2}\n')
    assert fs.read_file("/s/a.txt") == text + "+more"
    assert fs.read_file("/s/new.jsonl") == '{"a":1}\n{"b":2}\n'
    fs.write_file("/s/a.txt", "short")
    assert fs.read_file("/s/a.txt") == "short"  # truncated


def test_bytes_that_are_not_utf8_read_as_replacement_characters(fs):
    with open(local(fs, "bin"), "wb") as handle:
        handle.write(b"ok \xff\xfe\x00 end")
    assert fs.read_file("/bin") == "ok \ufffd\ufffd\x00 end"


def test_lone_surrogates_are_written_as_replacement_characters(fs):
    fs.write_file("/s.txt", "a\ud800b")
    assert fs.read_file("/s.txt") == "a\ufffdb"


def test_content_must_be_text(fs):
    with pytest.raises(TypeError, match="content must be a string"):
        fs.write_file("/x", b"bytes")  # type: ignore[arg-type]


@posix_only
def test_mode_applies_when_a_file_is_created(fs, umask):
    fs.write_file("/private", "secret", 0o600)
    assert mode_of(local(fs, "private")) == 0o600
    fs.write_file("/private", "again", 0o644)  # an existing file keeps its mode
    assert mode_of(local(fs, "private")) == 0o600
    fs.append_file("/log", "x", 0o640)
    assert mode_of(local(fs, "log")) == 0o640
    fs.write_file("/plain", "x")
    assert mode_of(local(fs, "plain")) == 0o666 & ~umask
    fs.write_file("/masked", "x", 0o666)
    assert mode_of(local(fs, "masked")) == 0o644  # the umask applies, as for Node's writeFile


@pytest.mark.parametrize("mode", [-1, 0o10000, True, "0600", 1.5])
def test_a_bad_mode_is_refused(fs, mode):
    with pytest.raises(ValueError, match="mode"):
        fs.write_file("/x", "y", mode)


def test_file_errors(fs):
    fs.mkdir("/dir")
    with pytest.raises(FileNotFoundError) as info:
        fs.read_file("/missing.txt")
    assert info.value.filename == "/missing.txt" and fs.root not in str(info.value)
    with pytest.raises(FileNotFoundError):
        fs.write_file("/no/parent.txt", "x")  # like Node: parents are not created
    with pytest.raises(IsADirectoryError):
        fs.read_file("/dir")
    with pytest.raises(IsADirectoryError):
        fs.write_file("/dir", "x")
    fs.write_file("/file", "x")
    with pytest.raises(NotADirectoryError):
        fs.read_file("/file/inside")


def test_exists_and_stat(fs):
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=2)
    fs.mkdir("/d")
    fs.write_file("/d/f.txt", "12345")
    assert fs.exists("/d") and fs.exists("/d/f.txt") and fs.exists("/")
    assert not fs.exists("/d/nope")
    info = fs.stat("/d/f.txt")
    assert (info.is_file, info.is_directory, info.size) == (True, False, 5)
    assert info.mtime.tzinfo is dt.timezone.utc and info.mtime >= before
    assert info.birthtime.tzinfo is dt.timezone.utc and info.birthtime <= info.mtime + dt.timedelta(
        seconds=1
    )
    folder = fs.stat("/d")
    assert (folder.is_file, folder.is_directory) == (False, True)
    with pytest.raises(FileNotFoundError):
        fs.stat("/d/nope")


# ============================================================================ LocalSessionFs: directories


@posix_only
def test_mkdir(fs, umask):
    fs.mkdir("/one", mode=0o700)
    assert mode_of(local(fs, "one")) == 0o700
    with pytest.raises(FileExistsError):
        fs.mkdir("/one")
    with pytest.raises(FileNotFoundError):
        fs.mkdir("/a/b/c")
    fs.mkdir("/a/b/c", recursive=True, mode=0o700)
    for path in ("a", "a/b", "a/b/c"):
        assert mode_of(local(fs, path)) == 0o700  # every directory it creates, like Node
    fs.mkdir("/a/b/c", recursive=True)  # an existing directory is fine when recursive
    fs.write_file("/file", "x")
    with pytest.raises(FileExistsError):
        fs.mkdir("/file", recursive=True)
    with pytest.raises((NotADirectoryError, FileExistsError)):
        fs.mkdir("/file/sub", recursive=True)


def test_readdir_and_readdir_with_types_are_sorted(fs):
    fs.mkdir("/d/sub", recursive=True)
    fs.write_file("/d/b.txt", "")
    fs.write_file("/d/a.txt", "")
    assert fs.readdir("/d") == ["a.txt", "b.txt", "sub"]
    assert fs.readdir_with_types("/d") == [
        SessionFsEntry("a.txt", "file"),
        SessionFsEntry("b.txt", "file"),
        SessionFsEntry("sub", "directory"),
    ]
    assert fs.readdir("/d/sub") == []
    with pytest.raises(FileNotFoundError):
        fs.readdir("/missing")
    with pytest.raises(NotADirectoryError):
        fs.readdir_with_types("/d/a.txt")


def test_rm(fs):
    fs.mkdir("/d/sub", recursive=True)
    fs.write_file("/d/sub/f", "x")
    fs.write_file("/f", "x")
    fs.rm("/f")
    assert not fs.exists("/f")
    with pytest.raises(FileNotFoundError):
        fs.rm("/f")
    fs.rm("/f", force=True)  # force: a missing path is fine
    with pytest.raises(IsADirectoryError):
        fs.rm("/d")
    fs.rm("/d", recursive=True)
    assert not fs.exists("/d")
    for path in ("/", "", "/a/..", "."):
        with pytest.raises(PermissionError, match="root"):
            fs.rm(path, recursive=True, force=True)
    assert os.path.isdir(fs.root)


def test_rename(fs):
    fs.write_file("/a.tmp", "new")
    fs.write_file("/a", "old")
    fs.rename("/a.tmp", "/a")  # replaces, like workspace.yaml's tmp-then-rename
    assert fs.read_file("/a") == "new" and not fs.exists("/a.tmp")
    fs.mkdir("/d")
    fs.write_file("/d/x", "1")
    fs.rename("/d", "/e")
    assert fs.read_file("/e/x") == "1"
    with pytest.raises(FileNotFoundError) as info:
        fs.rename("/missing", "/b")
    assert info.value.filename == "/missing"
    with pytest.raises(PermissionError):
        fs.rename("/", "/elsewhere")
    with pytest.raises(PermissionError):
        fs.rename("/e", "/")


# ============================================================================ LocalSessionFs: confinement


ESCAPES = [
    "/../outside.txt",
    "../outside.txt",
    "/a/../../outside.txt",
    "/a/b/../../../outside.txt",
    "/..",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_dot_dot_cannot_climb_above_the_root(fs, tmp_path, path):
    (tmp_path / "outside.txt").write_text("secret")
    for operation in (
        lambda: fs.read_file(path),
        lambda: fs.write_file(path, "pwned"),
        lambda: fs.append_file(path, "pwned"),
        lambda: fs.stat(path),
        lambda: fs.mkdir(path, recursive=True),
        lambda: fs.readdir(path),
        lambda: fs.readdir_with_types(path),
        lambda: fs.rm(path, force=True, recursive=True),
        lambda: fs.rename(path, "/x"),
        lambda: fs.rename("/x", path),
        lambda: fs.exists(path),
    ):
        with pytest.raises(PermissionError) as info:
            operation()
        assert info.value.errno == errno.EACCES
    assert (tmp_path / "outside.txt").read_text() == "secret"


def test_dot_dot_that_stays_inside_is_fine(fs):
    fs.mkdir("/a/b", recursive=True)
    fs.write_file("/a/b/../c.txt", "x")
    assert fs.read_file("/a/c.txt") == "x"


def test_absolute_paths_never_reach_the_real_filesystem(fs, tmp_path):
    outside = tmp_path / "real.txt"
    outside.write_text("real")
    assert not fs.exists(str(outside))
    with pytest.raises(FileNotFoundError):
        fs.read_file("/etc/hostname")
    fs.mkdir(str(tmp_path), recursive=True)
    fs.write_file(str(outside), "shadow")
    assert outside.read_text() == "real"
    assert open(fs.local_path(str(outside))).read() == "shadow"
    assert fs.local_path(str(outside)).startswith(fs.root + os.sep)


@posix_only
def test_symlinks_cannot_lead_outside(fs, tmp_path):
    secret_dir = tmp_path / "secret"
    secret_dir.mkdir()
    (secret_dir / "key").write_text("k")
    os.symlink(secret_dir / "key", local(fs, "file-link"))
    os.symlink(secret_dir, local(fs, "dir-link"))
    os.symlink(tmp_path / "not-yet", local(fs, "dangling"))
    for operation in (
        lambda: fs.read_file("/file-link"),
        lambda: fs.write_file("/file-link", "pwned"),
        lambda: fs.append_file("/file-link", "pwned"),
        lambda: fs.stat("/file-link"),
        lambda: fs.readdir("/dir-link"),
        lambda: fs.read_file("/dir-link/key"),
        lambda: fs.write_file("/dir-link/new", "pwned"),
        lambda: fs.mkdir("/dir-link/sub", recursive=True),
        lambda: fs.rm("/dir-link/key"),
        lambda: fs.rename("/dir-link/key", "/stolen"),
        lambda: fs.write_file("/dangling", "pwned"),
    ):
        with pytest.raises(PermissionError) as info:
            operation()
        assert info.value.errno == errno.EACCES
    with pytest.raises(PermissionError):
        fs.exists("/file-link")
    assert answer(fs, "exists", path="/file-link") == {"exists": False}
    assert (secret_dir / "key").read_text() == "k" and os.listdir(secret_dir) == ["key"]
    assert not (tmp_path / "not-yet").exists()
    fs.rm("/dir-link")  # removing the link itself is harmless: only the link goes
    fs.rm("/file-link")
    assert (secret_dir / "key").read_text() == "k"
    assert fs.readdir("/") == ["dangling"]


@posix_only
def test_symlinks_inside_the_root_work(fs):
    fs.mkdir("/real")
    fs.write_file("/real/f", "x")
    os.symlink(local(fs, "real"), local(fs, "alias"))
    assert fs.read_file("/alias/f") == "x"
    assert fs.readdir_with_types("/") == [
        SessionFsEntry("alias", "file"),
        SessionFsEntry("real", "directory"),
    ]


@posix_only
def test_a_root_reached_through_a_symlink_still_confines(tmp_path):
    (tmp_path / "actual").mkdir()
    os.symlink(tmp_path / "actual", tmp_path / "via")
    fs = LocalSessionFs(tmp_path / "via")
    fs.write_file("/ok", "1")
    assert (tmp_path / "actual" / "ok").read_text() == "1"
    with pytest.raises(PermissionError):
        fs.read_file("/../actual/ok")


def test_a_nul_in_a_path_is_refused(fs):
    with pytest.raises(OSError) as info:
        fs.read_file("/a\x00b")
    assert info.value.errno == errno.EINVAL


def test_windows_conventions(tmp_path):
    fs = LocalSessionFs(tmp_path / "win", conventions="windows")
    fs.mkdir("C:\\Users\\me\\state", recursive=True)
    fs.write_file("C:\\Users\\me\\state\\plan.md", "# plan")
    assert (tmp_path / "win" / "C" / "Users" / "me" / "state" / "plan.md").read_text() == "# plan"
    assert fs.read_file("C:/Users/me/state/plan.md") == "# plan"
    with pytest.raises(PermissionError):
        fs.read_file("C:\\..\\..\\outside")
    with pytest.raises(ValueError, match="conventions"):
        LocalSessionFs(tmp_path / "x", conventions="dos")  # type: ignore[arg-type]


def test_per_session_gives_each_session_its_own_directory(tmp_path):
    factory = LocalSessionFs.per_session(tmp_path / "sessions", conventions="posix")

    class FakeSession:
        def __init__(self, session_id):
            self.session_id = session_id

    one, two = factory(FakeSession("s-1")), factory(FakeSession("s-2"))
    assert one.root == str(tmp_path / "sessions" / "s-1") and two.root == str(
        tmp_path / "sessions" / "s-2"
    )
    one.write_file("/f", "1")
    assert not two.exists("/f")


# ============================================================================ LocalSessionFs: SQLite


def test_sqlite_exec_run_and_query(fs):
    assert fs.supports_sqlite and not fs.sqlite_exists()
    assert fs.sqlite_path == os.path.join(fs.root, "session.db")
    created = fs.sqlite_query("exec", "CREATE TABLE todos (id TEXT PRIMARY KEY, title TEXT, done INTEGER, data BLOB);"
                                      "CREATE INDEX t ON todos(title);")  # fmt: skip
    assert created == SessionFsSqliteResult()
    assert fs.sqlite_exists()
    first = fs.sqlite_query("run", "INSERT INTO todos (id, title, done) VALUES (:id, :title, :done)",
                            {"id": "t1", "title": "write tests", "done": False})  # fmt: skip
    assert (first.rows_affected, first.last_insert_rowid) == (1, 1)
    second = fs.sqlite_query("run", "INSERT INTO todos (id, title, done, data) VALUES ($id, @title, :done, x'00ff')",
                             {"$id": "t2", "@title": "ship", ":done": True})  # fmt: skip
    assert second.last_insert_rowid == 2
    rows = fs.sqlite_query("query", "SELECT id, title, done, data FROM todos ORDER BY id")
    assert rows.columns == ["id", "title", "done", "data"]
    assert rows.rows == [
        {"id": "t1", "title": "write tests", "done": 0, "data": None},
        {"id": "t2", "title": "ship", "done": 1, "data": base64.b64encode(b"\x00\xff").decode()},
    ]
    updated = fs.sqlite_query("run", "UPDATE todos SET done = 1")
    assert updated.rows_affected == 2
    with pytest.raises(sqlite3.Error):
        fs.sqlite_query("query", "SELECT * FROM nope")
    with pytest.raises(ValueError, match="queryType"):
        fs.sqlite_query("select", "SELECT 1")
    with pytest.raises(TypeError, match="parameter"):
        fs.sqlite_query("query", "SELECT :x", {"x": [1, 2]})


def test_sqlite_transactions_are_atomic(fs):
    fs.sqlite_query("exec", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
    results = fs.sqlite_transaction([
        {"queryType": "run", "query": "INSERT INTO t (v) VALUES (:v)", "params": {"v": "a"}},
        {"queryType": "run", "query": "INSERT INTO t (v) VALUES ('b')"},
        {"queryType": "query", "query": "SELECT count(*) AS n FROM t"},
    ])  # fmt: skip
    assert [r.rows_affected for r in results[:2]] == [1, 1] and results[2].rows == [{"n": 2}]
    with pytest.raises(SessionFsSqliteError) as info:
        fs.sqlite_transaction([
            {"queryType": "run", "query": "INSERT INTO t (v) VALUES ('c')"},
            {"queryType": "run", "query": "INSERT INTO t (v) VALUES ('a')"},  # UNIQUE violation
        ])  # fmt: skip
    assert info.value.error_class == "fatal"
    assert fs.sqlite_query("query", "SELECT v FROM t ORDER BY v").rows == [
        {"v": "a"},
        {"v": "b"},
    ]  # 'c' rolled back


def test_a_locked_database_is_busy_or_locked(tmp_path):
    fs = LocalSessionFs(tmp_path / "r", busy_timeout=0.05)
    fs.sqlite_query("exec", "CREATE TABLE t (v TEXT)")
    other = sqlite3.connect(fs.sqlite_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SessionFsSqliteError) as info:
            fs.sqlite_transaction([{"queryType": "run", "query": "INSERT INTO t VALUES ('x')"}])
        assert info.value.error_class == "busyOrLocked"
    finally:
        other.execute("ROLLBACK")
        other.close()


# ============================================================================ the adapter


class Memory(SessionFsHandler):
    """A minimal in-memory handler: proves the interface is implementable without a disk."""

    def __init__(self):
        self.files: dict[str, str] = {}
        self.dirs = {"/"}
        self.calls: list[tuple] = []

    def read_file(self, path):
        self.calls.append(("read_file", path))
        if path not in self.files:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return self.files[path]

    def write_file(self, path, content, mode=None):
        self.calls.append(("write_file", path, content, mode))
        self.files[path] = content

    def append_file(self, path, content, mode=None):
        self.calls.append(("append_file", path, content, mode))
        self.files[path] = self.files.get(path, "") + content

    def exists(self, path):
        return path in self.files or path in self.dirs

    def stat(self, path):
        if path in self.files:
            when = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)
            return SessionFsStat(
                True, False, len(self.files[path].encode()), when, dt.datetime(2026, 1, 1)
            )
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)

    def mkdir(self, path, recursive=False, mode=None):
        self.calls.append(("mkdir", path, recursive, mode))
        self.dirs.add(path)

    def readdir(self, path):
        return sorted(
            p.rsplit("/", 1)[1] for p in self.files if p.rsplit("/", 1)[0] == path.rstrip("/")
        )

    def readdir_with_types(self, path):
        return [SessionFsEntry(name, "file") for name in self.readdir(path)]

    def rm(self, path, recursive=False, force=False):
        self.calls.append(("rm", path, recursive, force))
        self.files.pop(path, None)

    def rename(self, src, dest):
        self.calls.append(("rename", src, dest))
        self.files[dest] = self.files.pop(src)


def answer(handler, method, **params):
    return SessionFsAdapter(handler, "sid").answer(
        "sessionFs." + method, {"sessionId": "sid", **params}
    )


def test_successful_operations_have_the_wire_shapes_of_1_0_81():
    memory = Memory()
    assert (
        answer(memory, "mkdir", path="/s", recursive=True, mode=0o700) is None
    )  # void ops answer null
    assert answer(memory, "writeFile", path="/s/a", content="héllo", mode=None) is None
    assert answer(memory, "appendFile", path="/s/a", content="!", mode=384) is None
    assert answer(memory, "readFile", path="/s/a") == {"content": "héllo!"}
    assert answer(memory, "exists", path="/s/a") == {"exists": True}
    assert answer(memory, "exists", path="/nope") == {"exists": False}
    assert answer(memory, "stat", path="/s/a") == {
        "isFile": True, "isDirectory": False, "size": 7,
        "mtime": "2026-01-02T03:04:05.678Z", "birthtime": "2026-01-01T00:00:00.000Z",  # naive = UTC
    }  # fmt: skip
    assert answer(memory, "readdir", path="/s") == {"entries": ["a"]}
    assert answer(memory, "readdirWithTypes", path="/s") == {
        "entries": [{"name": "a", "type": "file"}]
    }
    assert answer(memory, "rename", src="/s/a", dest="/s/b") is None
    assert answer(memory, "rm", path="/s/b") is None
    assert memory.calls == [
        ("mkdir", "/s", True, 0o700),
        ("write_file", "/s/a", "héllo", None),
        ("append_file", "/s/a", "!", 384),
        ("read_file", "/s/a"),
        ("rename", "/s/a", "/s/b"),
        ("rm", "/s/b", False, False),
    ]


class Raising(Memory):
    def __init__(self, exc):
        super().__init__()
        self.exc = exc

    def _raise(self, *args, **kwargs):
        raise self.exc

    read_file = write_file = append_file = exists = stat = mkdir = readdir = readdir_with_types = (
        rm
    ) = rename = _raise
    sqlite_query = sqlite_transaction = sqlite_exists = _raise


ERRORS = [
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x"), "ENOENT", "ENOENT: No such file or directory"),
    (OSError(errno.ENOENT, "gone"), "ENOENT", "ENOENT: gone"),
    (FileExistsError(errno.EEXIST, "File exists", "/x"), "UNKNOWN", "EEXIST: File exists"),
    (IsADirectoryError(errno.EISDIR, "Is a directory"), "UNKNOWN", "EISDIR: Is a directory"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "UNKNOWN", "ENOTDIR: Not a directory"),
    (PermissionError(errno.EACCES, "path leads outside the session filesystem root", "/x"), "UNKNOWN",
     "EACCES: path leads outside the session filesystem root"),
    (OSError(errno.ENOSPC, "No space left on device"), "UNKNOWN", "ENOSPC: No space left on device"),
    (OSError("no errno"), "UNKNOWN", "OSError: no errno"),
    (ValueError("bad value"), "UNKNOWN", "ValueError: bad value"),
    (RuntimeError(), "UNKNOWN", "RuntimeError"),
    (NotImplementedError("later"), "UNKNOWN", "NotImplementedError: later"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    ERRORS,
    ids=[type(e[0]).__name__ + str(i) for i, e in enumerate(ERRORS)],
)
def test_each_exception_becomes_an_error_result_of_every_operation(exc, code, message):
    handler = Raising(exc)
    error = {"code": code, "message": message}
    assert answer(handler, "readFile", path="/x") == {"content": "", "error": error}
    assert (
        answer(handler, "writeFile", path="/x", content="c") == error
    )  # the error is the result itself
    assert answer(handler, "appendFile", path="/x", content="c") == error
    assert answer(handler, "mkdir", path="/x") == error
    assert answer(handler, "rm", path="/x") == error
    assert answer(handler, "rename", src="/x", dest="/y") == error
    assert answer(handler, "readdir", path="/x") == {"entries": [], "error": error}
    assert answer(handler, "readdirWithTypes", path="/x") == {"entries": [], "error": error}
    stat_result = answer(handler, "stat", path="/x")
    assert stat_result == {  # the CLI needs the required fields even next to an error
        "isFile": False, "isDirectory": False, "size": 0,
        "mtime": "1970-01-01T00:00:00.000Z", "birthtime": "1970-01-01T00:00:00.000Z", "error": error,
    }  # fmt: skip
    assert answer(handler, "exists", path="/x") == {"exists": False}  # exists has no error field
    assert answer(handler, "sqliteExists") == {"exists": False}
    assert answer(handler, "sqliteQuery", query="SELECT 1", queryType="query") == {
        "rows": [], "columns": [], "rowsAffected": 0, "error": error,
    }  # fmt: skip
    result = answer(
        handler, "sqliteTransaction", statements=[{"query": "SELECT 1", "queryType": "query"}]
    )
    assert result == {
        "results": [],
        "error": {"errorClass": "fatal", "message": str(exc) or type(exc).__name__},
    }


def test_local_errors_on_the_wire_name_no_local_path(fs):
    result = answer(fs, "readFile", path="/session-state/plan.md")
    assert result == {
        "content": "",
        "error": {"code": "ENOENT", "message": "ENOENT: No such file or directory"},
    }
    escaped = answer(fs, "writeFile", path="/../../etc/x", content="x")
    assert escaped == {
        "code": "UNKNOWN",
        "message": "EACCES: path climbs above the session filesystem root",
    }
    assert fs.root not in str(answer(fs, "readdir", path="/missing"))


def test_junk_from_a_handler_is_an_error_result_not_a_crash():
    class Junk(Memory):
        def read_file(self, path):
            return 42

        def stat(self, path):
            return {"isFile": True}

        def readdir(self, path):
            return "abc"

        def readdir_with_types(self, path):
            return [SessionFsEntry("x", "symlink")]  # type: ignore[arg-type]

    junk = Junk()
    assert answer(junk, "readFile", path="/a")["error"]["message"].startswith(
        "TypeError: read_file() must return a string"
    )
    assert answer(junk, "stat", path="/a")["error"]["code"] == "UNKNOWN"
    assert answer(junk, "readdir", path="/a")["error"]["message"].startswith("TypeError")
    assert "symlink" in answer(junk, "readdirWithTypes", path="/a")["error"]["message"]


def test_handler_results_in_other_shapes_are_accepted():
    class Loose(Memory):
        def read_file(self, path):
            return "é".encode()  # bytes are decoded

        def stat(self, path):
            return SessionFsStat(False, True, 0, 1767225600, 1767225600.5)  # epoch seconds

        def readdir_with_types(self, path):
            return [("a", "file"), {"name": "d", "type": "directory"}]

    loose = Loose()
    assert answer(loose, "readFile", path="/a") == {"content": "é"}
    assert answer(loose, "stat", path="/a")["mtime"] == "2026-01-01T00:00:00.000Z"
    assert answer(loose, "stat", path="/a")["birthtime"] == "2026-01-01T00:00:00.500Z"
    assert answer(loose, "readdirWithTypes", path="/") == {
        "entries": [{"name": "a", "type": "file"}, {"name": "d", "type": "directory"}]
    }


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("readFile", {}),
        ("readFile", {"path": 3}),
        ("writeFile", {"path": "/a"}),
        ("writeFile", {"path": "/a", "content": "x", "mode": "0600"}),
        ("writeFile", {"path": "/a", "content": "x", "mode": True}),
        ("rename", {"src": "/a"}),
        ("sqliteQuery", {"query": "SELECT 1"}),
        ("sqliteTransaction", {"statements": "SELECT 1"}),
    ],
)
def test_malformed_params_are_a_jsonrpc_error(method, params):
    with pytest.raises(JsonRpcError) as info:
        answer(Memory(), method, **params)
    assert info.value.code == -32602 and method in info.value.message


def test_an_unknown_method_is_method_not_found():
    with pytest.raises(JsonRpcError) as info:
        answer(Memory(), "chmod", path="/a")
    assert info.value.code == -32601 and "sessionFs.chmod" in info.value.message


def test_a_handler_without_sqlite_says_it_is_not_supported():
    memory = Memory()
    assert not memory.supports_sqlite
    message = "NotImplementedError: SQLite is not supported by this session filesystem handler"
    assert answer(memory, "sqliteQuery", query="SELECT 1", queryType="query")["error"] == {
        "code": "UNKNOWN",
        "message": message,
    }
    assert answer(memory, "sqliteTransaction", statements=[])["error"]["errorClass"] == "fatal"
    assert answer(memory, "sqliteExists") == {"exists": False}


def test_sqlite_through_the_adapter(fs):
    assert answer(fs, "sqliteExists") == {"exists": False}
    assert answer(fs, "sqliteQuery", queryType="exec", query="CREATE TABLE t (v TEXT)") == {
        "rows": [], "columns": [], "rowsAffected": 0,
    }  # fmt: skip
    assert answer(fs, "sqliteQuery", queryType="run", query="INSERT INTO t VALUES (:v)", params={"v": "x"}) == {
        "rows": [], "columns": [], "rowsAffected": 1, "lastInsertRowid": 1,
    }  # fmt: skip
    assert answer(fs, "sqliteQuery", queryType="query", query="SELECT v FROM t") == {
        "rows": [{"v": "x"}], "columns": ["v"], "rowsAffected": 0,
    }  # fmt: skip
    failed = answer(fs, "sqliteQuery", queryType="query", query="SELECT nope FROM t")
    assert failed["error"]["code"] == "UNKNOWN" and "no such column" in failed["error"]["message"]
    done = answer(fs, "sqliteTransaction", statements=[
        {"queryType": "run", "query": "INSERT INTO t VALUES ('y')"},
        {"queryType": "query", "query": "SELECT count(*) AS n FROM t"},
    ])  # fmt: skip
    assert done == {"results": [{"rows": [], "columns": [], "rowsAffected": 1, "lastInsertRowid": 2},
                                {"rows": [{"n": 2}], "columns": ["n"], "rowsAffected": 0}]}  # fmt: skip
    assert answer(fs, "sqliteExists") == {"exists": True}


def test_a_transaction_with_the_wrong_number_of_results_is_fatal():
    class Short(Memory):
        def sqlite_query(self, query_type, query, params=None):
            return None

        def sqlite_transaction(self, statements):
            return [SessionFsSqliteResult()]

    short = Short()
    assert answer(short, "sqliteQuery", query="x", queryType="exec") == {
        "rows": [],
        "columns": [],
        "rowsAffected": 0,
    }
    result = answer(short, "sqliteTransaction", statements=[{"query": "a", "queryType": "run"}] * 2)
    assert result["error"] == {
        "errorClass": "fatal",
        "message": "the handler returned 1 results for 2 statements",
    }


def test_a_classified_transaction_failure_keeps_its_class():
    class Busy(Memory):
        def sqlite_transaction(self, statements):
            raise SessionFsSqliteError("database is locked", "busyOrLocked")

    result = answer(Busy(), "sqliteTransaction", statements=[])
    assert result == {
        "results": [],
        "error": {"errorClass": "busyOrLocked", "message": "database is locked"},
    }
    with pytest.raises(ValueError):
        SessionFsSqliteError("x", "sometimes")


# ============================================================================ the option


def test_session_fs_config_to_wire():
    config = SessionFsConfig(initial_cwd="/work", session_state_path="/session-state")
    assert config.to_wire() == {
        "initialCwd": "/work",
        "sessionStatePath": "/session-state",
        "conventions": "posix",
    }
    with_sqlite = SessionFsConfig("C:\\work", "C:\\state", conventions="windows", sqlite=True)
    assert with_sqlite.to_wire() == {
        "initialCwd": "C:\\work", "sessionStatePath": "C:\\state", "conventions": "windows",
        "capabilities": {"sqlite": True},
    }  # fmt: skip
    assert SessionFsConfig.of({"initial_cwd": "/w", "session_state_path": "/s"}) == SessionFsConfig(
        "/w", "/s"
    )
    assert SessionFsConfig.of(config) is config


def test_session_fs_config_accepts_path_objects(tmp_path):
    config = SessionFsConfig(initial_cwd=tmp_path, session_state_path=tmp_path / "state")  # type: ignore[arg-type]
    assert config.initial_cwd == str(tmp_path) and config.session_state_path == str(
        tmp_path / "state"
    )


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        (
            {"initial_cwd": "work", "session_state_path": "/s"},
            ValueError,
            "initial_cwd must be an absolute posix path",
        ),
        (
            {"initial_cwd": "/w", "session_state_path": "state"},
            ValueError,
            "session_state_path must be an absolute",
        ),
        ({"initial_cwd": "/w", "session_state_path": ""}, TypeError, "non-empty string"),
        (
            {"initial_cwd": "/w", "session_state_path": "/s", "conventions": "mac"},
            ValueError,
            "posix' or 'windows",
        ),
        (
            {"initial_cwd": "/w", "session_state_path": "/s", "conventions": "windows"},
            ValueError,
            "absolute windows",
        ),
        ({"initial_cwd": "/w", "session_state_path": "/s", "sqlite": "yes"}, TypeError, "sqlite"),
        ({"initial_cwd": "/w"}, TypeError, "needs initial_cwd and session_state_path"),
        (
            {"initial_cwd": "/w", "session_state_path": "/s", "cwd": "/x"},
            TypeError,
            "no field 'cwd'",
        ),
    ],
)
def test_bad_session_fs_configs_fail_at_once(fields, error, match):
    with pytest.raises(error, match=match):
        SessionFsConfig.of(fields)


def test_session_fs_config_must_be_a_config_or_a_mapping():
    with pytest.raises(TypeError, match="SessionFsConfig"):
        SessionFsConfig.of("/state")


def test_the_option_pairing_is_checked():
    config = SessionFsConfig("/w", "/s")
    check_session_fs_option(None, None, "create_session")
    check_session_fs_option(config, lambda s: None, "create_session")
    with pytest.raises(ValueError, match="create_session\\(\\) needs create_session_fs_handler"):
        check_session_fs_option(config, None, "create_session")
    with pytest.raises(
        ValueError,
        match="resume_session\\(\\) got create_session_fs_handler, but the client has no session_fs",
    ):
        check_session_fs_option(None, lambda s: None, "resume_session")
    with pytest.raises(TypeError, match="must be callable"):
        check_session_fs_option(config, "not callable", "create_session")


def test_the_factory_must_build_a_handler(tmp_path):
    class FakeSession:
        session_id = "sid"

    config = SessionFsConfig("/w", "/s")
    session: Any = FakeSession()
    adapter = session_fs_adapter(session, lambda s: LocalSessionFs(tmp_path / s.session_id), config)
    assert isinstance(adapter.handler, LocalSessionFs) and adapter.session_id == "sid"
    with pytest.raises(TypeError, match="must return a SessionFsHandler"):
        session_fs_adapter(session, lambda s: str(tmp_path), config)
    with pytest.raises(TypeError, match="sqlite=True"):
        session_fs_adapter(session, lambda s: Memory(), SessionFsConfig("/w", "/s", sqlite=True))
    assert session_fs_adapter(
        session, lambda s: LocalSessionFs(tmp_path), SessionFsConfig("/w", "/s", sqlite=True)
    )


def test_the_interface_is_abstract():
    with pytest.raises(TypeError):
        SessionFsHandler()  # type: ignore[abstract]
