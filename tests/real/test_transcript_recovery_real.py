"""``session.transcript_recovery`` on the real CLI: resuming a session whose transcript has
a damaged line repairs it (``allow_transcript_recovery=True``) and reports what it dropped."""

from __future__ import annotations

import pathlib

import pytest

from .conftest import open_session

pytestmark = pytest.mark.timeout(120)


def test_a_damaged_transcript_is_repaired_and_reported(client, model, copilot_home):
    model.add_reply("first answer")
    session = open_session(client, model)
    session.send_and_wait("hello", timeout=60)
    assert session.transcript_recovery is None
    sid = session.session_id
    session.disconnect()

    transcript = pathlib.Path(copilot_home) / "session-state" / sid / "events.jsonl"
    lines = transcript.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) >= 3
    lines.insert(2, '{"type": "broken", "data": \n')  # a line cut off by a crash
    transcript.write_text("".join(lines), encoding="utf-8")

    resumed = client.resume_session(
        sid, model=model.model, provider=model.provider(), allow_transcript_recovery=True
    )
    report = resumed.transcript_recovery
    assert report is not None, "the CLI reported no repair"
    assert report.invalid_line_numbers == [3]
    assert report.planned_backup_path
    model.add_reply("second answer")
    assert resumed.send_and_wait("again", timeout=60).data.content == "second answer"
    resumed.disconnect()
