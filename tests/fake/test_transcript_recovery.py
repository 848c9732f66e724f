"""``session.transcript_recovery`` from the ``session.resume`` result (fake CLI)."""

from __future__ import annotations

import pytest

from copilot_sync import TranscriptRecoveryReport
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import reply

from .conftest import running

pytestmark = pytest.mark.timeout(60)

REPORT = {"plannedBackupPath": "/state/s1/events.jsonl.bak", "invalidLineNumbers": [3, 9], "sessionStartMoved": True}  # fmt: skip


def test_the_resume_result_report_is_kept_on_the_session():
    rules = [
        Rule(
            method="session.resume",
            match={"sessionId": "s1"},
            actions=[reply({"sessionId": "s1", "transcriptRecovery": REPORT})],
        ),
        Rule(method="session.resume", actions=[reply({"sessionId": "s2"})]),
    ]
    with running(rules=rules) as (fake, client):
        created = client.create_session()
        assert created.transcript_recovery is None
        repaired = client.resume_session("s1", allow_transcript_recovery=True)
        assert repaired.transcript_recovery == TranscriptRecoveryReport(
            "/state/s1/events.jsonl.bak", [3, 9], True
        )
        assert repaired.transcript_recovery.to_dict() == REPORT
        assert fake.requests("session.resume")[0]["params"]["allowTranscriptRecovery"] is True
        assert client.resume_session("s2").transcript_recovery is None


def test_a_malformed_report_is_read_leniently():
    report = TranscriptRecoveryReport.from_dict({"invalidLineNumbers": ["x", 4], "extra": 1})
    assert (report.planned_backup_path, report.invalid_line_numbers, report.session_start_moved) == ("", [4], False)  # fmt: skip
    assert report.raw == {"invalidLineNumbers": ["x", 4], "extra": 1}
