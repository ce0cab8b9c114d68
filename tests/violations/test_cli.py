"""`flask escalate-violations --now`: a time without an offset is Asia/Shanghai wall-clock time."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.violations.services import raise_violation


def test_escalate_now_without_offset_is_shanghai_time(app, kitchen):
    # Due at 12:40 in Shanghai (04:40 UTC): overdue at 12:45 Shanghai, not at 12:32 Shanghai (which is 04:32 UTC;
    # read as UTC, 12:32 would be long past the due time).
    violation = raise_violation(canteen_id=1, kind="smoking", source="ai", idempotency_key="cli-now-1",
                                occurred_at=datetime(2027, 1, 5, 16, 40, tzinfo=UTC)).violation
    assert violation.due_at == datetime(2027, 1, 6, 4, 40, tzinfo=UTC)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["escalate-violations", "--now", "2027-01-06T12:32"])
    assert early.exit_code == 0, early.output
    assert early.output.strip() == "escalated 0"
    late = runner.invoke(args=["escalate-violations", "--now", "2027-01-06T12:45"])
    assert late.output.strip() == "escalated 1"
    with_offset = runner.invoke(args=["escalate-violations", "--now", "2027-01-06T05:00:00+00:00"])
    assert with_offset.exit_code == 0 and with_offset.output.strip() == "escalated 0"  # once per level
    bad = runner.invoke(args=["escalate-violations", "--now", "noon"])
    assert bad.exit_code == 2 and "Asia/Shanghai" in bad.output
